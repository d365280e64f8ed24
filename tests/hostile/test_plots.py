"""Hostile text in the result picture: a prompt is drawn as written, and a picture that fails
costs only the picture (`producer demo` still writes the audio and exits 0 with a warning)."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from producer.cli import main
from producer.pipeline.report_plot import plot_result
from tests.hostile.test_results import fake_producer, made  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SR = 8000
PROMPTS = [
    r"trap $\frac$ money",  # not valid mathtext: matplotlib raised ValueError after the work
    "$x$ and $y$",  # valid mathtext: would be drawn as italic maths, not as typed
    "$$$ cash $$",
    r"\mathrm{$ ^_ %",
    "🔥 trap 北京",  # glyphs the font lacks: a box, without a warning per glyph
    "\x00 nul \\ backslash",
]


@pytest.fixture
def drawn_texts(monkeypatch):
    """Every Text of every figure saved while the test runs, as (text, parse_math, usetex)."""
    seen: list[tuple[str, bool, bool]] = []
    savefig = Figure.savefig

    def spy(fig, *args, **kwargs):
        for text in fig.findobj(Text):
            seen.append((text.get_text(), text.get_parse_math(), text.get_usetex()))
        return savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return seen


@pytest.mark.parametrize("prompt", PROMPTS)
def test_prompt_and_names_are_drawn_literally(tmp_path, drawn_texts, prompt):
    audio = np.zeros((2, SR // 2), np.float32)
    path = tmp_path / "p.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no glyph warnings either
        plot_result({"dr$ums": audio}, audio, SR, f"prompt: {prompt}", path, title=prompt)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    outside = [t for t in drawn_texts if "$" in t[0] or prompt in t[0]]
    assert {t[0] for t in outside} >= {prompt, f"prompt: {prompt}", "dr$ums\nsilent"}
    assert all(not parse_math and not usetex for _, parse_math, usetex in outside), outside


def test_a_matplotlibrc_asking_for_tex_is_overridden(tmp_path):
    """TeX is not installed here; a user's `text.usetex: True` must not break the picture."""
    audio = np.zeros((2, SR // 2), np.float32)
    with matplotlib.rc_context({"text.usetex": True}):
        plot_result({"drums": audio}, audio, SR, "prompt: 50% $5", tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 0


def test_demo_with_a_dollar_prompt_writes_everything(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "result.wav"
    args = ["demo", "--checkpoint", str(tiny_checkpoint), "--output", str(out), "--quiet"]
    assert main([*args, "--duration", "1", "--candidates", "1", "--prompt", PROMPTS[0]]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.startswith(f"wrote {out}")
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["prompt"] == PROMPTS[0] and report["warnings"] == []


def test_a_failing_picture_never_loses_the_audio(fake_producer, tmp_path, monkeypatch, capsys):  # noqa: F811
    def broken(*args, **kwargs):
        raise ValueError("\nmathtext: bad\n    ^\nParseFatalException")  # 4 lines, as matplotlib

    monkeypatch.setattr("producer.pipeline.report_plot.plot_result", broken)
    out = tmp_path / "result.wav"
    (tmp_path / "result.png").write_bytes(b"an older picture")
    assert main(["demo", "--output", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    warning = (
        f"{out.with_suffix('.png')} not drawn (ValueError: mathtext: bad); the audio and the "
        "report are written"
    )
    assert captured.err == f"producer demo: warning: {warning}\n"
    assert captured.out.startswith(f"wrote {out}")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["result.dsp", "result.json", "result.stems", "result.wav"]  # old png gone
    assert json.loads(out.with_suffix(".json").read_text())["warnings"] == [warning]

    assert main(["demo", "--output", str(out), "--json"]) == 0  # --json: in the report too
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["warnings"] == [warning] and "plot" not in report["files"]
    assert captured.err == f"producer demo: warning: {warning}\n"


def test_the_servers_picture_of_a_dollar_prompt(made, tmp_path):  # noqa: F811
    """The web page's plot.png draws the stored prompt as its title (it answered 500)."""
    from producer.serving.store import ResultStore
    from producer.serving.web import _plot_file

    store = ResultStore(tmp_path / "store", ttl_s=60)
    record = {**made.summary(), "prompt": PROMPTS[0]}
    record["stems"] = [{"role": r, "generator": s.generator} for r, s in made.stems.items()]
    stems = {role: s.audio for role, s in made.stems.items()}
    found = store.get(store.put(record, made.master, made.sample_rate, stems).id)
    path = _plot_file(store, found)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
