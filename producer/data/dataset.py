"""The training set of the unified model: one example per song folder.

    ds = UnifiedProducerDataset("data/")       # scans, loads and featurises every song once
    ds[0].prompt, ds[0].planning.style, ds[0].faust_script, ds[0].quality[1]
    ds.problems                                # [(path, reason)] of what was skipped

An example holds features, not audio (a few KB per song), so a corpus of thousands of songs
stays in memory after one pass:

- `prompt`: the song's own (`meta.prompt`), or one written from its metadata by
  `make_prompt` (so every song can teach the planner, even with no prompt);
- `planning`: style / mode / key / bpm / roles targets (targets.py);
- `mix_features` and `stem_features`: `producer.modules.features.audio_features` of the mix
  and of each stem, the planner's and writer's audio input;
- `quality`: (features, score, stem balance) triples, the quality head's examples: with stems
  and a mix script, the own mix, planted faults, near misses, the flat mix, a random script and
  a master fault labelled by the mix critic, with each stem's loudness in the mix that the
  critic measured (quality_labels.py); with a mix alone, the mix and `quality_copies` degraded
  copies (degrade.py), their stem balance unmeasured (zeros);
- `faust_script`: the mix script the writer should produce for the stems (the `<song>.dsp`, or
  one fitted to the mix); None for a song without stems.

A song whose audio or JSON cannot be read is reported (a warning and an entry in `problems`,
naming the file) and left out; it never stops the pass.
"""

from __future__ import annotations

import contextlib
import math
import warnings
import zlib
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from producer.audio.io import load_audio
from producer.audio.mastering import reference_mix
from producer.data.degrade import quality_examples
from producer.data.layout import Problem, SongEntry, scan_songs
from producer.data.meta import SongMeta, load_meta
from producer.data.prompts import EXCLUDABLE, MOODS, Phrasing, make_prompt
from producer.data.quality_labels import critic_quality_examples
from producer.data.synth import default_workers, process_pool_context
from producer.data.targets import PlanningTargets, faust_target, planning_targets
from producer.errors import ProducerError
from producer.faust.validate import validate
from producer.mixing.stem_balance import stem_balance_vector
from producer.modules.features import audio_features
from producer.plan import ROLES

__all__ = [
    "DEFAULT_BASE_QUALITY",
    "SongExample",
    "UnifiedProducerDataset",
    "load_entry_or_reason",
    "load_example",
]

#: Quality score of a song's own master when its metadata gives none.
DEFAULT_BASE_QUALITY = 0.95
# Chance that a prompt written from metadata states the known tempo / key.
_P_STATE = 0.4


@dataclass
class SongExample:
    """Everything the model trains on from one song."""

    path: Path  # the song folder
    prompt: str
    roles: list[str]  # the song's stems, in the order of `faust_script`'s processes
    planning: PlanningTargets
    mix_features: np.ndarray  # float32 (AUDIO_FEATURE_DIM,)
    stem_features: dict[str, np.ndarray] = field(default_factory=dict)  # by role, `roles` order
    # Features of the stems summed flat and mastered (`audio.mastering.reference_mix`); None
    # without stems.
    reference_features: np.ndarray | None = None
    # (features, score, stem balance): see `_quality`
    quality: list[tuple[np.ndarray, float, np.ndarray]] = field(default_factory=list)
    faust_script: str | None = None


