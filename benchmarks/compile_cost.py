"""Faust compile cost: how long libfaust + LLVM take per block, to calibrate the validator's budget.

    .venv/bin/python benchmarks/compile_cost.py --json benchmarks/compile_cost.json

Each case is one Faust program compiled cold in a fresh Python process (DawDreamer's libfaust,
our compile flags, `engine.program_io`), so no cache, no warm LLVM and the process's peak RSS
belong to that program alone. Cases:

- `seq`: n copies of one block chained with `:`; `par`: n copies fed in parallel
  (`_ <: b1, …, bn :> _`). Every copy gets a slightly different last argument, because libfaust
  shares equal expressions on equal inputs and n equal parallel reverbs would compile as one.
- `writer`: the most expensive stem chain the writer language has (every slot filled, the
  largest filter orders, a reverb send) on every stem, with a stereo bus compressor and limiter
  as master; `whole` compiles the script as one program (as `training/evaluate.py` does),
  `split` as the renderer does (one program per stem, then the master, one after another).
- `hostile`: the issue's cases, for memory (200 ten-second echoes).

With `--search` it looks instead for the most expensive script the validator still accepts:
for every block and both shapes, the longest chain (binary search on n, up to the 64 KiB script
limit) that `validate` passes as a one-stem mix script, compiled cold like the cases above. The
largest measured time and RSS are what the budget really lets through.

For every case it prints the measured time, the budget's estimate
(`producer.faust.budget.compile_seconds`) and the peak RSS; the fit of the budget's weights is
recorded in benchmarks/RESULTS.md ("Faust compile cost (issue 16)"). Timings are on whatever
machine runs this; the recorded ones are from 2 vCPUs.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HEADER = 'import("stdfaust.lib");\n\n'

BLOCKS = {
    "freeverb": "re.mono_freeverb(0.9, 0.5, 0.2, 23)",
    "stereo_freeverb": "re.stereo_freeverb(0.9, 0.5, 0.2, 23)",
    "echo": "ef.echo(1, 0.3, 0.5)",
    "delay": "de.delay(48000, 4800)",
    "highpass8": "fi.highpass(8, 100)",
    "highpass2": "fi.highpass(2, 100)",
    "lowpass4": "fi.lowpass(4, 5000)",
    "peak_eq_cq": "fi.peak_eq_cq(3, 1000, 1)",
    "peak_eq": "fi.peak_eq(3, 1000, 100)",
    "low_shelf": "fi.low_shelf(3, 100)",
    "high_shelf": "fi.high_shelf(3, 5000)",
    "dcblocker": "(fi.dcblocker : *(0.999))",
    "compressor": "co.compressor_mono(4, -18, 0.003, 0.1)",
    "compressor_stereo": "co.compressor_stereo(4, -18, 0.003, 0.1)",
    "limiter": "(co.limiter_1176_R4_mono : *(0.999))",
    "gate": "ef.gate_mono(-50, 0.001, 0.01, 0.1)",
    "cubicnl": "ef.cubicnl(0.2, 0)",
    "gain": "*(0.9)",
}

CASES: list[tuple[str, str, int]] = [
    ("freeverb", "seq", 5),
    ("freeverb", "seq", 10),
    ("freeverb", "seq", 20),
    ("freeverb", "seq", 30),
    ("freeverb", "par", 10),
    ("freeverb", "par", 20),
    ("freeverb", "par", 30),
    ("stereo_freeverb", "seq", 5),
    ("stereo_freeverb", "seq", 10),
    ("echo", "seq", 50),
    ("echo", "seq", 100),
    ("echo", "seq", 200),
    ("delay", "seq", 200),
    ("highpass8", "seq", 12),
    ("highpass8", "seq", 25),
    ("highpass8", "seq", 50),
    ("highpass2", "seq", 50),
    ("highpass2", "seq", 100),
    ("lowpass4", "seq", 50),
    ("peak_eq_cq", "seq", 50),
    ("peak_eq_cq", "seq", 100),
    ("peak_eq", "seq", 50),
    ("low_shelf", "seq", 25),
    ("low_shelf", "seq", 50),
    ("high_shelf", "seq", 50),
    ("dcblocker", "seq", 200),
    ("compressor", "seq", 50),
    ("compressor", "seq", 100),
    ("compressor_stereo", "seq", 25),
    ("limiter", "seq", 50),
    ("gate", "seq", 25),
    ("gate", "seq", 50),
    ("cubicnl", "seq", 200),
    ("gain", "seq", 2000),
]

#: The writer language's most expensive stem chain (see producer/faust/writer.py's slots).
WRITER_CHAIN = (
    "ef.gate_mono(-50, 0.001, 0.01, 0.1) : fi.highpass(4, 400) : fi.lowpass(4, {lp}) : "
    "fi.low_shelf(12, 300) : fi.peak_eq_cq(12, 2000, 6) : fi.high_shelf(12, 2000) : "
    "co.compressor_mono(8, -36, 0.001, 0.05) : ef.cubicnl(0.5, 0) : *(2) : "
    "(_ <: _, (re.mono_freeverb(0.92, 0.5, 0.2, 23) : *(0.2)) :> _) : sp.panner(0.5)"
)
WRITER_MASTER = "co.compressor_stereo(8, -36, 0.001, 0.05) : co.limiter_1176_R4_stereo"
ROLES = ("drums", "bass", "melody", "harmony", "vocals", "other", "fx", "keys")


def _vary(block: str, i: int) -> str:
    """The block with its last number inside parentheses nudged by 0.1 % × i."""
    found = list(re.finditer(r"(?<=[(, ])[0-9]+(?:\.[0-9]+)?(?=\))", block))
    if not found or i == 0:
        return block
    m = found[-1]
    value = float(m.group()) * (1 + 0.001 * i)
    return block[: m.start()] + f"{value:.6g}" + block[m.end() :]


def chain_program(block: str, shape: str, n: int) -> str:
    """One program of n (varied) copies of `block`, chained (`seq`) or in parallel (`par`)."""
    blocks = [_vary(block, i) for i in range(n)]
    body = " : ".join(blocks) if shape == "seq" else "_ <: " + ", ".join(blocks) + " :> _"
    return f"{HEADER}process = {body};\n"


def writer_script(n_stems: int) -> str:
    """A mix script with the writer's most expensive chain on each of `n_stems` stems."""
    roles = ROLES[:n_stems]
    lines = [
        f"{r}_process = {WRITER_CHAIN.format(lp=2000 + 100 * k)};\n" for k, r in enumerate(roles)
    ]
    lines.append(f"master_process = {WRITER_MASTER};\n")
    stems = ", ".join(f"{r}_process" for r in roles)
    return HEADER + "".join(lines) + f"\nprocess = {stems} :> master_process;\n"


