"""Keys, scales, diatonic chords, progressions and the swing grid (pure, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from producer.generators.events import NoteEvent
from producer.generators.theory import (
    PITCH_CLASSES,
    PROGRESSIONS,
    STYLE_SWING,
    diatonic_chord,
    fit_to_loop,
    in_scale,
    key_pc,
    midi_note,
    progression,
    scale,
    scale_pitches,
    swing_time,
)
from producer.plan import KEYS, MODES, STYLES


def test_key_pitch_classes_follow_the_plan_keys():
    assert [key_pc(k) for k in KEYS] == list(range(12))
    assert key_pc("F#") == 6
    assert PITCH_CLASSES == KEYS


def test_unknown_key_and_mode_are_refused_with_the_valid_values():
    with pytest.raises(ValueError, match=r"unknown key 'Eb'.*C, C#"):
        key_pc("Eb")
    with pytest.raises(ValueError, match="unknown mode 'dorian'"):
        scale("C", "dorian")


def test_scales():
    assert scale("C", "major") == (0, 2, 4, 5, 7, 9, 11)
    assert scale("A", "minor") == (9, 11, 0, 2, 4, 5, 7)
    assert scale("F#", "minor") == (6, 8, 9, 11, 1, 2, 4)
    # Relative keys share their notes.
    assert set(scale("D#", "major")) == set(scale("C", "minor"))


def test_in_scale_and_midi_notes():
    assert midi_note(0, 4) == 60
    assert midi_note(4, 1) == 28  # E1, the lowest bass note
    assert in_scale(65, "F", "minor") and in_scale(68, "F", "minor")
    assert not in_scale(69, "F", "minor")  # A natural is F major's, not F minor's
    assert scale_pitches("C", "major", 60, 72) == [60, 62, 64, 65, 67, 69, 71, 72]


def test_diatonic_triads_and_sevenths_have_the_textbook_qualities():
    triads = [diatonic_chord("C", "major", d).quality for d in range(7)]
    assert triads == ["maj", "min", "min", "maj", "maj", "min", "dim"]
    sevenths = [diatonic_chord("C", "major", d, 4).quality for d in range(7)]
    assert sevenths == ["maj7", "min7", "min7", "maj7", "7", "min7", "min7b5"]
    # Natural minor: the dominant is a minor v.
    minor = [diatonic_chord("A", "minor", d).name for d in range(7)]
    assert minor == ["Am", "Bdim", "C", "Dm", "Em", "F", "G"]
    assert diatonic_chord("A", "minor", 4).roman == "v"
    assert diatonic_chord("A", "minor", 5, 4).roman == "VImaj7"


def test_ninths_are_only_stacked_where_they_are_major_ninths():
    assert diatonic_chord("C", "major", 0, 5).quality == "maj9"
    assert diatonic_chord("C", "major", 0, 5).pitch_classes == (0, 4, 7, 11, 2)
    assert diatonic_chord("C", "major", 4, 5).quality == "9"
    # iii in major has a minor ninth (F over E): it stops at the seventh.
    assert diatonic_chord("C", "major", 2, 5).quality == "min7"


@pytest.mark.parametrize("key", ["C", "F#", "A#"])
@pytest.mark.parametrize("size", [3, 4, 5])
def test_voicings_stay_in_range_and_sound_every_chord_tone(key, size):
    for degree in range(7):
        chord = diatonic_chord(key, "minor", degree, size)
        for inversion in range(len(chord.pitch_classes)):
            notes = chord.voicing(48, 84, inversion)
            assert notes == sorted(notes)
            assert all(48 <= p <= 84 for p in notes)
            assert {p % 12 for p in notes} == set(chord.pitch_classes)
            assert notes[0] % 12 == chord.pitch_classes[inversion]
        assert all(48 <= p <= 84 for v in chord.voicings(48, 84) for p in v)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("mode", MODES)
def test_progressions_are_diatonic_and_start_and_resolve_on_the_tonic(style, mode):
    for seed in range(6):
        for key in ("C", "G#", "E"):
            for bars in (1, 3, 4, 8, 12):
                chords = progression(style, key, mode, bars, np.random.default_rng(seed))
                assert len(chords) == bars
                assert chords[0].degree == 0 and chords[0].root == key_pc(key)
                for chord in chords:
                    assert all(pc in scale(key, mode) for pc in chord.pitch_classes)
                    assert chord.quality != "dim"  # bare diminished triads are not loop chords
                for bar in range(7, bars, 8):
                    assert chords[bar].degree == 0


def test_every_table_starts_on_the_tonic():
    for degrees_list in PROGRESSIONS.values():
        assert all(degrees[0] == 0 for degrees in degrees_list)


def test_progressions_are_deterministic_and_vary_across_seeds():
    def names(seed: int) -> list[str]:
        return [c.name for c in progression("trap", "F", "minor", 8, np.random.default_rng(seed))]

    assert names(3) == names(3)
    assert len({tuple(names(seed)) for seed in range(10)}) >= 3


def test_lofi_and_gfunk_use_sevenths_and_ninths_trap_uses_triads():
    for seed in range(5):
        for style in ("lo-fi", "g-funk"):
            chords = progression(style, "D", "minor", 8, np.random.default_rng(seed))
            assert all(len(c.pitch_classes) >= 4 for c in chords)
        chords = progression("trap", "D", "minor", 8, np.random.default_rng(seed))
        assert all(len(c.pitch_classes) == 3 for c in chords)


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="no progressions for style 'polka'"):
        progression("polka", "C", "minor", 4, np.random.default_rng(0))


def test_swing_moves_offbeats_late_and_keeps_downbeats():
    assert swing_time(3.0, 0.6) == 3.0
    assert swing_time(2.5, 0.6) == pytest.approx(2.6)
    assert swing_time(0.25, 0.6) == pytest.approx(0.3)
    assert swing_time(0.75, 0.6) == pytest.approx(0.8)
    grid = np.arange(0, 4, 0.25)
    assert [swing_time(b, 0.5) for b in grid] == pytest.approx(list(grid))
    assert np.all(np.diff([swing_time(b, 0.64) for b in grid]) > 0)
    assert STYLE_SWING["boom-bap"] > 0.55 and STYLE_SWING["trap"] == 0.5
    with pytest.raises(ValueError, match="swing amount"):
        swing_time(1.0, 0.4)


def test_fit_to_loop_trims_and_sorts():
    events = [
        NoteEvent(7.5, 2.0, 40, 0.9, "808"),
        NoteEvent(0.0, 1.0, 40, 1.5, "808"),
        NoteEvent(8.0, 1.0, 40, 0.9, "808"),
    ]
    kept = fit_to_loop(events, bars=2)
    assert [(e.start, e.duration, e.velocity) for e in kept] == [(0.0, 1.0, 1.0), (7.5, 0.5, 0.9)]
