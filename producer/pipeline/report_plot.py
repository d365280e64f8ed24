"""The picture of one result (`result.png`): stems, master, spectrogram, loudness and the plan.

So a person can judge a render at a glance: which stems play where and how hot, whether the
master clips, where the energy sits in frequency, and whether loudness sits on the target.
Everything is reduced to about one value per pixel column before matplotlib sees it (min/max
envelopes, max-pooled spectrogram frames), so the cost is mostly matplotlib's own: 0.5-0.9 s
for 30 s with 5 stems, 1.6-3 s for 3 minutes with 8 (2 busy cores; imports not counted).
Uses matplotlib's Agg backend (no display).

Text from outside (the prompt in the title and the plan, stem names) is drawn as it is written:
never parsed as mathtext (a prompt with `$` would otherwise fail or turn into maths) nor sent to
TeX, whatever the user's matplotlibrc says, and a character the font lacks is drawn as a box
without a warning.
"""

from __future__ import annotations

import math
import textwrap
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from producer.atomic import atomic_path
from producer.audio.loudness import (
    integrated_loudness_from_power,
    k_weighted_power,
    short_term_loudness_from_power,
)

__all__ = ["plot_result", "role_colour"]

FIGSIZE = (14.0, 10.0)  # inches; the figure grows taller only past 8 stems
DPI = 100
LOUDNESS_FLOOR_LUFS = -70.0  # silence (-inf) is drawn here: BS.1770's absolute gate
_COLUMNS = 1200  # time columns drawn: about the plot's width in pixels at DPI
_BANDS = 160  # log-frequency rows of the spectrogram
_F_MIN = 30.0  # Hz; below this a 2048-point frame at 44.1 kHz has no resolution anyway
_DB_RANGE = (-100.0, 0.0)  # spectrogram colour range, dBFS (a full-scale sine reads 0)
_SHORT_TERM_S, _MOMENTARY_S, _HOP_S = 3.0, 0.4, 0.1  # EBU Tech 3341 windows, 10 Hz updates
_TEXT_PT = 8.0  # side panel font size; a monospace glyph is 0.6 em wide, a line 1.2 em tall
# Every Text that shows outside words: drawn literally (no mathtext, no TeX).
_LITERAL = {"parse_math": False, "usetex": False}

# The plan's roles (producer.plan.ROLES) keep their colour from one picture to the next.
_ROLE_COLOURS = {
    "drums": "#d04a02",
    "bass": "#3b6ea5",
    "melody": "#2a9d4b",
    "harmony": "#8e5ac8",
    "vocals": "#c2327a",
    "other": "#7a7a7a",
}
_SPARE_COLOURS = ("#b8860b", "#1f9e9e", "#6b8e23", "#a0522d", "#4682b4", "#9932cc")


def role_colour(role: str) -> str:
    """A stable colour per role: fixed for the plan's roles, hashed (not random) otherwise."""
    return _ROLE_COLOURS.get(role) or _SPARE_COLOURS[zlib.crc32(role.encode()) % 6]


