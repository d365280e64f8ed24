"""What the model should predict for a song: planning targets and the Faust mix script.

Planning targets come from the metadata (style, mode, key, bpm) and from the stems (which
roles the song has: a stem counts when it is audible, RMS above -50 dBFS). Unknown values are
marked (-1 / NaN / `roles_known=False`) so the losses can skip them.

The Faust target is the script that made the mix when one lies beside it (`<song>.dsp`,
validated for these stems and canonicalised), and otherwise a script fitted to the mix from
the stems (`producer.faust.fit.fit_script`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from producer.data.layout import SongEntry
from producer.data.meta import SongMeta
from producer.errors import ProducerError
from producer.faust.fit import fit_script
from producer.faust.validate import validate
from producer.plan import KEYS, MODES, ROLES, STYLES

__all__ = [
    "SILENCE_DBFS",
    "PlanningTargets",
    "audible_roles",
    "faust_target",
    "planning_targets",
]

#: A stem whose RMS is at or under this level (dBFS) counts as absent.
SILENCE_DBFS = -50.0


@dataclass
class PlanningTargets:
    """Planner labels of one song (indices into plan.ROLES / STYLES / MODES / KEYS)."""

    # (len(ROLES),) float32 multi-hot: 1 where the song has the role.
    roles: np.ndarray
    # Index in STYLES, -1 when unknown.
    style: int = -1
    # Index in MODES, -1 when unknown.
    mode: int = -1
    # Index in KEYS, -1 when unknown.
    key: int = -1
    # Tempo in BPM, NaN when unknown.
    bpm: float = math.nan
    # False when neither stems nor metadata say which roles the song has (`roles` is zeros).
    roles_known: bool = True


def _rms_dbfs(audio: np.ndarray) -> float:
    x = np.asarray(audio, dtype=np.float64)
    rms = math.sqrt(float(np.mean(x * x))) if x.size else 0.0
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


def audible_roles(stems: Mapping[str, np.ndarray]) -> list[str]:
    """Roles whose stem is louder than SILENCE_DBFS (RMS), in ROLES order."""
    return [r for r in ROLES if r in stems and _rms_dbfs(stems[r]) > SILENCE_DBFS]


def _index(values: tuple[str, ...], value: str | None) -> int:
    return values.index(value) if value in values else -1


def planning_targets(
    meta: SongMeta,
    stems: Mapping[str, np.ndarray] | None = None,
    sample_rate: int = 44100,
) -> PlanningTargets:
    """Targets from metadata and stems.

    Roles come from the stems when there are any (audible ones count), else from
    `meta.roles`, else they are unknown. `sample_rate` is accepted for a uniform signature;
    the silence test does not need it.
    """
    del sample_rate
    roles = np.zeros(len(ROLES), np.float32)
    known = True
    if stems:
        present = audible_roles(stems)
    elif meta.roles is not None:
        present = list(meta.roles)
    else:
        present, known = [], False
    for role in present:
        roles[ROLES.index(role)] = 1.0
    return PlanningTargets(
        roles=roles,
        style=_index(STYLES, meta.style),
        mode=_index(MODES, meta.mode),
        key=_index(KEYS, meta.key),
        bpm=float(meta.bpm) if meta.bpm is not None else math.nan,
        roles_known=known,
    )


def script_beside(entry: SongEntry, roles: list[str], sample_rate: int) -> str | None:
    """The song's own mix script, canonical, when it is valid for `roles`; else None (warned)."""
    if entry.script_path is None:
        return None
    try:
        text = entry.script_path.read_text(encoding="utf-8")
        return validate(text, n_stems=len(roles), roles=roles, sample_rate=sample_rate).code
    except (OSError, UnicodeDecodeError, ProducerError) as err:
        warnings.warn(
            f"{entry.script_path}: mix script not used ({err}); fitting one instead",
            stacklevel=2,
        )
        return None


def faust_target(
    entry: SongEntry,
    stems: Mapping[str, np.ndarray],
    mix: np.ndarray,
    sample_rate: int = 44100,
) -> str:
    """The Faust script the writer should produce for these stems and this mix.

    The validated `<song>.dsp` when there is one that routes exactly these stems; otherwise
    `fit_script(stems, mix, sample_rate)` (roles in the order of `stems`).

    Raises:
        ProducerError: when there are no stems (a script mixes stems; none can be fitted).
    """
    if not stems:
        raise ProducerError(f"{entry.dir}: no stems, so no mix script can be fitted")
    own = script_beside(entry, list(stems), sample_rate)
    if own is not None:
        return own
    return fit_script(stems, mix, sample_rate)
