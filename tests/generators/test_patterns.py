"""Style patterns: in key, in the loop, deterministic, varied, and with each style's idioms.

Pure and fast: events only, no audio. The measurements here are computed from the events by
the tests themselves (onset grids, inter-onset intervals, a Krumhansl–Schmuckler key
estimate), not taken from the generators' own bookkeeping.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from producer.generators.events import GM_DRUMS, NoteEvent
from producer.generators.patterns import (
    DEFAULT_INSTRUMENTS,
    DRUM_INSTRUMENTS,
    bassline,
    chord_part,
    drum_pattern,
    melody,
)
from producer.generators.theory import in_scale, key_pc, progression
from producer.plan import KEYS, MODES, STYLES

BARS = 8
SEEDS = (0, 1, 2)
BACKBEAT = ("snare", "clap", "rim")


def parts(style: str, key: str, mode: str, seed: int, bars: int = BARS, **params):
    """Every part of one beat, each from its own stream (as the generators draw them)."""
    chords = progression(style, key, mode, bars, np.random.default_rng([seed, 0]))
    return {
        "chords": chords,
        "drums": drum_pattern(style, bars, np.random.default_rng([seed, 1]), params),
        "bass": bassline(style, chords, bars, np.random.default_rng([seed, 2]), params),
        "harmony": chord_part(style, chords, bars, np.random.default_rng([seed, 3]), params),
        "melody": melody(style, key, mode, chords, bars, np.random.default_rng([seed, 4]), params),
    }


def hits(events: list[NoteEvent], *instruments: str) -> list[float]:
    return sorted(e.start for e in events if e.instrument in instruments)


def key_for(seed: int) -> str:
    return KEYS[(5 * seed + 5) % 12]  # F, A#, D#: a different key per seed


# ---------------------------------------------------------------------------------------------
# Invariants for every style × mode × seed.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("style", STYLES)
def test_parts_are_in_key_in_range_and_inside_the_loop(style, mode, seed):
    key = key_for(seed)
    beat = parts(style, key, mode, seed)
    total = 4.0 * BARS
    for role in ("drums", "bass", "harmony", "melody"):
        events = beat[role]
        assert events, f"{style} {role} is empty"
        for e in events:
            assert 0.0 <= e.start < total, (role, e)
            assert e.duration > 0 and e.start + e.duration <= total + 1e-9, (role, e)
            assert 0.0 < e.velocity <= 1.0, (role, e)
    for role, (low, high) in {"bass": (28, 52), "harmony": (48, 84), "melody": (60, 84)}.items():
        for e in beat[role]:
            assert in_scale(e.pitch, key, mode), (role, e)
            assert low <= e.pitch <= high, (role, e)
            if e.glide_to is not None:
                assert in_scale(e.glide_to, key, mode) and low <= e.glide_to <= high, (role, e)
    for e in beat["drums"]:
        assert e.instrument in DRUM_INSTRUMENTS
        assert e.pitch == GM_DRUMS[e.instrument]


@pytest.mark.parametrize("style", STYLES)
def test_the_same_seed_gives_the_same_events(style):
    assert parts(style, "G", "minor", 5) == parts(style, "G", "minor", 5)


@pytest.mark.parametrize("style", STYLES)
def test_different_seeds_give_different_onset_patterns(style):
    for role in ("drums", "bass", "melody"):
        onsets = [tuple(e.start for e in parts(style, "C", "minor", s)[role]) for s in SEEDS]
        assert len(set(onsets)) == len(SEEDS), f"{style} {role} repeats across seeds"


# ---------------------------------------------------------------------------------------------
# The pulse: a kick on every downbeat and a backbeat in every bar (for the beat tracker).
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("style", STYLES)
def test_every_bar_has_a_downbeat_kick_and_its_backbeat(style, seed):
    drums = parts(style, "C", "minor", seed)["drums"]
    kicks = hits(drums, "kick")
    backbeat = hits(drums, *BACKBEAT)
    half_time = style in ("trap", "drill")
    for bar in range(BARS):
        assert any(abs(k - 4 * bar) < 1e-9 for k in kicks), (style, bar)
        for beat in (2.0,) if half_time else (1.0, 3.0):
            at = 4 * bar + beat
            # On the beat or lazily behind it (lo-fi), never ahead.
            assert any(0.0 <= b - at <= 0.04 for b in backbeat), (style, bar, beat)


# ---------------------------------------------------------------------------------------------
# Style idioms.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_trap_has_hat_rolls_and_half_time_snares(seed):
    drums = parts("trap", "F", "minor", seed)["drums"]
    hats = np.array(hits(drums, "hat_closed"))
    gaps = np.diff(hats)
    assert np.any(gaps < 0.25 - 1e-6), "no 1/32 or triplet roll"
    # Half-time: a snare/clap on beat 3 (2.0 into the bar) in most bars, and no straight
    # 2-and-4 backbeat (beats 2 and 4 only carry fills).
    snares = hits(drums, "snare", "clap")
    on_three = sum(any(abs(s - (4 * b + 2.0)) < 1e-6 for s in snares) for b in range(BARS))
    assert on_three >= 0.75 * BARS
    on_two = sum(any(abs(s - (4 * b + 1.0)) < 1e-6 for s in snares) for b in range(BARS))
    assert on_two <= BARS // 4


def test_trap_rolls_use_sixteenths_thirty_seconds_and_triplets():
    gaps = Counter()
    for seed in range(12):
        hats = hits(parts("trap", "F", "minor", seed)["drums"], "hat_closed")
        gaps.update(round(g, 3) for g in np.diff(hats))
    assert gaps[0.125] and gaps[round(1 / 6, 3)] and gaps[0.25]


@pytest.mark.parametrize("seed", SEEDS)
def test_boom_bap_hats_are_swung(seed):
    hats = np.array(hits(parts("boom-bap", "C", "minor", seed)["drums"], "hat_closed"))
    frac = hats % 1.0
    offbeats = frac[(frac > 0.4) & (frac < 0.75)]
    assert len(offbeats) >= 2 * BARS
    # Every off-beat 8th lands late (56–62 % of the beat), none on the straight grid.
    assert np.all((offbeats >= 0.55) & (offbeats <= 0.65)), offbeats
    onbeats = frac[(frac < 0.1) | (frac > 0.9)]
    assert len(onbeats) >= 3 * BARS and np.all(onbeats < 0.02)


@pytest.mark.parametrize("seed", SEEDS)
def test_boom_bap_has_ghost_notes_and_dusty_velocities(seed):
    drums = parts("boom-bap", "C", "minor", seed, bars=16)["drums"]
    snares = [e for e in drums if e.instrument == "snare"]
    assert any(e.velocity < 0.45 for e in snares), "no ghost snares"
    velocities = [e.velocity for e in drums if e.instrument == "hat_closed"]
    assert np.std(velocities) > 0.08  # not a machine's fixed levels


@pytest.mark.parametrize("seed", SEEDS)
def test_lofi_is_swung_lazy_and_soft(seed):
    drums = parts("lo-fi", "C", "minor", seed)["drums"]
    hit_times = np.array(hits(drums, *BACKBEAT))
    nearest = np.round(hit_times)
    # The 2-and-4 backbeats (not ghosts or fills): on the beat or lazily behind it.
    backbeat = (np.abs(hit_times - nearest) < 0.1) & np.isin(nearest % 4, (1, 3))
    lateness = (hit_times - nearest)[backbeat]
    assert len(lateness) >= 2 * BARS
    assert np.all(lateness >= 0.0) and np.mean(lateness) > 0.005
    boom = parts("boom-bap", "C", "minor", seed)["drums"]
    assert np.mean([e.velocity for e in drums]) < np.mean([e.velocity for e in boom])


def test_drill_has_syncopated_snares_triplet_hats_and_sliding_808s():
    glides = 0
    for seed in SEEDS:
        beat = parts("drill", "F#", "minor", seed)
        snares = [e for e in beat["drums"] if e.instrument == "snare" and e.velocity >= 0.5]
        assert any(e.start % 1.0 > 1e-6 for e in snares), "no off-beat snares"
        hats = np.array(hits(beat["drums"], "hat_closed"))
        # Triplet feel: every hat on the 1/16-triplet grid, many on the 2nd or 3rd triplet 8th.
        sixths = (hats * 6) % 1.0
        assert np.all(np.isclose(sixths, 0.0) | np.isclose(sixths, 1.0)), "off the triplet grid"
        frac = hats % 1.0
        assert np.mean(np.isclose(frac, 1 / 3) | np.isclose(frac, 2 / 3)) > 0.3
        assert all(e.instrument == "808" for e in beat["bass"])
        glides += sum(e.glide_to is not None for e in beat["bass"])
    assert glides > 0


def test_glide_param_scales_808_slides():
    def count(glide: float) -> int:
        total = 0
        for seed in range(4):
            chords = progression("drill", "C", "minor", BARS, np.random.default_rng(seed))
            bass = bassline("drill", chords, BARS, np.random.default_rng(seed), {"glide": glide})
            total += sum(e.glide_to is not None for e in bass)
        return total

    assert count(0.0) == 0
    assert count(1.0) > count(0.3) > 0


def test_gfunk_bounces_with_funky_bass_and_a_gliding_lead():
    glides = 0
    for seed in SEEDS:
        beat = parts("g-funk", "A", "minor", seed)
        hats = hits(beat["drums"], "hat_closed", "hat_open")
        assert len(hats) >= 14 * BARS  # 1/16 hats
        bass = beat["bass"]
        assert all(e.instrument == "bass" for e in bass)
        assert len(bass) >= 5 * BARS  # busy 16th syncopation
        assert any(e.start % 0.5 > 0.1 for e in bass)  # off the 8th grid: 16th pushes
        pitches = [e.pitch for e in bass]
        assert max(pitches) - min(pitches) >= 12  # octave pops
        assert all(e.instrument == "lead" for e in beat["melody"])
        glides += sum(e.glide_to is not None for e in beat["melody"])
    assert glides > 0


@pytest.mark.parametrize("style", STYLES)
def test_bass_plays_the_chord_root_on_every_downbeat(style):
    for seed in SEEDS:
        beat = parts(style, "D", "minor", seed)
        for bar, chord in enumerate(beat["chords"]):
            first = min((e for e in beat["bass"] if e.start >= 4 * bar), key=lambda e: e.start)
            assert first.start == 4 * bar and first.pitch % 12 == chord.root
        assert beat["bass"][0].pitch % 12 == key_pc("D")  # the tonic in bar 1


def test_bass_locks_to_given_kicks():
    chords = progression("trap", "C", "minor", 4, np.random.default_rng(0))
    drums = drum_pattern("trap", 4, np.random.default_rng(1))
    kicks = hits(drums, "kick")
    bass = bassline("trap", chords, 4, np.random.default_rng(2), {"kicks": kicks})
    assert {e.start for e in bass} <= set(kicks) | {0.0, 4.0, 8.0, 12.0}


@pytest.mark.parametrize("style", STYLES)
def test_chords_move_smoothly(style):
    for seed in SEEDS:
        harmony = parts(style, "E", "major", seed)["harmony"]
        by_onset: dict[float, list[int]] = {}
        for e in harmony:
            by_onset.setdefault(round(e.start / 4), []).append(e.pitch)  # the bar's chord
        voicings = [sorted(set(v)) for _, v in sorted(by_onset.items())]
        for prev, new in itertools.pairwise(voicings):
            # Every voice of the new chord is within a third of a voice of the last one.
            assert max(min(abs(p - q) for q in prev) for p in new) <= 4, (prev, new)


def test_lofi_chords_are_soft_strummed_sevenths():
    harmony = parts("lo-fi", "C", "minor", 0)["harmony"]
    assert all(e.instrument == "keys" and e.velocity < 0.6 for e in harmony)
    first_bar = sorted((e for e in harmony if e.start < 1.0), key=lambda e: e.start)
    assert len({e.pitch for e in first_bar}) >= 4  # a 7th or 9th chord
    assert first_bar[-1].start - first_bar[0].start > 0.03  # strummed, not block


@pytest.mark.parametrize("style", STYLES)
def test_melody_repeats_a_motif_rhythm(style):
    for seed in SEEDS:
        events = parts(style, "C", "minor", seed)["melody"]
        # Back to the straight grid (undo swing and lazy offsets) to compare bars' rhythms.
        grid = 0.5 if style in ("boom-bap", "lo-fi", "g-funk") else 0.25
        bars = [
            tuple(
                sorted(
                    {
                        int((e.start - 4 * b) / grid + 0.3)
                        for e in events
                        if b * 4 <= e.start < b * 4 + 4
                    }
                )
            )
            for b in range(BARS)
        ]
        # A 1- or 2-bar rhythm: bar b matches bar b + 2 except where the melody varies.
        same = sum(bars[b] == bars[b + 2] for b in range(BARS - 3))  # the last bar may cadence
        assert same >= (BARS - 3) - 1, bars


def test_default_instruments_cover_every_style_and_role():
    assert set(DEFAULT_INSTRUMENTS) == set(STYLES)
    for roles in DEFAULT_INSTRUMENTS.values():
        assert set(roles) == {"bass", "harmony", "melody"}
    assert DEFAULT_INSTRUMENTS["trap"]["bass"] == "808"
    assert DEFAULT_INSTRUMENTS["g-funk"]["melody"] == "lead"
    for style in STYLES:
        beat = parts(style, "C", "minor", 0)
        for role in ("bass", "harmony", "melody"):
            assert {e.instrument for e in beat[role]} == {DEFAULT_INSTRUMENTS[style][role]}


def test_short_and_odd_lengths_loop_cleanly():
    for style in STYLES:
        for bars in (1, 3, 5):
            beat = parts(style, "B", "major", 1, bars=bars)
            for role in ("drums", "bass", "harmony", "melody"):
                assert all(
                    e.start < 4 * bars and e.start + e.duration <= 4 * bars + 1e-9
                    for e in beat[role]
                )


def test_bad_inputs_fail_with_the_name_and_the_range():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown style 'polka'"):
        drum_pattern("polka", 4, rng)
    with pytest.raises(ValueError, match=r"'glide' = 2\.0 is outside"):
        chords = progression("trap", "C", "minor", 4, rng)
        bassline("trap", chords, 4, rng, {"glide": 2.0})
    with pytest.raises(ValueError, match=r"'swing' = 0\.9"):
        drum_pattern("boom-bap", 4, rng, {"swing": 0.9})
    with pytest.raises(ValueError, match="a chord per bar"):
        melody("trap", "C", "minor", chords[:2], 4, rng)


# ---------------------------------------------------------------------------------------------
# Key: a Krumhansl–Schmuckler estimate over bass + harmony + melody finds the plan's key.
# ---------------------------------------------------------------------------------------------

_KS_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KS_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(events: list[NoteEvent]) -> tuple[str, str]:
    """Krumhansl–Schmuckler: the key profile best correlated with the duration histogram."""
    histogram = np.zeros(12)
    for e in events:
        histogram[e.pitch % 12] += e.duration
    scores = {
        (KEYS[tonic], mode): np.corrcoef(histogram, np.roll(profile, tonic))[0, 1]
        for mode, profile in (("major", _KS_MAJOR), ("minor", _KS_MINOR))
        for tonic in range(12)
    }
    return max(scores, key=scores.__getitem__)


def test_estimate_key_recognises_plain_scales():
    def scale_events(key: str, mode: str) -> list[NoteEvent]:
        tonic = key_pc(key)
        steps = (0, 2, 4, 5, 7, 9, 11) if mode == "major" else (0, 2, 3, 5, 7, 8, 10)
        # Tonic triad held longer, as in music.
        return [
            NoteEvent(0, 3.0 if s in (0, 7, steps[2]) else 1.0, 60 + tonic + s, 1, "x")
            for s in steps
        ]

    assert estimate_key(scale_events("A", "minor")) == ("A", "minor")
    assert estimate_key(scale_events("D#", "major")) == ("D#", "major")


def test_bass_harmony_and_melody_carry_the_plan_key():
    combos = [(s, k, m) for s in STYLES for k in KEYS for m in MODES]
    misses = []
    for style, key, mode in combos:
        beat = parts(style, key, mode, 0)
        found = estimate_key(beat["bass"] + beat["harmony"] + beat["melody"])
        if found != (key, mode):
            misses.append((style, key, mode, found))
    assert len(misses) <= 0.1 * len(combos), misses
