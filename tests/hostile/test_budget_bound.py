"""Property (issue 16, item 7): scripts grown up to the resource budget still compile in bounded
time and memory. The budget is an estimate; this checks it against libfaust itself.

Each draw chains random allowlisted blocks (random arguments over their full legal ranges) on
one stem until the validator refuses the next one, then compiles the longest accepted script
cold in a fresh process and measures its time and peak memory.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from producer.errors import FaustValidationError
from producer.faust.ast import Chain, Definition, MixScript, Ref
from producer.faust.budget import MAX_COMPILE_SECONDS, MAX_DELAY_BYTES
from producer.faust.sampling import MONO_FUNCTIONS, draw_call
from producer.faust.validate import validate

SR = 44100
# The budget's estimate may be off; a real compile must stay within 3x its limit...
TIME_BOUND_S = 3 * MAX_COMPILE_SECONDS
# ... and within the delay limit plus a generous allowance for libfaust, LLVM and Python.
RSS_BOUND_MB = MAX_DELAY_BYTES / 2**20 + 1024

# Peak RSS from VmHWM, not getrusage: ru_maxrss survives exec, so a child forked from a large
# pytest process reports the parent's size (1.9 GB in the full suite).
_CHILD = """
import json, sys, time
from producer.faust import engine
engine.program_io("process = _;", {sr})
start = time.perf_counter()
engine.program_io(sys.stdin.read(), {sr})
seconds = time.perf_counter() - start
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0]
print(json.dumps({{"seconds": seconds, "rss_mb": int(hwm.split()[1]) / 1024}}))
"""


def _script(blocks: list) -> str:
    expr = blocks[0] if len(blocks) == 1 else Chain(":", tuple(blocks))
    return MixScript((Definition("drums_process", expr),), Ref("drums_process")).to_faust()


def grow_to_the_budget(rng: random.Random, heavy_only: bool) -> tuple[str, int, str]:
    """The longest script of random blocks the validator accepts, its length, and the refusal
    of one block more."""
    names = [n for n in MONO_FUNCTIONS if not heavy_only or n.startswith(("re.", "fi.", "ef.e"))]
    blocks = [draw_call(rng, rng.choice(names))]
    validate(_script(blocks))
    while True:
        longer = [*blocks, draw_call(rng, rng.choice(names))]
        try:
            validate(_script(longer))
        except FaustValidationError as err:
            return _script(blocks), len(blocks), str(err)
        blocks = longer


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's VmHWM")
@pytest.mark.parametrize(("seed", "heavy_only"), [(1, True), (2, True), (3, False)])
def test_scripts_grown_to_the_budget_compile_in_bounded_time_and_memory(seed, heavy_only):
    text, n, refusal = grow_to_the_budget(random.Random(seed), heavy_only)
    assert "limit" in refusal, refusal  # it stopped at a budget limit, not a syntax slip
    t = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(sr=SR)],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"seed {seed}: {n} blocks, compiled in {measured['seconds']:.2f} s, "
        f"{measured['rss_mb']:.0f} MB RSS (wall {time.monotonic() - t:.1f} s); next: {refusal}"
    )
    assert measured["seconds"] <= TIME_BOUND_S
    assert measured["rss_mb"] <= RSS_BOUND_MB
