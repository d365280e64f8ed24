"""The planner measured on prompts written apart from the training generator.

    from producer.training.prompt_eval import load_eval_prompts, score_planner
    report = score_planner(model.plan_production, load_eval_prompts())

`producer/data/eval_prompts.jsonl` holds hand-written requests (other sentence shapes, slang,
typos, scenes, rambling, restrictions, contradictions) with what a producer expects of each:
style, mode, key, tempo (a stated bpm, or a range inside the style's), the roles needed and the
roles refused, and whether the request is an error (nothing to make, or self-contradictory). A
test keeps them apart from the training phrasings (`tests/training/test_prompt_eval.py`).

Scoring, per field, over the prompts that say something about it:

- roles: every needed role is in the plan (a stem, or `needs_input` for vocals) and no refused
  one is;
- style, mode, key: equal to the label;
- tempo: within 0.5 of a stated bpm, else inside the labelled range;
- error: an error line must raise `PlanError`, any other must not;
- fully right: every labelled field of the prompt right.

Baselines in the same run (`baseline_planners`): the planning head alone, without the prompt
rules, and uniformly random plans.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from producer.errors import ProducerError
from producer.plan import KEYS, MODES, ROLES, STYLE_BPM, STYLES, ProductionPlan, StemSpec

__all__ = [
    "EVAL_PROMPTS",
    "EvalPrompt",
    "FieldScores",
    "baseline_planners",
    "format_report",
    "load_eval_prompts",
    "score_planner",
]

#: The evaluation set shipped with the package.
EVAL_PROMPTS = Path(__file__).resolve().parents[1] / "data" / "eval_prompts.jsonl"

FIELDS = ("roles", "style", "mode", "key", "tempo", "error")


@dataclass(frozen=True)
class EvalPrompt:
    """One hand-written request and what a producer expects of it."""

    id: str
    prompt: str
    style: str | None
    mode: str | None
    key: str | None
    bpm: float | None
    tempo: tuple[float, float] | None
    roles_needed: frozenset[str]
    roles_refused: frozenset[str]
    error: bool
    tags: tuple[str, ...] = ()


def load_eval_prompts(path: str | Path = EVAL_PROMPTS) -> list[EvalPrompt]:
    """The evaluation prompts of a JSONL file (one object per line)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        try:
            out.append(
                EvalPrompt(
                    id=d["id"],
                    prompt=d["prompt"],
                    style=d["style"],
                    mode=d["mode"],
                    key=d["key"],
                    bpm=d["bpm"],
                    tempo=tuple(d["tempo"]) if d["tempo"] else None,
                    roles_needed=frozenset(d["roles_needed"]),
                    roles_refused=frozenset(d["roles_refused"]),
                    error=bool(d["error"]),
                    tags=tuple(d.get("tags", ())),
                )
            )
        except KeyError as err:
            raise ValueError(f"{path}:{n}: missing key {err}") from None
    return out


@dataclass
class FieldScores:
    """Right / scored counts per field, and the prompts that went wrong."""

    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    fully_right: int = 0
    prompts: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (id, field, detail)

    def accuracy(self, name: str) -> float:
        return self.right[name] / self.total[name] if self.total[name] else float("nan")

    def summary(self) -> dict[str, float]:
        out = {f: self.accuracy(f) for f in FIELDS}
        out["fully_right"] = self.fully_right / self.prompts if self.prompts else float("nan")
        return out


