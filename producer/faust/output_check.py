"""The last gate of a render: is this audio something to hand to a user?

    check_output(audio, sr, target_lufs=-14.0, notes=mastering.notes) → OutputCheck

The validator bounds what a script can do statically (`budget.py`: gain, DC, memory), and the
engine refuses NaN/Inf and runaway peaks in every program's output (`engine.check_output`). This
check looks at the finished result, whatever made it, and refuses what is not music with one
line (`RenderError`: CLI exit code 2, HTTP 422):

- **non-finite samples** (NaN/Inf), from any stage (a master program, the mastering);
- **DC**: a channel whose constant offset carries more than `MAX_DC_SHARE` of its power (its
  mean over the whole render is more than half its RMS). 50 chained `+(1)` mastered to a
  0.88 offset with the music 37 LU under the target; a small `+(0.009)` over quiet stems is
  amplified by the mastering gain into the same. The measure is relative because DC matters
  next to the signal, and because real masters do have some: a short render of an asymmetric
  808 measures a mean of up to 0.05 (-26 dBFS) at -9 LUFS. Over 192 renders of generated stems
  (every style, 0.5-6 s, writer scripts, quiet and normal stems, four targets) the largest
  mean/RMS was 0.12, a power share of 1.4 %; the limit is 25 %, 4x that mean/RMS. Refused
  rather than removed: a DC blocker would change the audio that `mixing.solo` and the critic
  measure (the renderer's master and the solo render's master must stay identical), and a
  script that makes DC has a bug its author should see; the message says which fix to apply.
- **silence**: no 400 ms block reaches the -70 LUFS absolute gate of ITU-R BS.1770 (integrated
  loudness `-inf`). A script that mutes everything, or stems that are silence, would otherwise
  be written as a file that plays nothing, with exit code 0.

And it **says why** a master misses its loudness target by more than `TARGET_SLACK_LU`: the
mastering's own notes (gain capped for near-silent input, a saturated limiter for a very dynamic
or very dense mix) are kept, or a generic note is added. A miss is never refused: a deliberately
dynamic master that cannot reach -9 LUFS under a -1 dBTP ceiling is a valid master.

Pure functions over arrays. The cost is a few passes over the audio (~4 ms for 30 s of
stereo) plus a loudness measurement, which `render` takes from the mastering instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from producer.audio.loudness import integrated_loudness, sample_peak_db
from producer.errors import RenderError

__all__ = ["MAX_DC_SHARE", "TARGET_SLACK_LU", "OutputCheck", "check_output"]

#: Largest share of a channel's power its DC offset may carry (mean² / mean of squares).
MAX_DC_SHARE = 0.25
#: A master further than this from its loudness target gets a note saying why (LU). Mastering
#: stops within 0.05 LU and notes anything over 0.2 LU; this is the user-facing tolerance.
TARGET_SLACK_LU = 0.5

_CHANNEL_NAMES = ("left", "right")


@dataclass(frozen=True)
class OutputCheck:
    """What the check measured on audio it let through, and what the user should be told."""

    # Integrated loudness in LUFS (BS.1770-4, gated); finite, since silence is refused.
    lufs: float
    # Largest absolute sample in dBFS (the true peak is the mastering's business).
    peak_db: float
    # Largest share of a channel's power in its DC offset, 0..1 (at most MAX_DC_SHARE).
    dc_share: float
    # Plain-language notes, e.g. why the loudness target was missed; empty when all is well.
    notes: tuple[str, ...] = field(default_factory=tuple)


def check_output(
    audio: np.ndarray,
    sample_rate: float,
    target_lufs: float | None = None,
    notes: Sequence[str] = (),
    *,
    lufs: float | None = None,
) -> OutputCheck:
    """Check a rendered (C, T) result; raise `RenderError` with one line if it is unusable.

    `target_lufs` is the loudness the master was made for (None for a raw, unmastered mix: no
    loudness is expected of it). `notes` are the mastering's notes; they are kept in the result,
    and they count as the reason when the target is missed. `lufs` is the audio's integrated
    loudness when the caller has measured it already (the mastering has: it is most of this
    check's cost); None measures it here.
    """
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.size == 0:
        raise RenderError(f"the render produced no audio (shape {x.shape})")
    _check_finite(x, sample_rate)
    dc_share = _check_dc(x)
    if lufs is None:
        lufs = integrated_loudness(x, sample_rate)
    if not math.isfinite(lufs):
        raise RenderError(
            "the render is silent or too quiet to master: nothing in it reaches the -70 LUFS "
            f"gate of BS.1770 (peak {_db_text(sample_peak_db(x))}); check the script's gains "
            "and mutes, and the stems' levels"
        )
    kept = tuple(notes)
    if target_lufs is not None and abs(lufs - target_lufs) > TARGET_SLACK_LU and not kept:
        kept = (
            f"missed the loudness target: {lufs:.1f} LUFS for {target_lufs:.1f} LUFS "
            "(the peak ceiling leaves no more room)",
        )
    return OutputCheck(lufs=float(lufs), peak_db=sample_peak_db(x), dc_share=dc_share, notes=kept)


def _check_finite(x: np.ndarray, sample_rate: float) -> None:
    # max and min propagate NaN and keep ±Inf: two passes and no temporary array when clean.
    if math.isfinite(float(np.max(x))) and math.isfinite(float(np.min(x))):
        return
    bad = ~np.isfinite(x)
    channel, index = np.unravel_index(int(np.argmax(bad)), x.shape)
    raise RenderError(
        f"the render contains {int(np.count_nonzero(bad))} NaN or infinite samples (first on "
        f"channel {channel} at {index / sample_rate:.3f} s): the mix is numerically broken"
    )


def _check_dc(x: np.ndarray) -> float:
    """The largest DC share of power over the channels; raises past `MAX_DC_SHARE`."""
    n = x.shape[1]
    mean = np.sum(x, axis=1, dtype=np.float64) / n
    power = np.einsum("ct,ct->c", x, x, dtype=np.float64) / n
    shares = np.divide(mean * mean, power, out=np.zeros_like(power), where=power > 0)
    worst = int(np.argmax(shares))
    share = float(min(shares[worst], 1.0))  # rounding can put it a hair over 1
    if share > MAX_DC_SHARE:
        name = _CHANNEL_NAMES[worst] if x.shape[0] == 2 else f"channel {worst}"
        raise RenderError(
            f"the render is mostly DC: a constant offset of {mean[worst]:+.3g} on the {name} "
            f"channel carries {share:.0%} of its power (limit {MAX_DC_SHARE:.0%}); the script "
            "adds a constant somewhere (e.g. +(1)): remove it or follow it with fi.dcblocker"
        )
    return share


def _db_text(db: float) -> str:
    return "digital silence" if not math.isfinite(db) else f"{db:.1f} dBFS"
