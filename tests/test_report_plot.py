"""plot_result: one readable PNG, written atomically, for any stems, silence or short audio."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from producer.audio.loudness import integrated_loudness
from producer.pipeline import report_plot
from producer.pipeline.report_plot import (
    DPI,
    FIGSIZE,
    LOUDNESS_FLOOR_LUFS,
    plot_result,
    role_colour,
)
from tests.conftest import SR, synth_stem

PLAN = "style: trap\nbpm: 140\nkey: F minor\nstems:\n  - drums: generate\n  - bass: generate\nquality: 0.71"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _mix(stems: dict[str, np.ndarray]) -> np.ndarray:
    """A master from the stems, peak-normalised to 0.9."""
    mix = sum(stems.values())
    return (mix / max(float(np.abs(mix).max()), 1e-9) * 0.9).astype(np.float32)


def _read_png(path) -> np.ndarray:
    """The PNG's pixels (rows, columns, RGBA floats), after checking the file signature."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return matplotlib.image.imread(path)


def _has_colour(pixels: np.ndarray, hex_colour: str, tol: float = 0.02) -> bool:
    """Whether any pixel has the (opaque) colour."""
    rgb = np.array(matplotlib.colors.to_rgb(hex_colour))
    return bool((np.abs(pixels[..., :3] - rgb).max(axis=-1) < tol).any())


@pytest.fixture
def no_figures_leak():
    """Every figure plot_result opens is closed again, on success and on failure."""
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before


@pytest.mark.usefixtures("no_figures_leak")
def test_writes_png_of_expected_size_with_every_stem_drawn(tmp_path):
    stems = {role: synth_stem(role, 4.0) for role in ("drums", "bass", "melody")}
    target = tmp_path / "out" / "result.png"
    returned = plot_result(stems, _mix(stems), SR, PLAN, target, title="a trap beat")
    assert returned == target
    pixels = _read_png(target)
    assert pixels.shape[:2] == (round(FIGSIZE[1] * DPI), round(FIGSIZE[0] * DPI))
    # No temporary file is left beside the result.
    assert list(target.parent.iterdir()) == [target]
    # Each stem's row is drawn in its role colour.
    for role in stems:
        assert _has_colour(pixels, role_colour(role)), role


@pytest.mark.usefixtures("no_figures_leak")
def test_silent_short_master_with_mismatched_stems(tmp_path):
    # A silent 1.2 s master (under one 3 s short-term window, loudness -inf everywhere) with a
    # longer stem, a shorter one, a mono one and an all-zero one: all fitted to its length.
    stems = {
        "drums": synth_stem("drums", 2.5),
        "bass": synth_stem("bass", 0.3),
        "melody": synth_stem("melody", 1.2)[0],
        "vocals": np.zeros((2, 100), np.float32),
    }
    silent = np.zeros((2, int(1.2 * SR)), np.float32)
    pixels = _read_png(plot_result(stems, silent, SR, PLAN, tmp_path / "silent.png"))
    assert pixels.shape[:2] == (1000, 1400)
    assert _has_colour(pixels, role_colour("drums"))
    # Not even one sample: still a (silent) picture rather than a crash.
    path = plot_result({}, np.zeros((2, 0), np.float32), SR, "", tmp_path / "empty.png")
    assert _read_png(path).shape[:2] == (1000, 1400)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.png", "silent.png"]


@pytest.mark.usefixtures("no_figures_leak")
def test_many_stems_grow_the_figure(tmp_path):
    roles = [f"stem{i}" for i in range(9)]
    stems = {role: synth_stem("other", 1.0, seed=i) for i, role in enumerate(roles)}
    long_plan = "\n".join(f"line {i}: " + "word " * 30 for i in range(200))
    path = plot_result(stems, _mix(stems), SR, long_plan, tmp_path / "many.png")
    # 0.6 in per stem beyond 8.
    assert _read_png(path).shape[:2] == (round((FIGSIZE[1] + 0.6) * DPI), 1400)


@pytest.mark.usefixtures("no_figures_leak")
def test_failed_write_leaves_nothing_and_keeps_old_file(tmp_path, monkeypatch):
    stems = {"drums": synth_stem("drums", 1.0)}

    def broken_savefig(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    target = tmp_path / "result.png"
    with pytest.raises(OSError, match="disk full"):
        plot_result(stems, _mix(stems), SR, PLAN, target)
    assert list(tmp_path.iterdir()) == []

    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        plot_result(stems, _mix(stems), SR, PLAN, target)
    assert list(tmp_path.iterdir()) == [target]
    assert target.read_bytes() == b"old"


def test_loudness_curves_match_the_meter_and_floor_silence():
    t = np.arange(int(5.0 * SR)) / SR
    tone = np.stack([0.25 * np.sin(2 * np.pi * 997 * t)] * 2).astype(np.float32)
    (short_t, short), (mom_t, mom), integrated = report_plot._loudness_curves(tone, SR)
    # A steady tone reads the same in every window, and equals the integrated loudness.
    assert integrated == pytest.approx(integrated_loudness(tone, SR), abs=1e-9)
    assert np.allclose(short, integrated, atol=0.05)
    assert np.allclose(mom, integrated, atol=0.05)
    # 3 s windows every 100 ms over 5 s: 21 values, centred from 1.5 s; momentary 400 ms.
    assert (
        short.size == 21 and short_t[0] == pytest.approx(1.5) and short_t[-1] == pytest.approx(3.5)
    )
    assert mom_t[0] == pytest.approx(0.2) and mom.size == 47

    # Silence: no -inf, everything at the floor.
    (_, short), (_, mom), integrated = report_plot._loudness_curves(np.zeros((2, SR)), SR)
    assert math.isinf(integrated)
    assert short.size == 1 and short[0] == LOUDNESS_FLOOR_LUFS
    assert np.all(mom == LOUDNESS_FLOOR_LUFS)

    # Shorter than one momentary block: one value of each over the whole clip.
    (short_t, short), (mom_t, mom), _ = report_plot._loudness_curves(tone[:, : SR // 10], SR)
    assert short.size == mom.size == 1 and short_t[0] == pytest.approx(0.05)
    assert short[0] == pytest.approx(mom[0])


def test_spectrogram_puts_a_tone_in_its_band_at_its_level():
    t = np.arange(int(3.0 * SR)) / SR
    amplitude = 0.5
    db, edges, end = report_plot._spectrogram(
        (amplitude * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), SR
    )
    assert db.shape[0] == edges.size - 1 and end >= 3.0
    band = np.searchsorted(edges, 1000.0) - 1
    middle = db[:, db.shape[1] // 2]
    assert int(middle.argmax()) in (band - 1, band, band + 1)
    # At the tone's level, less Hann scalloping (1000 Hz sits 0.44 bins off a bin: -1.2 dB).
    assert middle.max() == pytest.approx(20 * math.log10(amplitude) - 1.2, abs=0.3)
    assert middle[: band // 2].max() < -60  # nothing at low frequencies
    # Long audio is pooled to at most one column per drawn pixel column.
    long_db, _, _ = report_plot._spectrogram(np.zeros(90 * SR, np.float32), SR)
    assert long_db.shape[1] <= report_plot._COLUMNS and np.all(long_db == -100.0)


def test_role_colours_are_stable_and_distinct_for_plan_roles():
    plan_roles = ("drums", "bass", "melody", "harmony", "vocals", "other")
    assert len({role_colour(r) for r in plan_roles}) == len(plan_roles)
    assert role_colour("fx") == role_colour("fx")
