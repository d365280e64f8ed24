"""The built-in pattern generators: drums, 808, bass, chords, melody.

Each plays a style's patterns (`patterns/`) on Faust instruments (`instruments/`). All melodic
generators of one production share its chord progression, drawn from the seed alone, so bass,
chords and melody agree whichever subset of roles is asked for; each role then draws its own
part from a stream seeded by (seed, role), so adding a role never changes another role's part.

This module only defines them; `registry.GENERATORS` names them ("drums", "808", "bass",
"chords", "melody") and builds them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from producer.generators.events import NoteEvent, Stem
from producer.generators.instruments import render_drum_kit, render_events
from producer.generators.patterns import (
    DEFAULT_INSTRUMENTS,
    bassline,
    chord_part,
    drum_pattern,
    melody,
)
from producer.generators.theory import Chord, progression
from producer.plan import ROLES, ProductionPlan, StemSpec

_CHORD_STREAM = 0


def role_rng(seed: int, role: str) -> np.random.Generator:
    """The random stream of one role's part: independent of the other roles."""
    return np.random.default_rng([seed, 1 + ROLES.index(role)])


def shared_progression(plan: ProductionPlan, bars: int, seed: int) -> list[Chord]:
    """The production's chords: the same for every role of a (plan, seed)."""
    rng = np.random.default_rng([seed, _CHORD_STREAM])
    return progression(plan.style, plan.key, plan.mode, bars, rng)


def bars_for(plan: ProductionPlan, duration: float) -> int:
    """Whole bars covering `duration`; the stem is cut at `duration`, the pattern loops on bars."""
    return max(1, math.ceil(duration / plan.seconds_per_bar - 1e-9))


PartFn = Callable[
    [ProductionPlan, StemSpec, list[Chord], int, np.random.Generator, str], list[NoteEvent]
]


@dataclass
class PatternGenerator:
    """A generator that writes a part with a pattern function and plays it on an instrument."""

    name: str
    part: PartFn
    drums: bool = False
    instrument: str | None = None  # None: the style's default for the role

    def generate(
        self,
        spec: StemSpec,
        plan: ProductionPlan,
        duration: float,
        seed: int,
        sample_rate: int = 44100,
    ) -> Stem:
        bars = bars_for(plan, duration)
        chords = shared_progression(plan, bars, seed)
        # A role without its own default (e.g. "other") plays the style's melody instrument.
        style_default = DEFAULT_INSTRUMENTS[plan.style]
        instrument = (
            spec.params.get("instrument")
            or self.instrument
            or style_default.get(spec.role, style_default["melody"])
        )
        events = self.part(plan, spec, chords, bars, role_rng(seed, spec.role), instrument)
        num_samples = round(duration * sample_rate)
        if self.drums:
            audio = render_drum_kit(events, plan.bpm, num_samples, sample_rate)
        else:
            audio = render_events(events, instrument, plan.bpm, num_samples, sample_rate)
        return Stem(
            role=spec.role,
            audio=audio,
            sample_rate=sample_rate,
            bpm=plan.bpm,
            events=events,
            generator=self.name,
        )


def drums_part(plan, spec, chords, bars, rng, instrument):
    """The style's drum pattern (chords and instrument unused: the kit is the instrument)."""
    return drum_pattern(plan.style, bars, rng, spec.params)


def bass_part(plan, spec, chords, bars, rng, instrument):
    """A bass line on the shared chords (the 808 and the bass generators both play it)."""
    return bassline(plan.style, chords, bars, rng, spec.params, instrument=instrument)


def chords_part(plan, spec, chords, bars, rng, instrument):
    """The shared chords voiced and rhythmed in the style."""
    return chord_part(plan.style, chords, bars, rng, spec.params, instrument=instrument)


def melody_part(plan, spec, chords, bars, rng, instrument):
    """A lead line in the plan's key over the shared chords."""
    return melody(
        plan.style, plan.key, plan.mode, chords, bars, rng, spec.params, instrument=instrument
    )
