"""The generator registry: one explicit table from a generator's name to its factory.

    from producer.generators.musicgen import MusicGenConfig
    from producer.generators.registry import GeneratorSettings, get_generator
    gen = get_generator("musicgen", GeneratorSettings(musicgen=MusicGenConfig(device="cuda")))
    stem = gen.generate(spec, plan, duration=8.0, seed=7)

`GENERATORS` below is the whole registry: every name a plan may give in `StemSpec.generator`,
each mapped to a factory `(GeneratorSettings) -> Generator`. Nothing registers itself on import;
adding a generator means adding a line here. A factory takes the typed settings of every
configurable generator and reads only its own field (the pattern generators have none yet).

`get_generator(name, settings)` builds a generator once per (name, settings) and reuses it.
With no settings it uses `GeneratorSettings.from_env()`: the PRODUCER_MUSICGEN_MODEL / _DEVICE /
_DTYPE environment variables are read there and only there, for deployments (a Serve replica
with a GPU, a laptop with a local checkpoint) that choose the model that way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from producer.generators.base import Generator, UnknownGeneratorError
from producer.generators.builtin import (
    PatternGenerator,
    bass_part,
    chords_part,
    drums_part,
    melody_part,
)

# Imported at module level, not inside its factory: musicgen.py itself is light (numpy, soxr);
# torch and transformers are imported only inside the functions that load and run a model
# (tests/generators/test_musicgen.py checks that importing the registry pulls in neither), and
# GeneratorSettings needs MusicGenConfig as the type of its field.
from producer.generators.musicgen import MusicGenConfig, MusicGenGenerator


@dataclass(frozen=True)
class GeneratorSettings:
    """How the configurable generators are built: one typed config per generator.

    Frozen and hashable: generators are cached per (name, settings).
    """

    # The MusicGen generator: model (hub id or local directory), device, dtype, sampling.
    musicgen: MusicGenConfig = field(default_factory=MusicGenConfig)

    @classmethod
    def from_env(cls) -> GeneratorSettings:
        """Defaults, with the PRODUCER_MUSICGEN_MODEL / _DEVICE / _DTYPE variables applied.

        The outermost edge only: callers that have settings pass them instead.
        """
        return cls(musicgen=MusicGenConfig.from_env())


GeneratorFactory = Callable[[GeneratorSettings], Generator]

#: Every generator, by the name a plan gives it. Read-only: this table is the registry.
GENERATORS: Mapping[str, GeneratorFactory] = MappingProxyType(
    {
        "drums": lambda settings: PatternGenerator("drums", drums_part, drums=True),
        "808": lambda settings: PatternGenerator("808", bass_part, instrument="808"),
        "bass": lambda settings: PatternGenerator("bass", bass_part, instrument="bass"),
        "chords": lambda settings: PatternGenerator("chords", chords_part),
        "melody": lambda settings: PatternGenerator("melody", melody_part),
        "musicgen": lambda settings: MusicGenGenerator(settings.musicgen),
    }
)


def make_generator(
    name: str,
    settings: GeneratorSettings,
    factories: Mapping[str, GeneratorFactory] = GENERATORS,
) -> Generator:
    """A new generator `name` built from `settings` (no cache; `factories` for tests).

    Raises:
        UnknownGeneratorError: no factory has that name (one line listing the known names).
    """
    if name not in factories:
        known = ", ".join(sorted(factories))
        raise UnknownGeneratorError(f"unknown generator '{name}' (known: {known})")
    return factories[name](settings)


_INSTANCES: dict[tuple[str, GeneratorSettings], Generator] = {}
# Serve replicas generate stems on a thread pool: one instance per key, even when two threads
# ask at once (factories are cheap: MusicGen loads its model on first use, not here).
_INSTANCES_LOCK = threading.Lock()


def get_generator(name: str, settings: GeneratorSettings | None = None) -> Generator:
    """The generator `name` built from `settings`, created once per (name, settings).

    `settings=None` means `GeneratorSettings.from_env()`, read at each call, so a changed
    environment gives a generator built from the new values.

    Raises:
        UnknownGeneratorError: `name` is not in `GENERATORS`.
    """
    settings = GeneratorSettings.from_env() if settings is None else settings
    key = (name, settings)
    with _INSTANCES_LOCK:
        if key not in _INSTANCES:
            _INSTANCES[key] = make_generator(name, settings)
        return _INSTANCES[key]


def generator_names() -> list[str]:
    """Every name `get_generator` knows, sorted."""
    return sorted(GENERATORS)


__all__ = [
    "GENERATORS",
    "GeneratorFactory",
    "GeneratorSettings",
    "generator_names",
    "get_generator",
    "make_generator",
]
