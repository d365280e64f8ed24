"""Tiny randomly initialised models shared by the tests (built in milliseconds)."""

from __future__ import annotations


def tiny_mistral(tokenizer, *, seed: int = 0, max_positions: int = 4096):
    """A 2-layer, width-32 Mistral causal LM sized to `tokenizer`, in eval mode."""
    import torch
    from transformers import MistralConfig, MistralForCausalLM

    torch.manual_seed(seed)
    cfg = MistralConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return MistralForCausalLM(cfg).eval()
