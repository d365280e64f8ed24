"""The instruments: one Faust program each, played by audio-rate control signals.

Every instrument is a single Faust program whose inputs are control signals that
`render.py` builds with numpy from the note events, so a whole stem is one `run_faust` call
(not one per note): 75-800x real time on one core (benchmarks/generate.py). Control inputs
per voice:

    hit     drums: an impulse at each hit whose height is the velocity (0 elsewhere); the
            kit packs every piece's hits into one channel (see `kit_program`)
    choke   open hat: an impulse that silences it (the kit feeds it the closed-hat hits)
    note    pitched, one channel per voice: the note's velocity (0 < v <= 1) on its first
            sample, then +frequency in Hz while it is held, then -frequency after it (the
            release keeps its pitch). The velocity sample is the trigger, so two notes back
            to back on one voice are two onsets; 808 slides arrive as a ramp of +Hz.

Why one channel for gate, pitch and velocity: DawDreamer spends ~5 ns per sample on every
input channel however little the program does with it (~6 ms per channel for a 30 s stem),
and an 8-voice instrument's whole DSP is ~150 ms, so separate gate and freq channels cost
~50 ms more. Frequencies are >= 8 Hz, so a value in (0, 1] is never a pitch.

Polyphonic instruments are `polyphony` parallel copies of the voice (one input each)
summed inside Faust; voices are allocated in numpy (render.allocate_voices).

Each source below defines `<ident>_voice` (one voice) and, where the instrument needs more
than a mono → stereo split, `<ident>_post` (the summed voices → 2 channels). `program(spec)`
wraps it: voices → post → width → balance → gain → soft clip, so every output is below 1.0.
Instruments are project code, not user mix scripts: they may use all of stdfaust.lib and do
not go through the mix-language validator; they are kept bounded by design (no feedback
resonances; every path ends in `safe`).
"""

from __future__ import annotations

from dataclasses import dataclass

from producer.errors import ProducerError


class UnknownInstrumentError(ProducerError, ValueError):
    """An event or call names an instrument that does not exist (or is no drum in a kit)."""


# Helpers shared by every program. Why these and not the library equivalents:
#   sine     a 64 k-entry table lookup: ~3x cheaper than sin() (measured, 8-voice keys) and
#            clean to -80 dB; the FM voices call it 2-3 times per voice per sample.
#   decay    max(previous · k, input): an impulse of height h restarts an exponential decay
#            from h (velocity included) without a gate; a softer hit during a louder tail
#            does not duck it. T is the time to -60 dB; k60 is exp(-6.9 / (T·SR)) to first
#            order (within 1 % for T >= 2 ms) because T is a signal in some voices and exp
#            per sample per voice is measurable.
#   phaser   a phase that restarts at 0 on a trigger: every drum hit starts on a zero
#            crossing with the same first cycle (the punch), and a hit in silence never clicks.
#   lag      one-pole with separate rise/fall times (si.onePoleSwitching): click-free gates.
#   note*    decode the `note` control: noteon (trigger), notevel, notefreq (held through
#            the trigger sample and the release; never below 8 Hz, so that log() is finite
#            even before the first pitch arrives), notegate (velocity while held, else 0).
#   softsat  tanh's [3/2] Padé approximant x(27 + x²)/(27 + 9x²), clamped at ±1 where it
#            meets them with zero slope (|x| = 3): within 3 % of tanh and ~5x cheaper than
#            tanhf, which was a third of the kick's render time and half of the rim's.
#   sat      drive d into softsat, normalised so that sat(d, ±1) = ±1.
#   safe     identity below 0.8, a softsat knee above: the output never exceeds 1.0.
#   metal    the six detuned square waves of the TR-808 cymbal/hat circuit.
#   hz       a filter frequency kept under 0.45 × the sample rate: a hat's 10.5 kHz band-pass
#            or a 13 kHz low-pass is above Nyquist at 22.05 or 16 kHz, where the filters'
#            tan() prewarp turns negative and they blow up to NaN. Identity at 44.1/48 kHz.
PRELUDE = """import("stdfaust.lib");
TSIZE = 65536;
sine(ph) = rdtable(TSIZE, os.sinwaveform(TSIZE), int(ma.frac(ph) * TSIZE) & (TSIZE - 1));
k60(T) = 1.0 - 6.907755 / (max(T, 0.002) * ma.SR);
decay(T, h) = h : max ~ *(k60(T));
phaser(f, t) = (+(f / ma.SR) : ma.frac) ~ *(1 - t);
lag(a, r, x) = si.onePoleSwitching(a, r, x);
smoothed(tau) = si.smooth(ba.tau2pole(tau));
held(t, x) = ba.sAndH(t, x);
noteon(c) = (c > 0.0) & (c <= 1.0);
notevel(c) = held(noteon(c), c);
notefreq(c) = held(abs(c) > 1.0, abs(c)) : max(8.0);
notegate(c) = (c > 1.0) * notevel(c);
softsat(x) = max(-1.0, min(1.0, x * (27.0 + x * x) / (27.0 + 9.0 * x * x)));
safe(x) = ba.if(abs(x) < 0.8, x, ma.signum(x) * (0.8 + 0.2 * softsat((abs(x) - 0.8) / 0.2)));
sat(d, x) = softsat(d * x) / softsat(d);
square(f) = ma.signum(os.lf_sawpos(f) - 0.5);
metal(s) = (square(205.3 * s) + square(304.4 * s) + square(369.6 * s) + square(522.7 * s)
    + square(540.0 * s) + square(800.0 * s)) / 6.0;
mono2 = _ <: _, _;
width(w) = _, _ <: (+ : *(0.5)), (- : *(0.5 * w)) <: +, -;
balance(p) = *(min(1.0, 1.0 - p)), *(min(1.0, 1.0 + p));
hz(f) = min(f, 0.45 * ma.SR);
"""

