"""The teacher's terms for a writer-language mix: role templates, channel strips, limits.

    Strip     one stem's chain as values on the writer's grids (`writer.CHAIN_SLOTS`)
    Mix       the strips and the master chain; `Mix.script(roles, sr)` is writer-language text
    parse_mix a writer-language script read back into a `Mix` (a teacher's `start`)

`ROLE_TEMPLATES` is the engineer's starting chain per role and how far the search may move it;
`eq_allowed` and `pans_for` are the limits the teacher keeps to (`teacher.py`, module docstring).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from producer.errors import ProducerError
from producer.faust.validate import validate
from producer.faust.writer import (
    BUS_COMPRESSOR,
    CHAIN_SLOTS,
    COMPRESSOR,
    FADER,
    HIGH_SHELF,
    HIGH_SHELF_FREQ,
    HIGHPASS,
    LIMITER,
    LOW_SHELF,
    LOW_SHELF_FREQ,
    LOWPASS,
    MASTER_CHAINS,
    PAN,
    PANNER,
    PEAK,
    PEAK_FREQ,
    SATURATION,
    STEREO_BYPASS,
    Effect,
    chain_text,
    script_text,
)

__all__ = [
    "MAX_EQ_DB",
    "ROLE_TEMPLATES",
    "Mix",
    "RoleTemplate",
    "Strip",
    "eq_allowed",
    "master_options",
    "pans_for",
    "parse_mix",
    "template_for",
]

#: The teacher's own EQ moves stay within ±6 dB per band: past that a stem is being turned into
#: another sound, not mixed (`descriptors`: a 4-6 dB shelf on a whole mix is "a different
#: record"). On bass and drums, cuts under 150 Hz stop at -3 dB: their low end is the point.
MAX_EQ_DB = 6.0
_LOW_END_CUT_DB = -3.0
_LOW_END_ROLES = ("bass", "drums")

# --- the template -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleTemplate:
    """An engineer's starting chain for one role, and how far the search may move it."""

    highpass: float  # order-2 high-pass corner, Hz
    highpass_range: tuple[float, float]  # where the search may move it, Hz
    pan: float
    pannable: bool  # the search may move the pan (bass, drums and vocals stay centred)
    compress: bool  # a gentle compressor (ratio 3, threshold 6 dB under the peaks)
    attack: float = 0.01  # compressor attack, s (slow enough to let the transients through)
    release: float = 0.1
    low_shelf: float = 100.0  # corner of the low shelf when the search turns it on, Hz
    peak: float = 1000.0  # centre of the bell when turned on, Hz
    high_shelf: float = 5000.0  # corner of the high shelf when turned on, Hz


#: The starting chain per role. Bass and drums keep everything above ~25 Hz (the critic's
#: `low_end_kept` measures 97% of the 808's low end kept at 40 Hz); musical stems are high-
#: passed where their own fundamentals end (chords from ~F2, leads from ~C4), which leaves the
#: low end to the kick and the 808 and keeps it mono. Chords and lead sit left and right of
#: centre; the search moves those pans for the width target.
ROLE_TEMPLATES: dict[str, RoleTemplate] = {
    "drums": RoleTemplate(30, (20, 40), 0.5, False, True, 0.01, 0.1, 80, 200, 8000),
    "bass": RoleTemplate(30, (20, 40), 0.5, False, True, 0.03, 0.2, 80, 150, 3000),
    "vocals": RoleTemplate(100, (60, 200), 0.5, False, True, 0.005, 0.1, 150, 3000, 8000),
    "harmony": RoleTemplate(120, (60, 300), 0.35, True, False, low_shelf=200, peak=400),
    "melody": RoleTemplate(150, (80, 400), 0.65, True, False, low_shelf=200, peak=3000),
    "other": RoleTemplate(150, (80, 400), 0.6, True, False, low_shelf=200, peak=3000),
}
_DEFAULT_TEMPLATE = RoleTemplate(100, (40, 300), 0.5, True, False)
_GLUE = (2.0, -12.0, 0.01, 0.1)  # bus compressor of the "glue" master chains


