"""response: the writer's linear effects in closed form agree with what Faust renders."""

from __future__ import annotations

import numpy as np
import pytest

from producer.faust.engine import run_faust
from producer.mixing.response import (
    butterworth_power,
    equalize,
    k_weighting_power,
    peak_power,
    shelf_power,
)
from tests.mixing import synthetic

SR = 22050
N = 1 << 15
FREQS = np.fft.rfftfreq(N, 1 / SR)

# (Faust effect, its power response at FREQS, the same as `equalize` arguments)
CASES = [
    (
        "fi.highpass(2, 100)",
        butterworth_power(FREQS, 2, 100, SR, highpass=True),
        {"highpass": (2, 100)},
    ),
    (
        "fi.highpass(4, 400)",
        butterworth_power(FREQS, 4, 400, SR, highpass=True),
        {"highpass": (4, 400)},
    ),
    (
        "fi.lowpass(1, 5000)",
        butterworth_power(FREQS, 1, 5000, SR, highpass=False),
        {"lowpass": (1, 5000)},
    ),
    (
        "fi.low_shelf(-6, 100)",
        shelf_power(FREQS, -6, 100, SR, high=False),
        {"low_shelf": (-6, 100)},
    ),
    (
        "fi.high_shelf(7.5, 5000)",
        shelf_power(FREQS, 7.5, 5000, SR, high=True),
        {"high_shelf": (7.5, 5000)},
    ),
    (
        "fi.peak_eq_cq(-4.5, 3000, 2)",
        peak_power(FREQS, -4.5, 3000, 2, SR),
        {"peak": (-4.5, 3000, 2)},
    ),
    ("fi.peak_eq_cq(12, 60, 0.5)", peak_power(FREQS, 12, 60, 0.5, SR), {"peak": (12, 60, 0.5)}),
]


def _faust(effect: str, x: np.ndarray) -> np.ndarray:
    return run_faust(f'import("stdfaust.lib");\nprocess = {effect};\n', x[None, :], SR)[0]


@pytest.mark.parametrize(("effect", "power", "_"), CASES, ids=[c[0] for c in CASES])
def test_power_responses_are_what_faust_renders(effect, power, _):
    impulse = np.zeros(N, np.float32)
    impulse[0] = 1.0
    measured = np.abs(np.fft.rfft(_faust(effect, impulse))) ** 2
    band = (FREQS > 20) & (FREQS < 0.45 * SR) & (power > 1e-6)
    error_db = 10 * np.log10(measured[band] / power[band])
    assert np.abs(error_db).max() < 0.01


@pytest.mark.parametrize(("effect", "_", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_equalize_filters_as_faust_does(effect, _, kwargs):
    x = synthetic.drums(1.0, SR).mean(axis=0)
    expected = _faust(effect, x)
    np.testing.assert_allclose(
        equalize(x, SR, **kwargs), expected, atol=5e-4 * np.abs(expected).max()
    )


def test_equalize_chains_the_slots_and_skips_flat_ones():
    x = synthetic.bass_808(1.0, SR).mean(axis=0)
    chain = "fi.highpass(2, 30) : fi.low_shelf(3, 80) : fi.peak_eq_cq(-3, 300, 1) : fi.high_shelf(6, 8000)"
    y = equalize(
        x, SR, highpass=(2, 30), low_shelf=(3, 80), peak=(-3, 300, 1), high_shelf=(6, 8000)
    )
    expected = _faust(chain, x)
    np.testing.assert_allclose(y, expected, atol=5e-3 * np.abs(expected).max())
    flat = equalize(x, SR, low_shelf=(0.0, 100), peak=(0.0, 1000, 1))
    assert flat.dtype == np.float32
    np.testing.assert_array_equal(flat, x)


def test_k_weighting_is_bs1770s_shape():
    f = np.array([20.0, 38.0, 100.0, 1000.0, 10000.0])
    k_db = 10 * np.log10(k_weighting_power(f, 48000))
    assert k_db[0] < -10 and -7 < k_db[1] < -5  # the 38 Hz high-pass (Q 0.5: -6 dB at 38 Hz)
    assert -1.5 < k_db[2] < 0 and 0 < k_db[3] < 1.0
    assert 3.5 < k_db[4] < 4.5  # the +4 dB shelf