def _fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Pad with silence or cut to `length` samples."""
    if audio.shape[1] >= length:
        return audio[:, :length]
    return np.pad(audio, ((0, 0), (0, length - audio.shape[1])))


def prompt_from_meta(
    meta: SongMeta, present: list[str] | None, rng: np.random.Generator, phrasing: Phrasing
) -> str:
    """A prompt for a song whose metadata has none, stating what the metadata knows.

    Roles are stated as left out only when the song's roles are known (`present`), and
    melody / harmony only for songs in our role set (a Demucs "other" stem holds them).
    """
    excluded: list[str] = []
    if present is not None:
        candidates = ["drums", "bass", "vocals"]
        if "other" not in present:
            candidates += ["melody", "harmony"]
        excluded = [r for r in ROLES if r in candidates and r not in present and r in EXCLUDABLE]
    say_key = meta.key is not None and rng.random() < _P_STATE
    return make_prompt(
        rng,
        style=meta.style,
        moods=[t.lower() for t in meta.tags if t.lower() in MOODS][:3],
        bpm=meta.bpm if meta.bpm is not None and rng.random() < _P_STATE else None,
        key=meta.key if say_key else None,
        mode=meta.mode if say_key else None,
        excluded=excluded,
        present=present or [],
        phrasing=phrasing,
    )


def load_example(
    entry: SongEntry,
    *,
    sample_rate: int = 44100,
    quality_copies: int = 3,
    rng: np.random.Generator | None = None,
    phrasing: Phrasing = "train",
) -> SongExample:
    """Read one song folder and compute its example.

    Raises:
        ProducerError: (an AudioInputError for audio) naming the file that cannot be used.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    meta = load_meta(entry.meta_path) if entry.meta_path is not None else SongMeta()
    mix = load_audio(entry.mix_path, sample_rate=sample_rate)
    stems = {
        role: _fit_length(load_audio(path, sample_rate=sample_rate), mix.shape[1])
        for role, path in entry.stem_paths.items()
    }
    planning = planning_targets(meta, stems or None, sample_rate)

    script = None
    if stems:
        try:
            script = faust_target(entry, stems, mix, sample_rate)
            roles = list(validate(script, sample_rate=sample_rate).stem_roles)
        except ProducerError as err:
            # The song still teaches planning and quality; only the writer target is lost.
            warnings.warn(f"{entry.dir}: no mix script target ({err})", stacklevel=2)
            script, roles = None, list(stems)
    else:
        roles = [r for r, on in zip(ROLES, planning.roles, strict=True) if on]

    present = [r for r, on in zip(ROLES, planning.roles, strict=True) if on]
    prompt = meta.prompt or prompt_from_meta(
        meta, present if planning.roles_known else None, rng, phrasing
    )
    quality = [
        (audio_features(audio, sample_rate), score, balance)
        for audio, score, balance in _quality(meta, stems, mix, script, prompt, sample_rate, rng,
                                              quality_copies)
    ]  # fmt: skip
    return SongExample(
        path=entry.dir,
        prompt=prompt,
        roles=roles,
        planning=planning,
        mix_features=audio_features(mix, sample_rate),
        stem_features={r: audio_features(stems[r], sample_rate) for r in roles if r in stems},
        reference_features=(
            audio_features(reference_mix(stems, sample_rate), sample_rate) if stems else None
        ),
        quality=quality,
        faust_script=script,
    )


def _quality(meta, stems, mix, script, prompt, sample_rate, rng, copies):
    """The quality head's (audio, score, stem balance) examples of one song.

    With stems and a mix script, the mix critic labels them (`quality_labels`): the own mix,
    planted faults, two near misses, the flat mix, a random script, a master fault. Without (a
    mix alone), the mix is the good example at the song's stated quality and degraded copies
    score lower (`degrade`); nothing measured the stems' balance in it (all zeros).
    """
    if stems and script is not None:
        try:
            return critic_quality_examples(
                stems, script, sample_rate, rng, style=meta.style, prompt=prompt,
                n_faults=max(copies - 1, 1), n_nudged=2, n_flat=1, n_random=1,
                n_master=1,
            )  # fmt: skip
        except ProducerError as err:
            warnings.warn(f"mix critic could not label this song ({err})", stacklevel=2)
    base = meta.quality if meta.quality is not None else DEFAULT_BASE_QUALITY
    unmeasured = stem_balance_vector(None)
    return [
        (audio, score, unmeasured)
        for audio, score in quality_examples(mix, stems, sample_rate, rng, copies, base)
    ]


