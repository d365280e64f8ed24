"""`run_stages`: the one stage order that `Producer`, the Serve ingress and the local backend run."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import pytest

from producer.pipeline.stage_order import ThreadCalls, run_stages, run_sync


def _calls(log: list, *, fail: str | None = None, in_threads: bool = True, delay: float = 0.0):
    def stage(name, result):
        def fn(*args):
            time.sleep(delay)
            log.append((name, args, threading.current_thread() is threading.main_thread()))
            if name == fail:
                raise ValueError(f"{name} broke")
            return result(*args)

        return fn

    return ThreadCalls(
        plan=stage("plan", lambda prompt, song, duration: f"plan({prompt},{song},{duration})"),
        generate=stage("generate", lambda plan, song, seed: {"drums": f"stem<{plan}>"}),
        write=stage("write", lambda stems, prompt, n, seed: [("script", -1.0)] * n),
        render_and_score=stage(
            "render", lambda written, stems, plan, prompt: SimpleNamespace(timings={"render": 0.1})
        ),
        in_threads=in_threads,
    )


def test_each_stage_gets_the_results_of_the_ones_before_in_order():
    log, heard, stems_seen = [], [], []
    done = asyncio.run(
        run_stages(
            _calls(log),
            "dark trap",
            None,
            8.0,
            7,
            2,
            on_stage=lambda stage, s: heard.append(stage),
            on_stems=stems_seen.append,
        )
    )
    assert [name for name, _, _ in log] == ["plan", "generate", "write", "render"]
    assert log[1][1] == ("plan(dark trap,None,8.0)", None, 7)
    assert log[2][1] == ({"drums": "stem<plan(dark trap,None,8.0)>"}, "dark trap", 2, 7)
    assert done.plan == "plan(dark trap,None,8.0)" and stems_seen == [done.stems]
    assert heard == ["plan", "generate", "write"]
    assert set(done.timings) == {"plan", "generate", "write", "render"}
    assert all(not on_main for _, _, on_main in log)  # in worker threads: the loop stays free


def test_a_pending_song_is_awaited_by_the_stages_that_need_it():
    async def main():
        song = asyncio.ensure_future(asyncio.sleep(0.01, result="song"))
        log: list = []
        await run_stages(_calls(log), "p", song, None, 0, 1)
        return log

    log = asyncio.run(main())
    assert log[0][1] == ("p", "song", None) and log[1][1][1] == "song"


def test_a_failing_stage_cancels_the_rest_and_raises_its_own_error():
    log: list = []
    with pytest.raises(ValueError, match="generate broke"):
        asyncio.run(run_stages(_calls(log, fail="generate"), "p", None, None, 0, 1))
    assert [name for name, _, _ in log] == ["plan", "generate"]


def test_run_sync_runs_inline_stages_on_this_thread_and_works_inside_a_running_loop():
    log: list = []
    done = run_sync(run_stages(_calls(log, in_threads=False), "p", None, None, 0, 1))
    assert done.plan == "plan(p,None,None)"
    assert all(on_main for _, _, on_main in log)  # Ctrl-C reaches the stage, as blocking code

    async def inside_a_loop():  # a notebook, an async server
        return run_sync(run_stages(_calls([], in_threads=False), "q", None, None, 0, 1))

    assert asyncio.run(inside_a_loop()).plan == "plan(q,None,None)"


def test_inline_stages_are_timed_each_on_its_own():
    log: list = []
    heard: list = []
    done = run_sync(
        run_stages(
            _calls(log, in_threads=False, delay=0.05),
            "p",
            None,
            None,
            0,
            1,
            on_stage=lambda stage, s: heard.append((stage, len(log))),
        )
    )
    # Each stage is heard right after it ran, before the next one started.
    assert heard == [("plan", 1), ("generate", 2), ("write", 3)]
    assert all(0.04 < done.timings[s] < 1.0 for s in ("plan", "generate", "write"))
