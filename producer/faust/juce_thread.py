"""The one thread that creates, compiles, wires and destroys DawDreamer graphs.

DawDreamer runs on JUCE, and JUCE's AudioProcessorGraph finishes a topology change
(adding processors, connecting them) only on the JUCE "message thread": the first thread
that ever created a processor in the process. Elsewhere the change is posted to a message
loop that does not exist, and the next render spins forever waiting for it. Measured with
DawDreamer 0.9.0: a graph built and first rendered on any thread but that one hangs; a
graph built there renders correctly from any thread afterwards (the GIL is released).

libfaust's compiler keeps global state too (its factory table), so compiles must not overlap
either; running them all on this thread serialises them.

So one daemon thread builds every graph: it makes itself the message thread by building a
probe graph first, then runs builds one at a time, while renders of finished graphs run on
any thread. Every DawDreamer graph in the process must be built through here
(`producer.faust.engine`); code that builds one elsewhere first takes the message thread,
and the probe then fails with a clear RenderError instead of hanging.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from producer.errors import RenderError

T = TypeVar("T")

# The probe compiles and renders a one-sample identity program: well under a second unless
# it is stuck for good (another thread owns the message thread).
PROBE_TIMEOUT_S = 60.0


class JuceThread:
    """A daemon thread running submitted calls in order; owner of all DawDreamer graphs."""

    def __init__(self, probe: Callable[[], object]) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._ready = threading.Event()
        self._error: str | None = None
        thread = threading.Thread(
            target=self._loop, args=(probe,), name="dawdreamer-builder", daemon=True
        )
        thread.start()
        if not self._ready.wait(PROBE_TIMEOUT_S):
            self._error = (
                "DawDreamer cannot build graphs here: another thread created DawDreamer "
                "processors first and owns JUCE's message thread; build every DawDreamer "
                "graph through producer.faust.engine"
            )

    def _loop(self, probe: Callable[[], object]) -> None:
        try:
            probe()
        except Exception as exc:  # reported to every caller, not raised in this thread
            self._error = f"DawDreamer failed to start: {exc}{_hint(exc)}"
        finally:
            self._ready.set()
        while True:
            future, fn, args = self._queue.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:
                    future.set_exception(exc)
            del future, fn, args

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the thread and return its result (or raise its exception)."""
        if self._error is not None:
            raise RenderError(self._error)
        future: Future = Future()
        self._queue.put((future, fn, args))
        return future.result()


_THREAD: JuceThread | None = None
_THREAD_LOCK = threading.Lock()


def juce_thread(probe: Callable[[], object]) -> JuceThread:
    """The process's JuceThread, started (with `probe`) on first use."""
    global _THREAD
    with _THREAD_LOCK:
        if _THREAD is None:
            _THREAD = JuceThread(probe)
        return _THREAD


def _forget_after_fork() -> None:
    # A forked child has no copy of the thread; it starts its own (whose probe then says
    # whether JUCE in the child can still be used).
    global _THREAD, _THREAD_LOCK
    _THREAD, _THREAD_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _hint(exc: Exception) -> str:
    """What to do when DawDreamer's own shared libraries are missing (a bare GPU image: JUCE
    links libGL and the X11 client library even when nothing is drawn)."""
    text = str(exc)
    if "libGL.so" in text or "libX11.so" in text:
        return " (install the system's OpenGL and X11 client libraries: apt-get install libgl1)"
    return ""
