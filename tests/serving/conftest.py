"""Serving fixtures: synthetic uploads, and the HTTP API over the stages in this process."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

SR = 44100


def wav_bytes(audio: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> bytes:
    """(2, T) float audio as the bytes of a WAV file."""
    buf = io.BytesIO()
    sf.write(buf, audio.T, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def vocal_take(seconds: float, bpm: float = 90.0) -> np.ndarray:
    """A sung-like line on a 90 bpm grid (vibrato tones, a syllable per beat)."""
    t = np.arange(int(seconds * SR)) / SR
    pos = t / (60.0 / bpm)
    notes = np.array([57, 60, 62, 64, 62, 60, 57, 55])
    freq = 440.0 * 2 ** ((notes[pos.astype(int) % len(notes)] - 69) / 12)
    phase = 2 * np.pi * np.cumsum(freq * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))) / SR
    mono = 0.3 * np.exp(-(pos % 1.0) * 2.5) * (np.sin(phase) + 0.3 * np.sin(2 * phase))
    return np.stack([mono, 0.9 * mono]).astype(np.float32)


@pytest.fixture(scope="module")
def local_backend(tiny_checkpoint, one_torch_thread):
    """Every stage in this process on the tiny model (loaded once per module)."""
    from producer.serving.config import ServeArgs
    from producer.serving.local import LocalBackend

    return LocalBackend(ServeArgs(checkpoint=str(tiny_checkpoint), warmup=False))


@pytest.fixture
def make_client(local_backend, tmp_path):
    """`make_client(**limits)`: a TestClient of the API with these limits, a fresh store."""
    from fastapi.testclient import TestClient

    from producer.serving.api import create_api
    from producer.serving.config import ServeArgs

    def make(**limits):
        args = ServeArgs(
            checkpoint=local_backend.args.checkpoint,
            limits=limits,
            store={"dir": str(tmp_path / "results")},
        )
        return TestClient(create_api(local_backend, args), raise_server_exceptions=False)

    return make
