"""The teacher's two searches over a `strips.Mix`: the meter pass and the critic pass's moves.

    meter_pass(model, mix, roles, sr, order)   coordinate descent on `surrogate.MixModel`
    critic_moves(mix, verdict, roles, ...)     the neighbouring mixes, what the critic asks first
    model_view(model, mix)                     a mix in the model's terms

`teacher.py` runs them (its module docstring describes the search).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from producer.faust.writer import (
    EQ_GAIN,
    GAIN,
    HIGH_SHELF_FREQ,
    HIGHPASS_FREQ,
    LOW_SHELF_FREQ,
    LOWPASS_FREQ,
    PAN,
    PEAK_FREQ,
    THRESHOLD,
)
from producer.mixing.critic import MixVerdict
from producer.mixing.response import butterworth_power, peak_power, shelf_power
from producer.mixing.strips import Mix, Strip, eq_allowed, master_options, pans_for, template_for
from producer.mixing.surrogate import MixModel

__all__ = ["critic_moves", "meter_pass", "model_view"]

_MAX_CYCLES = 8  # meter-pass sweeps over every argument (it settles in 2-4)

# --- the meter pass ----------------------------------------------------------------------------


_RESPONSES: dict[tuple, np.ndarray] = {}  # (sample rate, EQ) → |H|² at the model's bins
_RESPONSES_MAX = 8192


def _response(model: MixModel, strip: Strip) -> np.ndarray:
    """|H|² of the strip's linear EQ at the model's bins (which depend only on the rate)."""
    key = (model.sample_rate, strip.eq_key())
    cached = _RESPONSES.get(key)
    if cached is not None:
        return cached
    f, sr = model.freqs, model.sample_rate
    h = np.ones_like(f)
    if strip.highpass:
        h = h * butterworth_power(f, int(strip.highpass[0]), strip.highpass[1], sr, highpass=True)
    if strip.lowpass:
        h = h * butterworth_power(f, int(strip.lowpass[0]), strip.lowpass[1], sr, highpass=False)
    if strip.low_shelf[0]:
        h = h * shelf_power(f, *strip.low_shelf, sr, high=False)
    if strip.peak[0]:
        h = h * peak_power(f, *strip.peak, sr)
    if strip.high_shelf[0]:
        h = h * shelf_power(f, *strip.high_shelf, sr, high=True)
    if len(_RESPONSES) >= _RESPONSES_MAX:
        _RESPONSES.clear()
    _RESPONSES[key] = h
    return h


def _eq_cost(strip: Strip) -> float:
    """The price of the strip's EQ in the meter pass: each band used costs a little, more the
    further it moves (an engineer reaches for EQ only to fix something)."""
    cost = 0.0
    for gain in (strip.low_shelf[0], strip.peak[0], strip.high_shelf[0]):
        if gain:
            cost += 0.04 + 0.12 * (gain / 6.0) ** 2
    if strip.lowpass:
        cost += 0.03
    return cost


def model_view(model: MixModel, mix: Mix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(power (S, B), pans (S,), kept (S,)) of a mix in the model's terms."""
    power, kept = [], []
    for k, strip in enumerate(mix.strips):
        h = _response(model, strip)
        power.append(strip.gain**2 * h * model.power[k])
        kept.append(model.kept(k, h))
    pans = np.array([s.pan for s in mix.strips])
    return np.stack(power), pans, np.asarray(kept, dtype=np.float64)


def meter_pass(
    model: MixModel,
    mix: Mix,
    roles: Sequence[str],
    sr: int,
    order: Sequence[int],
    *,
    faders_only: bool = False,
) -> Mix:
    """Coordinate descent on the model: each step tries every grid value of one argument."""
    power, pans, kept = model_view(model, mix)
    extra = np.array([_eq_cost(s) for s in mix.strips])
    strips = list(mix.strips)
    for _ in range(_MAX_CYCLES):
        changed = False
        for k in order:
            if not model.audible[k]:
                continue
            for candidates in _coordinates(strips[k], roles[k], sr, faders_only):
                if len(candidates) < 2:
                    continue
                hs = np.stack([_response(model, c) for c in candidates])  # (C, B)
                gains = np.array([c.gain for c in candidates])
                cand_power = np.repeat(power[None], len(candidates), axis=0)
                cand_power[:, k] = (gains**2)[:, None] * hs * model.power[k]
                cand_pans = np.repeat(pans[None], len(candidates), axis=0)
                cand_pans[:, k] = [c.pan for c in candidates]
                cand_kept = np.repeat(kept[None], len(candidates), axis=0)
                cand_kept[:, k] = model.kept(k, hs)
                own = np.array([_eq_cost(c) for c in candidates])
                costs = model.cost(cand_power, cand_pans, cand_kept, extra.sum() - extra[k] + own)
                j = int(np.argmin(costs))
                if j and costs[j] < costs[0] - 1e-9:
                    strips[k] = candidates[j]
                    power[k], pans[k], kept[k] = cand_power[j, k], cand_pans[j, k], cand_kept[j, k]
                    extra[k] = own[j]
                    changed = True
        if not changed:
            break
    return replace(mix, strips=tuple(strips))