# Kick: a sine swept from ~200 Hz down to 48 Hz in ~60 ms (phase reset per hit), driven
# into a soft clipper for a flat-topped punch, plus a 14 ms high-passed noise click for the beater.
KICK = """kick_voice(hit) = body + click
with {
    t = hit > 0;
    v = held(hit > 0, hit);
    f = 48.0 * pow(2.0, 1.6 * decay(0.13, t) + 0.6 * decay(0.025, t));
    body = sat(2.5, decay(0.6, hit) * sine(phaser(f, t))) * 0.9;
    click = no.noises(8, 0) : fi.highpass(2, hz(1800.0)) : *(0.3 * v * decay(0.014, t));
};
"""

# Snare: two drum-head modes (180/330 Hz, bent down on the hit) and the wire rattle,
# band-passed white noise with a longer tail; harder hits add a sharper 40 ms snap. (The
# filters are fixed: a velocity-dependent cutoff recomputes coefficients every sample.)
SNARE = """snare_voice(hit) = 0.55 * tone + rattle
with {
    t = hit > 0;
    v = held(hit > 0, hit);
    bend = 1.0 + 0.4 * decay(0.05, t);
    tone = (sine(phaser(180.0 * bend, t)) + 0.5 * sine(phaser(330.0 * bend, t)))
        * decay(0.22, hit);
    wires = no.noises(8, 1) : fi.highpass(2, hz(1400.0)) : fi.lowpass(2, hz(9000.0));
    rattle = wires * (decay(0.32, hit) + 0.4 * v * decay(0.04, hit)) * 0.8;
};
"""

# Clap: three quick noise bursts ~10 ms apart (several hands) and a longer tail, all
# through a 1.2 kHz band-pass with some air above it.
CLAP = """clap_voice(hit) = (bp + air) * env * 2.2
with {
    ms(x) = int(x * 0.001 * ma.SR);
    burst(d) = decay(0.03, hit @ ms(d));
    env = burst(0) + 0.85 * burst(10) + 0.75 * burst(21) + 0.7 * decay(0.38, hit @ ms(31));
    src = no.noises(8, 2);
    bp = src : fi.highpass(2, hz(600.0)) : fi.resonbp(hz(1250.0), 1.6, 1.0 / 1.6);
    air = src : fi.highpass(2, hz(3500.0)) : *(0.3);
};
"""

