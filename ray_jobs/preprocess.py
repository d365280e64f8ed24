"""Ray Data preprocessing: a song folder → stems + training rows in Parquet shards.

    uv run python -m ray_jobs.preprocess --config ray_jobs/configs/local-cpu.yaml [--set KEY=VALUE]
    uv run python -m ray_jobs.preprocess --data-dir data --output-dir out/pre \\
        [--separator htdemucs] [--separator-actors 2 --separator-num-gpus 1] [--batch-size 8] \\
        [--songs-per-shard 64] [--max-errors 10] [--overwrite]

The pipeline wraps the library; it computes nothing of its own:

    scan_songs ─ content key per song ─ skip keys already in a shard
      │
      ├─ ray.data.from_items(songs to do)
      ├─ .map_batches(SeparatorActor)   pool of `separator_actors` actors, the Demucs model
      │                                 loaded once per actor; songs without stems get
      │                                 <song>/stems/<role>.wav, the others pass through
      ├─ .map(make_row)                 load_example + example_to_row (never raises: a bad song
      │                                 becomes ok=False with its reason); `analysis_concurrency`
      │                                 tasks at a time, `analysis_num_cpus` each
      └─ driver: iter_batches (streaming) → good rows gather until `songs_per_shard` of them
                 make a Parquet shard, written atomically (temp file + rename; the rest at the
                 end); errors.parquet with (path, stage, reason) rewritten as failures come

Resumable and idempotent. A song's key is the sha256 of its mix bytes, its JSON bytes and the
sorted names of its stems. A shard holds the keys of its rows (`key`: the song as found,
`final_key`: the song after its stems were written), so the shards themselves are the record
of what is done: a re-run skips every song whose current key is in a shard, and a crash loses
at most the rows not yet in a shard (fewer than `songs_per_shard`; a shard is either complete
or absent). Songs that failed are in no shard, so a re-run retries them (a fixed file then gets
in; a still-broken one fails again and is listed in that run's errors.parquet). Ray Data's own
`CheckpointConfig` (alpha) would do the skip inside Ray, but it is alpha and keyed by row id,
not by content, so this job keeps the explicit key check.

Bad songs never stop the job unless `max_errors` says so: once more than `max_errors` songs
failed, the rows already made are written as a shard, errors.parquet is written, and the job
stops with a one-line `ProducerError`.

`overwrite` redoes every song. Its shards go to a staging folder (`output_dir/.shards-new-<run>`)
that replaces `shards/` only when the run finished: two renames (old folder aside, new one in),
then the old folder is deleted, and a run that finds a swap cut between the renames completes
it. A crashed or stopped overwrite run leaves the old shards as they were; its staged rows are
dropped (the next overwrite run starts over).

Progress: a tqdm bar on a terminal; when stderr is not a terminal (a cluster job's log) plain
lines instead, one per shard written and one every 10 s (also while Ray is still starting):
`preprocess: 40/120 songs, 2 failed, 1.30 songs/s, 2 shards`.

Rows depend on (sample_rate, quality_copies, seed): the first run records them in
`output_dir/settings.json` and a later run with other values is refused (use a new folder).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from producer.atomic import atomic_path
from producer.audio.io import load_audio, save_audio
from producer.data.dataset import load_entry_or_reason
from producer.data.layout import scan_song, scan_songs
from producer.data.shards import (
    SHARDS,
    encode_rows,
    shard_files,
)
from producer.errors import ProducerError
from producer.ray_local import init_ray, local_workers_use_this_python
from producer.training.batch import example_to_row
from ray_jobs.config import ConfigError, JobConfig, PreprocessConfig, load_config

ERRORS = "errors.parquet"
SETTINGS = "settings.json"
# Beside `shards/` while an overwrite run swaps its shards in (see the module docstring).
_STAGED = ".shards-new-"
_RETIRED = ".shards-old-"
# Seconds between plain progress lines when stderr is not a terminal.
LOG_INTERVAL_S = 10.0

_ERROR_SCHEMA = pa.schema(
    [
        pa.field("path", pa.string()),
        pa.field("key", pa.string()),
        pa.field("stage", pa.string()),  # scan | separate | analyze
        pa.field("reason", pa.string()),
    ]
)


#: What `preprocess` reads: the job config's `preprocess:` section itself
#: (`ray_jobs.config.PreprocessConfig`, one typed config per concept). Build it in Python as
#: `PreprocessSettings(data_dir=…, output_dir=…)`, or pass `preprocess` a plain mapping.
PreprocessSettings = PreprocessConfig


@dataclass
class PreprocessReport:
    done: int  # songs that got a row in this run
    skipped: int  # songs already in a shard (not touched)
    failed: int  # songs that failed in this run (listed in errors_path)
    seconds: float
    shards_dir: Path
    errors_path: Path
    separated: int = 0  # songs whose stems this run wrote
    shards: int = 0  # shards this run wrote
    # (seconds since the call began, songs finished) after each batch that came back from Ray:
    # the first entry shows the start-up (workers, model loads), the rest the steady rate.
    timeline: list[tuple[float, int]] = dataclasses.field(default_factory=list)


# ---------------------------------------------------------------------------------- keys


def song_key(entry) -> str:
    """sha256 of the mix bytes, the JSON bytes and the sorted stem names of a SongEntry."""
    h = hashlib.sha256()
    for path in (entry.mix_path, entry.meta_path):
        h.update(b"\0file\0")
        if path is not None:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    h.update(b"\0stems\0" + "\0".join(sorted(p.name for p in entry.stem_paths.values())).encode())
    return h.hexdigest()


def done_keys(output_dir: str | os.PathLike) -> set[str]:
    """Every key (as found and after separation) of the rows already in the shards."""
    keys: set[str] = set()
    for shard in shard_files(Path(output_dir)):
        table = pq.read_table(shard, columns=["key", "final_key"])
        keys.update(table.column("key").to_pylist())
        keys.update(table.column("final_key").to_pylist())
    return keys


# ------------------------------------------------------------------------------ Ray stages


class SeparatorActor:
    """A Ray Data actor: loads the separator once, writes stems for songs that have none.

    Batches are dicts of numpy arrays (Ray Data's "numpy" format) with one item a song; the
    songs come back with `error` set when their mix cannot be read or separated.
    """

    def __init__(self, model: str, device: str, threads: int, download: bool = False):
        import torch

        from producer.audio.separation import Separator, SeparatorConfig  # deferred: demucs

        torch.set_num_threads(max(1, threads))
        self.separator = Separator.from_config(
            SeparatorConfig(model=model, device=device, progress=False, download=download)
        )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        errors = list(batch["error"])
        separated = list(batch["separated"])
        for k, (song_dir, mix, needs) in enumerate(
            zip(batch["dir"], batch["mix_path"], batch["needs_separation"], strict=True)
        ):
            if not needs or errors[k]:
                continue
            try:
                self._separate(Path(song_dir), Path(mix))
                separated[k] = True
            except Exception as err:  # one bad song must not stop the job
                errors[k] = f"separate: {_reason(err)}"
        out = dict(batch)
        out["error"] = np.asarray(errors, dtype=object)
        out["separated"] = np.asarray(separated, dtype=bool)
        return out

    def _separate(self, song_dir: Path, mix_path: Path) -> None:
        """Stems into a hidden folder, then renamed to stems/: all of them or none appear."""
        import soundfile as sf

        rate = int(sf.info(str(mix_path)).samplerate)  # keep the mix's own rate
        stems = self.separator.separate(load_audio(mix_path, sample_rate=rate), rate)
        tmp = song_dir / f".stems-{uuid.uuid4().hex[:8]}.tmp"
        try:
            for role, audio in stems.items():
                save_audio(tmp / f"{role}.wav", audio, rate, subtype="FLOAT")
            target = song_dir / "stems"
            if target.is_dir() and not any(target.iterdir()):
                target.rmdir()
            os.rename(tmp, target)  # fails (OSError) if stems/ appeared meanwhile
        finally:
            if tmp.exists():
                for f in tmp.iterdir():
                    f.unlink()
                tmp.rmdir()


def make_row(item: dict[str, Any], *, sample_rate: int, quality_copies: int, seed: int) -> dict:
    """One song (after separation) → {key, final_key, path, ok, error, payload}; never raises.

    `payload` is the pickled `example_to_row` dict, in flight inside this job only (Ray pickles
    it anyway); the driver turns it into typed Parquet columns.
    """
    out = {
        "key": str(item["key"]),
        "final_key": str(item["key"]),
        "path": str(item["dir"]),
        "ok": False,
        "error": str(item["error"] or ""),
        "payload": b"",
    }
    if out["error"]:
        return out
    try:
        problems: list = []
        entry = scan_song(Path(item["dir"]), str(item["artist"]), problems)
        if entry is None:
            out["error"] = "analyze: " + "; ".join(f"{p}: {r}" for p, r in problems)
            return out
        out["final_key"] = song_key(entry)
        # The dataset's own loader: same per-song rng as `load_rows`, so rows match it.
        example, reason = load_entry_or_reason(entry, sample_rate, quality_copies, seed, "train")
        if example is None:
            out["error"] = f"analyze: {reason}"
            return out
        out["payload"] = pickle.dumps(example_to_row(example), protocol=pickle.HIGHEST_PROTOCOL)
        out["ok"] = True
    except Exception as err:  # one bad song must not stop the job
        out["error"] = f"analyze: {_reason(err)}"
    return out


def _reason(err: BaseException) -> str:
    if isinstance(err, ProducerError | OSError):
        return str(err)
    return f"{type(err).__name__}: {err}"


# ------------------------------------------------------------------------------ Parquet I/O


def load_errors(output_dir: str | os.PathLike) -> list[dict[str, str]]:
    """The last run's errors table: [{path, key, stage, reason}]."""
    path = Path(output_dir) / ERRORS
    return pq.read_table(path).to_pylist() if path.is_file() else []


def _write_atomic(table: pa.Table, path: Path) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


# ---------------------------------------------------------------------------------- driver


def _settings(
    config: PreprocessSettings | Mapping[str, Any], source: str = "preprocess settings"
) -> PreprocessSettings:
    """The settings as a validated `PreprocessConfig`; a mapping is checked as the config's
    `preprocess:` section would be (`ConfigError`, one line naming the key)."""
    if isinstance(config, PreprocessConfig):
        return config
    return JobConfig.from_dict({"preprocess": dict(config)}, source).preprocess


def _check_output_settings(out: Path, s: PreprocessSettings) -> None:
    """Rows depend on these: one output folder holds rows made with one set of them."""
    want = {"sample_rate": s.sample_rate, "quality_copies": s.quality_copies, "seed": s.seed}
    path = out / SETTINGS
    if path.is_file():
        have = json.loads(path.read_text())
        if have != want:
            raise ProducerError(
                f"{out} holds rows made with {have}, not {want}: use another output folder"
            )
        return
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(want))