def _coordinates(strip: Strip, role: str, sr: int, faders_only: bool) -> list[list[Strip]]:
    """For each argument the meter pass moves, the strip with every value of it (the current
    strip first), within the teacher's EQ limits."""
    return [
        [strip] + [c for c in candidates[1:] if eq_allowed(role, c)]
        for candidates in _all_coordinates(strip, role, sr, faders_only)
    ]


def _all_coordinates(strip: Strip, role: str, sr: int, faders_only: bool) -> list[list[Strip]]:
    t = template_for(role)
    out = [[strip] + [replace(strip, gain=g) for g in GAIN.allowed(sr) if g != strip.gain]]
    if faders_only:
        return out
    if t.pannable:
        out.append([strip] + [replace(strip, pan=p) for p in pans_for(t, sr) if p != strip.pan])
    order = strip.highpass[0] if strip.highpass else 2.0
    lo, hi = t.highpass_range
    hps = [(order, f) for f in HIGHPASS_FREQ.allowed(sr) if lo <= f <= hi]
    out.append([strip] + [replace(strip, highpass=h) for h in hps if h != strip.highpass])
    if strip.lowpass:
        lps: list[tuple[float, float] | None] = [None]
        lps += [(strip.lowpass[0], f) for f in LOWPASS_FREQ.allowed(sr)]
        out.append([strip] + [replace(strip, lowpass=v) for v in lps if v != strip.lowpass])
    gains = EQ_GAIN.allowed(sr)
    for name, grid in (
        ("low_shelf", LOW_SHELF_FREQ),
        ("peak", PEAK_FREQ),
        ("high_shelf", HIGH_SHELF_FREQ),
    ):
        value = getattr(strip, name)
        out.append(
            [strip] + [replace(strip, **{name: (g, *value[1:])}) for g in gains if g != value[0]]
        )
        if value[0]:
            out.append(
                [strip]
                + [
                    replace(strip, **{name: (value[0], f, *value[2:])})
                    for f in grid.allowed(sr)
                    if f != value[1]
                ]
            )
    return out


# --- the critic pass ---------------------------------------------------------------------------


def _step(grid_values: Sequence[float], value: float, direction: int) -> float | None:
    values = list(grid_values)
    if value not in values:
        return None
    j = values.index(value) + direction
    return values[j] if 0 <= j < len(values) else None


def critic_moves(
    mix: Mix,
    verdict: MixVerdict,
    roles: Sequence[str],
    sr: int,
    order: Sequence[int],
    last: tuple | None,
    compressors: Mapping[str, tuple | None],
) -> list[tuple[tuple, str, Mix]]:
    """Every neighbouring mix, as (key, label, mix), ordered by what the failed checks ask for:
    the last successful move first, then moves by the severity of the checks that ask for them,
    then the rest in a fixed order."""
    moves: list[tuple[tuple, str, Mix]] = []
    for k in order:
        strip, role = mix.strips[k], roles[k]
        t = template_for(role)

        def add(kind: str, direction: int, label: str, new: Strip, k=k, role=role) -> None:
            moves.append(((k, kind, direction), f"{role} {label}", mix.with_strip(k, new)))

        for d in (-1, 1):
            g = _step(GAIN.allowed(sr), strip.gain, d)
            if g is not None:
                add("fader", d, f"fader {g:g}", replace(strip, gain=g))
        if t.pannable:
            for d in (-1, 1):
                p = _step(PAN.allowed(sr), strip.pan, d)
                if p is not None and p in pans_for(t, sr):
                    out = 1 if abs(p - 0.5) > abs(strip.pan - 0.5) else -1
                    add("pan", out, f"pan {p:g}", replace(strip, pan=p))
        if strip.highpass:
            for d in (-1, 1):
                f = _step(HIGHPASS_FREQ.allowed(sr), strip.highpass[1], d)
                if f is not None:
                    add(
                        "hp",
                        d,
                        f"high-pass {f:g} Hz",
                        replace(strip, highpass=(strip.highpass[0], f)),
                    )
        else:
            f = HIGHPASS_FREQ.snap(t.highpass, sr)
            add("hp", 1, f"high-pass {f:g} Hz", replace(strip, highpass=(2.0, f)))
        for name, kind in (("low_shelf", "ls"), ("peak", "pk"), ("high_shelf", "hs")):
            value = getattr(strip, name)
            for d in (-1, 1):
                g = _step(EQ_GAIN.allowed(sr), value[0], d)
                new = replace(strip, **{name: (g, *value[1:])}) if g is not None else None
                if new is not None and eq_allowed(role, new):
                    add(kind, d, f"{name.replace('_', ' ')} {g:+g} dB at {value[1]:g} Hz", new)
        if strip.compressor:
            ratio, threshold, attack, release = strip.compressor
            for d in (-1, 1):
                th = _step(THRESHOLD.allowed(sr), threshold, d)
                if th is not None:
                    new = replace(strip, compressor=(ratio, th, attack, release))
                    add("comp", d, f"compressor threshold {th:g} dB", new)
            add("comp", -1, "no compressor", replace(strip, compressor=None))
        elif compressors.get(role):
            add("comp", 1, "compressor", replace(strip, compressor=compressors[role]))
        if strip.saturation:
            add("sat", -1, "no saturation", replace(strip, saturation=None))
        if strip.lowpass:
            add("lp", 1, "no low-pass", replace(strip, lowpass=None))
        if strip.send:
            add("send", -1, "no send", replace(strip, send=None))
        if strip.gate:
            add("gate", -1, "no gate", replace(strip, gate=None))
    for option in master_options():
        if option != mix.master:
            moves.append(
                ((None, "master", 0), f"master {' : '.join(option)}", replace(mix, master=option))
            )

    wanted = _wanted(verdict, roles)
    seen = {mix}
    unique = []
    for move in moves:
        if move[2] not in seen:
            seen.add(move[2])
            unique.append(move)

    def priority(move: tuple[tuple, str, Mix]) -> float:
        key = move[0]
        if key == last:
            return math.inf
        return wanted.get(key, 0.0) + wanted.get((None, key[1], key[2]), 0.0)

    return sorted(unique, key=priority, reverse=True)


