"""From the planning head's outputs and the prompt's explicit words to a `ProductionPlan`.

Pure functions: no model in here. What a person writes explicitly always wins over what the model
predicts: a tempo ("140 bpm"), a key ("F minor", "Eb"), a style keyword and excluded roles ("no
drums", "without 808") are honoured exactly. When an input song is given, its measured tempo and
key come next, and the learned prediction fills in whatever is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from producer.errors import ProducerError
from producer.modules.heads import TEMPO_CENTER, TEMPO_SCALE  # noqa: F401 - re-exported
from producer.plan import KEYS, MAX_BPM, MIN_BPM, MODES, STYLES, ProductionPlan, StemSpec

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

    `hints` is a `prompt_rules.PromptHints`. At least one role is always generated: when the
    prompt excludes everything the model would choose, the most likely remaining role is kept.
    """
    from producer.plan import ROLES

    analysis = analysis or InputAnalysis()
    style = hints.style or STYLES[int(np.argmax(prediction.style))]
    mode = hints.mode or analysis.mode or MODES[int(np.argmax(prediction.mode))]
    key = hints.key or analysis.key or KEYS[int(np.argmax(prediction.key))]
    if hints.bpm is not None:
        bpm = float(hints.bpm)
    elif analysis.bpm is not None:
        bpm = float(analysis.bpm)
    else:
        bpm = float(np.clip(round(prediction.bpm), MIN_BPM, MAX_BPM))

    kept = analysis.role if analysis.role and analysis.role not in hints.excluded else None
    candidates = [r for r in GENERATED_ROLES if r not in hints.excluded and r != kept]
    prob = {r: float(prediction.roles[ROLES.index(r)]) for r in candidates}
    chosen = [r for r in candidates if prob[r] >= 0.5]
    if not chosen and candidates and kept is None:
        chosen = [max(candidates, key=prob.__getitem__)]
    stems = [StemSpec(role=r) for r in chosen]
    if kept is not None:
        stems.append(StemSpec(role=kept, source="input"))
    if not stems:
        raise ProducerError(
            "the prompt excludes every role the producer can make "
            f"({', '.join(GENERATED_ROLES)}): leave at least one in"
        )
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
    )
