"""Faust instruments: every instrument plays, stays bounded and in tune, and hits land on time.

Measurements are independent of the instruments' code: FFT peaks, zero-crossing periods,
an FFT chroma and spectral-flux onset detection on the rendered audio (in numpy: librosa's
first call JIT-compiles for ~15 s, longer than this whole file).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from producer.faust.engine import run_faust
from producer.generators.events import GM_DRUMS, NoteEvent
from producer.generators.instruments import (
    DRUM_INSTRUMENTS,
    INSTRUMENTS,
    UnknownInstrumentError,
    allocate_voices,
    controls_for,
    midi_to_hz,
    render_drum_kit,
    render_events,
)

SR = 44100
BPM = 120.0  # one beat = 0.5 s


def _note(start: float, dur: float, pitch: int, name: str, vel: float = 0.9, **kw) -> NoteEvent:
    return NoteEvent(start, dur, pitch, vel, name, **kw)


def _demo_events(name: str) -> list[NoteEvent]:
    """A few notes or hits that exercise an instrument (2 s at 120 bpm)."""
    spec = INSTRUMENTS[name]
    if spec.drum:
        pitch = GM_DRUMS.get(name, 36)
        return [_note(b, 0.25, pitch, name, vel) for b, vel in ((0, 1.0), (1, 0.6), (2.5, 1.0))]
    if spec.polyphony > 1:  # a full-velocity four-note chord, then two single notes
        chord = [_note(0, 2, p, name, 1.0) for p in (48, 60, 64, 67)]
        return [*chord, _note(2, 1, 72, name), _note(3, 1, 74, name, 0.5)]
    return [_note(0, 1, 41, name, 1.0), _note(1, 1, 44, name, 0.7), _note(2, 2, 36, name)]


@pytest.fixture(scope="module")
def demos() -> dict[str, np.ndarray]:
    return {name: render_events(_demo_events(name), name, BPM, 2 * SR) for name in INSTRUMENTS}


@pytest.mark.parametrize("name", list(INSTRUMENTS))
def test_every_instrument_plays_bounded_audio_of_the_exact_length(demos, name):
    audio = demos[name]
    assert audio.shape == (2, 2 * SR)
    assert audio.dtype == np.float32
    assert np.isfinite(audio).all()
    peak = float(np.abs(audio).max())
    assert peak <= 1.0
    assert peak > 0.05, f"{name} is (nearly) silent: peak {peak:.4f}"
    rms = np.sqrt(np.mean(audio.astype(np.float64) ** 2, axis=1))
    assert (rms > 0.003).all()
    assert (np.abs(audio.mean(axis=1)) < 0.1 * rms).all(), "mostly DC, not sound"


@pytest.mark.parametrize("name", [n for n, s in INSTRUMENTS.items() if not s.drum])
def test_every_pitched_instrument_plays_in_tune(name):
    # A3 = 220 Hz for 1.5 s at the start of the stem (sample 0: no pitch before it).
    audio = render_events([_note(0, 3, 57, name, 0.8)], name, BPM, 2 * SR)
    sustain = audio.mean(axis=0)[int(0.3 * SR) : int(1.4 * SR)]
    assert _peak_frequency(sustain, lo=50.0) == pytest.approx(220.0, rel=0.015)


def test_no_events_or_events_past_the_end_give_exact_silence():
    assert np.array_equal(render_events([], "keys", BPM, 1000), np.zeros((2, 1000), np.float32))
    late = [_note(10, 1, 60, "keys")]  # starts at 5 s, the stem is 1 s
    assert not render_events(late, "keys", BPM, SR).any()
    assert render_drum_kit([], BPM, 0).shape == (2, 0)


def test_a_note_rings_past_its_end_but_the_stem_keeps_its_length():
    # One bell note from 0.9 s to 1.5 s in a 1 s stem: cut exactly at the end.
    audio = render_events([_note(1.8, 1.2, 72, "bell")], "bell", BPM, SR)
    assert audio.shape == (2, SR)
    assert not audio[:, : int(0.89 * SR)].any()
    assert np.abs(audio[:, int(0.92 * SR) :]).max() > 0.05


def _peak_frequency(x: np.ndarray, lo: float = 30.0, hi: float = 2000.0) -> float:
    """Frequency of the largest spectral peak in [lo, hi] Hz (Hann, zero-padded x8)."""
    n = 8 * x.size
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    band = (freqs >= lo) & (freqs <= hi)
    return float(freqs[band][np.argmax(spectrum[band])])


def _zero_crossing_hz(x: np.ndarray, cycles: int = 3) -> float:
    """Frequency from the last `cycles` periods between upward zero crossings (interpolated)."""
    idx = np.flatnonzero((x[:-1] <= 0) & (x[1:] > 0))
    times = idx + x[idx] / (x[idx] - x[idx + 1])  # sub-sample crossing positions
    return SR * cycles / float(times[-1] - times[-1 - cycles])


def test_808_plays_its_note_in_tune():
    # F2 = MIDI 41 = 87.31 Hz for 1.5 s; the sustain (0.2–1.4 s) peaks at the fundamental.
    audio = render_events([_note(0, 3, 41, "808", 1.0)], "808", BPM, 2 * SR)
    sustain = audio[0, int(0.2 * SR) : int(1.4 * SR)]
    assert _peak_frequency(sustain) == pytest.approx(midi_to_hz(41), rel=0.02)
    assert midi_to_hz(41) == pytest.approx(87.307, abs=1e-3)


def test_808_glide_reaches_its_target_pitch():
    # A one-second slide from F2 (87.3 Hz) to A#2 (116.5 Hz): the last cycles are at the target.
    audio = render_events([_note(0, 2, 41, "808", 1.0, glide_to=46)], "808", BPM, 2 * SR)
    mono = audio.mean(axis=0)
    end = mono[int(0.85 * SR) : SR]
    start = mono[int(0.05 * SR) : int(0.2 * SR)]
    assert _zero_crossing_hz(end) == pytest.approx(midi_to_hz(46), rel=0.02)
    assert _zero_crossing_hz(start) < 95.0  # it did start low


def test_keys_chord_sounds_its_pitch_classes():
    chord = [_note(0, 4, p, "keys", 0.8) for p in (60, 64, 67)]  # C4 E4 G4
    audio = render_events(chord, "keys", BPM, 2 * SR)
    mono = audio.mean(axis=0)[int(0.1 * SR) : int(1.5 * SR)]
    n = 4 * mono.size
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size), n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    # chroma: spectral energy 60 Hz–4 kHz folded onto the 12 pitch classes (C = 0)
    band = (freqs > 60) & (freqs < 4000)
    pitch_class = np.round(12 * np.log2(freqs[band] / 440.0) + 69).astype(int) % 12
    chroma = np.bincount(pitch_class, weights=spectrum[band] ** 2, minlength=12)
    assert set(np.argsort(chroma)[-3:]) == {0, 4, 7}  # C, E, G
    # and a spectral peak within 1 % of each note's frequency
    for pitch in (60, 64, 67):
        f = midi_to_hz(pitch)
        near = (freqs > 0.97 * f) & (freqs < 1.03 * f)
        assert freqs[near][np.argmax(spectrum[near])] == pytest.approx(f, rel=0.01)
        assert spectrum[near].max() > 20 * np.median(spectrum[(freqs > 100) & (freqs < 2000)])


def _onsets(audio: np.ndarray, hop: int = 128, n_fft: int = 1024) -> np.ndarray:
    """Onset times (s) by spectral flux: the summed rise of log-magnitude spectra, peak-picked.

    The textbook detector (as librosa's onset_strength + peak_pick) in numpy, because
    librosa's first call JIT-compiles for ~15 s. The time of a frame is its centre; no frame
    runs past the end (a cut-off tail would read as a broadband onset).
    """
    x = np.pad(audio.mean(axis=0).astype(np.float64), (n_fft // 2, 0))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    logmag = np.log1p(100.0 * np.abs(np.fft.rfft(frames, axis=1)))
    flux = np.concatenate([[0.0], np.maximum(np.diff(logmag, axis=0), 0.0).sum(axis=1)])
    threshold = flux.mean() + 2.0 * flux.std()
    width = int(0.03 * SR / hop)  # a peak must be the maximum within ±30 ms
    padded = np.pad(flux, width)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, 2 * width + 1).max(axis=1)
    peaks = np.flatnonzero((flux >= local_max) & (flux > threshold))
    return peaks * hop / SR


def test_drum_hits_land_on_the_event_times():
    # 100 bpm, hits on an irregular grid (incl. a swung 16th), kick+hat together on one beat;
    # nothing at 0 s, where an onset detector has no "before" to compare with.
    bpm = 100.0
    hits = [
        (0.5, "kick"), (0.5, "hat_closed"), (1.0, "snare"), (1.75, "hat_closed"),
        (2.5, "kick"), (3.0, "clap"), (3.58, "rim"), (4.5, "perc"), (5.0, "hat_open"),
        (6.0, "kick"),
    ]  # fmt: skip
    events = [_note(b, 0.25, GM_DRUMS[name], name, 1.0) for b, name in hits]
    audio = render_drum_kit(events, bpm, 4 * SR)
    expected = sorted({b * 60.0 / bpm for b, _ in hits})
    found = _onsets(audio)
    for t in expected:
        assert np.min(np.abs(found - t)) <= 0.015, f"no onset near {t:.3f} s: {found}"
    assert len(found) == len(expected), found


@pytest.mark.parametrize("name", ["808", "bass"])
def test_two_notes_on_one_voice_are_two_onsets(name):
    # Back to back, same pitch, on a monophonic instrument: one long gate would be one note.
    events = [_note(0, 1, 43, name, 1.0), _note(1, 1, 43, name, 1.0)]
    note = controls_for(INSTRUMENTS[name], events, BPM, 2 * SR)[0]
    # held at +Hz, the second note's first sample is its velocity (the trigger), then +Hz
    assert note[SR // 2 - 1] == pytest.approx(midi_to_hz(43), rel=1e-6)
    assert note[SR // 2] == 1.0
    assert note[SR // 2 + 1] == pytest.approx(midi_to_hz(43), rel=1e-6)
    assert note[-1] == pytest.approx(-midi_to_hz(43), rel=1e-6)  # released, pitch kept
    audio = render_events(events, name, BPM, 2 * SR)
    found = _onsets(audio)
    assert np.min(np.abs(found - 0.5)) <= 0.015, found
    env = np.abs(audio.mean(axis=0))
    before = env[int(0.47 * SR) : int(0.5 * SR)].max()
    after = env[int(0.5 * SR) : int(0.53 * SR)].max()
    assert after > 1.2 * before


def test_a_stolen_voice_retriggers():
    # More held notes than voices: the extra note steals a ringing voice and still sounds.
    spec = INSTRUMENTS["pluck"]
    held = [_note(0, 4, 48 + 2 * i, "pluck", 0.5) for i in range(spec.polyphony)]
    extra = _note(1, 1, 84, "pluck", 1.0)
    audio = render_events([*held, extra], "pluck", BPM, 2 * SR)
    found = _onsets(audio)
    assert np.min(np.abs(found - 0.5)) <= 0.015, found


def test_rendering_is_bit_identical_on_repeat():
    notes = [_note(b, 0.5, 60 + b, "keys") for b in range(4)]
    assert np.array_equal(
        render_events(notes, "keys", BPM, SR), render_events(notes, "keys", BPM, SR)
    )
    drums = [_note(b / 2, 0.25, 42, "hat_closed") for b in range(8)]
    drums += [_note(0, 1, 36, "kick"), _note(1, 1, 38, "snare")]
    assert np.array_equal(render_drum_kit(drums, BPM, SR), render_drum_kit(drums, BPM, SR))


def test_kit_is_the_sum_of_its_pieces_at_their_balance():
    kick = [_note(0, 1, 36, "kick", 0.5)]
    hat = [_note(0.5, 0.25, 42, "hat_closed", 0.5)]
    kit = render_drum_kit(kick + hat, BPM, SR)
    alone = render_events(kick, "kick", BPM, SR) + render_events(hat, "hat_closed", BPM, SR)
    assert np.abs(kit - alone).max() < 1e-4
    # hats sit a little left of centre, the kick in the middle
    hat_audio = render_events(hat, "hat_closed", BPM, SR)
    assert np.abs(hat_audio[0]).sum() > 1.2 * np.abs(hat_audio[1]).sum()
    kick_audio = render_events(kick, "kick", BPM, SR)
    assert np.array_equal(kick_audio[0], kick_audio[1])


def test_width_zero_folds_a_stereo_instrument_to_mono():
    spec = dataclasses.replace(INSTRUMENTS["pad"], width=0.0)
    chord = [_note(0, 1, p, "pad") for p in (60, 64, 67)]
    audio = run_faust(spec.code, controls_for(spec, chord, BPM, SR // 2), SR)
    wide = render_events(chord, "pad", BPM, SR // 2)
    assert np.abs(audio[0] - audio[1]).max() < 1e-6
    assert np.abs(wide[0] - wide[1]).max() > 0.01  # the pad is stereo as designed


def test_a_closed_hat_chokes_the_open_hat():
    open_hat = [_note(0, 1, 46, "hat_open", 1.0)]
    closed = [_note(0.5, 0.25, 42, "hat_closed", 0.1)]
    ringing = render_events(open_hat, "hat_open", BPM, SR)
    choked = render_drum_kit(open_hat + closed, BPM, SR)
    tail = slice(int(0.3 * SR), SR)  # from 50 ms after the closed hat
    assert np.abs(choked[:, tail]).max() < 0.1 * np.abs(ringing[:, tail]).max()


def test_voices_are_allocated_round_robin_and_stolen_when_all_busy():
    chord = [(0, 100)] * 4
    assert sorted(allocate_voices(chord, 8, release=10)) == [0, 1, 2, 3]
    # the next chord takes the voices that have been free longest, not the ones just released
    assert allocate_voices([*chord, *[(200, 300)] * 4], 8, release=10)[4:] == [4, 5, 6, 7]
    # more notes than voices: the ninth steals the voice that frees first
    assert allocate_voices([(i, 1000 + i) for i in range(9)], 8, release=0)[8] == 0
    assert allocate_voices([(0, 10), (5, 20)], 1, release=0) == [0, 0]


def test_unknown_instruments_are_refused_with_the_known_names():
    with pytest.raises(UnknownInstrumentError, match="known: kick") as info:
        render_events([_note(0, 1, 60, "kazoo")], "kazoo", BPM, SR)
    assert isinstance(info.value, ValueError)
    assert "808" in str(info.value) and "pad" in str(info.value)
    with pytest.raises(ValueError, match="kazoo"):
        render_drum_kit([_note(0, 1, 60, "kazoo")], BPM, SR)
    with pytest.raises(ValueError, match="not a drum"):
        render_drum_kit([_note(0, 1, 60, "keys")], BPM, SR)
    assert set(DRUM_INSTRUMENTS) >= {"kick", "snare", "clap", "hat_closed", "hat_open", "rim"}
