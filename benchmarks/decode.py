"""Decoding benchmark: Faust-writer tokens/s with and without the grammar constraint.

    uv run python benchmarks/decode.py --rounds 7 --json benchmarks/decode.json

Both arms run the same loop on the same model, prefix and KV cache, token for token: the
constrained arm (`constrained_generate`, the product's path) fills xgrammar's token bitmask,
masks the logits and advances the matcher each step; the unconstrained arm samples from the raw
logits for exactly as many tokens as the constrained script had. Rows alternate so drift hits both
alike; medians over `--rounds`. Target (issue 4): the constraint costs at most 20%.

The model is the packaged default when it is built, else a fresh model of the default preset
(same shapes, so the same speed). The grammar is the writer grammar for four stems, compiled once
before timing (as the model does, cached per role set).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from machine import machine

from producer.models.constrained import _forward, constrained_generate, sample_token
from producer.modules.features import AUDIO_FEATURE_DIM

ROLES = ("drums", "bass", "harmony", "melody")


def load():
    from producer.models.config import preset
    from producer.models.unified import UnifiedProducerModel

    try:
        return UnifiedProducerModel.from_pretrained(), "default (trained)"
    except Exception:
        torch.manual_seed(0)
        return UnifiedProducerModel.from_config(preset("default")), "default preset (random)"


@torch.no_grad()
def unconstrained(model, prefix, n_tokens: int, seed: int) -> int:
    """The constrained loop minus the grammar: n_tokens samples with the KV cache."""
    dec, tok = model.decoder, model.tokenizer
    gen = torch.Generator().manual_seed(seed)
    ids = torch.tensor([[tok.bos_token_id]])
    embeds = torch.cat([prefix, dec.get_input_embeddings()(ids)], dim=1)
    logits, past = _forward(dec, None, inputs_embeds=embeds)
    for _ in range(n_tokens):
        token = sample_token(logits.float(), 0.9, 0.95, gen)
        logits, past = _forward(dec, past, input_ids=torch.tensor([[token]]))
    return n_tokens


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: one core)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    model, which = load()
    model.eval()
    fused = model.fuse_prompt(model.encode_text(["dark trap beat with heavy 808s"]), None, None)

    feat = torch.zeros(1, 6, AUDIO_FEATURE_DIM)
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0.0, 0.0]])
    prefix = model.prefix_embeds(fused, model.encode_stems(feat), mask)
    constraint = model._constraint(ROLES)

    rows = {"constrained": [], "unconstrained": []}
    tokens_per_round = []
    for r in range(args.rounds + 1):  # round 0 warms up and is dropped
        t0 = time.perf_counter()
        text = constrained_generate(
            model.decoder,
            model.tokenizer,
            [model.tokenizer.bos_token_id],
            max_new_tokens=model.config.max_script_tokens,
            temperature=0.9,
            top_p=0.95,
            seed=r,
            prefix_embeds=prefix,
            constraint=constraint,
        )
        t1 = time.perf_counter()
        n = len(model.tokenizer.encode(text, add_special_tokens=False)) + 1  # + <eos>
        unconstrained(model, prefix, n, r)
        t2 = time.perf_counter()
        if r:
            rows["constrained"].append(n / (t1 - t0))
            rows["unconstrained"].append(n / (t2 - t1))
            tokens_per_round.append(n)
    med = {k: statistics.median(v) for k, v in rows.items()}
    result = {
        "model": which,
        "decoder_params": sum(p.numel() for p in model.decoder.parameters()),
        "tokens_per_script_median": statistics.median(tokens_per_round),
        "tokens_per_s_constrained": med["constrained"],
        "tokens_per_s_unconstrained": med["unconstrained"],
        "constraint_cost": 1 - med["constrained"] / med["unconstrained"],
        "machine": machine(threads=args.threads),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
