"""`producer demo`: the files it writes, its output modes, and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from producer.audio.analysis import estimate_tempo, tempo_matches
from producer.audio.io import save_audio
from producer.audio.loudness import integrated_loudness, true_peak_dbtp
from producer.cli import main
from producer.faust.validate import validate

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SR = 44100


@pytest.fixture(scope="module")
def ckpt(tiny_checkpoint) -> str:
    return str(tiny_checkpoint)


def companions(out):
    return [out, out.with_suffix(".dsp"), out.with_suffix(".json"), out.with_suffix(".png")]


def test_demo_writes_master_script_report_picture_and_stems(ckpt, tmp_path, capsys):
    out = tmp_path / "beat" / "result.wav"
    code = main(
        ["demo", "--checkpoint", ckpt, "--output", str(out), "--duration", "4",
         "--candidates", "2", "--seed", "7", "--prompt", "g-funk at 96 bpm"]
    )  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    assert f"wrote {out}" in captured.out and "LUFS" in captured.out
    assert "planned" in captured.err and "mix scripts written" in captured.err  # stages shown

    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (SR, 2, "PCM_24")
    audio, _ = sf.read(out, dtype="float32", always_2d=True)
    assert integrated_loudness(audio.T, SR) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_dbtp(audio.T, SR) <= -1.0 + 0.05

    report = json.loads(out.with_suffix(".json").read_text())
    assert report["plan"]["bpm"] == 96 and report["seed"] == 7
    assert [c["source"] for c in report["candidates"]] == ["model", "model", "teacher"]
    assert sum(c["chosen"] for c in report["candidates"]) == 1
    assert report["quality"]["integrated_lufs"] == pytest.approx(-14.0, abs=1.0)
    assert {"plan", "generate", "write", "render", "score", "load_model"} <= set(
        report["timings_s"]
    )
    assert "torch" in report["versions"] and "dawdreamer" in report["versions"]

    roles = [s["role"] for s in report["plan"]["stems"]]
    validate(out.with_suffix(".dsp").read_text(), roles=roles, sample_rate=SR)
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stems = out.with_suffix(".stems")
    assert sorted(p.name for p in stems.glob("*.wav")) == sorted(f"{r}.wav" for r in roles)
    assert {p.stem for p in stems.glob("*.mid")} == set(roles)  # all generated from notes
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_json_mode_prints_the_report_and_quiet_mode_one_line(ckpt, tmp_path, capsys):
    out = tmp_path / "a.wav"
    args = ["demo", "--checkpoint", ckpt, "--duration", "2", "--candidates", "1"]
    assert main([*args, "--output", str(out), "--json", "--no-plot"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["files"]["master"] == str(out) and "plot" not in report["files"]
    assert captured.err == ""
    assert not out.with_suffix(".png").exists()

    assert main([*args, "--output", str(tmp_path / "b.wav"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 1 and captured.err == ""


@pytest.mark.parametrize(
    "make_input",
    [
        lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage"),  # corrupt
        lambda p: p.write_bytes(b""),  # empty
        lambda p: p.write_text("not audio at all\n"),  # unsupported
    ],
    ids=["corrupt", "empty", "unsupported"],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(ckpt, tmp_path, capsys, make_input):
    bad = tmp_path / "song.wav"
    make_input(bad)
    out = tmp_path / "out" / "result.wav"
    code = main(["demo", "--checkpoint", ckpt, "--input", str(bad), "--output", str(out)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("producer demo: error:") and "\n" not in err and str(bad) in err
    assert not any(p.exists() for p in companions(out)) and not out.with_suffix(".stems").exists()


def test_too_long_input_is_refused_from_its_header(ckpt, tmp_path, capsys):
    long = tmp_path / "long.wav"
    with sf.SoundFile(long, "w", samplerate=8000, channels=1, subtype="PCM_16") as f:
        f.write(np.zeros(8000 * 601, np.int16))  # 601 s: over the 600 s limit
    out = tmp_path / "result.wav"
    code = main(["demo", "--checkpoint", ckpt, "--input", str(long), "--output", str(out)])
    assert code == 2 and "600" in capsys.readouterr().err
    assert not out.exists()


def test_unknown_checkpoint_and_bad_output_are_one_line_errors(tmp_path, capsys):
    out = tmp_path / "result.wav"
    assert main(["demo", "--checkpoint", str(tmp_path / "nope"), "--output", str(out)]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after "loading the model …"
    assert last.startswith("producer demo: error:") and "nope" in last and not out.exists()
    assert main(["demo", "--output", str(tmp_path / "result.mp3")]) == 2
    assert ".wav" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option, value",
    [("--duration", "0"), ("--duration", "nan"), ("--candidates", "99"), ("--seed", "-1")],
)
def test_out_of_range_options_are_refused_before_any_work(tmp_path, capsys, option, value):
    out = tmp_path / "result.wav"
    with pytest.raises(SystemExit) as exit_:
        main(["demo", option, value, "--output", str(out)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("producer demo: error: argument " + option)
    assert "loading the model" not in err[0] and not out.exists()


def test_existing_result_survives_a_failed_run(ckpt, tmp_path, capsys):
    out = tmp_path / "result.wav"
    save_audio(out, np.zeros((2, 100), np.float32), SR)
    before = out.read_bytes()
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nonsense")
    assert main(["demo", "--checkpoint", ckpt, "--input", str(bad), "--output", str(out)]) == 2
    assert out.read_bytes() == before


def test_default_demo_on_the_built_in_model(tmp_path, monkeypatch, capsys):
    """`producer demo` with no flags: the default prompt and model, the acceptance meters."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = tmp_path / "result.wav"
    audio, sr = sf.read(out, dtype="float32", always_2d=True)
    audio = audio.T
    assert integrated_loudness(audio, sr) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_dbtp(audio, sr) <= -1.0 + 0.05
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["prompt"] == "Create a dark trap beat with heavy 808s"
    assert report["plan"]["style"] == "trap"
    assert tempo_matches(estimate_tempo(audio, sr).bpm, report["plan"]["bpm"], 0.02)


def test_full_mix_without_separator_weights_is_one_line_exit_2(ckpt, tmp_path, monkeypatch, capsys):
    from producer.audio.separation import clear_separator_cache

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    clear_separator_cache()
    song = tmp_path / "song.wav"
    t = np.arange(2 * SR) / SR
    save_audio(song, np.stack([np.sin(2 * np.pi * 220 * t)] * 2).astype(np.float32) * 0.3, SR)
    out = tmp_path / "result.wav"
    args = ["demo", "--checkpoint", ckpt, "--input", str(song), "--output", str(out)]
    assert main(args) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("producer demo: error:") and "htdemucs" in last
    assert "--separator-model" in last  # says what to do
    assert not any(p.exists() for p in companions(out)) and not out.with_suffix(".stems").exists()