# The EQ band that moves each tonal band (low shelf, bell, high shelf).
_TONAL_KIND = {
    "sub": "ls",
    "bass": "ls",
    "low_mid": "pk",
    "mid": "pk",
    "high_mid": "hs",
    "high": "hs",
}


def _wanted(verdict: MixVerdict, roles: Sequence[str]) -> dict[tuple, float]:
    """(stem index or None for every stem, move kind, direction) → how much the failed checks
    ask for that move (the sum of their weighted severities)."""
    wanted: dict[tuple, float] = {}
    index = {r: k for k, r in enumerate(roles)}

    def ask(stem: str | None, kind: str, direction: int, weight: float) -> None:
        key = (index.get(stem) if stem is not None else None, kind, direction)
        if stem is not None and key[0] is None:
            return
        wanted[key] = wanted.get(key, 0.0) + weight

    for c in verdict.failed():
        w = c.weight * max(c.severity, 0.05) * (2.0 if c.basic else 1.0)
        lo = c.limit[0] if isinstance(c.limit, tuple) else c.limit
        below = c.value is not None and lo is not None and c.value < lo
        if c.name == "balance":
            ask(c.stem, "fader", 1 if below else -1, w)
        elif c.name == "buried":
            ask(c.stem, "fader", 1, w)
        elif c.name == "overpowering":
            ask(c.stem, "fader", -1, w)
            ask(None, "fader", 1, w / 4)
        elif c.name == "low_end_kept":
            for kind in ("hp", "ls", "pk"):
                ask(c.stem, kind, -1 if kind == "hp" else 1, w)
        elif c.name == "low_end_mono":
            ask(None, "pan", -1, w)
        elif c.name == "harshness":
            for kind in ("pk", "hs", "fader"):
                ask(c.stem, kind, -1, w)
            ask(None, "hs", -1, w / 2)
        elif c.name == "presence_boost":
            for kind in ("pk", "hs"):
                ask(c.stem, kind, -1, w)
        elif c.name == "mud":
            for kind in ("pk", "ls", "fader"):
                ask(c.stem, kind, -1, w)
            ask(c.stem, "hp", 1, w)
        elif c.name == "kick_bass_masking":
            ask("bass", "fader", -1, w)
            ask("drums", "fader", 1, w / 2)
            ask("bass", "comp", 1, w / 2)
        elif c.name == "tonal_balance" and c.value is not None:
            d = -1 if c.value > 0 else 1
            kind = _TONAL_KIND.get(c.band, "hs")
            ask(c.stem if d < 0 else None, kind, d, w)
            if d < 0:
                ask(c.stem, "fader", -1, w / 2)
        elif c.name == "width":
            ask(None, "pan", 1 if below else -1, w)
        elif c.name == "plr":
            ask(None, "master", 0, w)
            ask(None, "comp", -1 if below else 1, w / 2)
        elif c.name == "dc_offset":
            ask(c.stem, "hp", 1, w)
        elif c.name == "low_end_reverb":
            ask(c.stem, "send", -1, w)
        elif c.name == "asked_for" and c.asked is not None:
            d = 1 if c.asked > 0 else -1
            if c.stem is not None:  # a stem's balance
                ask(c.stem, "fader", d, w)
                ask(None, "fader", -d, w / 4)
            elif c.band in _TONAL_KIND:
                ask(None, _TONAL_KIND[c.band], d, w)
            else:  # the width
                ask(None, "pan", d, w)
    return wanted