def _init_ray() -> bool:
    """Use the running Ray, or start a local one; True when this call started it."""
    import ray

    if ray.is_initialized():
        return False
    local_workers_use_this_python()
    init_ray(include_dashboard=False, log_to_driver=False, configure_logging=False)
    return True


def preprocess(
    config: PreprocessSettings | Mapping[str, Any], *, progress: bool = True
) -> PreprocessReport:
    """Separate, analyse and write training rows for every song not done yet.

    `progress`: a bar on stderr when it is a terminal, plain log lines otherwise.

    Raises:
        ProducerError: for a missing data folder, an output folder made with other settings, or
            more than `max_errors` failed songs (after writing the rows already made and the
            errors table). Bad songs otherwise never raise: they are counted in `failed` and
            listed in errors.parquet.
    """
    s = _settings(config)
    start = time.perf_counter()
    out = Path(s.output_dir)
    _check_output_settings(out, s)
    shards_dir, errors_path = out / SHARDS, out / ERRORS
    _recover_swap(out)
    shards_dir.mkdir(parents=True, exist_ok=True)
    for stale in shards_dir.glob(".*.tmp"):  # a shard cut short by a crash
        stale.unlink(missing_ok=True)

    entries, problems = scan_songs(s.data_dir)
    errors = [{"path": str(p), "key": "", "stage": "scan", "reason": str(r)} for p, r in problems]
    done = set() if s.overwrite else done_keys(out)
    todo, skipped, n_failed = [], 0, 0
    for entry in entries:
        try:
            key = song_key(entry)
        except OSError as err:
            errors.append({"path": str(entry.dir), "key": "", "stage": "scan", "reason": str(err)})
            n_failed += 1
            continue
        if key in done:
            skipped += 1
            continue
        todo.append(
            {
                "key": key,
                "artist": entry.artist,
                "dir": str(entry.dir),
                "mix_path": str(entry.mix_path),
                "needs_separation": not entry.stem_paths,
                "separated": False,
                "error": "",
            }
        )

    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    # An overwrite run writes beside the old shards and swaps its folder in when it finished.
    write_dir = out / f"{_STAGED}{run_id}" if s.overwrite else shards_dir
    sink = _ShardSink(write_dir, run_id, s.songs_per_shard)
    stats = _RunStats(failed=n_failed)
    _write_atomic(pa.Table.from_pylist(errors, schema=_ERROR_SCHEMA), errors_path)
    try:
        _check_max_errors(s, stats.failed, errors_path)
        if todo:
            started = _init_ray()
            try:
                _run(s, todo, skipped, sink, errors, errors_path, stats, start, progress)
            finally:
                if started:
                    import ray

                    ray.shutdown()
        if s.overwrite:
            _swap_in(out, write_dir, run_id)
    except BaseException:
        if s.overwrite:  # the old shards stay; this run's staged rows go
            shutil.rmtree(write_dir, ignore_errors=True)
        raise
    return PreprocessReport(
        done=stats.done,
        skipped=skipped,
        failed=stats.failed,
        seconds=time.perf_counter() - start,
        shards_dir=shards_dir,
        errors_path=errors_path,
        separated=stats.separated,
        shards=sink.written,
        timeline=stats.timeline,
    )