def load_entry_or_reason(
    entry: SongEntry, sample_rate: int, quality_copies: int, seed: int, phrasing: Phrasing
) -> tuple[SongExample | None, str | None]:
    """(example, None), or (None, reason) for a song that cannot be used.

    The seed of the song's randomness (prompt phrasing, degraded copies) comes from `seed` and
    the song's id, so the in-process dataset and the Ray Data job make identical rows. A
    module-level function so process pools can pickle it.
    """
    rng = np.random.default_rng([seed, zlib.crc32(entry.id.encode())])
    try:
        with _one_blas_thread():
            example = load_example(
                entry,
                sample_rate=sample_rate,
                quality_copies=quality_copies,
                rng=rng,
                phrasing=phrasing,
            )
    except (ProducerError, OSError) as err:
        return None, str(err)
    return example, None


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread while featurising.

    The feature matrices are small: BLAS threads cost more than they give (measured: 0.61 →
    0.24 s a song on two cores), and parallelism comes from worker processes instead.
    threadpoolctl arrives with librosa (scikit-learn); without it this does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - present wherever librosa is
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _pooled(entries: list[SongEntry], args: tuple, workers: int) -> Iterator[tuple]:
    """`load_entry_or_reason` over `entries` on worker processes, results in order, a few ahead."""
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, mp_context=process_pool_context(renders=False))
    try:
        todo = iter(entries)
        pending = deque(
            pool.submit(load_entry_or_reason, e, *args) for e in islice(todo, 4 * workers)
        )
        while pending:
            future = pending.popleft()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(load_entry_or_reason, nxt, *args))
            yield future.result()
    finally:
        pool.shutdown(cancel_futures=True)


class UnifiedProducerDataset(Dataset):
    """A torch Dataset of `SongExample`, computed once, when it is built.

    Args:
        data_dir: the song folder (`<data>/<artist>/<song>/…`; see layout.py).
        sample_rate: audio is resampled to this rate before featurising.
        quality_copies: degraded copies per song for the quality head.
        seed: seeds the prompts written for songs without one and the degradations (each
            song's stream depends only on (seed, artist/song), not on the other songs).
        limit: stop after this many good songs (None: all).
        phrasing: phrasing set of the prompts written from metadata.
        progress: show a progress bar.
        workers: processes loading songs in parallel (None: one per core, at most 8, for 8
            songs or more). The examples are the same whatever the number.

    Raises:
        ProducerError: when `data_dir` is missing or is not a folder.
    """

    def __init__(
        self,
        data_dir: str | Path,
        *,
        sample_rate: int = 44100,
        quality_copies: int = 3,
        seed: int = 0,
        limit: int | None = None,
        phrasing: Phrasing = "train",
        progress: bool = False,
        workers: int | None = None,
    ) -> None:
        from tqdm.auto import tqdm

        self.data_dir = Path(data_dir)
        self.sample_rate = sample_rate
        entries, problems = scan_songs(self.data_dir)
        self.problems: list[Problem] = []
        for path, reason in problems:
            self._report(path, reason)
        self.examples: list[SongExample] = []
        self.entries: list[SongEntry] = []
        args = (sample_rate, quality_copies, seed, phrasing)
        n = len(entries) if limit is None else min(len(entries), max(limit, 0))
        workers = default_workers(n) if workers is None else max(1, int(workers))
        if workers == 1:
            results: Iterator[tuple] = (load_entry_or_reason(e, *args) for e in entries)
        else:
            results = _pooled(entries, args, workers)
        bar = tqdm(total=len(entries), desc="loading songs", unit="song", disable=not progress)
        with bar:
            for entry in entries:
                if limit is not None and len(self.examples) >= limit:
                    break
                example, error = next(results)
                bar.update()
                if example is None:
                    self._report(entry.dir, str(error))
                    continue
                self.examples.append(example)
                self.entries.append(entry)
        if isinstance(results, Generator):
            results.close()  # stops the pool's read-ahead when `limit` cut the pass short

    def _report(self, path: Path, reason: str) -> None:
        self.problems.append((path, reason))
        warnings.warn(f"skipped {path}: {reason}", stacklevel=3)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> SongExample:
        return self.examples[index]

    def stats(self) -> dict[str, float]:
        """Counts for a log line: songs, skipped, with scripts, with known bpm."""
        return {
            "songs": float(len(self.examples)),
            "skipped": float(len(self.problems)),
            "with_script": float(sum(e.faust_script is not None for e in self.examples)),
            "with_bpm": float(sum(not math.isnan(e.planning.bpm) for e in self.examples)),
        }