def _check(item: EvalPrompt, plan: ProductionPlan | None) -> dict[str, tuple[bool, str]]:
    """Each labelled field of `item`: (right, what the plan said)."""
    if plan is None:  # the planner refused the request
        return {"error": (item.error, "refused")}
    checks: dict[str, tuple[bool, str]] = {"error": (not item.error, "planned")}
    if item.error:
        return checks
    made = set(plan.roles) | set(plan.needs_input)
    roles_ok = item.roles_needed <= made and not (item.roles_refused & made)
    checks["roles"] = (roles_ok, ",".join(sorted(made)))
    for name in ("style", "mode", "key"):
        want = getattr(item, name)
        if want is not None:
            got = getattr(plan, name)
            checks[name] = (got == want, str(got))
    if item.bpm is not None:
        checks["tempo"] = (abs(plan.bpm - item.bpm) <= 0.5, f"{plan.bpm:g}")
    elif item.tempo is not None:
        lo, hi = item.tempo
        checks["tempo"] = (lo <= plan.bpm <= hi, f"{plan.bpm:g}")
    return checks


def score_planner(
    plan: Callable[[str], ProductionPlan], items: Iterable[EvalPrompt]
) -> FieldScores:
    """Score a planner (prompt → plan, `ProducerError` for a refused request) on `items`."""
    scores = FieldScores()
    for item in items:
        try:
            result = plan(item.prompt)
        except ProducerError:
            result = None
        checks = _check(item, result)
        scores.prompts += 1
        ok_all = True
        for name, (ok, got) in checks.items():
            scores.total[name] += 1
            scores.right[name] += ok
            if not ok:
                ok_all = False
                scores.failures.append((item.id, name, got))
        scores.fully_right += ok_all
    return scores


def baseline_planners(model, seed: int = 0) -> dict[str, Callable[[str], ProductionPlan]]:
    """Planners to compare with: the planning head without the prompt rules, and random."""
    import torch

    # deferred: torch (the planner baselines run the model; scoring plans does not)
    from producer.models.planning import GENERATED_ROLES
    from producer.modules.heads import TEMPO_CENTER, TEMPO_SCALE

    rng = np.random.default_rng(seed)

    @torch.no_grad()
    def head_only(prompt: str) -> ProductionPlan:
        out = model.planning_head(model.fuse_prompt(model.encode_text([prompt]), None, None))
        roles = torch.sigmoid(out["roles"][0]).cpu().numpy()
        style = STYLES[int(out["style"][0].argmax())]
        bpm = float(out["tempo"][0].reshape(-1)[0]) * TEMPO_SCALE + TEMPO_CENTER
        stems = [StemSpec(role=r) for r in GENERATED_ROLES if roles[ROLES.index(r)] >= 0.5]
        return ProductionPlan(
            prompt=prompt,
            style=style,
            bpm=float(np.clip(round(bpm), 50, 220)),
            key=KEYS[int(out["key"][0].argmax())],
            mode=MODES[int(out["mode"][0].argmax())],
            stems=stems or [StemSpec(role="drums")],
        )

    def random_plan(prompt: str) -> ProductionPlan:
        style = STYLES[int(rng.integers(len(STYLES)))]
        lo, hi = STYLE_BPM[style]
        roles = [r for r in GENERATED_ROLES if rng.random() < 0.75] or ["drums"]
        return ProductionPlan(
            prompt=prompt,
            style=style,
            bpm=float(rng.integers(lo, hi + 1)),
            key=KEYS[int(rng.integers(len(KEYS)))],
            mode=MODES[int(rng.integers(2))],
            stems=[StemSpec(role=r) for r in roles],
        )

    return {"head only (no rules)": head_only, "random": random_plan}


def format_report(results: dict[str, FieldScores], items: Sequence[EvalPrompt]) -> str:
    """A Markdown table: one row per planner, one column per field."""
    head = "| planner | roles | style | mode | key | tempo | error | fully right |"
    lines = [head, "|---|" + "---|" * 7]
    for name, s in results.items():
        cells = [f"{s.accuracy(f):.1%} ({s.right[f]}/{s.total[f]})" for f in FIELDS]
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {s.fully_right / s.prompts:.1%} "
            f"({s.fully_right}/{s.prompts}) |"
        )
    return "\n".join(lines) + f"\n\n{len(items)} prompts.\n"
