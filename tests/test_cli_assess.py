"""`producer assess --stems DIR --script FILE`: the mix critic from the command line, on real
(short, synthetic) stem files and real mix scripts; its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from producer.cli import main
from producer.faust.writer import FADER, HIGHPASS
from tests.mixing import synthetic

SR = 44100


@pytest.fixture(scope="module")
def stems_dir(tmp_path_factory) -> Path:
    """The five synthetic trap stems as `<role>.wav` (24-bit, as `producer demo` writes them)."""
    folder = tmp_path_factory.mktemp("assess") / "stems"
    folder.mkdir()
    for role, audio in synthetic.stems(seconds=3.0, sr=SR).items():
        sf.write(folder / f"{role}.wav", audio.T, SR, subtype="PCM_24")
    return folder


def script_file(folder: Path, text: str, name: str = "mix.dsp") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def assess(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["assess", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_sensible_mix_prints_every_check_and_passes_the_basics(stems_dir, tmp_path, capsys):
    script = script_file(tmp_path, synthetic.script())
    code, out, err = assess(
        capsys, "--stems", str(stems_dir), "--script", str(script), "--style", "trap"
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert "5 stems" in lines[0] and "trap targets" in lines[0]
    checks = [line for line in lines if line[:1] in "✓✗"]
    assert len(checks) >= 20 and all(line.startswith("✓") for line in checks), out
    names = {line.split()[1] for line in checks}
    assert {"balance", "buried", "low_end_kept", "low_end_mono", "tonal_balance", "plr"} <= names
    assert any(
        line.split()[1] == "balance" and "bass" in line and " vs " in line for line in checks
    )
    assert lines[-1] == "basics: pass, score 1.00"


def test_a_planted_fault_fails_its_check_with_its_cause(stems_dir, tmp_path, capsys):
    cut = synthetic.script({"bass": [HIGHPASS.text(2, 400), FADER.text(0.35)]})
    script = script_file(tmp_path, cut)
    code, out, err = assess(capsys, "--stems", str(stems_dir), "--script", str(script))
    assert code == 0, err
    failed = [line for line in out.splitlines() if line.startswith("✗")]
    kept = [line for line in failed if line.split()[1] == "low_end_kept"]
    assert kept and "bass" in kept[0] and "high-pass at 400 Hz" in kept[0], out
    assert "hip-hop targets" in out.splitlines()[0]  # no style, no result.json: generic
    last = out.strip().splitlines()[-1]
    assert last.startswith("basics: fail, score 0.")


def test_json_carries_the_verdict_and_the_words_move_the_bass_target(stems_dir, tmp_path, capsys):
    script = script_file(tmp_path, synthetic.script())
    common = ["--stems", str(stems_dir), "--script", str(script), "--style", "trap", "--json"]
    reports = {}
    for words in ("heavy 808s", "light 808s"):
        code, out, err = assess(capsys, *common, "--prompt", f"trap beat with {words}")
        assert code == 0, err
        reports[words] = json.loads(out)
    heavy, light = reports["heavy 808s"], reports["light 808s"]
    assert heavy["style"] == "trap" and heavy["mix"]["style"] == "trap"
    assert [d["name"] for d in heavy["descriptors"]] == ["heavy_bass"]
    assert [d["name"] for d in light["descriptors"]] == ["light_bass"]
    mix = heavy["mix"]
    assert 0.0 <= mix["score"] <= 1.0 and isinstance(mix["passes_basics"], bool)
    assert isinstance(mix["findings"], list) and mix["checks"]

    def bass_range(report):
        (check,) = [
            c for c in report["mix"]["checks"] if c["name"] == "balance" and c["stem"] == "bass"
        ]
        return np.array(check["limit"])

    np.testing.assert_allclose(bass_range(heavy) - bass_range(light), [6.0, 6.0])


def test_a_productions_stems_are_judged_as_its_report_judged_them(
    tiny_checkpoint, one_torch_thread, tmp_path, capsys
):
    out = tmp_path / "result.wav"
    prompt = "boom bap beat with heavy 808s at 90 bpm"
    args = ["demo", "--checkpoint", str(tiny_checkpoint), "--output", str(out)]
    args += ["--duration", "3", "--candidates", "2", "--prompt", prompt, "--no-plot"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.with_suffix(".json").read_text())
    basics = "pass" if report["mix"]["passes_basics"] else "fail"
    assert f"mix critic: basics {basics}, score {report['mix']['score']:.2f}" in printed
    assert 'mix words: heavy_bass ("heavy 808s")' in printed

    code, text, err = assess(
        capsys, "--stems", str(out.with_suffix(".stems")), "--script", str(out.with_suffix(".dsp"))
    )
    assert code == 0, err
    assert "boom-bap targets (from the production's result.json)" in text.splitlines()[0]
    code, js, err = assess(
        capsys,
        "--stems",
        str(out.with_suffix(".stems")),
        "--script",
        str(out.with_suffix(".dsp")),
        "--json",
    )
    again = json.loads(js)
    assert again["prompt"] == prompt and again["descriptors"] == report["descriptors"]
    # The stems went through 24-bit files: the same verdict, to rounding.
    assert again["mix"]["passes_basics"] == report["mix"]["passes_basics"]
    assert again["mix"]["score"] == pytest.approx(report["mix"]["score"], abs=0.02)
    assert [c["name"] for c in again["mix"]["checks"]] == [
        c["name"] for c in report["mix"]["checks"]
    ]


NOT_SPLIT = (
    'import("stdfaust.lib");\n'
    "drums_process = _ : sp.panner(0.5);\n"
    "bass_process = _ : sp.panner(0.5);\n"
    "process = drums_process, bass_process : si.bus(4) :> _, _;\n"
)


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("missing folder", "no such folder"),
        ("empty folder", "no stems found"),
        ("role without a stem file", "has no vocals.wav"),
        ("stem without a chain", "has no other_process"),
        ("invalid faust", "invalid.dsp"),
        ("hostile faust", "ffunction"),
        ("not split", "cannot be soloed"),
        ("missing script", "cannot read"),
        ("unknown style", "--style"),
        ("stems without script", "go together"),
        ("file and stems", "not both"),
        ("nothing", "give a master FILE"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(stems_dir, tmp_path, capsys, case, words):
    good = script_file(tmp_path, synthetic.script())
    vocals = synthetic.script().replace("other_process", "vocals_process")
    scripts = {
        "role without a stem file": script_file(tmp_path, vocals, "vocals.dsp"),
        "stem without a chain": script_file(
            tmp_path,
            'import("stdfaust.lib");\n'
            "drums_process = _ : sp.panner(0.5);\n"
            "bass_process = _ : sp.panner(0.5);\n"
            "harmony_process = _ : sp.panner(0.5);\n"
            "melody_process = _ : sp.panner(0.5);\n"
            "process = drums_process, bass_process, harmony_process, melody_process :> _, _;\n",
            "four.dsp",
        ),
        "invalid faust": script_file(tmp_path, "process = ;\n", "invalid.dsp"),
        "hostile faust": script_file(
            tmp_path,
            'import("stdfaust.lib");\nprocess = ffunction(int rand(), <stdlib.h>, "");',
            "hostile.dsp",
        ),
    }
    two = tmp_path / "two"
    two.mkdir()
    for role in ("drums", "bass"):
        (two / f"{role}.wav").write_bytes((stems_dir / f"{role}.wav").read_bytes())
    (tmp_path / "empty").mkdir()
    given = {
        "missing folder": ["--stems", str(tmp_path / "nope"), "--script", str(good)],
        "empty folder": ["--stems", str(tmp_path / "empty"), "--script", str(good)],
        "not split": [
            "--stems",
            str(two),
            "--script",
            str(script_file(tmp_path, NOT_SPLIT, "fused.dsp")),
        ],
        "missing script": ["--stems", str(stems_dir), "--script", str(tmp_path / "no.dsp")],
        "unknown style": ["--stems", str(stems_dir), "--script", str(good), "--style", "polka"],
        "stems without script": ["--stems", str(stems_dir)],
        "file and stems": [str(good), "--stems", str(stems_dir), "--script", str(good)],
        "nothing": [],
    }
    if case in given:
        args = given[case]
    else:
        args = ["--stems", str(stems_dir), "--script", str(scripts[case])]
    code, out, err = assess(capsys, *args)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("producer assess: error:"), err
    assert words in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