# Hats: the 808 "metal" (six square waves) mixed with noise, band-passed high. Closed:
# ~60-100 ms (softer hits are shorter, which makes rolls breathe). Open: ~0.6 s, choked by
# the `choke` input (closed hats in a kit) with a 2 ms fade so the choke does not click.
HAT_CLOSED = """hat_closed_voice(hit) = src * decay(0.05 + 0.05 * held(hit > 0, hit), hit)
with {
    src = (metal(1.0) * 0.6 + no.noises(8, 3) * 0.5) : fi.highpass(2, hz(7000.0))
        : fi.resonbp(hz(10500.0), 1.1, 1.0);
};
"""

HAT_OPEN = """hat_open_voice(hit, choke) = src * env
with {
    env = hit : (max ~ *(k60(0.65) * (1 - (choke > 0)))) : smoothed(0.002);
    src = (metal(1.0) * 0.6 + no.noises(8, 3) * 0.5) : fi.highpass(2, hz(6500.0))
        : fi.resonbp(hz(9500.0), 1.0, 1.0);
};
"""

# Crash: a second, higher "metal" set with more noise, long 2.2 s decay.
CRASH = """crash_voice(hit) = src * (decay(2.2, hit) : smoothed(0.0005))
with {
    src = (metal(1.43) * 0.45 + no.noises(8, 4) * 0.7) : fi.highpass(2, hz(4000.0))
        : fi.lowpass(2, hz(13000.0));
};
"""

# Rim: the 808 rimshot's two resonators (455 Hz, 1.67 kHz) rung briefly plus a noise
# click, high-passed and gently driven.
RIM = """rim_voice(hit) = sat(1.5, ring + click) : fi.highpass(2, hz(300.0))
with {
    t = hit > 0;
    ring = (0.8 * sine(phaser(455.0, t)) + 0.6 * sine(phaser(1667.0, t))) * decay(0.07, hit);
    click = no.noises(8, 5) : fi.highpass(2, hz(2500.0)) : *(0.6 * decay(0.01, hit));
};
"""

# Perc: a conga/tom — a 210 Hz head with a small downward bend, an inharmonic overtone
# (x1.58) that dies first, and a band-passed slap.
PERC = """perc_voice(hit) = body + slap
with {
    t = hit > 0;
    f = 210.0 * (1.0 + 0.3 * decay(0.06, t));
    body = (sine(phaser(f, t)) * decay(0.38, hit) + 0.3 * sine(phaser(1.58 * f, t))
        * decay(0.15, hit)) * 0.8;
    slap = no.noises(8, 6) : fi.resonbp(hz(2600.0), 1.5, 0.5) : *(decay(0.02, hit));
};
"""

# 808: a sine sub that starts an octave up and falls back within ~15 ms (the knock), a long
# 4 s decay cut by the gate with a 35 ms release (click-free ends), soft-clip drive for the
# harmonics that make it audible on small speakers, and an 8 ms low-passed noise click.
# The oscillator runs free (no reset) so a retrigger under a ringing note does not step;
# the 1.5 ms smoothing on the amplitude turns a retrigger into a fast fade, not a click.
SUB808 = """sub808_voice(note) = sat(1.8, body) * 0.9 + click
with {
    t = noteon(note);
    v = notevel(note);
    knock = pow(2.0, decay(0.05, t));
    amp = decay(4.0, t * v) : smoothed(0.0015);
    body = sine(os.lf_sawpos(notefreq(note) * knock)) * amp * lag(0.0005, 0.035, note > 1.0);
    click = no.noises(8, 7) : fi.lowpass(2, hz(3000.0)) : *(0.12 * v * decay(0.008, t));
};
"""

