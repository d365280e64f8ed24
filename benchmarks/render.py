"""Render benchmark: our Faust engine against Spotify's pedalboard on the same mix chain.

    uv run python benchmarks/render.py --seconds 30 --rounds 7 --json benchmarks/render.json

The mix: four synthetic stereo stems (drums, bass, melody, harmony; fixed seed) at 44.1 kHz.
Each stem gets high-pass → bell EQ → compressor, melody and harmony a freeverb send mixed in
parallel with the dry signal, and the summed bus a limiter. Rows, run alternately in one
process (warm-up excluded, compile time measured separately):

    ours (render)         producer.faust.render.render: the mix written in the mix language,
                          validated, split into stem programs run on threads, summed, master
    ours                  producer.faust.engine.run_mix on the hand-split programs
    ours (one program)    the whole mix as one Faust program on one thread (`:>` sums the stems)
    pedalboard            one Pedalboard per stem, summed, then the master board (sequential)
    pedalboard (threads)  the same boards with the stems on threads (pedalboard frees the GIL)

ratio = pedalboard median / ours median; above 1 means ours is faster.

Chain equivalence: pedalboard's Reverb is JUCE's freeverb, so the Faust `send` below scales
`re.stereo_freeverb` the way JUCE does (input gain 0.015, comb feedback = 0.7 + 0.28·room,
damping · 0.4, wet · 3, dry · 2), which makes the two reverbs the same algorithm at the same
levels. Differences left: pedalboard's HighpassFilter is first order while ours is second order
(more work for us), and the limiters are different designs (Faust's 1176-style compressor vs
JUCE's two-stage limiter).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from machine import machine

from producer.faust import engine

SAMPLE_RATE = 44100
ROLES = ("drums", "bass", "melody", "harmony")

# JUCE-equivalent freeverb send: dry at unity, wet reverb added (see the module docstring).
_HEADER = """import("stdfaust.lib");
send(room, damping, wet) = _,_ <: _,_, (*(0.015), *(0.015)
    : re.stereo_freeverb(0.7 + 0.28*room, 0.5, 0.4*damping, 23) : *(3*wet), *(3*wet)) :> _,_;
"""

# role → (highpass Hz, (bell gain dB, freq Hz, bandwidth Hz), (ratio, threshold dB, attack s,
#         release s), reverb (room, damping, wet) or None)
CHAIN: dict[str, tuple] = {
    "drums": (30, (2.0, 100, 50), (4, -18, 0.003, 0.10), None),
    "bass": (35, (3.0, 60, 40), (3, -20, 0.005, 0.15), None),
    "melody": (120, (-2.0, 2500, 800), (2, -20, 0.010, 0.20), (0.5, 0.5, 0.20)),
    "harmony": (150, (-1.5, 1200, 600), (2, -22, 0.010, 0.25), (0.7, 0.4, 0.25)),
}
LIMITER = "co.limiter_1176_R4_stereo"  # ratio 4, threshold -6 dB, attack 0.8 ms, release 0.5 s


def _dry_chain(role: str) -> str:
    """High-pass → bell EQ → compressor of one stem (2 in, 2 out), without the reverb send."""
    hp, (g, f, bw), (ratio, thr, att, rel), _ = CHAIN[role]
    return (
        f"fi.highpass(2, {hp}), fi.highpass(2, {hp}) : "
        f"fi.peak_eq({g}, {f}, {bw}), fi.peak_eq({g}, {f}, {bw}) : "
        f"co.compressor_stereo({ratio}, {thr}, {att}, {rel})"
    )


def stem_expression(role: str) -> str:
    """The Faust expression (2 in, 2 out) of one stem's processing."""
    verb = CHAIN[role][3]
    return _dry_chain(role) + (f" : send{verb}" if verb is not None else "")


def stem_program(role: str) -> str:
    """One stem as its own program, as the renderer splits a mix script."""
    return _HEADER + f"process = {stem_expression(role)};\n"


