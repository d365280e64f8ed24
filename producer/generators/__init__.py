"""Stem generators: a registry of generators that turn a production plan into stems.

    from producer.generators import GeneratorSettings, generate_stems
    stems = generate_stems(plan, duration=20.0, seed=7)   # {role: Stem}
    stems = generate_stems(plan, settings=GeneratorSettings(musicgen=MusicGenConfig(device="cuda")))

Names map to generators in one table, `registry.GENERATORS`; `settings=None` builds them from
`GeneratorSettings.from_env()` (see `registry`).
"""

from __future__ import annotations

from producer.errors import ProducerError
from producer.generators.base import Generator, UnknownGeneratorError
from producer.generators.events import NoteEvent, Stem
from producer.generators.registry import (
    GENERATORS,
    GeneratorSettings,
    generator_names,
    get_generator,
    make_generator,
)
from producer.plan import ProductionPlan, StemSpec

#: Generator used for a role when the plan does not name one, per style where it matters.
_DEFAULTS = {"drums": "drums", "harmony": "chords", "melody": "melody", "other": "melody"}


def default_generator(role: str, style: str) -> str:
    """The generator a role gets when the plan names none (808s for trap and drill)."""
    if role == "bass":
        return "808" if style in ("trap", "drill") else "bass"
    if role not in _DEFAULTS:
        raise ProducerError(
            f"no generator makes '{role}' stems: give the {role} as an input (source: input)"
        )
    return _DEFAULTS[role]


def generate_stem(
    spec: StemSpec,
    plan: ProductionPlan,
    duration: float,
    seed: int,
    sample_rate: int = 44100,
    settings: GeneratorSettings | None = None,
) -> Stem:
    """Generate one stem of the plan with its generator (or the role's default).

    `settings` builds the generator; None: `GeneratorSettings.from_env()`.
    """
    name = spec.generator or default_generator(spec.role, plan.style)
    return get_generator(name, settings).generate(spec, plan, duration, seed, sample_rate)


def generate_stems(
    plan: ProductionPlan,
    duration: float | None = None,
    seed: int = 0,
    sample_rate: int = 44100,
    settings: GeneratorSettings | None = None,
) -> dict[str, Stem]:
    """Every `source: generate` stem of the plan, by role, each exactly duration × sr samples."""
    duration = plan.duration if duration is None else duration
    if settings is None:  # read the environment once for the whole plan, not once per stem
        settings = GeneratorSettings.from_env()
    return {
        spec.role: generate_stem(spec, plan, duration, seed, sample_rate, settings)
        for spec in plan.stems
        if spec.source == "generate"
    }


__all__ = [
    "GENERATORS",
    "Generator",
    "GeneratorSettings",
    "NoteEvent",
    "Stem",
    "UnknownGeneratorError",
    "default_generator",
    "generate_stem",
    "generate_stems",
    "generator_names",
    "get_generator",
    "make_generator",
]