def template_for(role: str) -> RoleTemplate:
    """The role's template (`ROLE_TEMPLATES`; a generic pannable one for any other role)."""
    return ROLE_TEMPLATES.get(role, _DEFAULT_TEMPLATE)


# --- a mix the teacher can change -------------------------------------------------------------


@dataclass(frozen=True)
class Strip:
    """One stem's channel strip: the writer's slots as values on their grids."""

    gate: str | None = None  # kept as text: the teacher only removes it
    highpass: tuple[float, float] | None = None  # (order, Hz)
    lowpass: tuple[float, float] | None = None
    low_shelf: tuple[float, float] = (0.0, 100.0)  # (dB, Hz); 0 dB is not written
    peak: tuple[float, float, float] = (0.0, 1000.0, 1.0)  # (dB, Hz, Q)
    high_shelf: tuple[float, float] = (0.0, 5000.0)
    compressor: tuple[float, float, float, float] | None = None
    saturation: float | None = None  # drive (offset 0)
    send: str | None = None  # kept as text: the teacher only removes it
    gain: float = 1.0
    pan: float = 0.5

    def effects(self, sr: int) -> list[str]:
        """The chain's effect texts before the fader, in slot order."""
        out = [self.gate] if self.gate else []
        if self.highpass:
            out.append(HIGHPASS.text(*self.highpass, sample_rate=sr))
        if self.lowpass:
            out.append(LOWPASS.text(*self.lowpass, sample_rate=sr))
        if self.low_shelf[0]:
            out.append(LOW_SHELF.text(*self.low_shelf, sample_rate=sr))
        if self.peak[0]:
            out.append(PEAK.text(*self.peak, sample_rate=sr))
        if self.high_shelf[0]:
            out.append(HIGH_SHELF.text(*self.high_shelf, sample_rate=sr))
        return out + self.dynamics(sr)

    def dynamics(self, sr: int) -> list[str]:
        """The non-linear slots after the EQ and before the fader: compressor, saturation."""
        out = []
        if self.compressor:
            out.append(COMPRESSOR.text(*self.compressor, sample_rate=sr))
        if self.saturation:
            out.append(SATURATION.text(self.saturation, 0.0, sample_rate=sr))
        return out

    def text(self, sr: int) -> str:
        effects = self.effects(sr)
        if self.gain != 1.0:
            effects.append(FADER.text(self.gain, sample_rate=sr))
        if self.send:
            effects.append(self.send)
        return chain_text(effects, PANNER.text(self.pan, sample_rate=sr))

    def eq_key(self) -> tuple:
        return (self.highpass, self.lowpass, self.low_shelf, self.peak, self.high_shelf)


@dataclass(frozen=True)
class Mix:
    strips: tuple[Strip, ...]
    master: tuple[str, ...]  # effect texts of the master chain

    def script(self, roles: Sequence[str], sr: int) -> str:
        chains = {r: s.text(sr) for r, s in zip(roles, self.strips, strict=True)}
        return script_text(chains, " : ".join(self.master))

    def with_strip(self, k: int, strip: Strip) -> Mix:
        strips = list(self.strips)
        strips[k] = strip
        return replace(self, strips=tuple(strips))


def master_options() -> list[tuple[str, ...]]:
    """The master chains the teacher chooses among (`writer.MASTER_CHAINS`): a limiter first."""
    glue = BUS_COMPRESSOR.text(*_GLUE)
    options = [(LIMITER.text(),), (STEREO_BYPASS.text(),), (glue, LIMITER.text()), (glue,)]
    assert len(options) == len(MASTER_CHAINS)
    return options


def eq_allowed(role: str, strip: Strip) -> bool:
    """Whether the strip's EQ keeps to the teacher's limits (`MAX_EQ_DB`, the low end of bass
    and drums)."""
    if any(abs(g) > MAX_EQ_DB for g in (strip.low_shelf[0], strip.peak[0], strip.high_shelf[0])):
        return False
    if role in _LOW_END_ROLES:
        if strip.low_shelf[0] < _LOW_END_CUT_DB:
            return False
        if strip.peak[0] < _LOW_END_CUT_DB and strip.peak[1] < 150.0:
            return False
    return True