# Bass (funk/sub, g-funk): a sine sub under a saw through a state-variable low-pass whose
# cutoff tracks the pitch and opens on each note (velocity: how far), a slight 10 ms
# portamento, gentle drive. Sustains at 60 % after the pluck.
BASS = """bass_voice(note) = sat(1.6, (0.75 * sub + 0.45 * saw) * amp)
with {
    t = noteon(note);
    v = notevel(note);
    f = notefreq(note) : log : smoothed(0.01) : exp;
    fc = min(16000.0, f * 1.5 + 250.0 + (700.0 + 2600.0 * v) * decay(0.45, t));
    saw = os.sawtooth(f) : fi.svf.lp(hz(fc), 1.3);
    sub = sine(os.lf_sawpos(f));
    amp = (0.6 + 0.4 * decay(0.6, t)) * v * lag(0.002, 0.04, note > 1.0);
};
"""

# Keys: a Rhodes-like two-operator FM electric piano. A ratio-1 modulator whose index
# falls as the note rings (the bright "bark" of a hard hit, velocity-scaled), a short 15th
# harmonic for the tine, a decay longer for low notes, an 80 ms release; the post stage is
# the suitcase's stereo tremolo (4.2 Hz auto-pan).
KEYS = """keys_voice(note) = (body + tine) * amp
with {
    t = noteon(note);
    v = notevel(note);
    freq = notefreq(note);
    ph = os.lf_sawpos(freq);
    index = 0.08 + (0.15 + 0.55 * v) * decay(1.3, t);
    body = sine(ph + index * sine(ph));
    tine = 0.22 * v * decay(0.3, t) * sine(15.0 * ph);
    ring = min(7.0, max(1.5, 4.0 * sqrt(261.6 / freq)));
    amp = decay(ring, t * v) : smoothed(0.001) : *(lag(0.001, 0.08, note > 1.0));
};
keys_post = _ <: *(1.0 - 0.3 * (0.5 + 0.5 * lfo)), *(1.0 - 0.3 * (0.5 - 0.5 * lfo))
with { lfo = os.osc(4.2); };
"""

# Pad: per voice three saws (two detuned ±11 cents with a slow drift, split left/right,
# one centred) and a sine an octave down; slow 0.25 s attack, 0.6 s release. The filter
# is linear with a fixed cutoff, so it runs once on the summed voices (post), not per voice.
PAD = """pad_voice(note) = (s1 + c) * env, (s2 + c) * env
with {
    freq = notefreq(note);
    env = lag(0.25, 0.6, notegate(note));
    drift(r) = 1.0 + 0.0015 * os.osc(r);
    s1 = os.sawtooth(freq * 0.9937 * drift(0.31));
    s2 = os.sawtooth(freq * 1.0063 * drift(0.23));
    c = 0.55 * os.sawtooth(freq) + 0.35 * sine(os.lf_sawpos(0.5 * freq));
};
pad_post = par(i, 2, fi.lowpass(2, hz(3200.0)) : fi.highpass(1, hz(80.0)));
"""

# Bell: FM with an inharmonic 3.5 ratio modulator whose index dies in ~0.9 s (a clangy
# strike that settles into a pure tone, so melodies stay in tune), plus an octave partial;
# 2.6 s ring, 0.35 s release after the note.
BELL = """bell_voice(note) = (strike + 0.2 * octave) * amp
with {
    t = noteon(note);
    v = notevel(note);
    freq = notefreq(note);
    ph = os.lf_sawpos(freq);
    index = (0.15 + 0.3 * v) * decay(0.9, t);
    strike = sine(ph + index * sine(os.lf_sawpos(3.5 * freq)));
    octave = sine(2.0 * ph) * decay(1.2, t);
    amp = decay(2.6, t * v) : smoothed(0.0008) : *(lag(0.0005, 0.35, note > 1.0));
};
"""

