"""A lean incremental forward pass for Mistral decoders: the same weights, less overhead.

Decoding a mix script is ~250 steps of one token each. For the default 0.8M-parameter decoder the
arithmetic is tiny and Hugging Face's generic forward (cache objects, mask builders, output
capturing and deprecation wrappers around every layer) is most of the time. `MistralStepper` runs
the same computation (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU) straight from
the model's own parameter tensors with a plain list of key/value tensors, and gives the same
logits as the Hugging Face forward (tested; measured figures in `benchmarks/RESULTS.md`).
`MistralStepper.supports(model, positions)` says whether a model qualifies (a
`MistralForCausalLM` with default rotary embeddings and no sliding window shorter than the
sequence); callers fall back to the Hugging Face forward for anything else (any other hub LM).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MistralStepper"]


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    dtype = x.dtype
    x = x.float()
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x.to(dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class MistralStepper:
    """Prefill and one-token steps of a `MistralForCausalLM` with a simple KV cache.

    stepper = MistralStepper(model)
    logits = stepper.prefill(inputs_embeds)    # (B, vocab) at the last position
    logits = stepper.step(token_ids)           # (B,) ids → (B, vocab)
    """

    def __init__(self, model: nn.Module, max_positions: int = 4096):
        if not self.supports(model, max_positions):
            raise ValueError(
                "MistralStepper needs a MistralForCausalLM with default rotary embeddings and "
                f"no sliding window shorter than {max_positions} positions"
            )
        cfg = model.config
        self.model = model
        self.layers = model.model.layers
        self.norm = model.model.norm
        self.lm_head = model.lm_head
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        attn = self.layers[0].self_attn
        self.head_dim = attn.head_dim
        self.scaling = attn.scaling
        self.eps = self.norm.variance_epsilon
        rotary = model.model.rotary_emb
        device = next(model.parameters()).device
        positions = torch.arange(max_positions, device=device, dtype=torch.float)
        freqs = positions[:, None] * rotary.inv_freq.to(device=device, dtype=torch.float)
        emb = torch.cat((freqs, freqs), dim=-1)
        dtype = next(model.parameters()).dtype
        self._cos = (emb.cos() * rotary.attention_scaling).to(dtype)
        self._sin = (emb.sin() * rotary.attention_scaling).to(dtype)
        self.cache: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.length = 0

    @staticmethod
    def supports(model: nn.Module, max_positions: int = 4096) -> bool:
        """Whether `model` is a Mistral causal LM this stepper computes exactly for sequences
        of up to `max_positions` (a sliding window at least that long never slides)."""
        if type(model).__name__ != "MistralForCausalLM":
            return False
        cfg = model.config
        rope = getattr(cfg, "rope_scaling", None) or {}
        rope_type = rope.get("rope_type", rope.get("type", "default")) if rope else "default"
        params = getattr(cfg, "rope_parameters", None) or {}
        rope_type = params.get("rope_type", rope_type) if isinstance(params, dict) else rope_type
        window = getattr(cfg, "sliding_window", None)
        return (window is None or window >= max_positions) and rope_type == "default"

    def _layer(self, i: int, h: torch.Tensor, start: int) -> torch.Tensor:
        layer = self.layers[i]
        attn = layer.self_attn
        b, t, _ = h.shape
        x = _rms_norm(h, layer.input_layernorm.weight, self.eps)
        q = attn.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = attn.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = attn.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        cos = self._cos[start : start + t]
        sin = self._sin[start : start + t]
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        if i < len(self.cache):
            pk, pv = self.cache[i]
            k, v = torch.cat([pk, k], dim=2), torch.cat([pv, v], dim=2)
            self.cache[i] = (k, v)
        else:
            self.cache.append((k, v))
        groups = self.heads // self.kv_heads
        kk = k.repeat_interleave(groups, dim=1) if groups > 1 else k
        vv = v.repeat_interleave(groups, dim=1) if groups > 1 else v
        out = F.scaled_dot_product_attention(q, kk, vv, is_causal=t > 1, scale=self.scaling)
        h = h + attn.o_proj(out.transpose(1, 2).reshape(b, t, -1))
        x = _rms_norm(h, layer.post_attention_layernorm.weight, self.eps)
        mlp = layer.mlp
        return h + mlp.down_proj(F.silu(mlp.gate_proj(x)) * mlp.up_proj(x))

    def _run(self, h: torch.Tensor) -> torch.Tensor:
        start = self.length
        if start + h.shape[1] > self._cos.shape[0]:
            raise ValueError(f"sequence longer than {self._cos.shape[0]} positions")
        if start > 0 and h.shape[1] > 1:
            raise ValueError("after the prefill, step one token at a time")
        for i in range(len(self.layers)):
            h = self._layer(i, h, start)
        self.length = start + h.shape[1]
        return self.lm_head(_rms_norm(h[:, -1], self.norm.weight, self.eps))

    @torch.no_grad()
    def prefill(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        """Run the whole prompt (B, T, hidden); returns the last position's logits (B, vocab)."""
        self.cache, self.length = [], 0
        return self._run(inputs_embeds)

    @torch.no_grad()
    def step(self, ids: torch.Tensor) -> torch.Tensor:
        """Feed one token per row, (B,) or (B, 1) ids; returns (B, vocab) logits."""
        ids = ids.reshape(-1, 1)
        return self._run(self.model.get_input_embeddings()(ids))