def pans_for(t: RoleTemplate, sr: int) -> list[float]:
    """Where a pannable stem may sit: on its template's side (chords left, lead right), from
    the centre to 80% out (hard pans read as a mistake on headphones)."""
    values = PAN.allowed(sr)
    if t.pan < 0.5:
        return [p for p in values if 0.1 <= p <= 0.5]
    if t.pan > 0.5:
        return [p for p in values if 0.5 <= p <= 0.9]
    return [p for p in values if 0.1 <= p <= 0.9]


# --- reading a start script ------------------------------------------------------------------

_NUMBER = r"(-?\d+(?:\.\d+)?)"


def _pattern(effect: Effect) -> re.Pattern[str]:
    return re.compile(
        "".join(re.escape(p) if isinstance(p, str) else _NUMBER for p in effect.parts)
    )


_SLOT_EFFECTS = [(slot.name, _pattern(e)) for slot in CHAIN_SLOTS for e in slot.effects]
_PANNER = _pattern(PANNER)


def parse_mix(script: str, roles: Sequence[str], sr: int) -> Mix:
    """A writer-language script (`writer.writer_ebnf(roles)`) read into the teacher's terms.
    Raises `FaustValidationError` for an invalid script, `ProducerError` for a valid one outside
    the writer language."""
    validate(script, roles=list(roles), sample_rate=sr)
    chains = dict(re.findall(r"^([a-z][a-z0-9]*)_process = (.*);$", script, flags=re.M))
    if "master" not in chains or any(r not in chains for r in roles):
        raise ProducerError("the start script is not a writer-language script for these stems")
    strips = []
    for role in roles:
        text, pos = chains[role], 0
        t = template_for(role)
        fields: dict = {
            "low_shelf": (0.0, LOW_SHELF_FREQ.snap(t.low_shelf, sr)),
            "peak": (0.0, PEAK_FREQ.snap(t.peak, sr), 1.0),
            "high_shelf": (0.0, HIGH_SHELF_FREQ.snap(t.high_shelf, sr)),
        }
        for slot, pattern in _SLOT_EFFECTS:
            m = pattern.match(text, pos)
            if m is None or text[m.end() : m.end() + 3] != " : ":
                continue
            values = tuple(float(v) for v in m.groups())
            pos = m.end() + 3
            if slot in ("gate", "send"):
                fields[slot] = m.group(0)
            elif slot == "fader":
                fields["gain"] = values[0]
            elif slot == "saturation":
                fields["saturation"] = values[0] or None
            else:
                fields[slot] = values
        m = _PANNER.fullmatch(text, pos)
        if m is None:
            raise ProducerError(f"the start script's {role} chain is not in the writer language")
        strip = Strip(pan=float(m.group(1)), **fields)
        try:
            strip.text(sr)  # every value on its grid
        except ValueError as err:
            raise ProducerError(
                f"the start script's {role} chain is not in the writer language: {err}"
            ) from None
        strips.append(strip)
    # A master chain with other settings than the teacher's options is kept as it is.
    master = tuple(chains["master"].split(" : "))
    if not any(
        len(chain) == len(master)
        and all(_on_grid(e, text, sr) for e, text in zip(chain, master, strict=True))
        for chain, _ in MASTER_CHAINS
    ):
        raise ProducerError("the start script's master chain is not in the writer language")
    return Mix(tuple(strips), master)


def _on_grid(effect: Effect, text: str, sr: int) -> bool:
    """Whether `text` is `effect` with every value on its grid."""
    m = _pattern(effect).fullmatch(text)
    if m is None:
        return False
    try:
        return effect.text(*(float(v) for v in m.groups()), sample_rate=sr) == text
    except ValueError:
        return False
