"""The `Generator` protocol: what every stem generator is.

A generator turns one `StemSpec` of a `ProductionPlan` into a `Stem`: stereo float32 at the
working rate, exactly `round(duration * sample_rate)` samples, deterministic for a seed.

Generators are found by name in `producer.generators.registry`: one table, written out in one
place, maps each name to a factory `(GeneratorSettings) -> Generator`. This module holds only
the protocol and its error, so that generator modules and the registry can both import it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from producer.errors import ProducerError
from producer.generators.events import Stem
from producer.plan import ProductionPlan, StemSpec


class UnknownGeneratorError(ProducerError):
    """A plan names a generator that is not in the registry."""


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
