"""Preprocessing benchmark: the Ray Data job against a plain sequential loop, in songs/min.

    uv run python benchmarks/preprocess.py --songs 24 --duration 8 --rounds 3 \\
        [--set preprocess.analysis_concurrency=2 ...] [--json benchmarks/preprocess.json]

One synthetic corpus (`producer.data.synth.synthesize_corpus`, 44.1 kHz), a quarter of its songs
stripped of their stems, so they go through Demucs: a tiny random-weight HTDemucs saved locally
(`tests/audio/tiny_demucs.py`; nothing is downloaded). Its cost per song is a fraction of a real
htdemucs's, so the figures are about the analysis and the Ray machinery, not about Demucs.

Each round makes the same rows three times, each from a fresh copy of the corpus into a fresh
output folder (the arms' order alternates, so drift in the machine's load hits them alike):

- sequential: one process, for each song: `Separator.separate` and the stems written if it has
  none, then `load_entry_or_reason` + `example_to_row` (the library functions the job maps),
  and the rows written as one Parquet file (`encode_rows`). One torch thread (`--seq-threads`),
  as the separator actor has: torch's default two threads made this loop 2-3x slower here
  whenever other programs loaded the machine (OpenMP threads spinning for a busy core).
- ray cold: `ray.init(num_cpus=--cpus)`, timed on its own (Ray startup), then
  `ray_jobs.preprocess.preprocess(...)` on that running Ray with the preprocess section of
  `--config` (default `ray_jobs/configs/local-cpu.yaml`; `--set preprocess.KEY=VALUE` overrides;
  folders and separator are the benchmark's): its worker processes start, import the library
  and load the model inside the job's time.
- ray warm: a second `preprocess(...)` on the same Ray: the steady state of a long job or a
  persistent cluster (task workers reused; the separator actor is new, its model load counted).

Reported per arm: wall time, songs/min, the time to the first result, the steady rate from the
first result to the last (start-up left out), and the CPU seconds of
the arm's processes (this one and all under it, Ray's included), which load from other programs
on a shared machine does not inflate the way it inflates wall time. Round 0 warms the OS
file cache and this process's imports and is dropped (its sequential figures are kept in the
JSON as the cold start of a plain loop); the table gives medians of the timed rounds. The arms
must make the same rows (same songs; the largest feature difference between them is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from machine import machine

from producer.data.shards import encode_rows, load_shards
from ray_jobs.preprocess import (
    PreprocessSettings,
    local_workers_use_this_python,
    preprocess,
    settings_from_config,
    song_key,
)

ROOT = Path(__file__).resolve().parents[1]


def make_corpus(work: Path, songs: int, duration: float, seed: int, stemless_every: int) -> Path:
    """The pristine corpus (cached in `work`): every `stemless_every`-th song without stems."""
    from producer.data.synth import synthesize_corpus

    corpus = work / f"corpus-{songs}x{duration:g}s-seed{seed}"
    if not (corpus / ".complete").is_file():
        shutil.rmtree(corpus, ignore_errors=True)
        paths = synthesize_corpus(corpus, songs, seed=seed, duration=duration, progress=False)
        for i, song in enumerate(paths):
            if i % stemless_every == 0:
                shutil.rmtree(song / "stems")
                (song / f"{song.name}.dsp").unlink(missing_ok=True)
        (corpus / ".complete").touch()
    return corpus


def make_separator(work: Path) -> Path:
    """The tiny HTDemucs of the tests, saved in the safe local format."""
    from producer.audio.separation import save_local_demucs

    sys.path.insert(0, str(ROOT))
    from tests.audio.tiny_demucs import tiny_htdemucs

    path = work / "tiny-demucs"
    save_local_demucs(tiny_htdemucs(), None, path)
    return path


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and every process under it (Ray's raylet and
    workers are), counting exited children that were waited for: unlike wall time, load from
    other programs on a shared machine does not add to it."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:  # exited meanwhile
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def sequential(s: PreprocessSettings) -> dict:
    """The loop the job replaces: one song after another in this process."""
    import soundfile as sf

    from producer.audio.io import load_audio, save_audio
    from producer.audio.separation import Separator, SeparatorConfig, clear_separator_cache
    from producer.data.dataset import load_entry_or_reason
    from producer.data.layout import scan_song, scan_songs
    from producer.training.batch import example_to_row

    start, cpu0 = time.perf_counter(), cpu_seconds()
    clear_separator_cache()  # every round loads the model, as every Ray round does
    separator = Separator.from_config(SeparatorConfig(model=s.separator, progress=False))
    load_s = time.perf_counter() - start
    entries, _ = scan_songs(s.data_dir)
    rows, keys, final_keys, timeline = [], [], [], []
    failed = separated = 0
    for entry in entries:
        key = song_key(entry)
        if not entry.stem_paths:
            rate = int(sf.info(str(entry.mix_path)).samplerate)
            stems = separator.separate(load_audio(entry.mix_path, sample_rate=rate), rate)
            for role, audio in stems.items():
                save_audio(entry.dir / "stems" / f"{role}.wav", audio, rate, subtype="FLOAT")
            entry = scan_song(entry.dir, entry.artist, [])
            separated += 1
        example, _ = load_entry_or_reason(entry, s.sample_rate, s.quality_copies, s.seed, "train")
        if example is None:
            failed += 1
        else:
            rows.append(example_to_row(example))
            keys.append(key)
            final_keys.append(song_key(entry))
        timeline.append((time.perf_counter() - start, len(rows) + failed))
    out = Path(s.output_dir) / "shards"
    out.mkdir(parents=True)
    pq.write_table(encode_rows(rows, keys, final_keys), out / "part-00000.parquet")
    wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "cpu_s": cpu_seconds() - cpu0,
        "load_s": load_s,
        "songs": len(rows) + failed,
        "done": len(rows),
        "failed": failed,
        "separated": separated,
        **rates(timeline, wall),
    }


def with_ray(cold: PreprocessSettings, warm: PreprocessSettings, cpus: int) -> dict:
    """Start a local Ray (timed apart), run the job twice on it (first on fresh worker
    processes, then on the workers the first job left), stop it."""
    import ray

    local_workers_use_this_python()
    t0 = time.perf_counter()
    ray.init(
        num_cpus=cpus,
        object_store_memory=500 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    out: dict = {"ray_init_s": time.perf_counter() - t0}
    try:
        for name, s in (("cold", cold), ("warm", warm)):
            t1, cpu1 = time.perf_counter(), cpu_seconds()
            report = preprocess(s, progress=False)
            wall = time.perf_counter() - t1
            songs = report.done + report.failed
            out[name] = {
                "wall_s": wall,
                "cpu_s": cpu_seconds() - cpu1,
                "songs": songs,
                "done": report.done,
                "failed": report.failed,
                "separated": report.separated,
                **rates(report.timeline, wall),
            }
    finally:
        t2 = time.perf_counter()
        ray.shutdown()
        out["ray_shutdown_s"] = time.perf_counter() - t2
    return out


def rates(timeline: list[tuple[float, int]], wall: float) -> dict:
    """From (seconds, songs finished) points: songs/min over the wall time, the first result's
    time, and the steady rate between the first and the last result (start-up left out; songs
    already in flight at the first result make it read up to a few % high for Ray)."""
    (t0, n0), (t1, n1) = timeline[0], timeline[-1]
    return {
        "songs_per_min": n1 / wall * 60,
        "first_result_s": t0,
        "steady_songs_per_min": (n1 - n0) / (t1 - t0) * 60 if t1 > t0 else float("nan"),
    }


def max_row_difference(a_dir: Path, b_dir: Path) -> tuple[int, float]:
    """(rows, largest |difference| of any feature array) between two arms' outputs."""
    a, b = load_shards(a_dir), load_shards(b_dir)
    # The paths differ by the copy's folder; the song's own folder names match.
    name = lambda r: Path(r["path"]).relative_to(Path(r["path"]).parents[1]).as_posix()  # noqa: E731
    assert [name(r) for r in a] == [name(r) for r in b], "the two arms made different songs"
    diff = 0.0
    for ra, rb in zip(a, b, strict=True):
        for key in ("audio_feat", "stem_feat", "quality_feat", "quality_ref"):
            diff = max(diff, float(np.max(np.abs(ra[key] - rb[key]), initial=0.0)))
    return len(a), diff


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--songs", type=int, default=24)
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per song")
    ap.add_argument("--stemless-every", type=int, default=4, help="every N-th song has no stems")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds (after one warm-up)")
    ap.add_argument("--cpus", type=int, default=2, help="the local Ray's num_cpus")
    ap.add_argument(
        "--config",
        type=Path,
        default=ROOT / "ray_jobs/configs/local-cpu.yaml",
        help="job config whose preprocess section the Ray arm runs (folders and separator are "
        "replaced by the benchmark's)",
    )
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="config override"
    )
    ap.add_argument("--seed", type=int, default=7, help="seed of the synthetic corpus")
    ap.add_argument("--seq-threads", type=int, default=1, help="torch threads, sequential loop")
    ap.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/preprocess.json")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="preprocess-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    corpus = make_corpus(work, args.songs, args.duration, args.seed, args.stemless_every)
    separator = make_separator(work)
    print(f"corpus {corpus} ready in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    base = settings_from_config(args.config, args.set)
    import torch

    torch.set_num_threads(args.seq_threads)  # this process runs the sequential loop

    def settings(arm_dir: Path) -> PreprocessSettings:
        data = arm_dir / "data"
        shutil.copytree(corpus, data, ignore=shutil.ignore_patterns(".complete"))
        return base.model_copy(
            update=dict(
                data_dir=str(data),
                output_dir=str(arm_dir / "out"),
                separator=str(separator),
                separator_download=False,
                max_errors=None,
                overwrite=False,
            )
        )

    stemless = len(range(0, args.songs, args.stemless_every))

    def check(arm: str, res: dict) -> None:
        if (res["done"], res["separated"]) != (args.songs, stemless):
            raise SystemExit(f"{arm} did not make every row: {res}")

    rounds: list[dict] = []
    row_check = (0, float("nan"))
    for r in range(args.rounds + 1):
        dirs = {arm: work / f"round{r}-{arm}" for arm in ("sequential", "ray-cold", "ray-warm")}
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)
        entry: dict = {"round": r, "load_1min_before": os.getloadavg()[0]}
        for arm in ["sequential", "ray"] if r % 2 == 0 else ["ray", "sequential"]:
            if arm == "sequential":
                entry["sequential"] = sequential(settings(dirs["sequential"]))
                check(arm, entry["sequential"])
            else:
                entry["ray"] = with_ray(
                    settings(dirs["ray-cold"]), settings(dirs["ray-warm"]), args.cpus
                )
                check("ray cold", entry["ray"]["cold"])
                check("ray warm", entry["ray"]["warm"])
        print(
            f"round {r}: sequential {entry['sequential']['wall_s']:.2f} s, "
            f"ray.init {entry['ray']['ray_init_s']:.2f} s, "
            f"ray cold {entry['ray']['cold']['wall_s']:.2f} s, "
            f"ray warm {entry['ray']['warm']['wall_s']:.2f} s",
            file=sys.stderr,
        )
        if r == args.rounds:
            row_check = max_row_difference(dirs["sequential"] / "out", dirs["ray-warm"] / "out")
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)
        rounds.append(entry)

    timed = rounds[1:]  # round 0 warms the file cache and this process's imports
    arms = {
        "sequential": [e["sequential"] for e in timed],
        "ray_cold": [e["ray"]["cold"] for e in timed],
        "ray_warm": [e["ray"]["warm"] for e in timed],
    }
    keys = ("wall_s", "cpu_s", "songs_per_min", "first_result_s", "steady_songs_per_min")
    medians = {
        arm: {k: round(statistics.median(x[k] for x in xs), 3) for k in keys}
        for arm, xs in arms.items()
    }
    # The least disturbed round of each arm: on a shared machine, load only ever adds time.
    best = {arm: round(min(x["wall_s"] for x in xs), 3) for arm, xs in arms.items()}
    ray_init = statistics.median(e["ray"]["ray_init_s"] for e in timed)
    seq_rate = medians["sequential"]["songs_per_min"]
    report = {
        "command": " ".join(["uv run python benchmarks/preprocess.py", *sys.argv[1:]]),
        "songs": args.songs,
        "stemless": stemless,
        "duration_s": args.duration,
        "ray_num_cpus": args.cpus,
        "sequential_torch_threads": args.seq_threads,
        "settings": {
            k: v
            for k, v in base.model_dump().items()
            if k not in ("data_dir", "output_dir", "separator")
        },
        "median": medians,
        "best_wall_s": best,
        "ray_init_median_s": round(ray_init, 3),
        "sequential_round0": rounds[0]["sequential"],
        "ratio_over_sequential": {
            "ray_steady": round(
                medians["ray_warm"]["steady_songs_per_min"]
                / medians["sequential"]["steady_songs_per_min"],
                2,
            ),
            "ray_warm": round(medians["ray_warm"]["songs_per_min"] / seq_rate, 2),
            "ray_cold": round(medians["ray_cold"]["songs_per_min"] / seq_rate, 2),
            "ray_cold_with_init": round(
                args.songs / (medians["ray_cold"]["wall_s"] + ray_init) * 60 / seq_rate, 2
            ),
        },
        "rows_checked": row_check[0],
        "max_feature_difference": row_check[1],
        "rounds": rounds,
        "machine": machine(),
    }

    print(
        f"\n{args.songs} songs of {args.duration:g} s, {stemless} without stems; "
        f"medians of {args.rounds} rounds (after a warm-up round)"
    )
    print(
        f"{'arm':<40} {'wall s':>7} {'songs/min':>10} {'first result s':>15} "
        f"{'steady/min':>11} {'best s':>7} {'CPU s':>7}"
    )
    labels = {
        "sequential": "sequential loop (one process)",
        "ray_cold": "Ray Data, first job (fresh workers)",
        "ray_warm": "Ray Data, second job on the same Ray",
    }
    for arm, label in labels.items():
        m = medians[arm]
        print(
            f"{label:<40} {m['wall_s']:>7.2f} {m['songs_per_min']:>10.1f} "
            f"{m['first_result_s']:>15.2f} {m['steady_songs_per_min']:>11.1f} "
            f"{best[arm]:>7.2f} {m['cpu_s']:>7.1f}"
        )
    print(f"ray.init: {ray_init:.2f} s (median)")
    loads = ", ".join(f"{e['load_1min_before']:.1f}" for e in timed)
    print(f"1-min load before each timed round: {loads}")
    print(f"songs/min ratio over sequential: {json.dumps(report['ratio_over_sequential'])}")
    print(f"rows: {row_check[0]} in both arms, largest feature difference {row_check[1]:.3g}")
    print(f"machine: {json.dumps(report['machine'])}")
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"→ {args.json}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
