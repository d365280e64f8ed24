"""Synthetic hip-hop stems and mix scripts for the mixing tests (no files, no models).

Each stem is shaped like the real thing where the critic looks: a kick with a pitch drop and a
snare and hats (drums), an 808 sine with a pitch glide and rests (bass), sustained chord tones
with a few harmonics (harmony), a vibrato lead (melody), and a quiet noise texture (other).
"""

from __future__ import annotations

import numpy as np

from producer.faust.writer import (
    COMPRESSOR,
    FADER,
    HIGHPASS,
    LIMITER,
    LOWPASS,
    PANNER,
    chain_text,
    script_text,
)

BPM = 140.0


def _t(seconds: float, sr: int) -> np.ndarray:
    return np.arange(int(seconds * sr)) / sr


def _place(out: np.ndarray, hit: np.ndarray, start: int) -> None:
    n = min(hit.shape[-1], out.shape[-1] - start)
    if n > 0:
        out[..., start : start + n] += hit[..., :n]


def _noise(rng: np.random.Generator, n: int, lo: float, hi: float, sr: int) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    spec[(f < lo) | (f > hi)] = 0
    x = np.fft.irfft(spec, n)
    return x / np.sqrt(np.mean(x**2))


def drums(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Kick (55 Hz with a pitch drop) on 1 and 3, snare on 2 and 4, eighth-note hats."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros((2, n))
    beat = 60.0 / BPM
    tk = _t(0.35, sr)
    phase = 2 * np.pi * (55 * tk + (160 - 55) * 0.012 * (1 - np.exp(-tk / 0.012)))
    kick = 0.9 * np.sin(phase) * np.exp(-tk / 0.09)
    ts = _t(0.2, sr)
    snare = 0.35 * _noise(rng, ts.size, 180, 9000, sr) * np.exp(-ts / 0.05)
    snare += 0.3 * np.sin(2 * np.pi * 190 * ts) * np.exp(-ts / 0.04)
    th = _t(0.06, sr)
    for k in range(int(seconds / beat) + 1):
        start = int(k * beat * sr)
        if k % 2 == 0:
            _place(out, np.stack([kick, kick]), start)
        else:
            _place(out, np.stack([snare, snare]), start)
    for k in range(int(seconds / (beat / 2)) + 1):
        start = int(k * beat / 2 * sr)
        hat = np.stack([_noise(rng, th.size, 7000, 16000, sr) for _ in range(2)])
        _place(out, 0.12 * hat * np.exp(-th / 0.015), start)
    return out.astype(np.float32)


def bass_808(seconds: float, sr: int) -> np.ndarray:
    """An 808: sine notes (F1, D#1, G#1) with a glide from a fifth above, long decays, rests."""
    n = int(seconds * sr)
    out = np.zeros(n)
    beat = 60.0 / BPM
    notes = (43.65, 38.89, 51.91, 43.65)
    length = 1.6 * beat
    tn = _t(length, sr)
    for k in range(int(seconds / (2 * beat)) + 1):
        f0 = notes[k % len(notes)]
        freq = f0 * (1 + 0.5 * np.exp(-tn / 0.03))
        phase = 2 * np.pi * np.cumsum(freq) / sr
        env = np.minimum(tn / 0.005, 1) * np.exp(-tn / 0.5) * np.minimum((length - tn) / 0.02, 1)
        note = np.tanh(3.0 * np.sin(phase)) / np.tanh(3.0) * env
        _place(out, 0.7 * note, int(k * 2 * beat * sr))
    return np.stack([out, out]).astype(np.float32)


def chords(seconds: float, sr: int) -> np.ndarray:
    """A sustained minor triad (F3 G#3 C4) of soft saw tones, slightly detuned per side."""
    t = _t(seconds, sr)
    out = np.zeros((2, t.size))
    for c, detune in enumerate((0.998, 1.002)):
        for f in (174.6, 207.7, 261.6):
            for h in range(1, 9):
                out[c] += np.sin(2 * np.pi * f * detune * h * t) / h**1.5
    env = np.minimum(t / 0.05, 1.0) * (0.8 + 0.2 * np.cos(2 * np.pi * t * BPM / 60 / 8))
    return (0.05 * out * env).astype(np.float32)


def melody(seconds: float, sr: int) -> np.ndarray:
    """A bright lead of eighth notes (C5-G5) with vibrato: a saw's first ten harmonics."""
    n = int(seconds * sr)
    out = np.zeros(n)
    beat = 60.0 / BPM
    pitches = (523.3, 622.3, 698.5, 784.0, 698.5, 622.3)
    tn = _t(beat / 2, sr)
    for k in range(int(seconds / (beat / 2)) + 1):
        f = pitches[k % len(pitches)] * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * tn))
        phase = 2 * np.pi * np.cumsum(f) / sr
        tone = sum(np.sin(h * phase) / h for h in range(1, 11))
        env = np.minimum(tn / 0.01, 1) * np.exp(-tn / 0.2)
        _place(out, 0.15 * tone * env, int(k * beat / 2 * sr))
    return np.stack([out, out]).astype(np.float32)


def texture(seconds: float, sr: int, seed: int = 1) -> np.ndarray:
    """A quiet band-limited noise bed (vinyl-ish), independent per side."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    x = np.stack([_noise(rng, n, 300, 6000, sr) for _ in range(2)])
    return (0.05 * x).astype(np.float32)


def stems(seconds: float = 4.0, sr: int = 44100) -> dict[str, np.ndarray]:
    """The five stems of a small trap production."""
    return {
        "drums": drums(seconds, sr),
        "bass": bass_808(seconds, sr),
        "harmony": chords(seconds, sr),
        "melody": melody(seconds, sr),
        "other": texture(seconds, sr),
    }


#: A sensible engineer's chains for `stems()`: rumble filters, a little compression, faders,
#: the chords and lead panned apart, a limiter on the master.
SENSIBLE = {
    "drums": [HIGHPASS.text(2, 30), COMPRESSOR.text(4, -18, 0.01, 0.1), FADER.text(1.0)],
    "bass": [HIGHPASS.text(2, 25), LOWPASS.text(2, 5000), FADER.text(0.35)],
    "harmony": [HIGHPASS.text(2, 100), FADER.text(1.6)],
    "melody": [HIGHPASS.text(2, 200), FADER.text(0.7)],
    "other": [HIGHPASS.text(2, 300), FADER.text(0.5)],
}
PANS = {"drums": 0.5, "bass": 0.5, "harmony": 0.35, "melody": 0.65, "other": 0.5}


def script(chains: dict[str, list[str]] | None = None, pans: dict[str, float] | None = None) -> str:
    """A writer script over `stems()`'s roles (the sensible chains, with any replaced)."""
    chains = {**SENSIBLE, **(chains or {})}
    pans = {**PANS, **(pans or {})}
    return script_text(
        {role: chain_text(chains[role], PANNER.text(pans[role])) for role in SENSIBLE},
        LIMITER.text(),
    )