def master_program() -> str:
    """The master bus program (2 in, 2 out)."""
    return _HEADER + f"process = {LIMITER};\n"


def single_program() -> str:
    """The whole mix as one program: 8 inputs (stem k on 2k, 2k+1), `:>` sums the stereo pairs."""
    lines = [f"{role}_process = {stem_expression(role)};" for role in ROLES]
    stems = ", ".join(f"{role}_process" for role in ROLES)
    lines.append(f"master_process = {LIMITER};")
    lines.append(f"process = {stems} :> master_process;")
    return _HEADER + "\n".join(lines) + "\n"


def mix_language_script() -> str:
    """The same mix in the project's mix language (the send's constants worked out)."""
    lines = ['import("stdfaust.lib");', ""]
    for role in ROLES:
        expr, verb = _dry_chain(role), CHAIN[role][3]
        if verb is not None:
            room, damping, wet = verb
            fb, damp, gain = round(0.7 + 0.28 * room, 4), round(0.4 * damping, 4), round(3 * wet, 4)
            expr += (
                " : (_, _ <: _, _, (*(0.015), *(0.015) : "
                f"re.stereo_freeverb({fb}, 0.5, {damp}, 23) : *({gain}), *({gain})) :> _, _)"
            )
        lines.append(f"{role}_process = {expr};")
    lines.append(f"master_process = {LIMITER};")
    lines += ["", f"process = {', '.join(r + '_process' for r in ROLES)} :> master_process;"]
    return "\n".join(lines) + "\n"


def pedalboard_boards() -> tuple[dict[str, object], object]:
    """The same chain in pedalboard: one board per stem and a master board."""
    from pedalboard import Compressor, HighpassFilter, Limiter, PeakFilter, Pedalboard, Reverb

    boards = {}
    for role, (hp, (g, f, bw), (ratio, thr, att, rel), verb) in CHAIN.items():
        plugins = [
            HighpassFilter(cutoff_frequency_hz=hp),
            PeakFilter(cutoff_frequency_hz=f, gain_db=g, q=f / bw),
            Compressor(threshold_db=thr, ratio=ratio, attack_ms=att * 1e3, release_ms=rel * 1e3),
        ]
        if verb is not None:
            room, damping, wet = verb
            plugins.append(
                Reverb(room_size=room, damping=damping, wet_level=wet, dry_level=0.5, width=1.0)
            )
        boards[role] = Pedalboard(plugins)
    return boards, Pedalboard([Limiter(threshold_db=-6.0, release_ms=500.0)])