@dataclass
class _RunStats:
    done: int = 0
    failed: int = 0
    separated: int = 0
    timeline: list[tuple[float, int]] = dataclasses.field(default_factory=list)


class _ShardSink:
    """Good rows in; a Parquet shard out each time `songs_per_shard` of them are held."""

    def __init__(self, folder: Path, run_id: str, songs_per_shard: int):
        self.folder, self.run_id, self.size = folder, run_id, songs_per_shard
        self.payloads: list[bytes] = []
        self.keys: list[str] = []
        self.final_keys: list[str] = []
        self.written = 0

    def add(self, payloads: Sequence[bytes], keys: Sequence[str], final_keys: Sequence[str]) -> int:
        """Hold these rows; write every full shard. Returns the shards written."""
        self.payloads += payloads
        self.keys += keys
        self.final_keys += final_keys
        before = self.written
        while len(self.payloads) >= self.size:
            self._write(self.size)
        return self.written - before

    def flush(self) -> int:
        """Write the rows held (a short last shard). Returns the shards written (0 or 1)."""
        if not self.payloads:
            return 0
        self._write(len(self.payloads))
        return 1

    def _write(self, n: int) -> None:
        rows = [pickle.loads(p) for p in self.payloads[:n]]
        table = encode_rows(rows, self.keys[:n], self.final_keys[:n])
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(table, self.folder / f"part-{self.run_id}-{self.written:05d}.parquet")
        del self.payloads[:n], self.keys[:n], self.final_keys[:n]
        self.written += 1


