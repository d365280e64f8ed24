"""Shared fixtures: paths, the seed's example script, synthetic stems."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SR = 44100


@pytest.fixture
def seed_script() -> str:
    """The mix script from the original design document, unchanged."""
    return (FIXTURES / "seed_mix.dsp").read_text()


def synth_stem(role: str, seconds: float = 2.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A deterministic, musically shaped (2, T) stem for a role: kicks, bass tone, chords…"""
    rng = np.random.default_rng(seed + sum(map(ord, role)))
    t = np.arange(int(seconds * sr)) / sr
    beat = (t * 2.0) % 1.0  # 120 bpm quarter notes
    if role == "drums":
        env = np.exp(-beat * 18)
        mono = 0.8 * env * np.sin(2 * np.pi * 55 * t * (1 + env)) + 0.1 * rng.standard_normal(
            t.size
        ) * np.exp(-((t * 4) % 1.0) * 30)
    elif role == "bass":
        mono = 0.5 * np.sin(2 * np.pi * 43.65 * t) * (0.6 + 0.4 * np.exp(-beat * 4))
    elif role in ("melody", "vocals"):
        mono = 0.3 * np.sin(2 * np.pi * 440 * t + 2 * np.sin(2 * np.pi * 5 * t)) * np.exp(-beat * 3)
    else:
        mono = 0.15 * sum(np.sin(2 * np.pi * f * t) for f in (261.6, 311.1, 392.0))
    left = mono * (1.0 + 0.05 * rng.standard_normal())
    right = mono * (1.0 - 0.05 * rng.standard_normal())
    return np.stack([left, right]).astype(np.float32)


@pytest.fixture
def stems4() -> dict[str, np.ndarray]:
    """Four synthetic stems named as the seed script expects."""
    return {role: synth_stem(role) for role in ("bass", "drums", "melody", "harmony")}


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module (tiny models: threads only add overhead on 2 cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A debug-preset model saved like a trained one (random weights: tiny and fast)."""
    import torch

    from producer.models.config import preset
    from producer.models.unified import UnifiedProducerModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny"
    UnifiedProducerModel.from_config(preset("debug")).save_pretrained(path)
    return path
