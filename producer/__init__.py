"""producer: an AI hip-hop music producer built on Ray.

    from producer import Producer, UnifiedProducerModel, UnifiedProducerTrainer

The classes are imported on first use, so `import producer` stays fast (no torch).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Producer", "UnifiedProducerModel", "UnifiedProducerTrainer"]


def __getattr__(name: str) -> Any:
    if name == "Producer":
        from producer.pipeline import Producer  # deferred: numpy, the audio stack

        return Producer
    if name == "UnifiedProducerModel":
        from producer.models.unified import UnifiedProducerModel  # deferred: torch

        return UnifiedProducerModel
    if name == "UnifiedProducerTrainer":
        from producer.training.trainer import UnifiedProducerTrainer  # deferred: torch

        return UnifiedProducerTrainer
    raise AttributeError(f"module 'producer' has no attribute {name!r}")
