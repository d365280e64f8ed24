"""The order of the stages, written once: plan → generate → write → render and score.

`run_stages` starts every stage at once through a `StageCalls`: each call takes the earlier
calls' pending results as its arguments and returns an awaitable. Then it awaits them in order,
times each stage, and cancels every call still in flight when one fails or the caller gives up
(a request past its time limit). Three runners share it:

- `Producer.produce`: the stages are its own methods, each run in a thread (`ThreadCalls`) on a
  private event loop;
- the Serve ingress (`producer.serving.ingress`): the stages are deployment handles, and a
  pending result is a `DeploymentResponse`, which Serve hands to the next replica as an object
  reference, so every replica fetches its input straight from the one that made it;
- the local serving backend (`producer.serving.local`): the serving stages in threads
  (`ThreadCalls`).

The input song is prepared by the caller (its sources differ: a file, an upload); `song` may be
a value, None, or a pending result of the caller's own input call.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from producer.generators.events import Stem
from producer.plan import ProductionPlan

__all__ = ["StageCalls", "StagesDone", "ThreadCalls", "run_stages", "run_sync"]

_T = TypeVar("_T")


class StageCalls(Protocol):
    """Starts one stage; arguments may be pending results of earlier calls."""

    def plan(self, prompt: str, song: Any, duration: float | None) -> Awaitable[ProductionPlan]: ...

    def generate(self, plan: Any, song: Any, seed: int) -> Awaitable[dict[str, Stem]]: ...

    def write(
        self, stems: Any, prompt: str, candidates: int, seed: int
    ) -> Awaitable[list[tuple[str, float]]]: ...

    def render_and_score(self, written: Any, stems: Any, plan: Any, prompt: str) -> Awaitable[Any]:
        """Awaits a `producer.pipeline.Selection`."""
        ...


@dataclass
class StagesDone:
    """What the stages made: the plan, the stems, the selection, and each stage's seconds."""

    plan: ProductionPlan
    stems: dict[str, Stem]
    selection: Any  # producer.pipeline.Selection
    timings: dict[str, float] = field(default_factory=dict)


async def run_stages(
    calls: StageCalls,
    prompt: str,
    song: Any,
    duration: float | None,
    seed: int,
    candidates: int,
    *,
    on_stage: Callable[[str, float], None] | None = None,
    on_stems: Callable[[dict[str, Stem]], None] | None = None,
) -> StagesDone:
    """Run plan → generate → write → render and score through `calls` (see the module
    docstring). `on_stage(stage, seconds)` hears plan, generate and write as they end;
    `on_stems(stems)` gets the stems the moment they exist (it must return at once). The
    timings are each stage's seconds from the end of the one before, plus the selection's."""
    started = time.perf_counter()
    plan = calls.plan(prompt, song, duration)
    stems = calls.generate(plan, song, seed)
    written = calls.write(stems, prompt, candidates, seed)
    selected = calls.render_and_score(written, stems, plan, prompt)
    timings: dict[str, float] = {}
    last = started

    def done(stage: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings[stage] = now - last
        last = now
        if on_stage is not None:
            on_stage(stage, timings[stage])

    try:
        plan_value = await plan
        done("plan")
        stems_value = await stems
        done("generate")
        if on_stems is not None:
            on_stems(stems_value)
        await written
        done("write")
        selection = await selected
    except BaseException:
        for pending in (song, plan, stems, written, selected):
            _cancel(pending)
        raise
    timings |= selection.timings
    return StagesDone(plan_value, stems_value, selection, timings)


def _cancel(pending: Any) -> None:
    if isinstance(pending, asyncio.Future) and pending.done():
        if not pending.cancelled():
            pending.exception()  # retrieved: a failed stage's followers fail with it, quietly
        return
    cancel = getattr(pending, "cancel", None)
    if callable(cancel):
        with contextlib.suppress(Exception):  # done already, or cancelled: nothing to do
            cancel()


class ThreadCalls:
    """`StageCalls` over plain blocking functions: each call is a task that waits for its
    pending arguments, then runs its function in a worker thread, so the event loop stays free
    (`in_threads`, the serving backend), or on the loop's own thread (`in_threads=False`,
    `Producer.produce`: its loop runs nothing else, and Ctrl-C then stops the stage at once, as
    in any blocking call).

    `ThreadCalls(plan=…, generate=…, write=…, render_and_score=…)` takes the four stage
    functions, each with its stage's arguments.
    """

    def __init__(
        self,
        *,
        plan: Callable[..., ProductionPlan],
        generate: Callable[..., dict[str, Stem]],
        write: Callable[..., list[tuple[str, float]]],
        render_and_score: Callable[..., Any],
        in_threads: bool = True,
    ):
        self._plan, self._generate, self._write = plan, generate, write
        self._render_and_score = render_and_score
        self._in_threads = in_threads

    def plan(self, prompt, song, duration):
        return self._task(self._plan, prompt, song, duration)

    def generate(self, plan, song, seed):
        return self._task(self._generate, plan, song, seed)

    def write(self, stems, prompt, candidates, seed):
        return self._task(self._write, stems, prompt, candidates, seed)

    def render_and_score(self, written, stems, plan, prompt):
        return self._task(self._render_and_score, written, stems, plan, prompt)

    def _task(self, fn: Callable[..., _T], *args: Any) -> Awaitable[_T]:
        async def run() -> _T:
            values = [await a if inspect.isawaitable(a) else a for a in args]
            if self._in_threads:
                return await asyncio.to_thread(fn, *values)
            return fn(*values)

        # On the loop's thread a stage runs when first awaited: started at once, the stages
        # would run back to back before `run_stages` could time the first.
        return asyncio.ensure_future(run()) if self._in_threads else _Lazy(run)


class _Lazy:
    """An awaitable whose coroutine starts as a task when it is first awaited (any number of
    awaiters share that task); `cancel` cancels it if it started."""

    def __init__(self, start: Callable[[], Coroutine[Any, Any, Any]]):
        self._start = start
        self._task: asyncio.Task | None = None

    def __await__(self):
        if self._task is None:
            self._task = asyncio.ensure_future(self._start())
        return self._task.__await__()

    def cancel(self) -> None:
        if self._task is not None:
            _cancel(self._task)


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to its end from blocking code, on a loop of its own.

    Unlike `asyncio.run` it installs no SIGINT handler, so Ctrl-C raises KeyboardInterrupt
    where the work is, as in plain blocking code. When this thread already runs a loop (a
    notebook, an async server) the coroutine runs in a helper thread instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _on_new_loop(coro)
    with ThreadPoolExecutor(1, thread_name_prefix="producer-stages") as helper:
        return helper.submit(_on_new_loop, coro).result()


def _on_new_loop(coro: Coroutine[Any, Any, _T]) -> _T:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:  # let the cancelled tasks finish, quietly
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
