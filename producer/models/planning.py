"""From the planning head's outputs and the prompt's explicit words to a `ProductionPlan`.

Pure functions: no model in here. What a person writes always wins over what the model predicts:
a tempo ("140 bpm"), a key ("F minor", "Eb"), a style named or implied ("ATL", "golden era"),
the stems named, refused or restricted to ("heavy 808s", "no drums", "just keys and drums") are
honoured exactly. When an input song is given, its measured tempo and key come next; then what
the prompt implies (a mood's mode, a tempo word's place in the style's range); the learned
prediction fills in whatever is left, its tempo kept inside the style's range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from producer.errors import PlanError
from producer.models.prompt_style import TEMPO_POSITIONS
from producer.modules.heads import TEMPO_CENTER, TEMPO_SCALE  # noqa: F401 - re-exported
from producer.plan import (
    KEYS,
    MODES,
    ROLES,
    STYLE_BPM,
    STYLES,
    PlanReason,
    ProductionPlan,
    StemSpec,
)

#: Roles the built-in generators can make; the planner chooses among these.
GENERATED_ROLES = ("drums", "bass", "melody", "harmony")

#: Mood words recognised in prompts and copied into the plan (for people and generators).
MOODS = (
    "aggressive", "angry", "bouncy", "bright", "chill", "cinematic", "dark", "dreamy", "eerie",
    "energetic", "epic", "gritty", "happy", "hard", "hype", "jazzy", "melancholic", "mellow",
    "menacing", "moody", "nostalgic", "ominous", "relaxed", "sad", "smooth", "soulful",
    "triumphant", "uplifting", "warm",
)  # fmt: skip
_MOOD_RE = re.compile(r"\b(" + "|".join(MOODS) + r")\b", re.IGNORECASE)


def moods_in(prompt: str) -> list[str]:
    """Mood words of the prompt, lower case, in order, without repeats."""
    return list(dict.fromkeys(m.lower() for m in _MOOD_RE.findall(prompt)))


@dataclass(frozen=True)
class PlanningPrediction:
    """The planning head's outputs for one prompt, as probabilities and a tempo."""

    roles: np.ndarray  # (len(ROLES),) probability that each role is in the production
    style: np.ndarray  # (len(STYLES),) probabilities
    mode: np.ndarray  # (len(MODES),)
    key: np.ndarray  # (len(KEYS),)
    bpm: float


@dataclass(frozen=True)
class InputAnalysis:
    """What was measured on an input song (any field may be unknown)."""

    bpm: float | None = None
    key: str | None = None
    mode: str | None = None
    role: str | None = None  # the role the input is kept as (e.g. "vocals")


def _reason(field: str, value, source: str, rule: str = "", words=(), confidence=None):
    return PlanReason(
        field=field,
        value=str(value),
        source=source,
        rule=rule,
        words=list(words),
        confidence=None if confidence is None else round(float(confidence), 3),
    )


def _from_prompt(hints, field: str, value: str, rule_prefix: str = "") -> PlanReason:
    """The reason for a field a prompt rule decided, with the words of its evidence."""
    found = [e for e in hints.evidence if e.field == field and (e.value == value or not value)]
    rule = found[0].rule if found else rule_prefix
    words = [w for e in found for w in e.words]
    return _reason(field, value, "prompt", rule, dict.fromkeys(words))


def _tempo(hints, analysis, prediction, style: str) -> tuple[float, PlanReason]:
    """Stated tempo, then the input's, then a tempo word or the model inside the style's range."""
    if hints.bpm is not None:
        return float(hints.bpm), _from_prompt(hints, "bpm", f"{hints.bpm:g}")
    if analysis.bpm is not None:
        return float(analysis.bpm), _reason("bpm", f"{analysis.bpm:g}", "input", "measured")
    lo, hi = STYLE_BPM[style]
    if hints.tempo_word is not None:
        bpm = float(round(lo + TEMPO_POSITIONS[hints.tempo_word] * (hi - lo)))
        reason = _from_prompt(hints, "bpm", hints.tempo_word)
        reason.value, reason.rule = f"{bpm:g}", f"tempo word, in {style}'s {lo}-{hi} bpm"
        return bpm, reason
    bpm = float(np.clip(round(prediction.bpm), lo, hi))
    rule = "" if lo <= prediction.bpm <= hi else f"clamped to {style}'s {lo}-{hi} bpm"
    return bpm, _reason("bpm", f"{bpm:g}", "model", rule)


def _choice(field: str, names, probs, hints_value, hints, analysis_value=None, mood=None):
    """A categorical field: the prompt's words, then the input song, then the model."""
    if hints_value is not None:
        return hints_value, _from_prompt(hints, field, hints_value)
    if analysis_value is not None:
        return analysis_value, _reason(field, analysis_value, "input", "measured")
    if mood is not None:
        return mood, _from_prompt(hints, field, mood)
    i = int(np.argmax(probs))
    return names[i], _reason(field, names[i], "model", confidence=probs[i])


