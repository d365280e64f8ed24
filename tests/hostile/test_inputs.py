"""Hostile inputs to the `producer` command (issue 16, item 3): files that are not regular files,
oversized and odd scripts, absurd audio, unreadable files, out-of-range numbers, bad outputs.

Every case runs the real command in a subprocess with a time limit (a FIFO used to hang it
forever) and asserts the exact outcome: exit code 2, one line on stderr naming the problem, no
traceback, nothing written, and that the refusal comes quickly, before any real work.
"""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from producer.audio.io import AudioLimits, load_audio
from producer.cli import main
from producer.cli import options as cli_options
from producer.errors import AudioInputError, ProducerError
from producer.user_files import (
    MAX_SCRIPT_BYTES,
    check_output_path,
    check_regular_file,
    read_script_file,
)
from tests.conftest import SR, synth_stem

#: A refusal before any work: interpreter start-up and imports, on two busy cores.
QUICK_S = 20.0

TWO_STEMS = (
    'import("stdfaust.lib");\n'
    "drums_process = _, _;\nbass_process = _, _;\n"
    "process = drums_process, bass_process :> _, _;\n"
)


def run_cli(*args: str, cwd: Path | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """The command as a user runs it, and how long it took; a hang fails the test."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "producer.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return result, time.perf_counter() - started


def assert_refused(run: tuple[subprocess.CompletedProcess, float], *words: str) -> str:
    """Exit 2, one line on stderr with every word in it, no traceback, quickly; the line."""
    result, seconds = run
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("producer ") and ": error: " in lines[0], lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert seconds < QUICK_S, f"refused after {seconds:.1f} s"
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def stems(tmp_path) -> Path:
    folder = tmp_path / "stems"
    folder.mkdir()
    for role in ("drums", "bass"):
        sf.write(folder / f"{role}.wav", synth_stem(role, 1.0).T, SR, subtype="PCM_24")
    return folder


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "mix.dsp"
    path.write_text(TWO_STEMS)
    return path


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe.wav"
    os.mkfifo(path)
    return path


# ------------------------------------------------------------------ only regular files


def test_a_fifo_as_the_master_to_assess_is_refused(fifo):
    assert_refused(run_cli("assess", str(fifo)), str(fifo), "FIFO", "not a regular file")


def test_a_fifo_as_the_script_to_validate_is_refused(tmp_path):
    pipe = tmp_path / "mix.dsp"
    os.mkfifo(pipe)
    assert_refused(run_cli("validate-faust", str(pipe)), str(pipe), "FIFO")


def test_a_fifo_as_the_script_or_a_stem_to_render_is_refused(tmp_path, stems, script):
    pipe = tmp_path / "mix.dsp.fifo"
    os.mkfifo(pipe)
    out = tmp_path / "out.wav"
    assert_refused(
        run_cli("render", "--faust", str(pipe), "--stems", str(stems), "--output", str(out)),
        "FIFO",
    )
    os.mkfifo(stems / "melody.wav")  # a stem in the folder that is a FIFO
    assert_refused(
        run_cli("render", "--faust", str(script), "--stems", str(stems), "--output", str(out)),
        "melody.wav",
        "FIFO",
    )
    assert not out.exists()


def test_a_fifo_as_the_demo_input_is_refused_before_the_model_loads(tmp_path, fifo):
    out = tmp_path / "result.wav"
    assert_refused(run_cli("demo", "--input", str(fifo), "--output", str(out)), "FIFO")
    assert not out.exists()


def test_a_fifo_as_the_critic_script_is_refused(tmp_path, stems):
    pipe = tmp_path / "mix.dsp"
    os.mkfifo(pipe)
    assert_refused(run_cli("assess", "--stems", str(stems), "--script", str(pipe)), "FIFO")


def test_dev_zero_as_a_script_is_refused_without_reading_it():
    assert_refused(run_cli("validate-faust", "/dev/zero"), "/dev/zero", "is a device")


def test_a_folder_as_a_script_is_refused(tmp_path):
    assert_refused(run_cli("validate-faust", str(tmp_path)), "is a folder")


def test_a_path_swapped_for_a_fifo_after_the_stat_is_refused_without_blocking(
    tmp_path, monkeypatch
):
    # The stat sees a regular file; by the time it is opened the path is a FIFO. O_NONBLOCK
    # keeps the open from waiting for a writer, and fstat refuses what was opened.
    import producer.user_files as user_files

    regular = tmp_path / "ok.dsp"
    regular.write_text(TWO_STEMS)
    pipe = tmp_path / "pipe.dsp"
    os.mkfifo(pipe)
    real_stat = os.stat
    monkeypatch.setattr(
        user_files.os, "stat", lambda p, *a, **k: real_stat(regular if p == pipe else p)
    )
    started = time.perf_counter()
    with pytest.raises(ProducerError, match="FIFO"):
        read_script_file(pipe)
    assert time.perf_counter() - started < 1.0


# ---------------------------------------------------------------------------- scripts


def test_a_50_mb_script_is_refused_from_its_size_without_reading_it(tmp_path):
    big = tmp_path / "big.dsp"
    with big.open("wb") as f:  # sparse: 50 MB on paper, nothing on disk
        f.truncate(50 * 2**20)
    assert_refused(run_cli("validate-faust", str(big)), "52428800 bytes", "65536")
    tracemalloc.start()
    try:
        with pytest.raises(ProducerError, match="limit"):
            read_script_file(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes allocated to refuse it"


def test_the_script_limit_is_the_validators():
    from producer.faust.validate import MAX_SCRIPT_CHARS

    assert MAX_SCRIPT_BYTES == MAX_SCRIPT_CHARS


def test_a_script_at_the_limit_is_read_and_one_byte_over_is_not(tmp_path):
    at = tmp_path / "at.dsp"
    at.write_bytes(b"//" + b"x" * (MAX_SCRIPT_BYTES - 2))
    assert len(read_script_file(at)) == MAX_SCRIPT_BYTES
    over = tmp_path / "over.dsp"
    over.write_bytes(b"//" + b"x" * (MAX_SCRIPT_BYTES - 1))
    with pytest.raises(ProducerError, match=f"{MAX_SCRIPT_BYTES + 1} bytes"):
        read_script_file(over)


def test_a_utf8_bom_is_accepted_and_stripped(tmp_path, stems):
    dsp = tmp_path / "bom.dsp"
    dsp.write_bytes(b"\xef\xbb\xbf" + TWO_STEMS.encode())
    assert read_script_file(dsp) == TWO_STEMS
    result, _ = run_cli("validate-faust", str(dsp))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 2 stems (drums, bass)")
    out = tmp_path / "out.wav"
    result, _ = run_cli("render", "--faust", str(dsp), "--stems", str(stems), "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert sf.info(out).frames == SR


def test_a_script_that_is_not_utf8_is_one_line(tmp_path):
    dsp = tmp_path / "latin1.dsp"
    dsp.write_bytes("// café\n".encode("latin-1") + TWO_STEMS.encode())
    assert_refused(run_cli("validate-faust", str(dsp)), "not UTF-8", "0xe9", "offset 6")


# ------------------------------------------------------------------------------ audio


def _float_wav(path: Path, audio: np.ndarray) -> Path:
    sf.write(path, audio.T, SR, subtype="FLOAT")
    return path


def test_float_samples_of_1e30_are_refused(tmp_path):
    audio = synth_stem("drums", 1.0)
    audio[0, 1000] = 1e30
    path = _float_wav(tmp_path / "huge.wav", audio)
    line = assert_refused(run_cli("assess", str(path)), str(path), "beyond ±1000", "1e+30")
    assert "nan" not in line.lower()
    assert_refused(run_cli("assess", str(path), "--json"), "beyond ±1000")


def test_float_samples_up_to_the_bound_are_accepted(tmp_path):
    hot = synth_stem("drums", 1.0) * 8.0  # a float mix 18 dB over full scale: kept as it is
    path = _float_wav(tmp_path / "hot.wav", hot)
    np.testing.assert_array_equal(load_audio(path), hot)
    with pytest.raises(AudioInputError, match="beyond"):
        load_audio(path, limits=AudioLimits(max_abs=4.0))


def test_a_one_sample_input_is_refused(tmp_path, script, stems):
    one = _float_wav(tmp_path / "one.wav", np.full((2, 1), 0.5, np.float32))
    assert_refused(run_cli("assess", str(one)), "0.000 s long (1 samples)", "0.5 s")
    short = _float_wav(stems / "bass.wav", synth_stem("bass", 0.25))
    out = tmp_path / "out.wav"
    assert_refused(
        run_cli("render", "--faust", str(script), "--stems", str(stems), "--output", str(out)),
        str(short),
        "0.250 s long",
    )
    assert not out.exists()


def test_half_a_second_is_accepted(tmp_path):
    path = _float_wav(tmp_path / "half.wav", synth_stem("bass", 0.5))
    assert load_audio(path).shape == (2, SR // 2)


def test_a_permission_error_is_named_in_one_line(tmp_path, capsys, monkeypatch):
    # Tests run as root here, where chmod 000 does not stop a read: the open is made to fail
    # the way it fails for a user (the next test does it for real where it can).
    import producer.user_files as user_files

    path = _float_wav(tmp_path / "locked.wav", synth_stem("bass", 1.0))
    real_open = os.open

    def denied(p, *args, **kwargs):
        if Path(p) == path:
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(p, *args, **kwargs)

    monkeypatch.setattr(user_files.os, "open", denied)
    assert main(["assess", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"producer assess: error: {path}: cannot read: permission denied"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_says_permission_denied(tmp_path):
    path = _float_wav(tmp_path / "locked.wav", synth_stem("bass", 1.0))
    path.chmod(0)
    line = assert_refused(run_cli("assess", str(path)), "permission denied")
    assert "System error" not in line


def test_check_regular_file_names_what_the_path_is(tmp_path):
    with pytest.raises(ProducerError, match="no such file"):
        check_regular_file(tmp_path / "nope")
    with pytest.raises(AudioInputError, match="is a folder"):
        check_regular_file(tmp_path, error=AudioInputError)
    assert stat.S_ISREG(check_regular_file(__file__).st_mode)


# ------------------------------------------------------------------- numeric options


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sample-rate", "0"], ["--sample-rate", "8000..192000 Hz", "got 0 Hz"]),
        (["--sample-rate", "-1"], ["--sample-rate", "got -1 Hz"]),
        (["--sample-rate", "1e9"], ["--sample-rate", "got 1e+09 Hz"]),
        (["--sample-rate", "44100.5"], ["whole number"]),
        (["--target-lufs=-inf"], ["--target-lufs", "finite"]),
        (["--target-lufs", "inf"], ["--target-lufs", "finite"]),
        (["--target-lufs", "nan"], ["--target-lufs", "finite"]),
        (["--target-lufs", "100"], ["--target-lufs", "-40..-5 LUFS", "got 100 LUFS"]),
        (["--target-lufs", "-1000"], ["--target-lufs", "got -1000 LUFS"]),
    ],
)
def test_render_options_are_range_checked_before_any_work(tmp_path, args, words):
    out = tmp_path / "out.wav"
    # No script and no stems exist: a refusal that names the option came before any reading.
    missing = ["--faust", str(tmp_path / "none.dsp"), "--stems", str(tmp_path / "none")]
    assert_refused(run_cli("render", *missing, "--output", str(out), *args), *words)
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["assess", "x.wav", "--sample-rate", "5e7"], ["--sample-rate", "got 5e+07 Hz"]),
        (["assess", "x.wav", "--sample-rate", "0"], ["--sample-rate"]),
        (["validate-faust", "x.dsp", "--stems", "0"], ["--stems", "1..16"]),
        (["validate-faust", "x.dsp", "--sample-rate", "1"], ["--sample-rate"]),
        (["generate", "--out-dir", "g", "--duration", "0"], ["--duration", "0.5..600 s"]),
        (["generate", "--out-dir", "g", "--duration", "1e9"], ["--duration"]),
        (["generate", "--out-dir", "g", "--seed", "-1"], ["--seed"]),
        (["generate", "--out-dir", "g", "--sample-rate", "96"], ["--sample-rate"]),
        (["plan", "--duration", "-1"], ["--duration"]),
        (["plan", "--duration", "nan"], ["--duration", "finite"]),
        (["write-faust", "--stems", "s", "--candidates", "0"], ["--candidates", "1..16"]),
        (["write-faust", "--stems", "s", "--candidates", "1000"], ["--candidates"]),
        (["write-faust", "--stems", "s", "--temperature", "0"], ["--temperature"]),
        (["synth-data", "--out", "d", "--songs", "0"], ["--songs", "at least 1"]),
        (["synth-data", "--out", "d", "--duration", "inf"], ["--duration", "finite"]),
        (["faust-train", "--data-dir", "d", "--epochs", "0"], ["--epochs"]),
        (["faust-train", "--data-dir", "d", "--lr", "-1"], ["--lr"]),
        (["serve", "--port", "0"], ["--port", "1..65535"]),
        (["serve", "--port", "70000"], ["--port"]),
        (["serve", "--num-cpus", "0"], ["--num-cpus", "above 0"]),
        (["serve", "--num-cpus", "inf"], ["--num-cpus", "finite"]),
    ],
)
def test_numeric_options_of_every_command_are_range_checked(tmp_path, args, words):
    assert_refused(run_cli(*args, cwd=tmp_path), *words)
    assert list(tmp_path.iterdir()) == []


def test_the_option_ranges_are_the_librarys():
    from producer.pipeline import MAX_CANDIDATES
    from producer.plan import ProductionPlan

    limits = AudioLimits()
    assert (limits.min_rate, limits.max_rate) == cli_options.SAMPLE_RATES
    assert cli_options.DURATION_S[0] == limits.min_seconds
    assert cli_options.CANDIDATES == (1, MAX_CANDIDATES)
    bounds = {type(m).__name__: m for m in ProductionPlan.model_fields["target_lufs"].metadata}
    assert (bounds["Ge"].ge, bounds["Le"].le) == cli_options.TARGET_LUFS


def test_in_range_numbers_pass_through():
    assert cli_options.sample_rate("48000") == 48000
    assert cli_options.sample_rate("44.1e3") == 44100
    assert cli_options.target_lufs("-14") == -14.0
    assert cli_options.duration_s("0.5") == 0.5
    assert cli_options.candidates("16") == 16
    with pytest.raises(argparse.ArgumentTypeError):
        cli_options.candidates("17")


# ------------------------------------------------------------------------ output paths


def test_render_onto_an_existing_folder_is_refused_before_the_render(tmp_path, script):
    folder = tmp_path / "out.wav"
    folder.mkdir()
    # The stems do not exist: the refusal names the output, so it came first.
    run = run_cli(
        "render", "--faust", str(script), "--stems", str(tmp_path / "none"), "--output", str(folder)
    )
    assert_refused(run, "--output", "is a folder")
    assert list(folder.iterdir()) == []


def test_render_into_a_missing_folder_is_refused_before_the_render(tmp_path, script):
    out = tmp_path / "missing" / "out.wav"
    run = run_cli(
        "render", "--faust", str(script), "--stems", str(tmp_path / "none"), "--output", str(out)
    )
    assert_refused(run, "--output", f"the folder {out.parent} does not exist")
    assert not out.parent.exists()


def test_render_to_an_unknown_format_is_refused_before_the_render(tmp_path, script):
    out = tmp_path / "out.mp3"
    run = run_cli(
        "render", "--faust", str(script), "--stems", str(tmp_path / "none"), "--output", str(out)
    )
    assert_refused(run, "--output", "must end in .wav")


def test_write_faust_output_is_checked_before_the_model_loads(tmp_path):
    out = tmp_path / "missing" / "mix.dsp"
    run = run_cli("write-faust", "--stems", str(tmp_path / "none"), "--output", str(out))
    assert_refused(run, "--output", "does not exist")


def test_generate_into_a_file_is_refused(tmp_path):
    (tmp_path / "beat").write_text("a file")
    assert_refused(run_cli("generate", "--out-dir", "beat", cwd=tmp_path), "is a file")


def test_check_output_path_accepts_a_new_file_or_an_existing_one(tmp_path):
    assert check_output_path(tmp_path / "new.wav", suffixes=(".wav",)) == tmp_path / "new.wav"
    (tmp_path / "old.wav").write_bytes(b"")
    assert check_output_path(tmp_path / "old.wav") == tmp_path / "old.wav"
    with pytest.raises(ProducerError, match="is not a folder"):
        check_output_path(tmp_path / "old.wav" / "x.wav")