def _check_max_errors(s: PreprocessSettings, failed: int, errors_path: Path) -> None:
    if s.max_errors is not None and failed > s.max_errors:
        raise ProducerError(
            f"preprocess stopped: {failed} songs failed (max_errors {s.max_errors}); "
            f"see {errors_path}"
        )


def _swap_in(out: Path, staged: Path, run_id: str) -> None:
    """Replace `shards/` by an overwrite run's folder: old aside, new in, old deleted."""
    staged.mkdir(parents=True, exist_ok=True)  # a run with no rows still replaces the old ones
    retired = out / f"{_RETIRED}{run_id}"
    os.rename(out / SHARDS, retired)
    os.rename(staged, out / SHARDS)  # a crash just before this: `_recover_swap` finishes it
    shutil.rmtree(retired)


def _recover_swap(out: Path) -> None:
    """Finish a swap cut between its two renames; drop what unfinished overwrite runs left."""
    if not (out / SHARDS).exists():
        for retired in sorted(out.glob(f"{_RETIRED}*")):
            staged = out / f"{_STAGED}{retired.name.removeprefix(_RETIRED)}"
            # The old folder is only set aside once the new one is complete.
            os.rename(staged if staged.is_dir() else retired, out / SHARDS)
            break
    for leftover in [*out.glob(f"{_RETIRED}*"), *out.glob(f"{_STAGED}*")]:
        shutil.rmtree(leftover, ignore_errors=True)


