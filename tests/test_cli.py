"""The `producer` command as a user runs it: exit codes, one-line errors, files written or not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from producer.audio.loudness import integrated_loudness, true_peak_dbtp
from tests.conftest import SR, synth_stem
from tests.faust.test_validate import HOSTILE


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "producer.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def write_stems(folder: Path, roles, seconds: float = 3.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for role in roles:
        sf.write(folder / f"{role}.wav", synth_stem(role, seconds).T, SR, subtype="PCM_24")
    return folder


def assert_one_line_error(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "error:" in lines[0]


def test_seed_script_renders_to_a_stereo_master(tmp_path, seed_script):
    dsp = tmp_path / "mix.dsp"
    dsp.write_text(seed_script)
    stems = write_stems(tmp_path / "stems", ["bass", "drums", "melody", "harmony"])
    out = tmp_path / "out.wav"
    result = run_cli("render", "--faust", str(dsp), "--stems", str(stems), "--output", str(out))
    assert result.returncode == 0, result.stderr
    info = sf.info(out)
    assert (info.channels, info.samplerate, info.subtype) == (2, SR, "PCM_24")
    audio, _ = sf.read(out, dtype="float32", always_2d=True)
    master = audio.T
    assert abs(integrated_loudness(master, SR) - (-14.0)) <= 0.5
    assert true_peak_dbtp(master, SR) <= -1.0
    assert "LUFS" in result.stdout


def test_render_from_a_list_of_files_without_mastering(tmp_path):
    dsp = tmp_path / "mix.dsp"
    dsp.write_text(
        'import("stdfaust.lib");\n'
        "drums_process = *(0.5), *(0.5);\nbass_process = _, _;\n"
        "process = drums_process, bass_process :> _, _;\n"
    )
    stems = write_stems(tmp_path / "stems", ["drums", "bass"], seconds=1.0)
    out = tmp_path / "raw.wav"
    files = [str(stems / "drums.wav"), str(stems / "bass.wav")]
    result = run_cli(
        "render", "--faust", str(dsp), "--stems", *files, "--output", str(out), "--no-master"
    )
    assert result.returncode == 0, result.stderr
    got, _ = sf.read(out, dtype="float32", always_2d=True)
    expected = 0.5 * synth_stem("drums", 1.0) + synth_stem("bass", 1.0)
    # 24-bit quantisation of the stems and of the output bounds the difference.
    assert np.max(np.abs(got.T - expected)) < 1e-4


@pytest.mark.parametrize(
    "name",
    [
        "ffunction",
        "soundfile",
        "other import",
        "rdtable",
        "long delay",
        "recursion",
        "expansion",
        "syntax",
        "arity",
    ],
)
def test_hostile_scripts_exit_2_with_one_line_and_no_output(tmp_path, name):
    dsp = tmp_path / "evil.dsp"
    dsp.write_text(HOSTILE[name][0])
    stems = write_stems(tmp_path / "stems", ["a"], seconds=0.5)
    out = tmp_path / "out.wav"
    result = run_cli("render", "--faust", str(dsp), "--stems", str(stems), "--output", str(out))
    assert_one_line_error(result)
    assert not out.exists()
    check = run_cli("validate-faust", str(dsp))
    assert_one_line_error(check)
    assert "line" in check.stderr


def test_stem_and_script_mismatch_is_a_clear_error(tmp_path, seed_script):
    dsp = tmp_path / "mix.dsp"
    dsp.write_text(seed_script)
    stems = write_stems(tmp_path / "stems", ["bass", "drums", "melody", "vocals"], seconds=0.5)
    out = tmp_path / "out.wav"
    result = run_cli("render", "--faust", str(dsp), "--stems", str(stems), "--output", str(out))
    assert_one_line_error(result)
    assert "harmony" in result.stderr and "vocals" in result.stderr
    assert not out.exists()


def test_corrupt_stem_is_a_clear_error(tmp_path, seed_script):
    dsp = tmp_path / "mix.dsp"
    dsp.write_text(seed_script)
    stems = write_stems(tmp_path / "stems", ["bass", "drums", "melody"], seconds=0.5)
    (stems / "harmony.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    out = tmp_path / "out.wav"
    result = run_cli("render", "--faust", str(dsp), "--stems", str(stems), "--output", str(out))
    assert_one_line_error(result)
    assert "harmony.wav" in result.stderr
    assert not out.exists()


def test_validate_faust_reports_the_stems(tmp_path, seed_script):
    dsp = tmp_path / "mix.dsp"
    dsp.write_text(seed_script)
    result = run_cli("validate-faust", str(dsp), "--stems", "4")
    assert result.returncode == 0, result.stderr
    assert "4 stems (bass, drums, melody, harmony)" in result.stdout
    wrong = run_cli("validate-faust", str(dsp), "--stems", "3")
    assert_one_line_error(wrong)


def test_missing_script_file_is_a_clear_error(tmp_path):
    result = run_cli("validate-faust", str(tmp_path / "nope.dsp"))
    assert_one_line_error(result)
    assert "nope.dsp" in result.stderr


def test_assess_prints_a_report_and_json(tmp_path):
    path = tmp_path / "quiet.wav"
    sf.write(path, (0.01 * synth_stem("drums", 3.0)).T, SR)
    text = run_cli("assess", str(path))
    assert text.returncode == 0, text.stderr
    assert "LUFS" in text.stdout and "too quiet" in text.stdout
    as_json = run_cli("assess", str(path), "--json")
    report = json.loads(as_json.stdout)
    assert report["integrated_lufs"] < -30
    assert any("too quiet" in f for f in report["findings"])


def test_demo_console_script_makes_a_beat(tmp_path):
    result = run_cli("demo", "--duration", "4", "--candidates", "1", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote result.wav") and len(result.stdout.splitlines()) == 1
    for name in ("result.wav", "result.dsp", "result.json", "result.png", "result.stems"):
        assert (tmp_path / name).exists(), name


def test_faust_grammar_prints_the_ebnf():
    result = run_cli("faust-grammar")
    assert result.returncode == 0
    assert result.stdout.startswith("# The producer Faust mix language")


def test_generate_from_flags_writes_wav_midi_and_png(tmp_path):
    import mido

    out = tmp_path / "beat"
    result = run_cli(
        "generate",
        "--out-dir",
        str(out),
        "--style",
        "boom-bap",
        "--bpm",
        "92",
        "--key",
        "Eb",
        "--mode",
        "minor",
        "--roles",
        "drums,bass",
        "--duration",
        "4",
        "--seed",
        "3",
        "--midi",
        "--plot",
    )
    assert result.returncode == 0, result.stderr
    for role in ("drums", "bass"):
        info = sf.info(out / f"{role}.wav")
        assert (info.channels, info.frames, info.subtype) == (2, 4 * SR, "PCM_24")
        midi = mido.MidiFile(out / f"{role}.mid")
        notes = [m for m in midi.tracks[1] if m.type == "note_on"]
        assert notes, role
        assert all(m.channel == (9 if role == "drums" else 0) for m in notes)
        assert (out / f"{role}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plan = json.loads((out / "plan.json").read_text())
    assert (plan["key"], plan["bpm"]) == ("D#", 92.0)


def test_generate_from_a_plan_file(tmp_path):
    from tests.test_plan import EXAMPLE

    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(EXAMPLE))
    out = tmp_path / "stems"
    result = run_cli("generate", "--plan", str(plan_path), "--out-dir", str(out), "--duration", "3")
    assert result.returncode == 0, result.stderr
    # vocals come from the input: only the generated roles are written.
    assert sorted(p.name for p in out.glob("*.wav")) == ["bass.wav", "drums.wav"]


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--style", "polka"], "style"),
        (["--key", "H"], "key"),
        (["--roles", "drums,kazoo"], "role"),
        (["--roles", "vocals"], "input"),
        (["--bpm", "1000"], "bpm"),
    ],
)
def test_generate_bad_plans_exit_2_and_write_nothing(tmp_path, args, word):
    out = tmp_path / "never"
    result = run_cli("generate", "--out-dir", str(out), "--duration", "2", *args)
    assert_one_line_error(result)
    assert word in result.stderr
    assert not out.exists()
