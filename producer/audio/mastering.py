"""Mastering: bring a mix to a target integrated loudness under a true-peak ceiling.

``master(audio, sr)`` applies a makeup gain and a smooth, stereo-linked, look-ahead peak
limiter, and iterates the gain until the limited result measures the target loudness
(BS.1770-4, ±0.05 LU by default) with its true peak (4x oversampled) at or under the ceiling.

The limiter is vectorised numpy rather than a per-sample loop, and runs at a control rate: the
signal is cut into blocks of about a quarter of half the look-ahead (16 samples at 44.1 kHz),
and each block needs the gain reduction (in dB) that brings its largest oversampled,
channel-linked peak down to the ceiling. That reduction goes through three steps, each of
which can only increase it, so the result is always at least what every block needs:

1. hold — a running maximum over ±(look-ahead/2 + hold + one block): each peak's reduction is
   held over a window that covers the smoothing in step 3, the oversampling filter's reach and
   the interpolation in step 4;
2. release — ``g[k] = max_j held[j] * exp(-(k - j) / tau)``: exponential decay, computed in one
   pass as a cumulative maximum in the log domain;
3. attack smoothing — a moving average over ±look-ahead/2, which turns every upward step into a
   linear ramp that starts a look-ahead before the peak;
4. the linear gain is interpolated linearly between block centres back to every sample; each
   sample lies between two blocks that both hold at least its reduction, so it keeps it.

So the gain never steps: it falls along straight lines over the look-ahead (the steepest slope
is the reduction divided by the look-ahead in samples) and recovers exponentially over the
release time, which keeps the limiter free of clicks and of audible pumping. From the first
sample the gain moves to the peak is about 4 ms at the default settings.

Silent input (integrated loudness ``-inf``: nothing above the -70 LUFS gate) is returned
unchanged with a note: any gain would only amplify noise or dither towards infinity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from producer.audio.io import AudioLimits, check_audio_array
from producer.audio.loudness import (
    integrated_loudness,
    oversampled_peak_envelope,
    true_peak_dbtp,
)

__all__ = [
    "REFERENCE_LUFS",
    "MasteringConfig",
    "MasteringResult",
    "limiter_gain",
    "master",
    "reference_mix",
]

#: Loudness of the reference mix (`reference_mix`): a streaming master's.
REFERENCE_LUFS = -14.0

_TARGET_SLACK_LU = 0.2  # a result further than this from the target gets a note
_HEAVY_LIMITING_DB = 12.0  # more gain reduction than this is audible: say so in a note
_SATURATED_SLOPE = 0.1  # LU of loudness per dB of gain under which the limiter is saturated
_MAX_STEP_DB = 12.0  # largest change of the makeup gain between two rounds
_RELEASE_SEGMENT = 1 << 16  # samples per float32 cumulative-max segment of the release

# Mastering takes whatever length the caller built; length limits belong to input files.
_ANY_LENGTH = AudioLimits(max_seconds=math.inf)


@dataclass(frozen=True)
class MasteringConfig:
    """Limiter and loudness-iteration settings for :func:`master`."""

    # Total look-ahead in ms: the gain starts ramping down this long before a peak.
    lookahead_ms: float = 3.0
    # Extra hold in ms on each side of a peak; covers the ±10-sample reach of the 4x
    # oversampling filter so the interpolated peak sees the fully reduced gain.
    hold_ms: float = 0.25
    # Release time constant in ms of the exponential recovery of the gain reduction (in dB).
    release_ms: float = 80.0
    # Oversampling factor of the true-peak detector (BS.1770-4 asks for 4x at 48 kHz).
    oversample: int = 4
    # Aim this many dB under the ceiling, so meters with other interpolators also read under.
    ceiling_margin_db: float = 0.1
    # Stop iterating once the measured loudness is within this many LU of the target.
    tolerance_lu: float = 0.05
    # Most gain/limit/measure rounds; each is one limiter pass plus one loudness measurement.
    max_iterations: int = 8
    # Most makeup gain in dB; needing more means the input is near-silence (noise, dither).
    max_gain_db: float = 48.0


@dataclass
class MasteringResult:
    """The mastered audio and what was done to it.

    Invariant: ``audio == input * 10 ** (gain_db / 20) * gain_curve`` (input folded to stereo).
    """

    # Mastered audio, (2, T) float32.
    audio: np.ndarray
    # Makeup gain in dB applied before the limiter (including any final safety trim).
    gain_db: float
    # Deepest gain reduction of the limiter in dB (0.0 when it never acted).
    max_gain_reduction_db: float
    # Integrated loudness of `audio` in LUFS, measured after mastering (-inf for silence).
    lufs: float
    # True peak of `audio` in dBTP, measured after mastering (-inf for silence).
    dbtp: float
    # Limiter gain per sample, linear, (T,) float32, at most 1.0; stereo-linked.
    gain_curve: np.ndarray
    # Gain/limit/measure rounds that were run.
    iterations: int = 0
    # Plain-language notes: silence, capped gain, safety trim, missed target.
    notes: list[str] = field(default_factory=list)


def limiter_gain(
    audio: np.ndarray,
    sample_rate: float,
    ceiling: float,
    config: MasteringConfig | None = None,
    envelope: np.ndarray | None = None,
) -> np.ndarray:
    """Smooth limiter gain ``(T,)`` float32 that keeps the oversampled peak at or under ``ceiling``.

    ``ceiling`` is linear (1.0 = 0 dBFS). ``envelope`` may pass a precomputed
    :func:`~producer.audio.loudness.oversampled_peak_envelope` of ``audio``. The algorithm is in
    the module docstring.
    """
    config = config or MasteringConfig()
    if envelope is None:
        envelope = oversampled_peak_envelope(audio, config.oversample, floor=ceiling)
    return _Limiter(envelope, sample_rate, config).gain(ceiling)


class _Limiter:
    """The limiter for one peak envelope; :meth:`gain` can then be asked for any ceiling.

    The envelope scales with the makeup gain, so :func:`master` builds this once and asks for
    ``ceiling / gain`` in each round, sparing the per-sample work of the block peaks.
    """

    def __init__(self, envelope: np.ndarray, sample_rate: float, config: MasteringConfig):
        self.n = envelope.shape[0]
        half_attack = max(1, round(config.lookahead_ms * 1e-3 * sample_rate / 2))
        self.step = max(1, half_attack // 4)  # control-rate block, in samples
        self.attack_blocks = max(1, round(half_attack / self.step))
        # +1 block: the interpolation back to samples (step 4) reaches into the next block.
        self.hold_blocks = math.ceil(config.hold_ms * 1e-3 * sample_rate / self.step) + 1
        self.tau_blocks = config.release_ms * 1e-3 * sample_rate / self.step
        n_blocks = -(-self.n // self.step)
        padded = np.zeros(n_blocks * self.step, np.float32)
        padded[: self.n] = envelope
        columns = padded.reshape(n_blocks, self.step)
        self.block_peak = columns[:, 0].copy()
        for j in range(1, self.step):  # column by column: faster than max(axis=1)
            np.maximum(self.block_peak, columns[:, j], out=self.block_peak)

    def gain(self, ceiling: float) -> np.ndarray:
        over = self.block_peak > ceiling
        if not over.any():
            return np.ones(self.n, np.float32)
        need_db = np.zeros(self.block_peak.shape[0], np.float32)
        need_db[over] = 20.0 * np.log10(self.block_peak[over] / np.float32(ceiling))

        import scipy.ndimage  # here, not at the top: it adds about a second to `import producer`

        held = scipy.ndimage.maximum_filter1d(
            need_db,
            size=2 * (self.attack_blocks + self.hold_blocks) + 1,
            mode="constant",
            cval=0.0,
        )
        released = _exponential_release(held, self.tau_blocks)
        # A running sum in C (float64 accumulator): mean over +-attack_blocks, edges extended.
        smoothed = scipy.ndimage.uniform_filter1d(
            released, size=2 * self.attack_blocks + 1, mode="nearest"
        )
        block_gain = np.exp(smoothed * np.float32(-math.log(10.0) / 20.0))
        return _interpolate_blocks(block_gain, self.step)[: self.n]


def _interpolate_blocks(values: np.ndarray, step: int) -> np.ndarray:
    """Linear interpolation between block centres, one value per sample (edges held flat).

    Samples left of their block's centre lie between the centres of blocks ``b - 1`` and
    ``b``, the others between ``b`` and ``b + 1``; the weights depend only on the position in
    the block, so each half is one broadcast over all blocks.
    """
    centre = (step - 1) / 2.0
    offsets = np.arange(step, dtype=np.float32)
    extended = np.concatenate([values[:1], values, values[-1:]])
    start, delta = extended[:-1], np.diff(extended)  # segment k runs from centre k-1 to k
    n_left = int(np.ceil(centre))  # offsets left of the centre
    left = start[:-1, None] + delta[:-1, None] * ((offsets[:n_left] + step - centre) / step)
    right = start[1:, None] + delta[1:, None] * ((offsets[n_left:] - centre) / step)
    return np.concatenate([left, right], axis=1).reshape(-1)


def _exponential_release(held_db: np.ndarray, tau_samples: float) -> np.ndarray:
    """``out[n] = max_{j<=n} held[j] * exp(-(n - j) / tau)``, without a per-sample loop.

    In logs: ``log out[n] = max_{j<=n} (log held[j] + j / tau) - n / tau``, a cumulative max.
    It runs in float32 over segments, restarting the ramp ``j / tau`` at each segment (the
    previous segment's last value carries over), so the ramp stays small and float32 exact
    enough; a final maximum with ``held`` undoes any rounding below it.
    """
    held = held_db.astype(np.float32, copy=False)
    out = np.zeros_like(held)
    first = int(np.argmax(held > 0))  # nothing to release before the first reduction
    if held[first] <= 0:
        return out
    carry = np.float32(0.0)  # out[lo - 1]
    for lo in range(first, held.shape[0], _RELEASE_SEGMENT):
        seg = held[lo : lo + _RELEASE_SEGMENT]
        ramp = np.arange(1, seg.shape[0] + 1, dtype=np.float32) / np.float32(tau_samples)
        with np.errstate(divide="ignore"):
            log_out = np.log(seg)
        log_out += ramp
        np.maximum.accumulate(log_out, out=log_out)
        if carry > 0:  # the carry sits at ramp 0, one sample before the segment
            np.maximum(log_out, np.log(carry), out=log_out)
        log_out -= ramp
        np.exp(log_out, out=out[lo : lo + seg.shape[0]])
        carry = out[lo + seg.shape[0] - 1]
    return np.maximum(out, held, out=out)


def master(
    audio: np.ndarray,
    sample_rate: float,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    config: MasteringConfig | None = None,
) -> MasteringResult:
    """Master ``audio`` to ``target_lufs`` with its true peak at or under ``ceiling_dbtp``.

    ``audio`` is anything :func:`~producer.audio.io.check_audio_array` accepts (it is folded to
    stereo). The makeup gain is found by a secant iteration on the measured loudness of the
    limited signal; a final true-peak check trims the gain if the measurement is still over.
    Silent input comes back unchanged, with a note.

    Raises:
        AudioInputError: when the audio is unusable (NaN/Inf, empty, bad shape).
    """
    config = config or MasteringConfig()
    x = check_audio_array(audio, sample_rate, name="audio to master", limits=_ANY_LENGTH)
    n = x.shape[1]
    start_lufs = integrated_loudness(x, sample_rate)
    if not math.isfinite(start_lufs):
        return MasteringResult(
            audio=x.copy(),
            gain_db=0.0,
            max_gain_reduction_db=0.0,
            lufs=start_lufs,
            dbtp=true_peak_dbtp(x, sample_rate, config.oversample),
            gain_curve=np.ones(n, np.float32),
            notes=["silent input (nothing above the -70 LUFS gate): left unchanged"],
        )

    notes: list[str] = []
    aim = 10.0 ** ((ceiling_dbtp - config.ceiling_margin_db) / 20.0)
    # The envelope scales with the gain, so it is computed once, for the unscaled input.
    limiter = _Limiter(oversampled_peak_envelope(x, config.oversample), sample_rate, config)

    def limited(gain_db: float) -> tuple[float, np.ndarray, np.ndarray, float]:
        scale = 10.0 ** (gain_db / 20.0)
        curve = limiter.gain(aim / scale)
        out = x * (curve * np.float32(scale))  # one pass over the stereo signal
        return gain_db, curve, out, integrated_loudness(out, sample_rate)

    rounds = [limited(min(target_lufs - start_lufs, config.max_gain_db))]
    saturated = False
    while len(rounds) < config.max_iterations:
        error = target_lufs - rounds[-1][3]
        if abs(error) <= config.tolerance_lu:
            break
        next_gain = _next_gain([(r[0], r[3]) for r in rounds], error, config.max_gain_db)
        if next_gain is None:
            # The last push bought almost no loudness for a lot of gain reduction: go back
            # to the round before it, which sounds better for nearly the same level.
            saturated = True
            rounds.append(rounds[-2])
            break
        if next_gain == rounds[-1][0]:  # capped and still short: no point going round again
            break
        rounds.append(limited(next_gain))
    gain_db, curve, out, lufs = rounds[-1]
    iteration = len(rounds) - 1 if saturated else len(rounds)  # limiter passes run

    dbtp = true_peak_dbtp(out, sample_rate, config.oversample)
    if dbtp > ceiling_dbtp - config.ceiling_margin_db / 2:
        # The gain curve moves between samples, so the interpolated peak of the product can
        # sit a hair above the envelope it was computed from; trim the whole thing.
        trim_db = ceiling_dbtp - config.ceiling_margin_db - dbtp
        out *= np.float32(10.0 ** (trim_db / 20.0))
        gain_db += trim_db
        lufs = integrated_loudness(out, sample_rate)
        dbtp = true_peak_dbtp(out, sample_rate, config.oversample)
        notes.append(f"true peak trimmed by {trim_db:.2f} dB after limiting")

    if target_lufs - start_lufs > config.max_gain_db:
        notes.append(
            f"input at {start_lufs:.1f} LUFS needed more than +{config.max_gain_db:g} dB; "
            f"gain capped, result at {lufs:.1f} LUFS"
        )
    elif abs(lufs - target_lufs) > _TARGET_SLACK_LU:
        why = "; the limiter saturates: more gain no longer makes it louder" if saturated else ""
        notes.append(f"missed the target: {lufs:.2f} LUFS for {target_lufs:.2f} LUFS{why}")
    max_reduction = max(0.0, float(-20.0 * np.log10(curve.min())))
    if max_reduction > _HEAVY_LIMITING_DB:
        notes.append(f"heavy limiting: up to {max_reduction:.1f} dB of gain reduction")
    return MasteringResult(
        audio=np.ascontiguousarray(out, dtype=np.float32),
        gain_db=float(gain_db),
        max_gain_reduction_db=max_reduction,
        lufs=float(lufs),
        dbtp=float(dbtp),
        gain_curve=curve,
        iterations=iteration,
        notes=notes,
    )


def _next_gain(
    history: list[tuple[float, float]], error: float, max_gain_db: float
) -> float | None:
    """Secant step on loudness(gain), or None when more gain no longer buys loudness.

    The slope is 1 LU/dB until limiting bends it; once it falls under
    ``_SATURATED_SLOPE`` the limiter is flattening everything it is given and the target
    cannot be reached under the ceiling, so pushing on only adds gain reduction.
    """
    slope = 1.0
    if len(history) >= 2:
        (g0, l0), (g1, l1) = history[-2], history[-1]
        if g1 != g0:
            slope = min((l1 - l0) / (g1 - g0), 1.0)
        if error > 0 and slope < _SATURATED_SLOPE:
            return None
    step = max(-_MAX_STEP_DB, min(error / max(slope, _SATURATED_SLOPE), _MAX_STEP_DB))
    return min(history[-1][0] + step, max_gain_db)


def reference_mix(stems: Mapping[str, np.ndarray], sample_rate: int) -> np.ndarray | None:
    """The stems summed at unit gain and mastered to REFERENCE_LUFS: what they sound like unmixed.

    The quality head compares a mix with it (mud and a stem shouting stand out against it).
    Stems are trimmed or zero-padded to the longest; None when there are no stems.
    """
    arrays = [np.asarray(s, dtype=np.float32) for s in stems.values()]
    if not arrays:
        return None
    length = max(a.shape[1] for a in arrays)
    total = np.zeros((2, length), np.float32)
    for a in arrays:
        total[:, : a.shape[1]] += a
    return master(total, sample_rate, target_lufs=REFERENCE_LUFS).audio
