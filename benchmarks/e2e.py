"""End-to-end benchmark: wall time per pipeline stage for a beat made from a prompt.

    uv run python benchmarks/e2e.py --duration 30 --rounds 5 --json benchmarks/e2e.json

The model is loaded once (its load time is reported on its own); each round then runs
`Producer.produce` for a `--duration`-second beat with `--candidates` candidate scripts, with a
different seed per round, and records every stage's time. Reported: the median per stage, the
median total, and the real-time factor (seconds of music per second of wall time; target for
issue 5: at least 5× for a 30 s beat).

Side by side in the same run, the pipeline without the mixing teacher (`Producer(mix_teacher=
False)`, the same model and seed, alternating with the full pipeline): what the teacher's extra
candidate costs. And the candidate-writing stage's peer: the same candidates decoded
one after another (`constrained_generate` per seed, the path before batching) against the
batched decoder the pipeline uses (`constrained_generate_batch`); rows alternate so drift hits
both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from machine import machine

from producer.pipeline import DEFAULT_PROMPT, Producer


def sequential_write(model, stems, prompt: str, candidates: int, seed: int) -> list[str]:
    """The candidates decoded one at a time (the peer of the batched stage)."""
    from producer.models.constrained import constrained_generate
    from producer.models.unified import _stem_feature_tensor, _stem_roles

    roles = _stem_roles(stems)
    fused = model.fuse_prompt(model.encode_text([prompt]), None, None)
    feat, mask = _stem_feature_tensor(stems, model.config.sample_rate, model.device)
    prefix = model.prefix_embeds(fused, model.encode_stems(feat), mask)
    return [
        constrained_generate(
            model.decoder,
            model.tokenizer,
            [model.tokenizer.bos_token_id],
            max_new_tokens=model.config.max_script_tokens,
            temperature=0.7,
            top_p=0.95,
            seed=seed + k,
            prefix_embeds=prefix,
            constraint=model._constraint(roles),
        )
        for k in range(candidates)
    ]


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--prompt", default=DEFAULT_PROMPT)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    t = time.perf_counter()
    producer = Producer()
    load_s = time.perf_counter() - t

    plain = Producer(model=producer.model, mix_teacher=False)
    stages: dict[str, list[float]] = {}
    totals, plain_totals, batched, sequential = [], [], [], []
    for r in range(args.rounds + 1):  # round 0 warms caches (grammar, Faust programs), dropped
        result = producer.produce(
            args.prompt, duration=args.duration, seed=r, candidates=args.candidates
        )
        without = plain.produce(
            args.prompt, duration=args.duration, seed=r, candidates=args.candidates
        )
        t0 = time.perf_counter()
        sequential_write(producer.model, result.stems, args.prompt, args.candidates, r)
        t1 = time.perf_counter()
        producer.write(result.stems, args.prompt, args.candidates, r)
        t2 = time.perf_counter()
        if r == 0:
            continue
        for stage, seconds in result.timings.items():
            stages.setdefault(stage, []).append(seconds)
        totals.append(result.timings["total"])
        plain_totals.append(without.timings["total"])
        sequential.append(t1 - t0)
        batched.append(t2 - t1)

    med = {stage: statistics.median(v) for stage, v in stages.items()}
    total = statistics.median(totals)
    report = {
        "command": "uv run python benchmarks/e2e.py "
        f"--duration {args.duration:g} --candidates {args.candidates} --rounds {args.rounds}",
        "model_load_s": round(load_s, 2),
        "duration_s": args.duration,
        "candidates": args.candidates,
        "stage_median_s": {k: round(v, 3) for k, v in med.items()},
        "total_median_s": round(total, 3),
        "realtime_factor": round(args.duration / total, 2),
        "without_teacher_total_median_s": round(statistics.median(plain_totals), 3),
        "without_teacher_realtime_factor": round(
            args.duration / statistics.median(plain_totals), 2
        ),
        "kept_source_last_round": next(c.source for c in result.candidates if c.chosen),
        "write_batched_median_s": round(statistics.median(batched), 3),
        "write_sequential_median_s": round(statistics.median(sequential), 3),
        "write_speedup": round(statistics.median(sequential) / statistics.median(batched), 2),
        "machine": machine(threads=args.threads),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
