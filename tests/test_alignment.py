"""Putting generated stems on an input song's beat grid: `grid_cut` and `shift_stem`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from producer.generators.events import NoteEvent, Stem
from producer.pipeline.alignment import grid_cut, shift_stem

SR = 8000
BPM = 120.0
BAR = 4 * 60.0 / BPM  # 2.0 s


def test_grid_cut_examples():
    assert grid_cut(0.0, BAR) == 0.0
    assert grid_cut(BAR, BAR) == 0.0
    assert grid_cut(3 * BAR, BAR) == 0.0
    assert grid_cut(0.3, 2.0) == pytest.approx(1.7)
    assert grid_cut(2.3, 2.0) == pytest.approx(1.7)  # one bar later: the same cut
    assert grid_cut(1.5, 2.0) == pytest.approx(0.5)
    # within 0.1 ms of a bar line counts as on it
    assert grid_cut(BAR - 5e-5, BAR) == 0.0
    assert grid_cut(5e-5, BAR) == 0.0


@given(
    offset=st.floats(min_value=-30.0, max_value=300.0, allow_nan=False),
    bar=st.floats(min_value=0.5, max_value=8.0, allow_nan=False),
)
def test_after_the_cut_bar_lines_land_on_the_offset_grid(offset, bar):
    cut = grid_cut(offset, bar)
    assert 0.0 <= cut < bar
    # A bar line generated at k * bar lands at k * bar - cut, which must be offset (mod bar).
    r = (cut + offset) % bar
    assert min(r, bar - r) < 2e-4


def _click_stem(bars: int = 4) -> Stem:
    """A stem with a click at every bar line, a kick event on each bar and a hat mid-bar."""
    n = round(bars * BAR * SR)
    audio = np.zeros((2, n), np.float32)
    events = []
    for k in range(bars):
        audio[:, round(k * BAR * SR)] = [1.0, 0.5]
        events.append(NoteEvent(4.0 * k, 0.5, 36, 0.9, "kick"))
        events.append(NoteEvent(4.0 * k + 1.0, 0.25, 42, 0.5, "hat_closed"))
    events.append(NoteEvent(3.0, 0.25, 38, 0.7, "snare"))  # exactly at the cut used below
    return Stem("drums", audio, SR, BPM, events, generator="test")


def test_shift_stem_moves_clicks_and_events_onto_the_song_grid():
    stem = _click_stem()
    original = stem.audio.copy()
    offset, duration = 0.5, 6.0  # the song's first downbeat is at 0.5 s
    cut = grid_cut(offset, BAR)
    assert cut == pytest.approx(1.5)
    out = shift_stem(stem, cut, duration)

    assert out.audio.shape == (2, round(duration * SR))
    assert out.audio.dtype == np.float32
    assert out.audio.flags.c_contiguous
    assert out.duration == pytest.approx(duration)
    assert (out.role, out.sample_rate, out.bpm, out.generator) == ("drums", SR, BPM, "test")
    # clicks at k * bar - cut == offset + (k - 1) * bar
    clicks = np.flatnonzero(out.audio[0])
    assert clicks.tolist() == [round((k * BAR - cut) * SR) for k in (1, 2, 3)]
    assert clicks.tolist() == [round((offset + j * BAR) * SR) for j in (0, 1, 2)]
    assert np.array_equal(np.flatnonzero(out.audio[1]), clicks)
    assert np.all(out.audio[1, clicks] == 0.5)

    # cut = 3 beats: events before it dropped, the rest moved 3 beats earlier
    starts = sorted((e.start, e.instrument) for e in out.events)
    assert starts == [
        (0.0, "snare"),
        (1.0, "kick"),
        (2.0, "hat_closed"),
        (5.0, "kick"),
        (6.0, "hat_closed"),
        (9.0, "kick"),
        (10.0, "hat_closed"),
    ]
    # each kick still sits on a click of the shifted audio
    for e in out.events:
        if e.instrument == "kick":
            assert out.audio[0, round(e.seconds(BPM)[0] * SR)] == 1.0
    # durations, pitches, velocities unchanged; the input stem untouched
    assert {(e.duration, e.pitch, e.velocity) for e in out.events if e.instrument == "kick"} == {
        (0.5, 36, 0.9)
    }
    assert np.array_equal(stem.audio, original)
    assert len(stem.events) == 9


def test_shift_stem_with_no_cut_trims_to_duration():
    stem = _click_stem()
    out = shift_stem(stem, 0.0, 5.0)
    assert out.audio.shape == (2, 5 * SR)
    assert np.array_equal(out.audio, stem.audio[:, : 5 * SR])
    assert sorted(e.start for e in out.events) == sorted(e.start for e in stem.events)


def test_shift_stem_pads_when_the_source_is_too_short():
    stem = _click_stem(bars=2)  # 4 s of audio
    cut, duration = 1.5, 6.0
    out = shift_stem(stem, cut, duration)
    assert out.audio.shape == (2, round(duration * SR))
    kept = stem.audio.shape[1] - round(cut * SR)  # 2.5 s of the source remain
    assert np.array_equal(out.audio[:, :kept], stem.audio[:, round(cut * SR) :])
    assert not out.audio[:, kept:].any()
    assert np.flatnonzero(out.audio[0]).tolist() == [round((BAR - cut) * SR)]


@pytest.mark.parametrize("sr", [22050, 44100, 48000])
def test_shift_stem_length_is_exact_at_common_rates(sr):
    audio = np.random.default_rng(0).standard_normal((2, 3 * sr)).astype(np.float32)
    stem = Stem("bass", audio, sr, 93.0)
    for cut in (0.0, 0.123, 1.7):
        for duration in (1.0, 2.5, 4.321):
            out = shift_stem(stem, cut, duration)
            assert out.audio.shape == (2, round(duration * sr))
            start = round(cut * sr)
            n = min(out.audio.shape[1], audio.shape[1] - start)
            assert np.array_equal(out.audio[:, :n], audio[:, start : start + n])
