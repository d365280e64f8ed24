"""Compile a user's mix script first in a child process that can be stopped (issue 16).

    check_compiles(validated, sr)        the programs a render compiles, in a child, ≤ 20 s
    check_compiles([code, …], sr)        any Faust programs
    python -m producer.faust.compile_guard   the child: a JSON request on stdin, a reply out

The validator refuses scripts whose *estimated* compile time passes 5 s (`budget.py`), but the
estimate is a model: a script it misjudges could keep libfaust + LLVM busy far longer, and a
compile cannot be interrupted in-process (it runs on the JUCE thread, `juce_thread.py`, holding
libfaust's global state). So a script that comes from a person is compiled first in a fresh
child process, which is killed (with its process group) when it passes `COMPILE_TIMEOUT_S`, and
whose address space is capped (`MEMORY_LIMIT_BYTES`). Only once it compiled there does the
renderer compile it in-process, now known to finish.

What the child compiles: exactly the programs the renderer will compile. For a validated script
that is one program per stem plus the master when it splits (`render.split_mix`, the shape of
nearly every script), else the whole script (`validated.code`), as `render` and
`mixing.solo.render_with_solos` do. The child calls `engine.program_io` on each, with the same
flags, sample rate and block size.

Model-written scripts do not go through here: they are grammar-constrained and their worst
case measured ≤ 2.4 s to compile, so the child would only add its overhead.

Overhead (2 vCPUs shared with another benchmark, load ~4; the seed script
tests/fixtures/seed_mix.dsp, 5 programs): the child takes ~0.54 s in all (median of 7,
0.49-0.72 s): ~0.15 s interpreter start and imports, the rest loading dawdreamer and compiling,
which in-process takes ~0.36 s cold. The render then compiles again in-process (the child's
programs die with it), so a user's first render costs ~0.5 s more. A script that already passed
with the same programs and sample rate is not checked again (`_PASSED`): re-rendering it costs
nothing extra.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from producer.errors import FaustCompileError, RenderError
from producer.faust.budget import assess
from producer.faust.engine import program_io
from producer.faust.render import split_mix
from producer.faust.validate import ValidatedScript, channels

#: Longest a child may take, start-up included, in seconds: 4× the 5 s the validator allows
#: for the estimate (`budget.MAX_COMPILE_SECONDS`), so a script the model underestimates by up
#: to 4× (or a busy machine) still passes, while a runaway compile is stopped.
COMPILE_TIMEOUT_S = 20.0

#: Address space the child may map, in bytes (virtual, not resident: LLVM's JIT and every
#: thread's stack reserve more than they touch). Measured peaks (VmPeak): 0.15 GB after the
#: imports, 0.51 GB compiling the seed script, 0.57 GB for 17 chained reverbs (the validator's
#: compile limit, 4.2 s). Under ~0.4 GB even dawdreamer fails to load. 4 GiB is ~7× what a
#: script the validator passes needs, and stops one that would take the machine's memory.
MEMORY_LIMIT_BYTES = 4 * 2**30

# Results of passed checks kept: (programs, sample rate) → seconds the child took.
_PASSED_SIZE = 256
_PASSED: OrderedDict[str, float] = OrderedDict()
_PASSED_LOCK = threading.Lock()

# Threads of the libraries the child loads but does not use: each would reserve address space
# (OpenBLAS: tens of MB per core; glibc: a 64 MB malloc arena per thread) under the cap.
_CHILD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}


def check_compiles(
    code_or_programs: str | ValidatedScript | Sequence[str],
    sample_rate: int,
    *,
    timeout_s: float | None = None,
) -> float:
    """Compile the program(s) in a child process; the seconds it took, or FaustCompileError.

    A `ValidatedScript` stands for the programs its render compiles (see the module
    docstring); a string is one program; a sequence, several. `timeout_s` (None:
    `COMPILE_TIMEOUT_S`, read at call time) bounds the whole child. Raises
    `FaustCompileError` with one line when libfaust refuses a program (its own message), when
    the child runs past the limit (it is killed), or when it dies of a signal or of the memory
    cap; `RenderError` when the child could not run at all.
    """
    limit = COMPILE_TIMEOUT_S if timeout_s is None else float(timeout_s)
    programs, estimate = _programs(code_or_programs)
    key = _key(programs, int(sample_rate))
    with _PASSED_LOCK:
        took = _PASSED.get(key)
        if took is not None and took <= limit:
            _PASSED.move_to_end(key)
            return took
    started = time.perf_counter()
    _run_child(programs, int(sample_rate), limit, estimate)
    took = time.perf_counter() - started
    with _PASSED_LOCK:
        _PASSED[key] = took
        while len(_PASSED) > _PASSED_SIZE:
            _PASSED.popitem(last=False)
    return took


def _programs(source: str | ValidatedScript | Sequence[str]) -> tuple[list[str], float | None]:
    """The Faust programs to compile and, for a validated script, the validator's estimate."""
    if isinstance(source, str):
        return [source], None
    if not hasattr(source, "script"):
        return list(source), None
    script = source.script
    estimate = assess(script, lambda expr: channels(expr, script)).compile_seconds
    split = split_mix(source)
    programs = [source.code] if split is None else [*split[0], split[1]]
    return programs, estimate