# Pluck: saw plus a sine an octave down through a state-variable low-pass whose cutoff
# snaps open on the note and closes in ~0.35 s (velocity: brightness); 1.1 s decay.
PLUCK = """pluck_voice(note) = src : fi.svf.lp(hz(fc), 0.9) : *(amp)
with {
    t = noteon(note);
    v = notevel(note);
    freq = notefreq(note);
    src = 0.7 * os.sawtooth(freq) + 0.4 * sine(os.lf_sawpos(0.5 * freq));
    fc = min(15000.0, freq * 1.5 + (800.0 + 5200.0 * v) * decay(0.35, t));
    amp = decay(1.1, t * v) : smoothed(0.0005) : *(lag(0.0005, 0.05, note > 1.0));
};
"""

# Lead (g-funk): a whistling sine/triangle with 40 ms portamento (in log frequency, so
# slides are even in pitch) and a 5.5 Hz vibrato that fades in over ~0.5 s of each note.
# Legato: back-to-back notes glide without a new attack (the gate barely dips).
LEAD = """lead_voice(note) = tone * lag(0.012, 0.09, notegate(note))
with {
    t = noteon(note);
    f0 = notefreq(note) : log : smoothed(0.04) : exp;
    depth = 1.0 - decay(0.8, t) : smoothed(0.05);
    f = f0 * (1.0 + 0.018 * depth * os.osc(5.5));
    ph = os.lf_sawpos(f);
    tri = 1.0 - 4.0 * abs(ph - 0.5);
    tone = 0.8 * sine(ph) + 0.3 * tri + 0.15 * os.sawtooth(f) : fi.lowpass(1, hz(6000.0));
};
"""


@dataclass(frozen=True)
class InstrumentSpec:
    """One instrument: its Faust source and how to drive and place it."""

    name: str  # the name events use (`NoteEvent.instrument`): "kick", "808", "keys", …
    source: str  # Faust definitions of this instrument (PRELUDE helpers available)
    controls: tuple[str, ...]  # control inputs of one voice, in order ("hit", "note", …)
    polyphony: int = 1  # parallel voices; 1 = monophonic (a new note cuts the last)
    gain: float = 1.0  # linear output gain (for drums: the kit balance)
    pan: float = 0.0  # balance, -1 (left) … +1 (right)
    width: float = 1.0  # stereo width of a stereo post (0 = mono, 1 = as designed)
    release: float = 0.1  # seconds a voice still sounds after its note (voice allocation)
    post: str = "mono2"  # Faust block: summed voices → 2 channels
    drum: bool = False  # a drum piece: plays hits, not notes, and belongs to the kit
    ident: str = ""  # Faust identifier: the source defines `<ident>_voice` ("" = name)

    def __post_init__(self) -> None:
        if not self.ident:  # frozen: set the default through object
            object.__setattr__(self, "ident", self.name)

    @property
    def code(self) -> str:
        """The complete Faust program: (controls × polyphony) inputs → 2 outputs."""
        return program(self)


def chain(spec: InstrumentSpec) -> str:
    """Faust expression of one instrument: its control inputs → stereo, gained and placed."""
    voices = f"{spec.ident}_voice"
    if spec.polyphony > 1:
        voices = f"par(i, {spec.polyphony}, {voices})"
    parts = [voices, spec.post]
    if spec.width != 1.0:
        parts.append(f"width({spec.width!r})")
    if spec.pan != 0.0:
        parts.append(f"balance({spec.pan!r})")
    if spec.gain != 1.0:
        parts.append(f"par(i, 2, *({spec.gain!r}))")
    # `:>` sums the voices into the post's inputs (1, or 2 interleaved L/R).
    return "(" + " :> ".join(parts[:2]) + "".join(f" : {p}" for p in parts[2:]) + ")"


def program(spec: InstrumentSpec) -> str:
    """One instrument's full Faust program (prelude, source, `process`)."""
    return f"{PRELUDE}\n{spec.source}\nprocess = {chain(spec)} : safe, safe;\n"


