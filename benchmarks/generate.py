"""Stem generation benchmark: how fast the Faust instruments render a stem, on one core.

    uv run python benchmarks/generate.py --seconds 30 --rounds 5 --json benchmarks/generate.json

For each role, a 30 s stem is played from a synthetic but realistic part at 140 bpm
(`part_events`: trap drums with 1/16 hats, 1/32 rolls and half-time snares; an 808 on the
chord roots with slides; 4-note chords per bar on keys and pad; one note per beat on bell,
pluck and lead; an eighth-note bass). Each row times `render_events` / `render_drum_kit`
end to end (control signals in numpy + the render) with the program already compiled; the
compile of each program is timed separately from an empty cache. Medians over `--rounds`,
rows interleaved so that drift hits each alike.

Single core: BLAS/OpenMP pools are set to one thread before numpy loads and the process is
pinned to one CPU (Linux); DawDreamer renders a program on the calling thread anyway.
Target (issue 3): every stem at >= 50x real time, i.e. <= 0.6 s for 30 s.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from machine import machine  # noqa: E402

from producer.faust import engine  # noqa: E402
from producer.generators.events import GM_DRUMS, NoteEvent  # noqa: E402
from producer.generators.instruments import (  # noqa: E402
    INSTRUMENTS,
    KIT_PROGRAM,
    render_drum_kit,
    render_events,
)

SAMPLE_RATE = 44100
BPM = 140.0

# role → instrument ("kit" = render_drum_kit)
ROLES = {
    "drums": "kit",
    "808": "808",
    "bass": "bass",
    "keys": "keys",
    "pad": "pad",
    "bell": "bell",
    "pluck": "pluck",
    "lead": "lead",
}

# i - VI - III - VII in F minor: (root MIDI note of the bar's chord, chord tones above it)
_PROGRESSION = ((53, (0, 3, 7, 10)), (49, (0, 4, 7, 11)), (56, (0, 4, 7, 11)), (51, (0, 4, 7, 10)))
_F_MINOR = (0, 2, 3, 5, 7, 8, 10)  # scale degrees above F


def _drums(bars: int) -> list[NoteEvent]:
    def hit(beat: float, name: str, vel: float) -> NoteEvent:
        return NoteEvent(beat, 0.25, GM_DRUMS[name], vel, name)

    events = []
    for bar in range(bars):
        b0 = 4.0 * bar
        roll = bar % 4 == 3  # 1/32 roll on the last beat of every 4th bar
        for s in range(16):
            if roll and s >= 12:
                events += [hit(b0 + s / 4 + k / 8, "hat_closed", 0.5 + 0.1 * k) for k in (0, 1)]
            elif s != 14:
                events.append(hit(b0 + s / 4, "hat_closed", 0.8 if s % 2 == 0 else 0.55))
        events.append(hit(b0 + 3.5, "hat_open", 0.7))
        events += [hit(b0 + b, "kick", 1.0) for b in (0.0, 0.75, 2.5)]
        events += [hit(b0 + 2.0, "snare", 1.0), hit(b0 + 2.0, "clap", 0.8)]
        if bar % 2:
            events += [hit(b0 + 1.5, "perc", 0.6), hit(b0 + 3.75, "rim", 0.5)]
        if bar % 8 == 0:
            events.append(hit(b0, "crash", 0.7))
    return events


def part_events(role: str, seconds: float, bpm: float = BPM) -> list[NoteEvent]:
    """The synthetic part of `role` for a stem of `seconds` (whole bars, cut at the end)."""
    bars = int(np.ceil(seconds * bpm / 60.0 / 4.0))
    if role == "drums":
        return _drums(bars)
    name = ROLES[role]
    events: list[NoteEvent] = []
    for bar in range(bars):
        b0 = 4.0 * bar
        root, tones = _PROGRESSION[bar % len(_PROGRESSION)]
        if role in ("keys", "pad"):  # a 4-note chord per bar (keys: restruck on beat 3)
            hits = ((0.0, 4.0),) if role == "pad" else ((0.0, 1.75), (2.0, 1.75))
            events += [
                NoteEvent(b0 + at, dur, root + t, 0.75, name) for at, dur in hits for t in tones
            ]
        elif role == "808":  # the root on every beat, sliding up a fourth every other bar
            for beat in range(4):
                glide = root - 12 + 5 if bar % 2 and beat == 3 else None
                events.append(NoteEvent(b0 + beat, 0.95, root - 12, 1.0, name, glide_to=glide))
        elif role == "bass":  # funk eighths: root, octave, fifth
            for k in range(8):
                pitch = root - 12 + (0, 12, 7, 0)[k % 4]
                events.append(NoteEvent(b0 + k / 2, 0.4, pitch, 0.6 + 0.3 * (k % 2 == 0), name))
        else:  # bell / pluck / lead: one scale note per beat, an octave up
            for beat in range(4):
                degree = (bar * 3 + beat * 2) % len(_F_MINOR)
                pitch = 65 + _F_MINOR[degree] + (12 if role == "bell" else 0)
                events.append(NoteEvent(b0 + beat, 0.9, pitch, 0.8, name))
    return events


def render_role(role: str, events: list[NoteEvent], num_samples: int) -> np.ndarray:
    """One stem, as a generator renders it."""
    if ROLES[role] == "kit":
        return render_drum_kit(events, BPM, num_samples, SAMPLE_RATE)
    return render_events(events, ROLES[role], BPM, num_samples, SAMPLE_RATE)


def program_of(role: str) -> str:
    """The Faust program that renders `role`."""
    return KIT_PROGRAM if ROLES[role] == "kit" else INSTRUMENTS[ROLES[role]].code


def pin_to_one_core(cpu: int | None = None) -> int | None:
    """Pin this process to `cpu` (default: the first allowed; Linux); None where unsupported."""
    try:
        cpu = min(os.sched_getaffinity(0)) if cpu is None else cpu
        os.sched_setaffinity(0, {cpu})
        return cpu
    except (AttributeError, OSError):
        return None


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def generator_rows(seconds: float, rounds: int) -> list[dict]:
    """End to end through the registered generators (pattern + instrument), per style and role."""
    from producer.generators import generate_stem
    from producer.plan import STYLES, ProductionPlan

    rows = []
    for style in STYLES:
        plan = ProductionPlan(
            style=style,
            bpm=BPM,
            key="F",
            mode="minor",
            duration=seconds,
            stems=[{"role": r} for r in ("drums", "bass", "harmony", "melody")],
        )
        for spec in plan.stems:
            run = lambda spec=spec, plan=plan: generate_stem(spec, plan, seconds, seed=1)  # noqa: E731
            stem = run()  # warm-up: compiles the instrument
            times = [_timed(run) for _ in range(rounds)]
            median = statistics.median(times)
            rows.append({
                "style": style,
                "role": spec.role,
                "generator": stem.generator,
                "events": len(stem.events),
                "median_s": round(median, 4),
                "realtime_factor": round(seconds / median, 1),
            })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print the table and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="stem length")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per role")
    parser.add_argument("--roles", default=",".join(ROLES), help="comma-separated subset")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    args = parser.parse_args(argv)

    cpu = None if args.no_pin else pin_to_one_core(args.cpu)
    roles = [r for r in args.roles.split(",") if r]
    num_samples = round(args.seconds * SAMPLE_RATE)
    parts = {role: part_events(role, args.seconds) for role in roles}

    compile_s: dict[str, list[float]] = {role: [] for role in roles}
    for _ in range(min(args.rounds, 3)):
        engine.clear_cache()
        for role in roles:
            code = program_of(role)
            compile_s[role].append(_timed(lambda code=code: engine.program_io(code, SAMPLE_RATE)))

    stems = {role: render_role(role, parts[role], num_samples) for role in roles}  # warm-up
    times: dict[str, list[float]] = {role: [] for role in roles}
    for _ in range(args.rounds):
        for role in roles:
            times[role].append(
                _timed(lambda role=role: render_role(role, parts[role], num_samples))
            )

    rows = []
    for role in roles:
        median = statistics.median(times[role])
        stem = stems[role].astype(np.float64)
        rms = float(np.sqrt(np.mean(stem**2)))
        rows.append({
            "role": role,
            "instrument": ROLES[role],
            "events": len(parts[role]),
            "render_median_s": round(median, 4),
            "render_min_s": round(min(times[role]), 4),
            "realtime_factor": round(args.seconds / median, 1),
            "compile_median_s": round(statistics.median(compile_s[role]), 4),
            "peak": round(float(np.abs(stem).max()), 3),
            "rms_dbfs": round(20 * np.log10(max(rms, 1e-12)), 1),
        })  # fmt: skip

    result = {
        "benchmark": "generate",
        "seconds": args.seconds,
        "rounds": args.rounds,
        "bpm": BPM,
        "sample_rate": SAMPLE_RATE,
        "pinned_cpu": cpu,
        "machine": machine(),
        "target_realtime_factor": 50.0,
        "rows": rows,
    }
    print(f"{args.seconds:g} s stems at {BPM:g} bpm, {args.rounds} rounds, one core (cpu {cpu})")
    print(
        f"{'role':8} {'events':>6} {'render s':>9} {'x realtime':>10} {'compile s':>9} {'peak':>6}"
    )
    for r in rows:
        print(
            f"{r['role']:8} {r['events']:>6} {r['render_median_s']:>9.3f} "
            f"{r['realtime_factor']:>10.1f} {r['compile_median_s']:>9.3f} {r['peak']:>6.3f}"
        )
    result["generators"] = generator_rows(args.seconds, args.rounds)
    print(f"\nend to end through the generators (pattern + render), {args.seconds:g} s stems")
    header = f"{'style':9} {'role':8} {'generator':9} {'events':>6} {'median s':>9}"
    print(f"{header} {'x realtime':>10}")
    for r in result["generators"]:
        print(
            f"{r['style']:9} {r['role']:8} {r['generator']:9} {r['events']:>6} "
            f"{r['median_s']:>9.3f} {r['realtime_factor']:>10.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
