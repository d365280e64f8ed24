"""The output check after every render (issue 16, item 2): no NaN/Inf, no DC, not silent, and a
master that misses its loudness target says why; the product's own renders always pass.

Hostile results end in one line and exit code 2 (HTTP 422) with nothing written; legitimate
ones (quiet stems mastered to -14 LUFS, a deliberately dynamic master) are written as before.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from producer.audio.loudness import integrated_loudness
from producer.audio.mastering import master
from producer.errors import RenderError
from producer.faust.output_check import MAX_DC_SHARE, check_output
from producer.faust.render import render, render_checked
from producer.faust.validate import validate
from tests.conftest import SR, synth_stem
from tests.hostile.test_inputs import assert_refused, run_cli

HEAD = 'import("stdfaust.lib");\ndrums_process = _, _;\nbass_process = _, _;\n'
PASS = HEAD + "process = drums_process, bass_process :> _, _;\n"


def with_master(master_process: str) -> str:
    return (
        HEAD
        + f"master_process = {master_process};\n"
        + ("process = drums_process, bass_process :> master_process;\n")
    )


def chained(block: str, n: int) -> str:
    one = " : ".join([block] * n)
    return with_master(f"({one}), ({one})")


SILENT = with_master("*(0), *(0)")
# Under the validator's static DC bound (0.01), but over stems 40 dB down the mastering gain
# turns it into a master that is nearly all offset: only the output check can see it.
SMALL_DC = with_master("+(0.009), +(0.009)")


def stems(level: float = 1.0, seconds: float = 2.0) -> dict[str, np.ndarray]:
    return {r: level * synth_stem(r, seconds) for r in ("drums", "bass")}


def dynamic_stems() -> dict[str, np.ndarray]:
    """Five seconds of a pad 50 dB down, then one drum hit: no limiter makes that -14 LUFS."""
    drums = np.zeros((2, 6 * SR), np.float32)
    hit = synth_stem("drums", 0.5)
    drums[:, 5 * SR : 5 * SR + hit.shape[1]] = hit
    return {"drums": drums, "bass": 0.003 * synth_stem("harmony", 6.0)}


# --------------------------------------------------------------------- the pure check


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_refused(bad):
    audio = synth_stem("drums", 1.0)
    audio[1, SR // 2] = bad
    with pytest.raises(RenderError, match=r"1 NaN or infinite samples .*channel 1 at 0\.500 s"):
        check_output(audio, SR, -14.0)


def test_the_chained_offset_signature_is_refused_as_dc():
    # What 50 chained +(1) mastered to: an offset of 0.88 under music 37 LU below the target.
    audio = (0.88 + 0.005 * synth_stem("drums", 2.0)).astype(np.float32)
    with pytest.raises(RenderError, match=r"mostly DC: a constant offset of \+0\.88") as info:
        check_output(audio, SR, -14.0)
    assert "fi.dcblocker" in str(info.value) and "\n" not in str(info.value)


def test_pure_dc_is_dc_not_silence():
    with pytest.raises(RenderError, match="mostly DC"):
        check_output(np.full((2, SR), -0.5, np.float32), SR)


@pytest.mark.parametrize("level", [0.0, 1e-5])
def test_silence_is_refused(level):
    with pytest.raises(RenderError, match="silent or too quiet to master"):
        check_output(level * synth_stem("bass", 2.0), SR, -14.0)


def test_a_master_is_let_through_with_its_measurements():
    mix = synth_stem("drums", 3.0) + synth_stem("bass", 3.0) + synth_stem("harmony", 3.0)
    done = master(mix, SR, target_lufs=-14.0)
    check = check_output(done.audio, SR, -14.0, done.notes)
    assert abs(check.lufs + 14.0) < 0.1
    assert check.dc_share < MAX_DC_SHARE / 10
    assert check.notes == ()


def test_a_missed_target_says_why():
    quiet = 0.1 * synth_stem("melody", 2.0)
    assert check_output(quiet, SR).notes == ()  # a raw mix has no target to miss
    generic = check_output(quiet, SR, -9.0).notes
    assert len(generic) == 1 and "missed the loudness target" in generic[0]
    given = ("missed the target: the limiter saturates",)
    assert check_output(quiet, SR, -9.0, given).notes == given


def test_an_asymmetric_short_808_is_not_dc():
    # A half-second kick is far from symmetric (its mean is -26 dBFS at -9 LUFS) yet music.
    kick = synth_stem("drums", 0.5)
    done = master(kick, SR, target_lufs=-9.0)
    assert check_output(done.audio, SR, -9.0, done.notes).dc_share < MAX_DC_SHARE


# ------------------------------------------------------------------------ the render path


def test_a_silent_master_is_refused_by_render():
    with pytest.raises(RenderError, match="silent"):
        render(SILENT, stems(), SR, target_lufs=-14.0)
    with pytest.raises(RenderError, match="silent"):
        render_checked(SILENT, stems(), SR, target_lufs=None)
    # A raw mix is an intermediate (fitting, the teacher): silence is a valid answer there.
    assert not np.any(render(SILENT, stems(), SR, target_lufs=None))


def test_dc_the_validator_cannot_see_is_refused_by_render():
    validate(SMALL_DC, roles=("drums", "bass"), sample_rate=SR)  # passes the static bound
    with pytest.raises(RenderError, match="mostly DC"):
        render(SMALL_DC, stems(0.01), SR, target_lufs=-14.0)


def test_quiet_stems_are_mastered_to_the_target():
    out = render_checked(PASS, stems(0.01), SR, target_lufs=-14.0)  # stems 40 dB down
    assert abs(out.check.lufs + 14.0) < 0.2
    assert out.check.notes == ()


def test_a_very_dynamic_master_is_kept_and_says_why_it_is_quiet():
    out = render_checked(PASS, dynamic_stems(), SR, target_lufs=-14.0)
    assert out.check.lufs < -14.5
    assert any("limiter saturates" in note for note in out.check.notes)


def test_the_products_own_renders_pass():
    from producer.data.synth import draw_song, draw_stems
    from producer.faust.writer import random_script
    from producer.plan import STYLES

    rng = np.random.default_rng(16)
    for k, style in enumerate(STYLES):
        draw = draw_song(np.random.default_rng(k), style)
        made = draw_stems(draw, (0.5, 2.0)[k % 2], SR)
        for level, target in ((1.0, -9.0), (0.01, -14.0)):
            audio = {role: level * a for role, a in made.items()}
            script = random_script(list(draw.roles), rng, SR)
            out = render(script, audio, SR, target_lufs=target)
            assert math.isfinite(integrated_loudness(out, SR))


def test_render_errors_are_http_422():
    from producer.serving.errors import http_error

    assert http_error(RenderError("the render is silent")).status == 422


# -------------------------------------------------------------------------- the command


@pytest.fixture
def stem_dir(tmp_path) -> Path:
    folder = tmp_path / "stems"
    folder.mkdir()
    return folder


def _write(folder: Path, audio: dict[str, np.ndarray]) -> Path:
    for role, a in audio.items():
        sf.write(folder / f"{role}.wav", a.T, SR, subtype="FLOAT")
    return folder


def _render(tmp_path: Path, text: str, folder: Path, *extra: str):
    dsp = tmp_path / "mix.dsp"
    dsp.write_text(text)
    out = tmp_path / "out.wav"
    args = ["render", "--faust", str(dsp), "--stems", str(folder), "--output", str(out)]
    return run_cli(*args, *extra), out


@pytest.mark.parametrize("extra", [[], ["--no-master"]])
def test_a_silent_result_is_not_written(tmp_path, stem_dir, extra):
    run, out = _render(tmp_path, SILENT, _write(stem_dir, stems()), *extra)
    assert_refused(run, "silent")
    assert not out.exists()


def test_a_result_that_is_mostly_dc_is_not_written(tmp_path, stem_dir):
    run, out = _render(tmp_path, SMALL_DC, _write(stem_dir, stems(0.01)))
    assert_refused(run, "mostly DC")
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "name"),
    [(chained("+(1)", 50), "50 chained +(1)"), (chained("*(16)", 32), "32 chained *(16)")],
)
def test_the_measured_hostile_scripts_write_nothing(tmp_path, stem_dir, text, name):
    # Today the validator's budget refuses both; the output check stands behind it.
    run, out = _render(tmp_path, text, _write(stem_dir, stems()))
    assert_refused(run)
    assert not out.exists(), name


def test_quiet_stems_render_to_a_master_at_the_target(tmp_path, stem_dir):
    (result, _), out = _render(tmp_path, PASS, _write(stem_dir, stems(0.01)))
    assert result.returncode == 0, result.stderr
    assert "-14.0 LUFS" in result.stdout
    assert result.stderr == ""
    audio, _ = sf.read(out, always_2d=True)
    assert abs(integrated_loudness(audio.T, SR) + 14.0) < 0.2


def test_a_dynamic_master_is_written_with_a_note(tmp_path, stem_dir):
    (result, _), out = _render(tmp_path, PASS, _write(stem_dir, dynamic_stems()))
    assert result.returncode == 0, result.stderr
    assert out.exists()
    notes = result.stderr.strip().splitlines()
    assert notes and all(n.startswith("producer render: note: ") for n in notes)
    assert any("limiter saturates" in n for n in notes)
