"""Writing a production to disk: the files `producer demo` leaves beside `--output`.

For `--output result.wav`:

    result.wav      the master, 24-bit PCM
    result.dsp      the Faust mix script that made it (re-render it with `producer render`)
    result.json     plan, quality report, the mix critic's verdict and the prompt's mix words,
                    every candidate's scores, timings, versions, seed
    result.png      stem waveforms, spectrogram, loudness over time, the plan as text
    result.stems/   every stem as <role>.wav, and <role>.mid where it was generated from notes

The set is all or nothing. It is written into a hidden folder beside the master and renamed
into place at the end (`atomic.replace_together`), the master last, so a `result.wav` on disk
always has its own report beside it. An old set of the same name is replaced whole (a `result.png`
left from an earlier run goes too when no picture is drawn) or, when anything fails (a full disk,
a read-only folder), left exactly as it was; nothing new stays behind and the failure is one
`OutputError`. A picture that cannot be drawn costs only the picture: it is reported as a
warning, also in `result.json`'s "warnings". Files and folders follow the umask.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from producer.atomic import explain_write_failure, replace_together
from producer.audio import io as audio_io
from producer.errors import OutputError
from producer.generators.midi import save_midi
from producer.pipeline import report_plot

__all__ = ["check_output", "companion_paths", "plan_text", "write_result"]

log = logging.getLogger("producer.result_files")

# Renamed into place in this order: the master last, so it never appears before its report.
_ORDER = ("script", "report", "plot", "stems", "master")
_WAV_HEADER = 44  # bytes before the samples of a plain WAV file
_FULL_OR_READ_ONLY = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)  # a write fails, not a picture


def companion_paths(output: str | os.PathLike) -> dict[str, Path]:
    """Every path `write_result` writes for this master path."""
    out = Path(output)
    return {
        "master": out,
        "script": out.with_suffix(".dsp"),
        "report": out.with_suffix(".json"),
        "plot": out.with_suffix(".png"),
        "stems": out.with_suffix(".stems"),
    }


def plan_text(result) -> str:
    """The plan and the verdict as a few lines of text (the picture's side panel)."""
    p, q = result.plan, result.quality
    lines = [
        f"prompt: {result.prompt}",
        f"style:  {p.style}" + (f" ({', '.join(p.mood)})" if p.mood else ""),
        f"tempo:  {p.bpm:g} bpm",
        f"key:    {p.key} {p.mode}",
        f"length: {result.duration:.1f} s   seed {result.seed}",
        "stems:",
        *(f"  {role:8s} {s.generator or 'input'}" for role, s in result.stems.items()),
        "",
        f"loudness:  {q.integrated_lufs:.1f} LUFS",
        f"true peak: {q.true_peak_dbtp:.1f} dBTP",
        f"score:     {q.score:.2f}" if q.score is not None else "score:     -",
        _critic_line(getattr(result, "mix", None)),
        "candidates (score, critic, findings):",
        *(
            f" {'*' if c.chosen else ' '} {c.score:.2f}  {_critic_score(c)}  {len(c.findings)}"
            for c in result.candidates
        ),
    ]
    if q.findings:
        lines += ["findings:", *(f"  {f}" for f in q.findings)]
    return "\n".join(lines)


def _critic_line(mix) -> str:
    """The mix critic's verdict in one line (`mix`: a `MixVerdict`, its `to_dict()`, or None)."""
    if mix is None:
        return "critic:    -"
    if isinstance(mix, dict):
        score, basics = mix["score"], mix["passes_basics"]
    else:
        score, basics = mix.score, mix.passes_basics
    return f"critic:    {score:.2f}, basics {'pass' if basics else 'fail'}"


def _critic_score(candidate) -> str:
    score = getattr(candidate, "critic_score", None)
    return f"{score:.2f}" if score is not None else "  - "


def check_output(output: str | os.PathLike) -> None:
    """Raise `OutputError` unless the result set can be written at `output`: the nearest folder
    on its path that exists is a folder this process may write into, and no companion that is
    a file sits where a folder is (a folder is never deleted to make room for a file). Cheap:
    run it before the work, so a read-only folder is reported in a second, not after a render.
    """
    paths = companion_paths(output)
    out = paths["master"]
    for key, path in paths.items():
        if key != "stems" and path.is_dir() and not path.is_symlink():
            raise OutputError(f"cannot write {out}: {path} is a folder; move it or choose another")
    folder = out.parent
    while not os.path.lexists(folder) and folder.parent != folder:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {out}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        code = errno.EROFS if os.statvfs(folder).f_flag & os.ST_RDONLY else errno.EACCES
        raise OutputError(f"cannot write {out}: {os.strerror(code)} ({folder})")


def write_result(
    result,
    output: str | os.PathLike,
    *,
    plot: bool = True,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write the master and its companions as one set (see the module docstring); returns the
    paths written. A picture that fails is passed to `warn` (default: this module's logger) and
    left out of the paths. Raises `OutputError` (nothing changed on disk) when the set cannot
    be written."""
    warn = warn or log.warning
    check_output(output)
    paths = companion_paths(output)
    out = paths["master"]
    warnings: list[str] = []
    try:
        with replace_together([paths[key] for key in _ORDER]) as stage:
            staged = {key: stage / path.name for key, path in paths.items()}
            _write_stems(result, staged["stems"])
            staged["script"].write_text(result.script + "\n")
            if plot:
                problem = _draw(result, staged["plot"], paths["plot"])
                if problem is not None:
                    warnings.append(problem)
                    warn(problem)
            report = result.summary()
            report["warnings"] = warnings
            staged["report"].write_text(json.dumps(report, indent=2) + "\n")
            _save_wav(staged["master"], result.master, result.sample_rate)
    except OSError as err:
        reason = err.strerror or str(err)
        raise OutputError(f"cannot write {out}: {reason}; nothing was changed") from None
    if not plot or warnings:
        paths.pop("plot")
    return paths


def _write_stems(result, folder: Path) -> None:
    """Every stem as <role>.wav, and <role>.mid where it was generated from notes."""
    folder.mkdir()
    for role, stem in result.stems.items():
        _save_wav(folder / f"{role}.wav", stem.audio, result.sample_rate)
        if stem.events:
            save_midi(folder / f"{role}.mid", stem.events, stem.bpm)


def _save_wav(path: Path, audio, sample_rate: int) -> None:
    """`save_audio` (24-bit PCM), with libsndfile's errno-less "System error." turned into the
    OSError it stands for (full disk, read-only folder)."""
    try:
        # Read at call time, as `producer.audio.io.save_audio` (tests replace it there).
        audio_io.save_audio(path, audio, sample_rate)
    except sf.LibsndfileError as err:
        size = _WAV_HEADER + 3 * int(np.size(audio))  # 24-bit samples, every channel
        raise explain_write_failure(err, path.parent, size) from err


def _draw(result, path: Path, shown: Path) -> str | None:
    """Draw the picture at `path`; on any failure the warning to give (about `shown`, the name
    the user knows) instead of an exception: a picture is never worth the audio."""
    try:
        audio = {role: s.audio for role, s in result.stems.items()}
        # Read at call time, as `producer.pipeline.report_plot.plot_result` (tests replace it).
        report_plot.plot_result(audio, result.master, result.sample_rate, plan_text(result), path)
    except OSError as err:
        if err.errno in _FULL_OR_READ_ONLY:
            raise  # the folder's fault, not the picture's: the rest would fail the same way
        return _warning(shown, err)
    except Exception as err:  # matplotlib's failures are many and none of them matter here
        return _warning(shown, err)
    return None


def _warning(shown: Path, err: Exception) -> str:
    """One line saying the picture `shown` was not drawn, and why."""
    first = next((line for line in str(err).splitlines() if line.strip()), "")
    detail = f"{type(err).__name__}: {first.strip()[:200]}" if first else type(err).__name__
    return f"{shown} not drawn ({detail}); the audio and the report are written"