def kit_program(pieces: tuple[InstrumentSpec, ...]) -> str:
    """A drum kit as one program with ONE input, the packed hit stream, → 2 outputs.

    Each input channel costs DawDreamer ~5 ns per sample however little the program does
    with it, so the kit's hits travel in one channel: `id + velocity / 2` at a hit of piece
    number `id` (1-based, in `pieces` order), 0 elsewhere (render.py moves a hit that
    collides with another piece's by a sample or two, 23 µs). Each piece runs its `chain`,
    at its spec's gain and placement, so the kit is the sum of the pieces rendered alone
    before the one shared soft clip; the open hat's `choke` input gets the closed-hat hits.
    """
    ids = {p.name: i + 1 for i, p in enumerate(pieces)}
    sources = "\n".join(p.source for p in pieces)

    def inputs(piece: InstrumentSpec) -> str:
        wires = {"hit": f"hit({ids[piece.name]})", "choke": f"hit({ids.get('hat_closed', 0)})"}
        return ", ".join(wires[c] for c in piece.controls)

    chains = ", ".join(f"(({inputs(p)}) : {chain(p)})" for p in pieces)
    return (
        f"{PRELUDE}\n{sources}\n"
        f"kit(x) = ({chains}) :> safe, safe\n"
        "with { hit(i) = (int(x) == i) * (x - i) * 2.0; };\n"
        "process = kit;\n"
    )


_DRUM = ("hit",)
_NOTE = ("note",)

# Drum gains are the kit balance (peaks at velocity 1: kick ~0.85, snare ~0.6, clap ~0.45,
# perc ~0.4, rim ~0.35, crash ~0.22, hats ~0.2), so that a layered snare + clap on a kick
# stays under the kit's soft clip. Pitched gains put a 4-note chord at velocity 1 at 0.8-1.0
# (into the soft clip for the ringing bell and pluck, whose lines overlap like chords).
INSTRUMENTS: dict[str, InstrumentSpec] = {
    spec.name: spec
    for spec in (
        InstrumentSpec("kick", KICK, _DRUM, gain=0.85, drum=True),
        InstrumentSpec("snare", SNARE, _DRUM, gain=0.44, drum=True),
        InstrumentSpec("clap", CLAP, _DRUM, gain=0.55, pan=0.05, drum=True),
        InstrumentSpec("hat_closed", HAT_CLOSED, _DRUM, gain=0.65, pan=-0.25, drum=True),
        InstrumentSpec("hat_open", HAT_OPEN, ("hit", "choke"), gain=0.6, pan=-0.3, drum=True),
        InstrumentSpec("crash", CRASH, _DRUM, gain=0.3, pan=0.35, drum=True),
        InstrumentSpec("rim", RIM, _DRUM, gain=0.25, pan=0.2, drum=True),
        InstrumentSpec("perc", PERC, _DRUM, gain=0.35, pan=0.35, drum=True),
        InstrumentSpec("808", SUB808, _NOTE, gain=0.95, release=0.15, ident="sub808"),
        InstrumentSpec("bass", BASS, _NOTE, gain=0.85, release=0.15),
        InstrumentSpec("keys", KEYS, _NOTE, polyphony=8, gain=0.3, release=0.3, post="keys_post"),
        InstrumentSpec("pad", PAD, _NOTE, polyphony=8, gain=0.16, release=2.5, post="pad_post"),
        InstrumentSpec("bell", BELL, _NOTE, polyphony=6, gain=0.3, release=1.2),
        InstrumentSpec("pluck", PLUCK, _NOTE, polyphony=6, gain=0.42, release=0.2),
        InstrumentSpec("lead", LEAD, _NOTE, gain=0.7, release=0.3),
    )
}

#: The drum pieces in the kit program's input order.
KIT_PIECES: tuple[InstrumentSpec, ...] = tuple(s for s in INSTRUMENTS.values() if s.drum)

#: The kit program `render_drum_kit` runs: every piece, one packed-hits input.
KIT_PROGRAM = kit_program(KIT_PIECES)


def get_instrument(name: str) -> InstrumentSpec:
    """The spec of instrument `name`; `UnknownInstrumentError` listing the known ones."""
    try:
        return INSTRUMENTS[name]
    except KeyError:
        known = ", ".join(INSTRUMENTS)
        raise UnknownInstrumentError(f"unknown instrument '{name}' (known: {known})") from None