def synth_stems(seconds: float, sample_rate: int = SAMPLE_RATE, seed: int = 0) -> dict:
    """Deterministic stereo stems at 90 BPM with the gaps real arrangements have.

    Silence matters for the benchmark: IIR and reverb states decaying in silence go subnormal,
    which is slow on x86 unless flushed to zero (pedalboard's JUCE does; see RESULTS.md).
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    beat = 60.0 / 90.0
    pos = t % beat  # time since the last beat
    beat_index = (t // beat).astype(np.int64)

    # Drums: kick on every beat, snare on 2 and 4, closed hats on eighths.
    kick = np.sin(2 * np.pi * (50 * pos + 40 * (1 - np.exp(-pos / 0.03)))) * np.exp(-pos / 0.25)
    noise = rng.standard_normal((2, n))
    snare = np.where(beat_index % 2 == 1, np.exp(-pos / 0.12), 0.0) * noise * 0.5
    hat_pos = t % (beat / 2)
    hats = np.diff(noise, axis=1, prepend=0.0) * np.exp(-hat_pos / 0.03) * 0.15
    drums = 0.6 * kick + snare + hats * np.array([[0.8], [1.2]])

    # Bass: gated notes on the root and fifth of A, silence between notes.
    notes = np.array([55.0, 55.0, 82.41, 73.42])[(t // (2 * beat)).astype(np.int64) % 4]
    gate = (pos < 0.8 * beat).astype(float)
    bass = np.tanh(2 * np.sin(2 * np.pi * notes * t)) * gate * 0.5

    # Melody: plucked arpeggio entering after 8 s, with rests every fourth beat.
    arp = np.array([440.0, 523.25, 659.25, 783.99])[beat_index % 4]
    pluck = np.exp(-pos / 0.2) * (beat_index % 4 != 3) * (t >= min(8.0, seconds / 4))
    melody = sum(np.sin(2 * np.pi * k * arp * t) / k for k in (1, 2, 3)) * pluck * 0.35

    # Harmony: slow detuned chord pads entering halfway, silent in the last two seconds.
    pad_env = np.clip((t - seconds / 2) / 2.0, 0, 1) * (t < seconds - 2)
    chord = [220.0, 261.63, 329.63]
    harmony = sum(np.sin(2 * np.pi * f * (1.003 * t)) for f in chord) * pad_env * 0.15

    def stereo(x: np.ndarray, width: float = 0.0, peak: float = 0.5) -> np.ndarray:
        # Pan, then normalise to a -6 dBFS peak so the stems sum without clipping.
        x = x if x.ndim == 2 else np.stack([x * (1 - width), x * (1 + width)])
        return (x * (peak / max(float(np.max(np.abs(x))), 1e-9))).astype(np.float32)

    return {
        "drums": stereo(drums),
        "bass": stereo(bass),
        "melody": stereo(melody, 0.2),
        "harmony": stereo(harmony, -0.3),
    }


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timed_both(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process: all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print the table and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="mix length")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per row")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--block-size", type=int, default=engine.DEFAULT_BLOCK_SIZE)
    parser.add_argument(
        "--compile-flags",
        default=None,
        help="libfaust flags instead of engine.COMPILE_FLAGS, e.g. '-mcd 0' ('' for none)",
    )
    parser.add_argument("--workers", type=int, default=None, help="threads for stem programs")
    parser.add_argument(
        "--keep-denormals",
        action="store_true",
        help="experiment: do not flush subnormals during renders (the engine does by default)",
    )
    args = parser.parse_args(argv)
    if args.keep_denormals:
        engine._LIBM = None  # turns engine._no_denormals into a no-op

    if args.compile_flags is not None:
        engine.COMPILE_FLAGS = tuple(args.compile_flags.split())
    sr, bs = SAMPLE_RATE, args.block_size
    stems = synth_stems(args.seconds, sr)
    inputs8 = np.concatenate([stems[r] for r in ROLES])
    jobs = [(stem_program(r), stems[r]) for r in ROLES]
    master, single = master_program(), single_program()
    boards, master_board = pedalboard_boards()

    from producer.faust.render import render

    script = mix_language_script()

    def ours_render() -> np.ndarray:
        return render(script, stems, sr, target_lufs=None)

    def ours() -> np.ndarray:
        return engine.run_mix(jobs, master, sr, block_size=bs, max_workers=args.workers)

    def ours_single() -> np.ndarray:
        return engine.run_faust(single, inputs8, sr, block_size=bs)

    # Compile time of each program alone, from an empty cache.
    engine.clear_cache()
    compile_s = {
        r: _timed(lambda r=r: engine.program_io(stem_program(r), sr, block_size=bs)) for r in ROLES
    }
    compile_s["master"] = _timed(lambda: engine.program_io(master, sr, block_size=bs))
    compile_s["one program"] = _timed(lambda: engine.program_io(single, sr, block_size=bs))
    # A first request for a new script: compile + render, from an empty cache (median of 3).
    cold_s = {}
    for name, fn in (("ours", ours), ("ours (one program)", ours_single)):
        runs = []
        for _ in range(3):
            engine.clear_cache()
            runs.append(_timed(fn))
        cold_s[name] = statistics.median(runs)

    def pedal() -> np.ndarray:
        bus = sum(boards[r](stems[r], sr, reset=True) for r in ROLES)
        return master_board(bus, sr, reset=True)

    pool = ThreadPoolExecutor(max_workers=args.workers or engine.default_workers())

    def pedal_threads() -> np.ndarray:
        outs = pool.map(lambda r: boards[r](stems[r], sr, reset=True), ROLES)
        return master_board(sum(outs), sr, reset=True)

    rows = {
        "ours (render)": ours_render,
        "ours": ours,
        "ours (one program)": ours_single,
        "pedalboard": pedal,
        "pedalboard (threads)": pedal_threads,
    }
    outputs = {name: fn() for name, fn in rows.items()}  # warm-up, excluded
    times: dict[str, list[float]] = {name: [] for name in rows}
    cpu_times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(args.rounds):
        for name, fn in rows.items():  # alternate, so drift hits every row alike
            wall, cpu = _timed_both(fn)
            times[name].append(wall)
            cpu_times[name].append(cpu)
    pool.shutdown()

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    cpu_medians = {name: statistics.median(ts) for name, ts in cpu_times.items()}
    ratio = medians["pedalboard"] / medians["ours (render)"]
    split_vs_single = float(np.max(np.abs(outputs["ours"] - outputs["ours (one program)"])))
    render_vs_single = float(
        np.max(np.abs(outputs["ours (render)"] - outputs["ours (one program)"]))
    )
    rms_db = {
        name: round(20 * float(np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2)))), 2)
        for name, out in outputs.items()
    }

    print(f"machine: {machine(usable_cores=engine.default_workers())}")
    print(
        f"mix: {args.seconds:g} s, 4 stereo stems, {sr} Hz; block size {bs}; "
        f"flags {' '.join(engine.COMPILE_FLAGS) or '(none)'}; rounds {args.rounds}; "
        f"flush denormals {engine._LIBM is not None}"
    )
    print("compile (cold, s): " + ", ".join(f"{k} {v:.3f}" for k, v in compile_s.items()))
    print(
        f"{'row':24s} {'median s':>9s} {'min s':>8s} {'CPU s':>7s} {'x realtime':>10s} "
        f"{'out RMS dB':>10s}"
    )
    for name, ts in times.items():
        print(
            f"{name:24s} {medians[name]:9.4f} {min(ts):8.4f} {cpu_medians[name]:7.3f} "
            f"{args.seconds / medians[name]:10.0f} {rms_db[name]:10.2f}"
        )
    print(
        f"ratio pedalboard/ours (render): {ratio:.2f}  "
        f"(engine alone {medians['pedalboard'] / medians['ours']:.2f}; "
        f"vs pedalboard threads: {medians['pedalboard (threads)'] / medians['ours (render)']:.2f}; "
        f"one program: {medians['pedalboard'] / medians['ours (one program)']:.2f})"
    )
    print(
        "first request, compile + render (s): "
        + ", ".join(f"{k} {v:.3f}" for k, v in cold_s.items())
    )
    print(f"max |split - one program| = {split_vs_single:.2e}")
    print(f"max |render() - one program| = {render_vs_single:.2e}")

    results = {
        "machine": machine(usable_cores=engine.default_workers()),
        "seconds": args.seconds,
        "sample_rate": sr,
        "block_size": bs,
        "compile_flags": list(engine.COMPILE_FLAGS),
        "rounds": args.rounds,
        "compile_s": compile_s,
        "cold_compile_plus_render_s": cold_s,
        "times_s": times,
        "median_s": medians,
        "cpu_times_s": cpu_times,
        "cpu_median_s": cpu_medians,
        "ratio_pedalboard_over_ours": ratio,
        "max_abs_split_minus_single": split_vs_single,
        "max_abs_render_minus_single": render_vs_single,
        "rms_db": rms_db,
    }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
