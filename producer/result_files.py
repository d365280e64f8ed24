"""Writing a production to disk: the files `producer demo` leaves beside `--output`.

For `--output result.wav`:

    result.wav      the master, 24-bit PCM
    result.dsp      the Faust mix script that made it (re-render it with `producer render`)
    result.json     plan, quality report, the mix critic's verdict and the prompt's mix words,
                    every candidate's scores, timings, versions, seed
    result.png      stem waveforms, spectrogram, loudness over time, the plan as text
    result.stems/   every stem as <role>.wav, and <role>.mid where it was generated from notes

Everything is written to temporary names first and renamed into place at the end, the master
last, so an interrupted write never leaves a half-written file, and a `result.wav` on disk always
has its report beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from producer.atomic import atomic_path

__all__ = ["companion_paths", "plan_text", "write_result"]


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


def write_result(result, output: str | os.PathLike, *, plot: bool = True) -> dict[str, Path]:
    """Write the master and its companions (see the module docstring); returns their paths."""
    from producer.audio.io import save_audio
    from producer.generators.midi import save_midi
    from producer.report_plot import plot_result

    paths = companion_paths(output)
    out = paths["master"]
    out.parent.mkdir(parents=True, exist_ok=True)
    sr = result.sample_rate

    # The stems go to a temporary folder that replaces the old one in one rename at the end.
    stems_tmp = Path(tempfile.mkdtemp(prefix=f".{out.stem}.stems.", dir=out.parent))
    try:
        for role, stem in result.stems.items():
            save_audio(stems_tmp / f"{role}.wav", stem.audio, sr)
            if stem.events:
                save_midi(stems_tmp / f"{role}.mid", stem.events, stem.bpm)
        with atomic_path(paths["script"]) as tmp:
            Path(tmp).write_text(result.script + "\n")
        with atomic_path(paths["report"]) as tmp:
            Path(tmp).write_text(json.dumps(result.summary(), indent=2) + "\n")
        if plot:
            audio = {role: s.audio for role, s in result.stems.items()}
            plot_result(audio, result.master, sr, plan_text(result), paths["plot"])
        else:
            paths.pop("plot")
        old = paths["stems"]
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
        os.replace(stems_tmp, old)
    except BaseException:
        shutil.rmtree(stems_tmp, ignore_errors=True)
        raise
    save_audio(out, result.master, sr)  # last: a master on disk always has its report
    return paths
