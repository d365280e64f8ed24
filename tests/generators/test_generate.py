"""Acceptance of the generators, measured independently of them (librosa, Krumhansl–Schmuckler).

For every style and three seeds: the drums carry the planned tempo, the melodic stems carry the
planned key, every stem has exactly duration × sr samples, never clips and is not silent where
notes are planned.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from producer.audio.analysis import estimate_key_from_stems, estimate_tempo, tempo_matches
from producer.generators import generate_stems
from producer.generators.theory import scale
from producer.plan import STYLES, ProductionPlan

SR = 44100
SEEDS = (0, 1, 2)
DURATION = 12.0
# A tempo and key per style, as a producer would pick them (and not all in C).
SETTINGS = {
    "trap": (142.0, "F", "minor"),
    "drill": (144.0, "C#", "minor"),
    "boom-bap": (90.0, "D", "minor"),
    "lo-fi": (82.0, "A#", "major"),
    "g-funk": (96.0, "G", "major"),
}
ROLES = ("drums", "bass", "harmony", "melody")


def plan_for(style: str) -> ProductionPlan:
    bpm, key, mode = SETTINGS[style]
    return ProductionPlan(
        style=style,
        bpm=bpm,
        key=key,
        mode=mode,
        duration=DURATION,
        stems=[{"role": r} for r in ROLES],
    )


@pytest.fixture(scope="module")
def productions() -> dict[tuple[str, int], dict]:
    return {
        (style, seed): generate_stems(plan_for(style), seed=seed, sample_rate=SR)
        for style, seed in itertools.product(STYLES, SEEDS)
    }


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("seed", SEEDS)
def test_stems_are_exact_length_unclipped_and_sound_where_planned(productions, style, seed):
    plan = plan_for(style)
    stems = productions[(style, seed)]
    assert set(stems) == set(ROLES)
    for role, stem in stems.items():
        assert stem.audio.shape == (2, round(DURATION * SR)), role
        assert stem.audio.dtype == np.float32
        assert np.isfinite(stem.audio).all()
        assert np.max(np.abs(stem.audio)) < 1.0, f"{role} clips"
        bar = plan.seconds_per_bar
        for k in range(int(DURATION // bar)):
            planned = [e for e in stem.events if k * 4 <= e.start < (k + 1) * 4]
            if planned:
                chunk = stem.audio[:, int(k * bar * SR) : int((k + 1) * bar * SR)]
                rms_db = 20 * np.log10(np.sqrt(np.mean(chunk**2)) + 1e-12)
                assert rms_db > -45, f"{role} bar {k} is silent ({rms_db:.1f} dBFS)"


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("seed", SEEDS)
def test_drums_carry_the_planned_tempo(productions, style, seed):
    bpm = SETTINGS[style][0]
    measured = estimate_tempo(productions[(style, seed)]["drums"].audio, SR).bpm
    assert tempo_matches(measured, bpm), f"{style} seed {seed}: {measured:.1f} bpm vs {bpm}"


def test_melodic_stems_carry_the_planned_key(productions):
    hits, misses = 0, []
    for (style, seed), stems in productions.items():
        _, key, mode = SETTINGS[style]
        found = estimate_key_from_stems([stems[r].audio for r in ("bass", "harmony", "melody")], SR)
        if (found.key, found.mode) == (key, mode):
            hits += 1
        else:
            misses.append(f"{style}/{seed}: {found.key} {found.mode} for {key} {mode}")
    assert hits / len(productions) >= 0.9, misses


def test_every_bass_note_is_in_the_scale(productions):
    for (style, _), stems in productions.items():
        _, key, mode = SETTINGS[style]
        pcs = set(scale(key, mode))
        for ev in stems["bass"].events:
            assert ev.pitch % 12 in pcs, (style, ev)
            if ev.glide_to is not None:
                assert ev.glide_to % 12 in pcs, (style, ev)


def _onset_grid(audio: np.ndarray) -> set[int]:
    import librosa

    onsets = librosa.onset.onset_detect(y=audio.mean(axis=0), sr=SR, units="time")
    return {round(t * 20) for t in onsets}  # 50 ms bins


@pytest.mark.parametrize("style", STYLES)
def test_seeds_vary_and_repeat(productions, style):
    a, b = productions[(style, 0)], productions[(style, 1)]
    assert _onset_grid(a["drums"].audio) != _onset_grid(b["drums"].audio)
    assert any(not np.array_equal(a[r].audio, b[r].audio) for r in ("bass", "harmony", "melody"))
    again = generate_stems(plan_for(style), seed=0, sample_rate=SR)
    for role in ROLES:
        assert np.array_equal(again[role].audio, a[role].audio), role


@pytest.mark.parametrize("sample_rate", [16000, 22050])
def test_every_style_renders_finite_stems_at_low_sample_rates(sample_rate):
    # The hats' 10.5 kHz band-pass and 13 kHz low-pass sit above Nyquist here; unclamped they
    # blew up to NaN at 22.05 and 16 kHz (every style's drums).
    for style in STYLES:
        stems = generate_stems(plan_for(style), duration=2.0, seed=0, sample_rate=sample_rate)
        for role, stem in stems.items():
            assert stem.audio.shape[-1] == 2 * sample_rate, (style, role)
            assert np.isfinite(stem.audio).all(), (style, role)
            assert np.abs(stem.audio).max() > 1e-3, (style, role)  # not silenced instead
