"""The `Generator` protocol and the registry of generators by name.

A generator turns one `StemSpec` of a `ProductionPlan` into a `Stem`: stereo float32 at the
working rate, exactly `round(duration * sample_rate)` samples, deterministic for a seed.
Generators register themselves with `@register("name")`; `get_generator(name)` finds them and
fails with the list of known names otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from producer.errors import ProducerError
from producer.generators.events import Stem
from producer.plan import ProductionPlan, StemSpec


class UnknownGeneratorError(ProducerError):
    """A plan names a generator that is not registered."""


@runtime_checkable
class Generator(Protocol):
    """Makes one stem of a plan."""

    name: str

    def generate(
        self,
        spec: StemSpec,
        plan: ProductionPlan,
        duration: float,
        seed: int,
        sample_rate: int = 44100,
    ) -> Stem: ...


_REGISTRY: dict[str, Callable[[], Generator]] = {}
_INSTANCES: dict[str, Generator] = {}


def register(name: str) -> Callable[[Callable[[], Generator]], Callable[[], Generator]]:
    """Class decorator / factory registration: `@register("808") class Bass808: ...`."""

    def decorate(factory: Callable[[], Generator]) -> Callable[[], Generator]:
        if name in _REGISTRY:
            raise ValueError(f"generator '{name}' is registered twice")
        _REGISTRY[name] = factory
        return factory

    return decorate


def get_generator(name: str) -> Generator:
    """The generator registered under `name` (instances are created once and reused)."""
    _load_builtins()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownGeneratorError(f"unknown generator '{name}' (known: {known})")
    if name not in _INSTANCES:
        _INSTANCES[name] = _REGISTRY[name]()
    return _INSTANCES[name]


def generator_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def _load_builtins() -> None:
    # Importing the modules runs their @register decorators; deferred to avoid import cycles
    # and to keep `import producer.generators.base` light.
    import producer.generators.builtin  # noqa: F401