class _Progress:
    """A tqdm bar when the stream is a terminal; else plain lines: one per shard written, and
    every `interval` seconds from a timer thread (so a long start-up still shows the job is
    alive), and the final state."""

    def __init__(self, total: int, skipped: int, enabled: bool, stream=None, interval=None):
        from tqdm.auto import tqdm

        self.stream = stream if stream is not None else sys.stderr
        tty = _isatty(self.stream)
        self.lines = enabled and not tty
        self.total, self.finished, self.failed, self.shards = total, 0, 0, 0
        self.t0 = time.perf_counter()
        self.logged: tuple[int, int] | None = None
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.bar = tqdm(total=total, unit="song", desc="preprocess", disable=not (enabled and tty))
        if self.lines:
            self._print(f"preprocess: {total} songs to do ({skipped} already in a shard)")
            every = LOG_INTERVAL_S if interval is None else interval
            self.timer = threading.Thread(target=self._tick, args=(every,), daemon=True)
            self.timer.start()

    def update(self, n: int, done: int, failed: int, new_shards: int) -> None:
        with self.lock:
            self.finished += n
            self.failed, self.shards = failed, self.shards + new_shards
        self.bar.update(n)
        self.bar.set_postfix(done=done, failed=failed, rate=f"{self.rate():.2f}/s")
        if self.lines and new_shards:
            self._log()

    def close(self, new_shards: int = 0) -> None:
        self.stop.set()
        with self.lock:
            self.shards += new_shards
        self.bar.close()
        if self.lines:
            self.timer.join()
            if self.logged != (self.finished, self.shards):
                self._log()

    def rate(self) -> float:
        return self.finished / max(time.perf_counter() - self.t0, 1e-9)

    def _tick(self, interval: float) -> None:
        while not self.stop.wait(interval):
            self._log()

    def _log(self) -> None:
        with self.lock:
            self.logged = (self.finished, self.shards)
            self._print(
                f"preprocess: {self.finished}/{self.total} songs, {self.failed} failed, "
                f"{self.rate():.2f} songs/s, {self.shards} shards"
            )

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _run(s, todo, skipped, sink, errors, errors_path: Path, stats: _RunStats, start, progress):
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = False
    ctx.enable_progress_bars = False  # one bar, ours

    # Songs with stems skip the separator stage: they go straight to analysis instead of
    # queueing behind the actors' model load and their separations.
    needs = [t for t in todo if t["needs_separation"]]
    ready = [t for t in todo if not t["needs_separation"]]
    parts = []
    if needs:
        parts.append(
            ray.data.from_items(needs).map_batches(
                SeparatorActor,
                fn_constructor_kwargs={
                    "model": s.separator,
                    "device": "cuda" if s.separator_num_gpus > 0 else "cpu",
                    "threads": int(s.separator_num_cpus),
                    "download": s.separator_download,
                },
                batch_size=s.batch_size,
                compute=ray.data.ActorPoolStrategy(size=s.separator_actors),
                num_gpus=s.separator_num_gpus,
                num_cpus=s.separator_num_cpus,
                batch_format="numpy",
            )
        )
    if ready:
        parts.append(ray.data.from_items(ready))
    ds = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    ds = ds.map(
        make_row,
        fn_kwargs={
            "sample_rate": s.sample_rate,
            "quality_copies": s.quality_copies,
            "seed": s.seed,
        },
        compute=ray.data.TaskPoolStrategy(size=s.analysis_concurrency),
        num_cpus=s.analysis_num_cpus,
    )

    separated_dirs = {t["dir"] for t in todo if t["needs_separation"]}
    bar = _Progress(len(todo), skipped, enabled=progress)
    flushed = 0
    try:
        for batch in ds.iter_batches(batch_size=s.batch_size, batch_format="pandas"):
            good = batch[batch["ok"]]
            new_shards = sink.add(list(good["payload"]), list(good["key"]), list(good["final_key"]))
            bad = batch[~batch["ok"]]
            for _, r in bad.iterrows():
                stage, _, reason = str(r["error"]).partition(": ")
                errors.append(
                    {"path": r["path"], "key": r["key"], "stage": stage, "reason": reason}
                )
            if len(bad):
                _write_atomic(pa.Table.from_pylist(errors, schema=_ERROR_SCHEMA), errors_path)
            stats.done += len(good)
            stats.failed += len(bad)
            stats.separated += sum(1 for p in good["path"] if p in separated_dirs)
            stats.timeline.append((time.perf_counter() - start, stats.done + stats.failed))
            bar.update(len(batch), stats.done, stats.failed, new_shards)
            if s.max_errors is not None and stats.failed > s.max_errors:
                flushed = sink.flush()  # keep what is finished; errors.parquet is written
                _check_max_errors(s, stats.failed, errors_path)
        flushed = sink.flush()
    finally:
        bar.close(flushed)


