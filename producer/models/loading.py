"""Load a trained model from what a user points at: a model folder, a training checkpoint
folder (its `model/` inside), or nothing (the packaged default model).

    from producer.models.loading import load_model
    model = load_model("runs/a", device="cpu")     # runs/a/model/ when it is a checkpoint folder
    model = load_model(None)                       # producer/models/weights/default
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["load_model"]


def load_model(checkpoint: str | os.PathLike | None, device: str = "cpu"):
    """The model of `checkpoint` (a save_pretrained folder or a trainer checkpoint folder), or
    the packaged default model; a `UnifiedProducerModel`."""
    # deferred: torch and transformers, not needed to import the package
    from producer.models.unified import UnifiedProducerModel

    if checkpoint is not None and (Path(checkpoint) / "model" / "config.json").is_file():
        checkpoint = str(Path(checkpoint) / "model")
    return UnifiedProducerModel.from_pretrained(checkpoint, device=device)
