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


PROMPT_WORDS = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "dark", "trap", "beat", "at", "140", "bpm",
    "with", "heavy", "808s", "lofi", "chill", "drill", "boom", "bap", "g", "funk",
]  # fmt: skip


def tiny_bert(path, words: list[str] = PROMPT_WORDS, *, seed: int = 0):
    """Write a hub-style 2-layer, width-32 BERT checkpoint (config, safetensors, tokenizer) to
    `path` with `words` as its vocabulary, and return `path`."""
    from pathlib import Path

    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(words)})
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
