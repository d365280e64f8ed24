"""Stem files on disk: `<role>.wav` (or any libsndfile format) maps to `<role>_process`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from producer.audio.io import AudioLimits, load_audio
from producer.errors import AudioInputError

#: File suffixes read as stems from a folder.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")


def stem_files(paths: Sequence[str | Path]) -> dict[str, Path]:
    """Role → file for a stems folder or a list of files, named by role (`bass.wav` → bass)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise AudioInputError(
                    f"{path}: no stems found (expected <role>.wav files, e.g. drums.wav)"
                )
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise AudioInputError(f"{path}: no such file or folder")
    roles: dict[str, Path] = {}
    for f in files:
        role = f.stem.lower()
        if role in roles:
            raise AudioInputError(
                f"{f}: two stems for role '{role}' ({roles[role].name}, {f.name})"
            )
        roles[role] = f
    return roles


def load_stems(
    paths: Sequence[str | Path], sample_rate: int = 44100, limits: AudioLimits | None = None
) -> dict[str, np.ndarray]:
    """Load stems by role as (2, T) float32 arrays at `sample_rate`."""
    return {
        role: load_audio(f, sample_rate=sample_rate, limits=limits)
        for role, f in stem_files(paths).items()
    }
