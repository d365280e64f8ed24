"""Degraded copies: each fault is measurably there, and scores fall with severity."""

from __future__ import annotations

import numpy as np
import pytest

from producer.audio.loudness import integrated_loudness
from producer.audio.mastering import master
from producer.audio.quality import assess, band_energies_db
from producer.data.degrade import DEGRADATIONS, degrade, quality_examples
from tests.conftest import SR, synth_stem


@pytest.fixture(scope="module")
def stems():
    return {r: synth_stem(r, seconds=2.0) for r in ("drums", "bass", "melody", "harmony")}


@pytest.fixture(scope="module")
def mix(stems):
    return sum(stems.values()).astype(np.float32)


def run(mix, stems, kind, severity=0.8, seed=0):
    out = degrade(mix, stems, SR, kind, severity, np.random.default_rng(seed))
    assert out.shape == mix.shape and out.dtype == np.float32 and np.isfinite(out).all()
    return out


def reference(mix):
    return master(mix, SR).audio  # the unfaulted copy: mastered to -14 LUFS


def test_clipping_flattens_peaks_at_full_scale(mix, stems):
    assert assess(reference(mix), SR).clipped_samples == 0
    assert assess(run(mix, stems, "clipping"), SR).clipped_samples > 100


def test_level_faults_move_the_loudness(mix, stems):
    assert integrated_loudness(run(mix, stems, "too_quiet", 0.5), SR) < -14 - 10
    assert integrated_loudness(run(mix, stems, "too_loud", 0.5), SR) > -14 + 4


def test_overcompression_lowers_the_crest_factor_at_the_same_loudness(mix, stems):
    out = run(mix, stems, "overcompression")
    assert integrated_loudness(out, SR) == pytest.approx(-14, abs=0.5)
    assert assess(out, SR).crest_factor_db < assess(reference(mix), SR).crest_factor_db - 3


def test_mud_piles_up_low_mids_and_dulls_the_top(mix, stems):
    before, after = (
        band_energies_db(reference(mix), SR),
        band_energies_db(run(mix, stems, "mud"), SR),
    )
    assert after["low_mid"] > before["low_mid"] + 3
    assert after["high"] < before["high"] - 3


def test_imbalance_makes_one_stem_dominate(mix, stems):
    out = run(mix, stems, "imbalance", 1.0)

    def share(audio, role):  # correlation of the mix with the stem
        a, b = audio.mean(axis=0), stems[role].mean(axis=0)
        return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))

    gains = [share(out, r) - share(mix, r) for r in stems]
    assert max(gains) > 0.1


def test_imbalance_without_stems_unbalances_the_channels(mix):
    out = run(mix, None, "imbalance", 1.0)
    left, right = (10 * np.log10(np.mean(out[c] ** 2)) for c in (0, 1))
    assert abs(left - right) > 10


def test_quality_examples_score_the_original_first_and_faults_lower(mix, stems):
    examples = quality_examples(mix, stems, SR, np.random.default_rng(1), 6, base_quality=0.9)
    assert len(examples) == 7
    audio, score = examples[0]
    assert score == 0.9 and integrated_loudness(audio, SR) == pytest.approx(-14, abs=0.1)
    scores = [s for _, s in examples[1:]]
    assert all(0.9 * 0.2 <= s < 0.9 * (1 - 0.8 * 0.15) + 1e-9 for s in scores)
    # Six copies cycle through all six faults: none is the original.
    assert all(not np.allclose(a[:, : audio.shape[1]], audio) for a, _ in examples[1:])
    again = quality_examples(mix, stems, SR, np.random.default_rng(1), 6, base_quality=0.9)
    assert [s for _, s in again] == [s for _, s in examples]


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_stronger_faults_move_further_from_the_original(mix, stems, kind):
    ref = reference(mix)
    dist = [np.linalg.norm(run(mix, stems, kind, s) - ref) for s in (0.2, 1.0)]
    assert dist[1] > dist[0]


def test_bad_arguments_are_refused(mix):
    with pytest.raises(ValueError, match="unknown degradation"):
        degrade(mix, None, SR, "wobble", 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="severity"):
        degrade(mix, None, SR, "mud", 0.0, np.random.default_rng(0))


@pytest.mark.parametrize(("kind", "lo", "span"), [("too_loud", 3, 9), ("overcompression", 4, 10)])
def test_limiter_faults_are_scored_by_the_loudness_they_reach(mix, stems, kind, lo, span):
    """The limiter cannot make every mix as loud as asked; the severity (and so the score)
    follows the loudness it actually reached, so copies that sound alike score alike."""
    from producer.data.degrade import _degrade_mastered, _mastered

    ref = reference(mix)
    audio, reached = _degrade_mastered(ref, stems, SR, kind, 1.0, np.random.default_rng(0))
    pushed = audio if kind == "too_loud" else _mastered(ref, SR, -14 + lo + span)
    measured = (integrated_loudness(pushed, SR) + 14 - lo) / span
    assert reached == pytest.approx(min(max(measured, 0.15), 1.0), abs=1e-6)
    assert 0.15 <= reached <= 1.0
