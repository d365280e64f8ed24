"""LoRA adapters on the Faust decoder with `peft`, for the big-decoder configs.

`peft` is not a runtime dependency (the default decoder is small enough to train whole); it is in
the dev group, so `uv sync` installs it, and elsewhere `uv add peft` does.

Only the adapters train: `add_lora` freezes the decoder's own weights, so `trainable_parameters`
(which follows `requires_grad`) hands DeepSpeed the adapters and the project's heads.
`merge_lora` folds the adapters back into the decoder, so the exported model is a plain one that
loads without peft.
"""

from __future__ import annotations

from producer.errors import ProducerError


def _peft():
    try:
        import peft
    except ImportError:
        raise ProducerError(
            "train.lora.enabled needs the `peft` package, which is not installed: "
            "`uv add peft` (or set train.lora.enabled=false)"
        ) from None
    return peft


def add_lora(model, lora) -> None:
    """Wrap `model.decoder` with LoRA adapters (a `ray_jobs.config.LoraConfig`), in place."""
    peft = _peft()
    config = peft.LoraConfig(**lora.to_peft_kwargs())
    try:
        model.decoder = peft.get_peft_model(model.decoder, config)
    except ValueError as err:  # e.g. target modules the decoder does not have
        raise ProducerError(f"train.lora: {err}") from None


def merge_lora(model) -> None:
    """Fold the adapters into the decoder's weights and drop the peft wrapper, in place."""
    _peft()
    model.decoder = model.decoder.merge_and_unload()
