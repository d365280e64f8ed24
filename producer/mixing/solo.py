"""Render a mix script once and keep every stem's own render: what the critic listens to.

    render_with_solos(script, stems, sr) → SoloRender(solos, mix, master)

A mix engineer judges a mix by soloing: each stem through its own chain, as it sits in the mix
before the master bus. The renderer (`faust.render.render`) already renders a split script
(`process = s1, s2, … :> master;`, the shape every writer script has) as one program per stem,
sums them and runs the master program on the sum (`engine.run_mix`). This module does the same
steps but keeps the per-stem outputs, so one pass gives the solos, the pre-master mix and the
master, and the master is what `render` returns for the same inputs: the same programs and the
same float32 summation order make it identical (tested to float tolerance).

Scripts that do not split into per-stem programs (a `process` that is not `[feed :] s1, s2, …
:> out`) raise `SoloRenderError`: there is no per-stem signal to take from one fused program,
and soloing by muting the other inputs would run each stem through the (non-linear) master bus,
which is not the stem "as it sits in the mix". Writer scripts always split.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from producer.audio.io import check_audio_array
from producer.audio.mastering import master as master_audio
from producer.errors import RenderError
from producer.faust.engine import program_io, run_faust, run_faust_parallel
from producer.faust.output_check import check_output
from producer.faust.render import arrange_inputs, split_mix
from producer.faust.validate import ValidatedScript, validate

__all__ = ["SoloRender", "SoloRenderError", "render_with_solos"]


class SoloRenderError(RenderError):
    """A mix script whose stems cannot be rendered one by one (it does not split per stem)."""


@dataclass(frozen=True)
class SoloRender:
    """One render of a mix script, stem by stem.

    Invariants: `mix == sum(solos.values())` (summed in script order, in float32, as the
    renderer sums), and `master` is the master program run on `mix`, then mastered.
    """

    #: role → (2, T) float32: the stem through its own chain, before the master bus.
    solos: dict[str, np.ndarray]
    #: (2, T) float32: the pre-master mix, the input of the master bus.
    mix: np.ndarray
    #: (2, T) float32: the master program on `mix`, then mastered to the target loudness
    #: (unmastered when the target was None): what `faust.render.render` returns.
    master: np.ndarray
    #: The stems' roles in script (input) order.
    roles: tuple[str, ...]
    sample_rate: int


def render_with_solos(
    script: str | ValidatedScript,
    stems: Mapping[str, np.ndarray],
    sample_rate: int,
    target_lufs: float | None = -14.0,
    *,
    ceiling_dbtp: float = -1.0,
) -> SoloRender:
    """Render `script` over `stems` (role → audio) once, keeping each stem's solo render.

    Stems are any shape `check_audio_array` accepts, padded with silence to the longest, and
    fed to the script as `render` feeds them (mono downmix or stereo pair). With
    `target_lufs=None` the master is the master program's output, unmastered.

    Raises `FaustValidationError`, `FaustCompileError`, `AudioInputError`, `RenderError` (also
    for a mastered result that is silent, mostly DC or non-finite: `faust.output_check`), and
    `SoloRenderError` for a script that does not split into per-stem programs.
    """
    text = script.code if isinstance(script, ValidatedScript) else script
    validated = validate(text, n_stems=len(stems), roles=list(stems), sample_rate=sample_rate)
    split = split_mix(validated)
    if split is None:
        raise SoloRenderError(
            "the mix script cannot be soloed: its process is not of the form "
            "`s1, s2, … :> master` (one program per stem, summed into the master bus)"
        )
    roles = validated.stem_roles
    inputs = arrange_inputs(
        [check_audio_array(stems[role], sample_rate, name=f"stem {role}") for role in roles],
        validated.channels_per_stem,
    )
    stem_codes, master_code = split
    width = validated.channels_per_stem
    programs = [(code, inputs[k * width : (k + 1) * width]) for k, code in enumerate(stem_codes)]
    # As engine.run_mix: the master compiles (if cold) on its own thread while the stems render.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="faust-master") as pool:
        master_io = pool.submit(program_io, master_code, sample_rate)
        outs = run_faust_parallel(programs, sample_rate)
    master_inputs, _ = master_io.result()
    if master_inputs != outs[0].shape[0]:
        raise RenderError(
            f"the master program takes {master_inputs} input channel(s) but the stems "
            f"output {outs[0].shape[0]}"
        )
    # Summed in the same order and precision as engine.run_mix, so the master is identical.
    bus = outs[0].copy()
    for out in outs[1:]:
        np.add(bus, out, out=bus)
    bussed = run_faust(master_code, bus, sample_rate)
    if bussed.shape[0] == 1:
        bussed = np.repeat(bussed, 2, axis=0)
    if target_lufs is None:
        final = bussed.astype(np.float32, copy=False)
    else:
        done = master_audio(bussed, sample_rate, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp)
        # The same last gate as `render`: silence, DC or non-finite audio is a RenderError.
        check_output(done.audio, sample_rate, target_lufs, done.notes, lufs=done.lufs)
        final = done.audio
    return SoloRender(
        solos={role: _stereo(out) for role, out in zip(roles, outs, strict=True)},
        mix=_stereo(bus),
        master=final,
        roles=roles,
        sample_rate=int(sample_rate),
    )


def _stereo(x: np.ndarray) -> np.ndarray:
    """(1, T) or (2, T) → (2, T) float32 (a mono bus is heard on both sides, as in render)."""
    x = np.asarray(x, dtype=np.float32)
    return np.repeat(x, 2, axis=0) if x.shape[0] == 1 else x
