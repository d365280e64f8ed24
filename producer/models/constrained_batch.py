"""Several grammar-constrained scripts at once: one batched forward pass per token.

The pipeline asks for N candidate mix scripts for the same stems and prompt. Decoding them one
after another costs N times the per-token overhead of a forward pass, which dominates for the
small default decoder on a CPU; batching the N rows shares it (measured in
`benchmarks/decode.py`). Every row has its own grammar matcher and its own seeded sampler, so each
script is a sentence of the grammar and a seed still fixes the output. Rows that finish early keep
feeding a dummy token (their results are already taken), so all rows stay the same length and the
batch needs no attention mask.
"""

from __future__ import annotations

import torch
import xgrammar as xgr
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from producer.models.constrained import (
    GrammarBudgetError,
    GrammarConstraint,
    _constraint_for,
    _forward_all,
    sample_token,
)
from producer.models.fast_mistral import MistralStepper

__all__ = ["constrained_generate_batch"]


@torch.no_grad()
def constrained_generate_batch(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    n: int,
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seeds: list[int] | None = None,
    prefix_embeds: torch.Tensor | None = None,
    constraint: GrammarConstraint | None = None,
) -> list[str]:
    """`n` scripts sampled under the grammar in one batch, after `<bos>` (and `prefix_embeds`,
    (1, P, hidden), shared by every row). Row k samples with `torch.Generator` seeded
    `seeds[k]` (default k).

    Raises `GrammarBudgetError` when a row is still unfinished after `max_new_tokens`.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    constraint = constraint or _constraint_for(model, tokenizer)
    seeds = list(range(n)) if seeds is None else list(seeds)
    device = next(model.parameters()).device
    embed = model.get_input_embeddings()
    bos = torch.full((n, 1), tokenizer.bos_token_id, dtype=torch.long, device=device)
    embeds = embed(bos)
    if prefix_embeds is not None:
        prefix = prefix_embeds.to(device, embed.weight.dtype).expand(n, -1, -1)
        embeds = torch.cat([prefix, embeds], dim=1)

    matchers = [constraint.matcher() for _ in range(n)]
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    bitmask = xgr.allocate_token_bitmask(n, constraint.vocab_size)
    eos = constraint.eos_token_id
    generated: list[list[int]] = [[] for _ in range(n)]
    done = [False] * n

    positions = embeds.shape[1] + max_new_tokens + 1
    if MistralStepper.supports(model, positions):
        # The default decoder: the lean forward (identical logits, a fraction of the overhead).
        stepper = MistralStepper(model, max_positions=positions)
        logits = stepper.prefill(embeds)
        advance = stepper.step
    else:
        logits, past = _forward_all(model, None, inputs_embeds=embeds)

        def advance(step: torch.Tensor) -> torch.Tensor:
            nonlocal past
            out, past = _forward_all(model, past, input_ids=step)
            return out

    for _ in range(max_new_tokens):
        live = [k for k in range(n) if not done[k]]
        for k in live:
            matchers[k].fill_next_token_bitmask(bitmask, k)
        rows = logits.float()
        xgr.apply_token_bitmask_inplace(
            rows, bitmask.to(rows.device), vocab_size=constraint.vocab_size, indices=live
        )
        step = torch.full((n, 1), eos, dtype=torch.long)
        for k in live:
            token = sample_token(rows[k], temperature, top_p, generators[k])
            if not matchers[k].accept_token(token):
                raise RuntimeError(f"grammar matcher refused masked token {token}")
            if token == eos or matchers[k].is_terminated():
                done[k] = True
            else:
                generated[k].append(token)
                step[k, 0] = token
        if all(done):
            break
        logits = advance(step.to(device))
    for k in range(n):
        if done[k]:
            continue
        # Out of budget: still complete if the grammar would take <eos> now.
        matchers[k].fill_next_token_bitmask(bitmask, k)
        if not (int(bitmask[k, eos // 32]) >> (eos % 32)) & 1:
            raise GrammarBudgetError(
                f"a mix script was still unfinished after {max_new_tokens} tokens; "
                "raise max_new_tokens or lower the temperature",
                partial=tokenizer.decode(generated[k], skip_special_tokens=True),
            )
    return [tokenizer.decode(g, skip_special_tokens=True) for g in generated]
