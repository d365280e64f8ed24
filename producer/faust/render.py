"""Render a mix script over stems into a stereo master.

    validate (allowlist, channels, routing) → arrange the stems as the script's inputs →
    libfaust via DawDreamer (`engine.py`) → mono master duplicated to stereo → mastering
    (target loudness, true-peak ceiling) → the output check (`output_check.py`: no NaN/Inf,
    no DC, not silent; a missed loudness target gets a note saying why)

`render` returns the master's audio; `render_checked` also returns what the check measured and
its notes, for callers that show them to a user (the CLI). A mastered render is always checked.
A raw mix (`target_lufs=None`) is an intermediate that fitting, the teacher and the tests
analyse, where silence is a legitimate answer, so `render` leaves it unchecked beyond the
engine's NaN/Inf and runaway checks; `render_checked` checks it too, for a raw mix that goes to
a user (`producer render --no-master`).

Stems are matched to the script by role: `stems["bass"]` feeds `bass_process`. Input channels
follow the order in which the stems' processes appear in `process`; a script with one input per
stem gets each stem as a mono downmix (as in the seed example), a script with two gets it as a
stereo pair.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from producer.audio.io import check_audio_array
from producer.audio.mastering import master
from producer.faust.ast import Call, Chain, Expr, Ref, Route, Wire
from producer.faust.engine import run_faust, run_mix
from producer.faust.output_check import OutputCheck, check_output
from producer.faust.validate import ValidatedScript, channels, validate

Stems = Mapping[str, np.ndarray] | Sequence[np.ndarray]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedRender:
    """A render that passed the output check, and what the check found."""

    # (2, T) float32: the master (or the raw mix when no target was given).
    audio: np.ndarray
    # Loudness, peak, DC share and notes (e.g. why the loudness target was missed).
    check: OutputCheck


def render(
    script: str | ValidatedScript,
    stems: Stems,
    sample_rate: int = 44100,
    *,
    target_lufs: float | None = -14.0,
    ceiling_dbtp: float = -1.0,
) -> np.ndarray:
    """Mix `stems` with a Faust mix script and return the (2, T) float32 master.

    `stems` maps roles to audio ((T,), (2, T) or (T, 2) float arrays at `sample_rate`), or is a
    sequence given in the script's stem order. Stems of different lengths are padded with
    silence to the longest. With `target_lufs=None` the raw mix is returned unmastered and
    unchecked; a master goes through `output_check.check_output` (notes are logged).
    Raises `FaustValidationError`, `FaustCompileError`, `AudioInputError` or `RenderError`
    (also for a master that is silent, mostly DC or non-finite).
    """
    mix = _mix(script, stems, sample_rate)
    if target_lufs is None:
        return mix.astype(np.float32, copy=False)
    return _mastered(mix, sample_rate, target_lufs, ceiling_dbtp).audio


def render_checked(
    script: str | ValidatedScript,
    stems: Stems,
    sample_rate: int = 44100,
    *,
    target_lufs: float | None = -14.0,
    ceiling_dbtp: float = -1.0,
) -> CheckedRender:
    """`render` for a result that goes to a user: the output is checked even when it is a raw
    mix (`target_lufs=None`), and the check's measurements and notes come back with the audio.

    Raises as `render`, and `RenderError` for a raw mix that is silent, mostly DC or
    non-finite.
    """
    mix = _mix(script, stems, sample_rate)
    if target_lufs is None:
        audio = mix.astype(np.float32, copy=False)
        return CheckedRender(audio, check_output(audio, sample_rate))
    return _mastered(mix, sample_rate, target_lufs, ceiling_dbtp)


def _mastered(
    mix: np.ndarray, sample_rate: int, target_lufs: float, ceiling_dbtp: float
) -> CheckedRender:
    """Master the mix and check the result (the mastering's notes say why a target is missed)."""
    done = master(mix, sample_rate, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp)
    check = check_output(done.audio, sample_rate, target_lufs, done.notes, lufs=done.lufs)
    for note in check.notes:
        log.info("render: %s", note)
    return CheckedRender(done.audio, check)


def _mix(script: str | ValidatedScript, stems: Stems, sample_rate: int) -> np.ndarray:
    """The script's raw (2, T) mix of the stems: validate, arrange, run (split when it can)."""
    if isinstance(stems, Mapping):
        roles = list(stems)
        validated = _validated(script, len(roles), roles, sample_rate)
        ordered = [stems[role] for role in validated.stem_roles]
    else:
        validated = _validated(script, len(stems), None, sample_rate)
        ordered = list(stems)
    names = validated.stem_roles
    inputs = arrange_inputs(
        [
            check_audio_array(a, sample_rate, name=f"stem {n}")
            for a, n in zip(ordered, names, strict=True)
        ],
        validated.channels_per_stem,
    )
    split = split_mix(validated)
    if split is None:
        mix = run_faust(validated.code, inputs, sample_rate)
    else:
        stem_codes, master_code = split
        width = validated.channels_per_stem
        programs = [
            (code, inputs[k * width : (k + 1) * width]) for k, code in enumerate(stem_codes)
        ]
        mix = run_mix(programs, master_code, sample_rate)
    if mix.shape[0] == 1:
        mix = np.repeat(mix, 2, axis=0)
    return mix


def _validated(
    script: str | ValidatedScript, n_stems: int, roles: list[str] | None, sample_rate: int
) -> ValidatedScript:
    if isinstance(script, ValidatedScript):
        # Re-validate the canonical text: cheap, and it checks these stems and this rate.
        script = script.code
    return validate(script, n_stems=n_stems, roles=roles, sample_rate=sample_rate)


def arrange_inputs(stems: Sequence[np.ndarray], channels_per_stem: int) -> np.ndarray:
    """Stack (2, T) stems into the script's input channels, padding to the longest stem."""
    length = max(s.shape[1] for s in stems)
    inputs = np.zeros((len(stems) * channels_per_stem, length), dtype=np.float32)
    for k, stem in enumerate(stems):
        if channels_per_stem == 1:
            inputs[k, : stem.shape[1]] = stem.mean(axis=0)
        else:
            inputs[2 * k : 2 * k + 2, : stem.shape[1]] = stem
    return inputs


def _program(expr: Expr) -> str:
    return f'import("stdfaust.lib");\n\nprocess = {expr.to_faust()};\n'


def _is_identity(expr: Expr) -> bool:
    if isinstance(expr, Wire):
        return True
    if isinstance(expr, Call):
        return expr.name == "si.bus"
    return (
        isinstance(expr, Chain) and expr.op == "," and all(isinstance(i, Wire) for i in expr.items)
    )


def split_mix(validated: ValidatedScript) -> tuple[list[str], str] | None:
    """Split `process = [feed :] s1, s2, … :> out;` into one program per stem plus a master.

    This is the shape nearly every mix script has (the seed's included). The stems, most of the
    work, then render concurrently (`engine.run_mix`, ~1.5× faster on two cores) and their
    outputs are summed, which is exactly what Faust's merge `:>` does when each stem's outputs
    are a multiple of the bus width. Returns None for any other shape; those render as one
    program.
    """
    script, proc = validated.script, validated.script.process
    if not (isinstance(proc, Route) and len(proc.steps) == 1 and proc.steps[0][0] == ":>"):
        return None
    stems_part, out = proc.first, proc.steps[0][1]
    if isinstance(stems_part, Chain) and stems_part.op == ":" and len(stems_part.items) == 2:
        feed, stems_part = stems_part.items
        if not _is_identity(feed):
            return None
    refs = (
        stems_part.items
        if isinstance(stems_part, Chain) and stems_part.op == ","
        else (stems_part,)
    )
    if not all(isinstance(r, Ref) and r.name != "master_process" for r in refs):
        return None
    bus, _ = channels(out, script)
    codes = []
    for ref in refs:
        expr = script.definition(ref.name).expr
        _, outs = channels(expr, script)
        if outs % bus:
            return None
        if outs != bus:
            expr = Route(expr, ((":>", Call("si.bus", (float(bus),))),))
        codes.append(_program(expr))
    if isinstance(out, Ref):
        master = script.definition(out.name).expr
    elif _is_identity(out):
        master = Call("si.bus", (float(bus),))
    else:
        master = out
    return codes, _program(master)