def _fit(audio: np.ndarray, length: int) -> np.ndarray:
    """``audio`` as float32 (2, length): mono is doubled, extra length trimmed, short padded."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.shape[0] == 1:
        x = np.repeat(x, 2, axis=0)
    x = x[:2, :length]
    if x.shape[1] < length:
        x = np.pad(x, ((0, 0), (0, length - x.shape[1])))
    return x


def _draw_wave(ax, audio: np.ndarray, edges: np.ndarray, sample_rate: int, colour: str) -> None:
    """Fill between the min and max (over both channels) of each column of samples.

    Column ``i`` is ``[edges[i], edges[i+1])``; the last value is repeated at the final edge so
    the stepped fill reaches the audio's end.
    """
    lows = np.minimum.reduceat(audio, edges[:-1], axis=1).min(axis=0)
    highs = np.maximum.reduceat(audio, edges[:-1], axis=1).max(axis=0)
    times = edges / sample_rate
    lows, highs = np.append(lows, lows[-1]), np.append(highs, highs[-1])
    ax.fill_between(times, lows, highs, color=colour, linewidth=0, step="post")


class _Bands:
    """Log-spaced frequency bands over the bins of an ``n_fft``-point FFT.

    A band reads the largest bin power inside it, so a tone shows at its level (less the
    window's scalloping, at most 1.4 dB for Hann) however wide the band; averaging would dim
    it by the band's width. A band narrower than the bin spacing (the low end) holds no bin;
    it reads the power interpolated linearly at its centre instead of leaving a hole.
    """

    def __init__(self, n_fft: int, sample_rate: int):
        freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
        self.edges = np.geomspace(_F_MIN, sample_rate / 2, _BANDS + 1)
        first_bin = np.searchsorted(freqs, self.edges)  # first bin at or above each edge
        counts = np.diff(first_bin)
        self.full = np.flatnonzero(counts > 0)
        self.starts = first_bin[self.full]
        self.stop = first_bin[-1]  # bins from here (Nyquist) on lie outside every band
        self.empty = np.flatnonzero(counts == 0)
        centres = np.sqrt(self.edges[self.empty] * self.edges[self.empty + 1]) * n_fft
        centres /= sample_rate  # in bins
        left = np.minimum(centres.astype(int), freqs.size - 2)
        frac = np.minimum(centres - left, 1.0)
        self.interp = np.zeros((freqs.size, self.empty.size), np.float32)
        self.interp[left, np.arange(left.size)] = 1.0 - frac
        self.interp[left + 1, np.arange(left.size)] = frac

    def __call__(self, power: np.ndarray) -> np.ndarray:
        """(frames, bins) power to (frames, bands)."""
        out = np.empty((power.shape[0], _BANDS), power.dtype)
        # Bands are contiguous, so each full band's bins run up to the next full band's start.
        out[:, self.full] = np.maximum.reduceat(power[:, : self.stop], self.starts, axis=1)
        out[:, self.empty] = power @ self.interp
        return out


def _spectrogram(mono: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Log-frequency spectrogram in dBFS (bands, columns), the band edges (Hz), its end (s).

    Hann frames of ~46 ms at half overlap, centred on their times; consecutive frames are
    max-pooled down to at most ``_COLUMNS`` so a drum hit stays visible however long the song.
    Computed in chunks of columns to keep memory flat for long audio.
    """
    import scipy.fft

    n_fft = 2 ** max(4, round(math.log2(0.046 * sample_rate)))
    hop = n_fft // 2
    padded = np.pad(mono, (n_fft // 2, n_fft // 2 + n_fft))
    n_frames = max(1, -(-mono.size // hop))
    group = -(-n_frames // _COLUMNS)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]
    window = np.hanning(n_fft).astype(np.float32)
    # Amplitude scale: a full-scale sine's peak bin reads 0 dB (|X| = A * sum(w) / 2).
    scale = np.float32(2.0 / window.sum())
    bands = _Bands(n_fft, sample_rate)
    starts = np.arange(0, n_frames, group)
    columns = []
    chunk = group * max(1, 256 // group)  # frames per chunk, a whole number of groups
    for lo in range(0, n_frames, chunk):
        spec = scipy.fft.rfft(frames[lo : lo + chunk] * window, axis=1)
        power = np.square(np.abs(spec) * scale)
        group_starts = starts[(starts >= lo) & (starts < lo + chunk)] - lo
        columns.append(bands(np.maximum.reduceat(power, group_starts, axis=0)))
    power = np.concatenate(columns).T
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(power)
    # Column j pools the frames centred in [j, j + 1) * group * hop: the image ends there,
    # a little past the audio's end, and the shared x limits crop it.
    return np.clip(db, *_DB_RANGE), bands.edges, len(starts) * group * hop / sample_rate


def _loudness_curves(audio: np.ndarray, sample_rate: int):
    """Short-term and momentary loudness (LUFS, floored) with their window-centre times.

    Short-term comes from the project meter; momentary uses the same K-weighted power with
    400 ms windows every 100 ms (EBU "M"). One K-weighting pass feeds both and the integrated
    value. Audio shorter than a window gives one value over its whole length.
    """
    power = k_weighted_power(audio, sample_rate)
    n = power.size
    duration = n / sample_rate
    short = short_term_loudness_from_power(power, sample_rate)
    if n < round(_SHORT_TERM_S * sample_rate):
        short_t = np.array([duration / 2])
    else:
        short_t = np.arange(short.size) * _HOP_S + _SHORT_TERM_S / 2
    window = round(_MOMENTARY_S * sample_rate)
    if n < window:
        momentary = np.array([power.mean()])
        mom_t = np.array([duration / 2])
    else:
        hop = round(_HOP_S * sample_rate)
        starts = np.arange(0, n - window + 1, hop)
        cumulative = np.concatenate([[0.0], np.cumsum(power)])
        momentary = (cumulative[starts + window] - cumulative[starts]) / window
        mom_t = (starts + window / 2) / sample_rate
    with np.errstate(divide="ignore"):
        momentary = -0.691 + 10.0 * np.log10(np.maximum(momentary, 0.0))  # BS.1770 offset
    integrated = integrated_loudness_from_power(power, sample_rate)
    floor = LOUDNESS_FLOOR_LUFS
    return (
        (short_t, np.maximum(short, floor)),
        (mom_t, np.maximum(momentary, floor)),
        integrated,
    )


def _plan_lines(plan_text: str, columns: int, rows: int) -> str:
    """The plan wrapped to ``columns`` characters, cut (with a marker) to ``rows`` lines."""
    columns, rows = max(columns, 10), max(rows, 2)
    lines: list[str] = []
    for raw in plan_text.expandtabs(4).splitlines() or [""]:
        indent = " " * min(len(raw) - len(raw.lstrip(" ")) + 2, columns // 2)
        lines.extend(textwrap.wrap(raw, columns, subsequent_indent=indent) or [""])
    if len(lines) > rows:
        lines = [*lines[: rows - 1], f"… ({len(lines) - rows + 1} more lines)"]
    return "\n".join(lines)


def _peak_label(audio: np.ndarray) -> tuple[float, str]:
    """The sample peak and a short label for it ("-6.0 dBFS", "silent")."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    return peak, (f"{20 * math.log10(peak):.1f} dBFS" if peak > 0 else "silent")


def plot_result(
    stems: Mapping[str, np.ndarray],
    master: np.ndarray,
    sample_rate: int,
    plan_text: str,
    path: str | Path,
    *,
    title: str | None = None,
    target_lufs: float = -14.0,
) -> Path:
    """Write the result picture as a PNG at ``path`` (atomically) and return the path.

    ``stems`` maps role to (2, T) audio (mono (T,) is accepted) at ``sample_rate``; each is
    trimmed or zero-padded to the master's length, so every panel shares one time axis. Rows,
    top to bottom: one waveform per stem (in mapping order, scaled to its own peak, which the
    label gives), the master's waveform (fixed at ±1 full scale so clipping shows), its
    log-frequency spectrogram, and its short-term (3 s) and momentary (400 ms) loudness
    against ``target_lufs``, floored at -70 LUFS for silence. The plan text sits in a
    monospace side panel. The figure is 14 x 10 in at 100 dpi (1400 x 1000 px), taller by
    0.6 in per stem beyond 8.
    """
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context({"text.usetex": False}), warnings.catch_warnings():
        # A prompt's emoji or CJK is drawn as a box; matplotlib would warn once per glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        return _draw(stems, master, sample_rate, plan_text, Path(path), title, target_lufs)


def _draw(
    stems: Mapping[str, np.ndarray],
    master: np.ndarray,
    sample_rate: int,
    plan_text: str,
    path: Path,
    title: str | None,
    target_lufs: float,
) -> Path:
    """`plot_result`'s body, under its matplotlib settings."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    sample_rate = int(sample_rate)
    master_arr = np.asarray(master, dtype=np.float32)
    # An empty master still gets a (silent, one-sample) picture rather than a crash.
    length = max(1, master_arr.shape[-1])
    master_arr = _fit(master_arr, length)
    stem_arrs = {role: _fit(audio, length) for role, audio in stems.items()}
    duration = length / sample_rate

    columns = min(_COLUMNS, length)
    edges = np.linspace(0, length, columns + 1).astype(int)

    n_stems = len(stem_arrs)
    height = FIGSIZE[1] + 0.6 * max(0, n_stems - 8)
    # Relative row heights: up to 8 stems share a fixed share of the page (so the master,
    # spectrogram and loudness keep their size); past 8 each stem adds its own 0.6 in.
    stem_row = 0.55 if n_stems > 8 else min(0.9, 4.2 / max(n_stems, 1))
    ratios = [stem_row] * n_stems + [1.3, 2.2, 1.6]
    fig = plt.figure(figsize=(FIGSIZE[0], height), dpi=DPI)
    grid = fig.add_gridspec(
        len(ratios),
        2,
        width_ratios=[3.3, 1],
        height_ratios=ratios,
        left=0.075,
        right=0.985,
        bottom=0.055,
        top=0.94,
        wspace=0.09,
        hspace=0.12,
    )
    try:
        axes = []
        for row, (role, audio) in enumerate(stem_arrs.items()):
            ax = fig.add_subplot(grid[row, 0], sharex=axes[0] if axes else None)
            _draw_wave(ax, audio, edges, sample_rate, role_colour(role))
            peak, label = _peak_label(audio)
            limit = peak * 1.05 if peak > 0 else 1.0
            ax.set_ylim(-limit, limit)
            ax.set_yticks([])
            ax.xaxis.set_visible(False)  # ticks only on the shared panels: skips drawing them
            ax.set_ylabel(
                f"{role}\n{label}", rotation=0, ha="right", va="center", fontsize=8, **_LITERAL
            )
            axes.append(ax)

        master_ax = fig.add_subplot(grid[n_stems, 0], sharex=axes[0] if axes else None)
        _draw_wave(master_ax, master_arr, edges, sample_rate, "#222222")
        _, label = _peak_label(master_arr)
        master_ax.axhline(1.0, color="#cc0000", linewidth=0.5)
        master_ax.axhline(-1.0, color="#cc0000", linewidth=0.5)
        master_ax.set_ylim(-1.1, 1.1)
        master_ax.set_yticks([-1, 0, 1])
        master_ax.tick_params(labelsize=7)
        master_ax.set_ylabel(f"master\n{label}", rotation=0, ha="right", va="center", fontsize=8)
        axes.append(master_ax)

        spec_ax = fig.add_subplot(grid[n_stems + 1, 0], sharex=master_ax)
        db, band_edges, spec_end = _spectrogram(master_arr.mean(axis=0), sample_rate)
        # imshow cannot draw on a log axis, so the y axis is log10(Hz) and ticks say Hz.
        image = spec_ax.imshow(
            db,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=_DB_RANGE[0],
            vmax=_DB_RANGE[1],
            extent=(0, spec_end, math.log10(band_edges[0]), math.log10(band_edges[-1])),
            interpolation="nearest",
        )
        ticks = (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
        ticks = [f for f in ticks if band_edges[0] <= f <= band_edges[-1]]
        spec_ax.set_yticks([math.log10(f) for f in ticks])
        spec_ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _: f"{10**v / 1000:g}k" if 10**v >= 1000 else f"{10**v:.0f}")
        )
        spec_ax.tick_params(labelsize=7)
        spec_ax.set_ylabel("master\nHz", rotation=0, ha="right", va="center", fontsize=8)
        bar_ax = spec_ax.inset_axes([1.005, 0.0, 0.008, 1.0])
        bar = fig.colorbar(image, cax=bar_ax)
        bar.ax.tick_params(labelsize=6)
        bar.set_label("dBFS", fontsize=7)
        axes.append(spec_ax)

        loud_ax = fig.add_subplot(grid[n_stems + 2, 0], sharex=master_ax)
        (short_t, short), (mom_t, mom), integrated = _loudness_curves(master_arr, sample_rate)
        momentary_style = dict(color="#9ab0c8", lw=0.7, label="momentary (400 ms)")
        short_style = dict(color="#1f4e79", lw=1.6, label="short-term (3 s)")
        for times_, values, window_s, style in (
            (mom_t, mom, _MOMENTARY_S, momentary_style),
            (short_t, short, _SHORT_TERM_S, short_style),
        ):
            if values.size == 1:  # one window (or a clip shorter than one): show its span
                loud_ax.hlines(values, 0, min(duration, window_s), **style)
            else:
                loud_ax.plot(times_, values, **style)
        loud_ax.axhline(target_lufs, color="#2a9d4b", linestyle="--", linewidth=1.0)
        loud_ax.plot([], [], color="#2a9d4b", linestyle="--", label=f"target {target_lufs:g}")
        finite = np.concatenate([short, mom])
        low = max(LOUDNESS_FLOOR_LUFS, min(target_lufs - 18.0, float(finite.min()) - 3.0))
        high = max(target_lufs + 6.0, float(finite.max()) + 3.0)
        loud_ax.set_ylim(low, high)
        loud_ax.set_ylabel("LUFS", rotation=0, ha="right", va="center", fontsize=8)
        loud_ax.tick_params(labelsize=7)
        integrated_text = f"{integrated:.1f} LUFS" if math.isfinite(integrated) else "silent"
        loud_ax.legend(
            loc="best",
            fontsize=7,
            ncol=3,
            framealpha=0.8,
            title=f"integrated {integrated_text}",
            title_fontsize=7,
        )
        loud_ax.set_xlabel("seconds", fontsize=8)
        loud_ax.set_xlim(0, duration)
        axes.append(loud_ax)
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)

        text_ax = fig.add_subplot(grid[:, 1])
        text_ax.axis("off")
        # Wrap to what the panel holds, measured in points; the 0.08 in margin leaves room
        # for the colour bar's labels that reach into the gap on the left.
        box = text_ax.get_position()
        width_pt = (box.width * FIGSIZE[0] - 0.08) * 72
        height_pt = box.height * height * 72
        text_ax.text(
            0.08 / (box.width * FIGSIZE[0]),
            1.0,
            _plan_lines(
                plan_text, int(width_pt / (0.6 * _TEXT_PT)), int(height_pt / (1.2 * _TEXT_PT))
            ),
            family="monospace",
            fontsize=_TEXT_PT,
            **_LITERAL,
            va="top",
            ha="left",
            transform=text_ax.transAxes,
        )
        fig.suptitle(
            title
            or f"producer result — {duration:.1f} s, {n_stems} stem{'' if n_stems == 1 else 's'},"
            f" {sample_rate} Hz",
            fontsize=12,
            **_LITERAL,
        )
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=DPI)
    finally:
        plt.close(fig)
    return path