# -------------------------------------------------------------------------------------- CLI


def settings_from_config(path: str | os.PathLike, overrides: Sequence[str] = ()):
    """The `preprocess:` section of a job config (`ray_jobs/configs/*.yaml`).

    Raises `ConfigError` (one line, naming the file and key) for a bad config or one without a
    `preprocess:` section.
    """
    config = load_config(path, overrides)
    if config.preprocess is None:
        raise ConfigError(f"{path}: no 'preprocess' section")
    return config.preprocess


def settings_from_section(section: Mapping[str, Any], source: str = "<config>"):
    """A whole `preprocess:` section (a mapping) as settings; a key the job does not know is a
    `ConfigError` naming it, as in a config file."""
    return _settings(section, source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.preprocess", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--config", help="a job config (ray_jobs/configs/*.yaml); flags given override it"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="config override"
    )
    parser.add_argument("--data-dir")
    parser.add_argument("--output-dir")
    for name, info in PreprocessConfig.model_fields.items():
        if name in ("data_dir", "output_dir"):
            continue
        flag, default = f"--{name.replace('_', '-')}", info.default
        if isinstance(default, bool):  # --overwrite / --no-overwrite
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        elif name == "max_errors":  # None by default: stop for no number of bad songs
            parser.add_argument(flag, type=int, metavar="N")
        else:
            parser.add_argument(flag, type=type(default))
    parser.add_argument("--no-progress", action="store_true")
    args = vars(parser.parse_args(argv))
    no_progress, config, overrides = args.pop("no_progress"), args.pop("config"), args.pop("set")
    flags = {k: v for k, v in args.items() if v is not None}
    try:
        if config is not None:
            base = settings_from_config(config, overrides).model_dump()
        else:
            missing = [n for n in ("data_dir", "output_dir") if n not in flags]
            if missing:
                parser.error("give --config, or --data-dir and --output-dir")
            base = {}
        report = preprocess({**base, **flags}, progress=not no_progress)
    except ProducerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(
        f"done {report.done}, skipped {report.skipped}, failed {report.failed} "
        f"({report.separated} separated) in {report.seconds:.1f} s; {report.shards} new "
        f"shard{'s' if report.shards != 1 else ''} → {report.shards_dir}"
        + (f"; errors in {report.errors_path}" if report.failed else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
