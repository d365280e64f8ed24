"""An input song, made ready for a production: loaded, separated or kept, and analysed.

Two kinds of input:

- a full mix (the default): Demucs separates it (`producer.audio.separation`) and its vocals
  are kept as the production's `vocals` stem; the rest of the song is replaced by the new beat.
  A mix without audible vocals (an instrumental) keeps nothing and only lends its tempo and key.
- a single stem (`input_role="vocals"`, an a cappella, or any role): no separation, the file is
  kept unchanged as that stem.

Analysis measures tempo and beat grid, key and mode, and loudness of what was given. The plan
takes the song's tempo and key unless the prompt says otherwise, and `grid_offset` is where the
song's first beat falls, so the generated stems can be shifted onto the song's grid
(`producer.pipeline.alignment`).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from producer.audio.analysis import estimate_key, estimate_tempo
from producer.audio.io import check_audio_array, load_audio
from producer.audio.loudness import integrated_loudness
from producer.errors import AudioInputError, ProducerError
from producer.plan import ROLES

__all__ = ["KEEP_FROM_MIX", "InputSong", "prepare_input"]

#: Roles kept from a separated full mix (the rest of the song is replaced by the new beat).
KEEP_FROM_MIX = ("vocals",)
# A separated stem quieter than this (integrated, LUFS) is treated as absent: an instrumental's
# "vocals" from Demucs is bleed, not a performance worth keeping.
_AUDIBLE_LUFS = -45.0


@dataclass
class InputSong:
    """The input after preparation (audio arrays are (2, T) float32 at `sample_rate`)."""

    path: str | None
    sample_rate: int
    audio: np.ndarray
    role: str | None  # the role the input was given as (None: a full mix)
    separated: bool  # whether Demucs separated it
    kept: dict[str, np.ndarray] = field(default_factory=dict)  # stems kept, by role
    bpm: float | None = None
    beats: list[float] = field(default_factory=list)  # beat times in seconds
    key: str | None = None
    mode: str | None = None
    integrated_lufs: float | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.audio.shape[1] / self.sample_rate

    @property
    def grid_offset(self) -> float:
        """Time of the song's first beat in seconds (0 when no beat was found)."""
        return float(self.beats[0]) if self.beats else 0.0

    @property
    def kept_role(self) -> str | None:
        """The one role the plan keeps from the input (None when nothing is kept)."""
        return next(iter(self.kept), None)

    def summary(self) -> dict:
        """JSON-ready description (no audio)."""
        d = asdict(self)
        for k in ("audio", "kept"):
            d.pop(k)
        d["kept_roles"] = list(self.kept)
        d["duration_s"] = round(self.duration, 3)
        d["grid_offset_s"] = round(self.grid_offset, 4)
        d["beats"] = [round(b, 4) for b in self.beats[:16]]  # the first few are enough to check
        return d


def prepare_input(
    source: str | os.PathLike | np.ndarray,
    *,
    sample_rate: int = 44100,
    input_sample_rate: int | None = None,
    role: str | None = None,
    max_duration: float | None = None,
    separator: str | os.PathLike = "htdemucs",
    device: str = "cpu",
    progress: bool = True,
    download: bool = False,
) -> InputSong:
    """Load, separate (full mixes) or keep (single stems), and analyse an input song.

    `source` is a file path, or an array with `input_sample_rate`. `max_duration` trims the song
    (the production is never longer than asked). `download` lets Demucs fetch pretrained
    separator weights that are not on disk (off by default: nothing downloads unasked).

    Raises `AudioInputError` for unusable audio, `ModelNotFoundError` when the separator's
    weights are not on disk, `ProducerError` for an unknown role.
    """
    if role is not None and role not in ROLES:
        raise ProducerError(f"unknown input role '{role}': roles are {', '.join(ROLES)}")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    if isinstance(source, np.ndarray):
        if input_sample_rate is None:
            raise ValueError("input_sample_rate is required with an audio array")
        audio = check_audio_array(source, input_sample_rate, name="input audio")
        if input_sample_rate != sample_rate:
            import soxr

            out = soxr.resample(audio.T, input_sample_rate, sample_rate, quality="VHQ")
            audio = np.ascontiguousarray(np.asarray(out, dtype=np.float32).T)
        path = None
    else:
        audio = load_audio(source, sample_rate=sample_rate)
        path = str(Path(source))
    if max_duration is not None:
        audio = audio[:, : round(max_duration * sample_rate)]
    _check_not_silent(audio, sample_rate, path)
    timings["load"] = time.perf_counter() - t

    song = InputSong(path, sample_rate, audio, role, separated=role is None, timings=timings)
    if role is not None:
        song.kept = {role: audio}
    else:
        t = time.perf_counter()
        song.kept = _separate_and_keep(audio, sample_rate, separator, device, progress, download)
        timings["separate"] = time.perf_counter() - t

    t = time.perf_counter()
    _analyse(song)
    timings["analyse"] = time.perf_counter() - t
    return song


def _check_not_silent(audio: np.ndarray, sample_rate: int, path: str | None) -> None:
    if not math.isfinite(integrated_loudness(audio, sample_rate)):
        where = f"{path}: " if path else ""
        raise AudioInputError(f"{where}the input is silent: nothing to build a production on")


def _separate_and_keep(
    audio: np.ndarray, sample_rate: int, separator, device: str, progress: bool, download: bool
) -> dict[str, np.ndarray]:
    from producer.audio.separation import Separator, SeparatorConfig  # deferred: torch, demucs

    config = SeparatorConfig(
        model=os.fspath(separator), device=device, progress=progress, download=download
    )
    sep = Separator.from_config(config)
    stems = sep.separate(audio, sample_rate)
    kept = {}
    for role in KEEP_FROM_MIX:
        if role in stems and integrated_loudness(stems[role], sample_rate) > _AUDIBLE_LUFS:
            kept[role] = stems[role].astype(np.float32, copy=False)
    return kept


def _analyse(song: InputSong) -> None:
    """Tempo, beats, key and loudness. Tempo and key are read from the whole input: for a
    separated mix the full mix carries the drums and harmony the vocals alone lack."""
    tempo = estimate_tempo(song.audio, song.sample_rate)
    song.bpm = round(float(tempo.bpm), 1) if tempo.bpm > 0 else None
    song.beats = [float(b) for b in np.asarray(tempo.beats)]
    key = estimate_key(song.audio, song.sample_rate)
    song.key, song.mode = key.key, key.mode
    song.integrated_lufs = round(float(integrated_loudness(song.audio, song.sample_rate)), 2)