def _instrument_spec(role: str, instrument: str | None) -> StemSpec:
    """A generated stem, on the instrument the prompt named ("808s" → the 808 generator)."""
    if instrument is None:
        return StemSpec(role=role)
    if role == "bass":
        return StemSpec(role=role, generator=instrument)
    if role in ("harmony", "melody", "other"):
        return StemSpec(role=role, params={"instrument": instrument})
    return StemSpec(role=role)


def _check_conflicts(hints) -> None:
    if not hints.conflicts:
        return
    roles = " and ".join(hints.conflicts)
    words = [
        w
        for e in hints.evidence
        if e.field == "roles" and e.value.split()[-1] in hints.conflicts
        for w in e.words
    ]
    raise PlanError(
        f"the prompt both asks for and refuses the {roles} "
        f"({', '.join(repr(w) for w in dict.fromkeys(words))}): say which you want"
    )


def decide_plan(
    prompt: str,
    prediction: PlanningPrediction,
    hints,
    *,
    duration: float = 20.0,
    analysis: InputAnalysis | None = None,
    target_lufs: float = -14.0,
) -> ProductionPlan:
    """The plan for a prompt: explicit words, then the input song, then the model.

    `hints` is a `prompt_rules.PromptHints`. Stems the prompt names are made, stems it refuses
    are not, and a restriction ("just drums and bass") gives exactly those; the planning head
    decides the roles the words leave open (at least one is made when nothing else is). A
    request that contradicts itself or leaves nothing to make raises `PlanError`. Every field
    gets a `PlanReason` in `plan.reasons`.
    """
    analysis = analysis or InputAnalysis()
    _check_conflicts(hints)
    reasons: list[PlanReason] = []
    style, why = _choice("style", STYLES, prediction.style, hints.style, hints)
    reasons.append(why)
    bpm, why = _tempo(hints, analysis, prediction, style)
    reasons.append(why)
    key, why = _choice("key", KEYS, prediction.key, hints.key, hints, analysis.key)
    reasons.append(why)
    mode, why = _choice(
        "mode", MODES, prediction.mode, hints.mode, hints, analysis.mode, hints.mood_mode
    )
    reasons.append(why)

    kept = analysis.role if analysis.role and analysis.role not in hints.excluded else None
    prob = {r: float(prediction.roles[ROLES.index(r)]) for r in ROLES}
    role_reasons: dict[str, PlanReason] = {}
    for role in ROLES:
        if role in hints.excluded:
            role_reasons[role] = _from_prompt(hints, "roles", f"exclude {role}")
        elif role in hints.included:
            rule_value = f"only {role}" if hints.only else f"include {role}"
            found = [e for e in hints.evidence if e.value == rule_value] or [
                e for e in hints.evidence if e.value.endswith(f" {role}")
            ]
            role_reasons[role] = _reason(
                role, "make", "prompt", found[0].rule if found else "named stem",
                dict.fromkeys(w for e in found for w in e.words),
            )  # fmt: skip
    if hints.only:
        wanted = [r for r in ROLES if r in hints.included]
        for role in ROLES:
            if role not in hints.included and role not in hints.excluded:
                role_reasons[role] = _from_prompt(hints, "roles", f"only {wanted[0]}")
    else:
        chosen = [r for r in GENERATED_ROLES if prob[r] >= 0.5 and r not in hints.excluded]
        wanted = [r for r in ROLES if r in hints.included or r in chosen]
        for role in GENERATED_ROLES:
            if role not in role_reasons:
                role_reasons[role] = _reason(role, "model", "model", confidence=prob[role])
        if not wanted and kept is None:
            left = [r for r in GENERATED_ROLES if r not in hints.excluded]
            if left:
                wanted = [max(left, key=prob.__getitem__)]
    needs_input = [r for r in wanted if r == "vocals" and kept != "vocals"]
    generated = [r for r in wanted if r != "vocals" and r != kept]
    stems = [_instrument_spec(r, hints.instruments.get(r)) for r in generated]
    if kept is not None:
        stems.append(StemSpec(role=kept, source="input"))
        role_reasons[kept] = _reason(kept, "keep", "input", "the input song")
    if not stems:
        if needs_input:
            raise PlanError(
                "the prompt asks only for vocals, and no generator sings: give a vocal take "
                "(--input FILE --input-role vocals), or ask for a beat under it"
            )
        raise PlanError(
            "the prompt refuses every stem the producer can make "
            f"({', '.join(GENERATED_ROLES)}): leave at least one in"
        )
    made = {s.role for s in stems}
    for role in ROLES:
        why = role_reasons.get(role)
        if why is None:
            continue
        if why.source == "model":
            why.value = "make" if role in made else "leave out"
        elif role in needs_input:
            why.value = "needs an input"
        elif why.value not in ("make", "keep"):
            why.value = "leave out"
        why.field = role
        reasons.append(why)
    return ProductionPlan(
        prompt=prompt,
        style=style,
        mood=moods_in(prompt),
        bpm=bpm,
        key=key,
        mode=mode,
        duration=duration,
        target_lufs=target_lufs,
        stems=stems,
        needs_input=needs_input,
        reasons=reasons,
    )
