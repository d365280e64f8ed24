"""Planner benchmark: how right the plans are on hand-written prompts, and how fast.

    uv run python benchmarks/planner.py --json benchmarks/planner.json

Accuracy per field (roles, style, mode, key, tempo, error, fully right; see
`producer.training.prompt_eval`) on two sets written apart from the training generator:
`eval_prompts.jsonl` (393 prompts; the rules were developed against it, so its figures are
optimistic), then `eval_prompts_holdout.jsonl` and `eval_prompts_holdout2.jsonl`, each written
afterwards by someone who saw neither the rules nor the earlier sets, measured once untouched
(those first figures are in benchmarks/RESULTS.md), then tuned on in turn. Side by side in the
same run: the planning head alone without the prompt rules, and random plans.

Speed: `plan_production` on every prompt of both sets, the model loaded and warmed up; p50 and
p95 in ms on the whole machine (2 cores here), the text encoder's prompt cache emptied
before every call, beside the head alone (text encoder + head, no
rules) so the rules' own cost shows. Target (issue 14): p50 <= 50 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from pathlib import Path

from machine import machine

from producer.models.unified import UnifiedProducerModel
from producer.training.prompt_eval import (
    EVAL_PROMPTS,
    baseline_planners,
    format_report,
    load_eval_prompts,
    score_planner,
)

HOLDOUT = EVAL_PROMPTS.with_name("eval_prompts_holdout.jsonl")
HOLDOUT2 = EVAL_PROMPTS.with_name("eval_prompts_holdout2.jsonl")


def _latency_ms(fn, prompts, rounds: int, encoder) -> list[float]:
    """Per-call times, each prompt new to the text encoder (its LRU cache emptied first)."""
    times = []
    for _ in range(rounds):
        for p in prompts:
            encoder.clear_cache()
            t = time.perf_counter()
            with contextlib.suppress(Exception):  # a refused request is timed like any other
                fn(p)
            times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="a model folder (default: the packaged)")
    ap.add_argument("--rounds", type=int, default=2, help="timing passes over the prompts")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()

    model = UnifiedProducerModel.from_pretrained(args.checkpoint)
    report: dict = {"machine": machine(), "sets": {}}
    for path in (EVAL_PROMPTS, HOLDOUT, HOLDOUT2):
        if not path.exists():
            continue
        items = load_eval_prompts(path)
        results = {"planner (rules + head)": score_planner(model.plan_production, items)}
        for name, planner in baseline_planners(model).items():
            results[name] = score_planner(planner, items)
        print(f"\n### {path.name}\n\n{format_report(results, items)}")
        report["sets"][path.name] = {k: v.summary() for k, v in results.items()}
        report["sets"][path.name]["failures"] = results["planner (rules + head)"].failures

    prompts = [
        i.prompt
        for p in (EVAL_PROMPTS, HOLDOUT, HOLDOUT2)
        if p.exists()
        for i in load_eval_prompts(p)
    ]
    head = baseline_planners(model)["head only (no rules)"]
    enc = model.text_encoder
    _latency_ms(model.plan_production, prompts[:20], 1, enc)  # warm-up
    timings = {
        "plan_production": _latency_ms(model.plan_production, prompts, args.rounds, enc),
        "head only": _latency_ms(head, prompts, args.rounds, enc),
    }
    print("\n| planning | p50 ms | p95 ms |\n|---|---|---|")
    for name, ms in timings.items():
        p50, p95 = statistics.median(ms), statistics.quantiles(ms, n=20)[-1]
        print(f"| {name} | {p50:.1f} | {p95:.1f} |")
        report[f"{name}_ms"] = {"p50": p50, "p95": p95, "n": len(ms)}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
