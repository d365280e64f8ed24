"""A picture of a stem: waveform on top, piano roll (or drum hit grid) below.

So a person can look at what was generated without listening: where the hits fall on the grid,
which notes play, whether the level is sane. Uses matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from producer.atomic import atomic_path
from producer.generators.events import GM_DRUMS, Stem

_DRUM_ORDER = list(GM_DRUMS)


def plot_stem(stem: Stem, path: str | Path, *, title: str | None = None) -> Path:
    """Write a PNG of the stem; returns the path. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (wave_ax, roll_ax) = plt.subplots(
        2, 1, figsize=(12, 5), sharex=True, gridspec_kw={"height_ratios": [1, 2]}
    )
    sr = stem.sample_rate
    mono = stem.audio.mean(axis=0)
    # Min/max per pixel column keeps peaks visible without drawing millions of points.
    columns = min(2000, mono.size)
    edges = np.linspace(0, mono.size, columns + 1).astype(int)
    lows = np.minimum.reduceat(mono, edges[:-1])
    highs = np.maximum.reduceat(mono, edges[:-1])
    times = edges[:-1] / sr
    wave_ax.fill_between(times, lows, highs, color="#3b6ea5", linewidth=0)
    wave_ax.set_ylim(-1, 1)
    wave_ax.set_ylabel("amplitude")
    wave_ax.set_title(title or f"{stem.role} — {stem.generator} — {stem.bpm:g} bpm")

    beat = 60.0 / stem.bpm
    drums = any(ev.instrument in GM_DRUMS for ev in stem.events)
    for ev in stem.events:
        start, length = ev.start * beat, ev.duration * beat
        if drums:
            row = _DRUM_ORDER.index(ev.instrument) if ev.instrument in GM_DRUMS else len(GM_DRUMS)
            roll_ax.plot([start], [row], "s", color=plt.cm.viridis(ev.velocity), markersize=4)
        else:
            roll_ax.add_patch(
                plt.Rectangle(
                    (start, ev.pitch - 0.4), length, 0.8, color=plt.cm.viridis(ev.velocity)
                )
            )
            if ev.glide_to is not None:
                roll_ax.plot([start, start + length], [ev.pitch, ev.glide_to], color="#d04a02")
    if drums:
        roll_ax.set_yticks(range(len(_DRUM_ORDER)), _DRUM_ORDER)
        roll_ax.set_ylim(-1, len(_DRUM_ORDER))
    elif stem.events:
        pitches = [ev.pitch for ev in stem.events] + [
            ev.glide_to for ev in stem.events if ev.glide_to is not None
        ]
        roll_ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
        roll_ax.set_ylabel("MIDI pitch")
    duration = stem.audio.shape[1] / sr
    for bar_start in np.arange(0, duration, 4 * beat):
        roll_ax.axvline(bar_start, color="#999999", linewidth=0.5)
    roll_ax.set_xlim(0, duration)
    roll_ax.set_xlabel("seconds")
    fig.tight_layout()
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=80)
    finally:
        plt.close(fig)
    return path