def _key(programs: Sequence[str], sample_rate: int) -> str:
    digest = hashlib.sha256(str(sample_rate).encode())
    for code in programs:
        digest.update(b"\0" + code.encode())
    return digest.hexdigest()


def _run_child(programs: list[str], sample_rate: int, limit: float, estimate: float | None) -> None:
    """Run the child over the programs; raise as `check_compiles` says."""
    request = {"programs": programs, "sample_rate": sample_rate, "memory": MEMORY_LIMIT_BYTES}
    # The package root on the child's path too, in case this process found `producer` through
    # its own sys.path (a Ray working_dir) rather than an installed package.
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-m", "producer.faust.compile_guard"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ | _CHILD_ENV | {"PYTHONPATH": path},
        # Its own process group, so a kill takes anything it started with it. The memory cap is
        # set by the child itself, not in a preexec_fn: that is unsafe in a threaded parent
        # (the renderer replica), where the forked child could deadlock before exec.
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(json.dumps(request).encode(), timeout=limit)
    except subprocess.TimeoutExpired:
        _kill(proc)
        guess = f" (the validator's estimate was {estimate:.1f} s)" if estimate is not None else ""
        raise FaustCompileError(
            f"the script took longer than {limit:g} s to compile and was stopped{guess}; "
            "use fewer reverbs and filters"
        ) from None
    finally:
        _kill(proc)  # an interrupt or any other error: no child outlives the call
    _raise_for(proc.returncode, out, err)


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child's process group (if it still runs) and reap the child."""
    if proc.poll() is None:
        # ProcessLookupError: it ended between the poll and the kill.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()  # reaps it and closes the pipes


def _raise_for(returncode: int, out: bytes, err: bytes) -> None:
    """Raise what the child's exit and reply say went wrong; return when it compiled."""
    cap = f"{MEMORY_LIMIT_BYTES / 2**30:g} GiB"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        raise FaustCompileError(
            f"compiling the script was killed by {name} (e.g. out of memory: the compile may "
            f"use {cap}); use fewer reverbs and filters"
        )
    try:
        reply = json.loads(out.decode())
    except ValueError:
        reply = None
    if returncode != 0 or not isinstance(reply, dict):
        lines = err.decode(errors="replace").strip().splitlines()
        raise RenderError(
            f"the compile check could not run (exit {returncode}): "
            f"{lines[-1] if lines else 'no message'}"
        )
    if reply.get("memory"):
        raise FaustCompileError(
            f"compiling the script needed more than {cap} of memory and was stopped; use fewer "
            "reverbs and filters"
        )
    if reply.get("error"):
        raise FaustCompileError(str(reply["error"]))


def _child() -> None:
    """The child: compile every program of the request on stdin, reply on stdout, exit."""
    import resource

    request = json.load(sys.stdin)
    cap = int(request["memory"])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    # The reply goes to the real stdout; anything native code prints goes to stderr.
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        for code in request["programs"]:
            program_io(code, int(request["sample_rate"]))
        reply: dict = {"ok": True}
    except FaustCompileError as exc:
        reply = {"error": str(exc)}
    except MemoryError:
        reply = {"memory": True}
    with os.fdopen(reply_fd, "w") as f:
        json.dump(reply, f)
    sys.stderr.flush()
    # Straight out: tearing down the compiled graphs and libfaust would only cost time.
    os._exit(0)


if __name__ == "__main__":
    _child()
