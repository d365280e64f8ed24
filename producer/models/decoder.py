"""The Faust decoder: a causal LM plus the learned prefix that conditions it.

By default the decoder is a small Mistral-architecture model built from `DecoderConfig` with the
mix-language tokenizer (`faust_tokenizer.py`); any `AutoModelForCausalLM` on disk (a hub id in the
local cache or a directory) can replace it and then brings its own tokenizer.

Conditioning is a *prefix*: the prompt's joint representation becomes `prefix_length` input
embeddings and each of the six stem slots (one per role, in `ROLES` order) one more, built from
the stem's features plus a role embedding (or a learned "absent" vector when the production has
no such stem). The prefix always has the same length, so batches need no prefix padding.

    prefix (P + 6 vectors) │ <bos> import("stdfaust.lib"); … process = …;  <eos>
                           └── loss only on the script tokens ──────────────┘
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from producer.hub import quiet_progress, resolve_pretrained
from producer.models.config import DEFAULT, DecoderConfig
from producer.plan import ROLES


def build_default_decoder(cfg: DecoderConfig):
    """A randomly initialised Mistral decoder and the mix-language tokenizer."""
    from transformers import MistralConfig, MistralForCausalLM

    from producer.models.faust_tokenizer import build_faust_tokenizer  # deferred: transformers

    tokenizer = build_faust_tokenizer()
    config = MistralConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        head_dim=cfg.hidden_size // cfg.num_heads,
        max_position_embeddings=cfg.max_positions,
        sliding_window=cfg.sliding_window,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        # Input and output embeddings share weights: a 150-token vocabulary gains nothing from
        # two copies and the checkpoint stays small.
        tie_word_embeddings=True,
        attn_implementation="sdpa",
    )
    return MistralForCausalLM(config), tokenizer


def load_decoder(name_or_path: str, cfg: DecoderConfig):
    """(model, tokenizer) for a decoder name: `default` builds one, anything else loads it.

    Raises `ModelNotFoundError` when the name is neither a local directory nor cached.
    """
    if name_or_path == DEFAULT:
        return build_default_decoder(cfg)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_pretrained(name_or_path, "Faust decoder")
    with quiet_progress():
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    prepare_tokenizer(tokenizer)
    return model, tokenizer


def prepare_tokenizer(tokenizer) -> None:
    """Hub tokenizers often lack a pad token (Mistral's does); batches pad with eos then."""
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.bos_token_id is None:
        raise ValueError("the decoder's tokenizer has no bos token to start a script with")


class FaustPrefix(nn.Module):
    """Maps the prompt representation and the stem features to the decoder's prefix embeddings."""

    def __init__(self, fusion_dim: int, stem_dim: int, hidden_size: int, prefix_length: int):
        super().__init__()
        self.prefix_length = prefix_length
        self.hidden_size = hidden_size
        self.from_prompt = nn.Sequential(
            nn.Linear(fusion_dim, hidden_size * prefix_length),
        )
        self.from_stem = nn.Sequential(
            nn.Linear(stem_dim + fusion_dim, hidden_size),
            nn.GELU(),
            nn.Linear(hidden_size, hidden_size),
        )
        self.role = nn.Parameter(torch.randn(len(ROLES), hidden_size) * 0.02)
        self.absent = nn.Parameter(torch.randn(len(ROLES), hidden_size) * 0.02)
        self.norm = nn.LayerNorm(hidden_size)

    @property
    def length(self) -> int:
        return self.prefix_length + len(ROLES)

    def forward(
        self, fused: torch.Tensor, stems: torch.Tensor, stem_mask: torch.Tensor
    ) -> torch.Tensor:
        """fused (B, fusion), stems (B, 6, stem_dim), stem_mask (B, 6) → (B, P + 6, hidden)."""
        b = fused.shape[0]
        head = self.from_prompt(fused).view(b, self.prefix_length, self.hidden_size)
        joint = torch.cat([stems, fused.unsqueeze(1).expand(-1, stems.shape[1], -1)], dim=-1)
        present = self.from_stem(joint) + self.role
        mask = stem_mask.unsqueeze(-1).to(present.dtype)
        slots = mask * present + (1 - mask) * self.absent
        return self.norm(torch.cat([head, slots], dim=1))


def encode_scripts(
    tokenizer, scripts: Sequence[str], device=None, max_tokens: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """`<bos> script <eos>` token ids, right-padded, and their mask; (B, L) each.

    An empty script gives just `<bos> <eos>`, masked out entirely (nothing to learn from).
    """
    seqs = []
    for text in scripts:
        ids = tokenizer.encode(text, add_special_tokens=False) if text else []
        if max_tokens is not None:
            ids = ids[: max_tokens - 2]
        seqs.append([tokenizer.bos_token_id, *ids, tokenizer.eos_token_id])
    length = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), length), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), length), dtype=torch.long)
    for k, (s, text) in enumerate(zip(seqs, scripts, strict=True)):
        ids[k, : len(s)] = torch.tensor(s)
        mask[k, : len(s)] = 1 if text else 0
    return ids.to(device), mask.to(device)