def _peak_rss_kb() -> int:
    """This process's peak RSS (VmHWM). Not getrusage: its ru_maxrss survives exec, so a child
    reports the size of the process it was forked from when that was larger."""
    with open("/proc/self/status") as f:
        return int(next(ln for ln in f if ln.startswith("VmHWM:")).split()[1])


def _child(codes: list[str], sample_rate: int) -> dict:
    """Compile `codes` one after another in this (fresh) process; seconds and peak RSS."""
    from producer.faust import engine

    engine.program_io(HEADER + "process = _;\n", sample_rate)  # start JUCE + libfaust first
    base = _peak_rss_kb()
    start = time.perf_counter()
    for code in codes:
        engine.program_io(code, sample_rate)
    seconds = time.perf_counter() - start
    peak = _peak_rss_kb()
    return {"seconds": seconds, "rss_mb": peak / 1024, "rss_growth_mb": (peak - base) / 1024}


def measure(codes: list[str], sample_rate: int, timeout: float) -> dict:
    """Run `_child` in a fresh interpreter (cold compile, own RSS), with a time limit."""
    payload = json.dumps({"codes": codes, "sample_rate": sample_rate})
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child"],
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": None, "error": f"over {timeout:.0f} s"}
    if done.returncode:
        return {"seconds": None, "error": done.stderr.strip().splitlines()[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _estimate(codes: list[str]) -> tuple[float, float]:
    """The budget's compile-time estimate (summed over programs) and delay memory in MB."""
    from producer.faust.budget import assess
    from producer.faust.parser import parse
    from producer.faust.validate import channels

    seconds = memory = 0.0
    for code in codes:
        script = parse(code)
        b = assess(script, lambda e, s=script: channels(e, s))
        seconds += b.compile_seconds
        memory += b.delay_bytes / 2**20
    return seconds, memory


def _split_programs(script: str) -> list[str]:
    from producer.faust.render import split_mix
    from producer.faust.validate import validate

    split = split_mix(validate(script))
    assert split is not None
    stems, master = split
    return [*stems, master]


def cases(quick: bool) -> list[tuple[str, list[str]]]:
    """(name, programs) of every case."""
    out = [
        (f"{kind} {shape} x{n}", [chain_program(BLOCKS[kind], shape, n)])
        for kind, shape, n in CASES
        if not quick or n <= 25
    ]
    for n in (4, 6, 8):
        script = writer_script(n)
        out.append((f"writer worst {n} stems whole", [script]))
        out.append((f"writer worst {n} stems split", _split_programs(script)))
    # Not varied: feedback 0.95 nudged up would leave its range (chained, nothing is shared).
    echoes = HEADER + "process = " + " : ".join(["ef.echo(10, 10, 0.95)"] * 200) + ";\n"
    out.append(("hostile 200 x ef.echo(10, 10, 0.95)", [echoes]))
    return out


def stem_script(block: str, shape: str, n: int) -> str:
    """A one-stem mix script whose stem process is n (varied) copies of `block`."""
    blocks = [_vary(block, i) for i in range(n)]
    body = " : ".join(blocks) if shape == "seq" else "_ <: " + ", ".join(blocks) + " :> _"
    return f"{HEADER}drums_process = {body};\n\nprocess = drums_process;\n"


def _accepted(text: str) -> bool:
    from producer.errors import FaustValidationError
    from producer.faust.validate import validate

    try:
        validate(text)
    except FaustValidationError:
        return False
    return True


def longest_accepted(block: str, shape: str, cap: int = 1 << 14) -> int:
    """The largest n whose `stem_script` the validator accepts (0: not even one)."""
    if not _accepted(stem_script(block, shape, 1)):
        return 0
    lo, hi = 1, 2
    while hi <= cap and _accepted(stem_script(block, shape, hi)):
        lo, hi = hi, hi * 2
    hi = min(hi, cap + 1)
    while hi - lo > 1:  # lo accepted, hi refused (or past the cap)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _accepted(stem_script(block, shape, mid)) else (lo, mid)
    return lo


def search(sample_rate: int, timeout: float, only: str | None) -> list[dict]:
    """For each block and shape, the longest accepted chain, compiled and measured."""
    rows = []
    print(
        f"{'block':18} {'shape':5} {'max n':>6} {'measured s':>10} {'estimate s':>10} "
        f"{'delay MB':>9} {'RSS MB':>8}"
    )
    for kind, block in BLOCKS.items():
        if only and only not in kind:
            continue
        for shape in ("seq", "par"):
            n = longest_accepted(block, shape)
            if n == 0:
                continue
            text = stem_script(block, shape, n)
            row = {"block": kind, "shape": shape, "max_n": n, "chars": len(text)}
            row.update(measure([text], sample_rate, timeout))
            row["estimate_s"], row["delay_mb"] = _estimate([text])
            rows.append(row)
            shown = f"{row['seconds']:.2f}" if row["seconds"] is not None else row["error"]
            print(
                f"{kind:18} {shape:5} {n:6d} {shown:>10} {row['estimate_s']:10.2f} "
                f"{row['delay_mb']:9.1f} {row.get('rss_mb', 0):8.0f}",
                flush=True,
            )
    timed = [r for r in rows if r["seconds"] is not None]
    if timed:
        worst = max(timed, key=lambda r: r["seconds"])
        fat = max(timed, key=lambda r: r["rss_mb"])
        print(
            f"slowest accepted: {worst['block']} {worst['shape']} x{worst['max_n']}, "
            f"{worst['seconds']:.2f} s; largest: {fat['block']} {fat['shape']} "
            f"x{fat['max_n']}, {fat['rss_mb']:.0f} MB RSS"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--quick", action="store_true", help="only the short chains")
    parser.add_argument("--only", help="only cases whose name contains this")
    parser.add_argument(
        "--search", action="store_true", help="the most expensive scripts the validator accepts"
    )
    args = parser.parse_args()
    if args.child:
        job = json.loads(sys.stdin.read())
        print(json.dumps(_child(job["codes"], job["sample_rate"])))
        return
    if args.search:
        rows = search(args.sample_rate, args.timeout, args.only)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1) + "\n")
        return
    rows = []
    print(f"{'case':44} {'measured s':>10} {'estimate s':>10} {'delay MB':>9} {'RSS MB':>8}")
    for name, codes in cases(args.quick):
        if args.only and args.only not in name:
            continue
        row = {"case": name, **measure(codes, args.sample_rate, args.timeout)}
        row["estimate_s"], row["delay_mb"] = _estimate(codes)
        rows.append(row)
        shown = f"{row['seconds']:.2f}" if row["seconds"] is not None else row["error"]
        est, mem = f"{row['estimate_s']:.2f}", f"{row['delay_mb']:.1f}"
        print(f"{name:44} {shown:>10} {est:>10} {mem:>9} {row.get('rss_mb', 0):8.0f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
