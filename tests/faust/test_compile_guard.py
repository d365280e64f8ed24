"""The compile guard (issue 16): a user's script compiles first in a child process that is
stopped past a time limit, and whatever goes wrong there comes back as one line."""

from __future__ import annotations

import os
import subprocess
import time

import psutil
import pytest
import soundfile as sf

from producer.cli import main
from producer.errors import FaustCompileError
from producer.faust import compile_guard
from producer.faust.compile_guard import check_compiles
from producer.faust.validate import validate
from producer.serving.errors import http_error
from producer.serving.stages import RenderStage, warm_plan
from tests.conftest import SR, synth_stem

# Twelve chained reverbs with distinct arguments (nothing for libfaust to share): seconds to
# compile, within every validator limit, so only the guard's time limit stops it.
_REVERBS = " : ".join(f"re.mono_freeverb(0.9, 0.5, 0.2, {23 + k}) : *(0.2)" for k in range(12))
SLOW = (
    'import("stdfaust.lib");\n'
    f"drums_process = _ : {_REVERBS};\n"
    "bass_process = _ : fi.lowpass(2, 200);\n"
    "process = drums_process, bass_process :> _;\n"
)
# Far below the slow script's compile, above nothing it could finish in.
TINY_S = 0.5


@pytest.fixture
def child_pids(monkeypatch) -> list[int]:
    """The pid of every child the guard starts, recorded as it starts them."""
    pids: list[int] = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pids.append(self.pid)

    monkeypatch.setattr(compile_guard.subprocess, "Popen", Recorded)
    return pids


@pytest.fixture(autouse=True)
def _fresh_passes():
    compile_guard._PASSED.clear()  # each test runs its own child
    yield
    compile_guard._PASSED.clear()


def assert_gone(pids: list[int]) -> None:
    """Every recorded child and its process group have ended and been reaped."""
    assert pids
    for pid in pids:
        assert not psutil.pid_exists(pid), pid
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    assert psutil.Process().children(recursive=True) == []


def test_the_seed_script_passes_and_a_second_check_is_free(seed_script, child_pids):
    validated = validate(seed_script, sample_rate=SR)
    took = check_compiles(validated, SR)
    assert 0 < took < compile_guard.COMPILE_TIMEOUT_S
    assert len(child_pids) == 1
    assert check_compiles(validated, SR) == took  # remembered: no second child
    assert len(child_pids) == 1
    assert_gone(child_pids)


def test_a_slow_compile_is_stopped_with_one_line_and_no_child_left(child_pids):
    started = time.perf_counter()
    with pytest.raises(FaustCompileError) as err:
        check_compiles(validate(SLOW, sample_rate=SR), SR, timeout_s=TINY_S)
    assert time.perf_counter() - started < TINY_S + 5.0
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("the script took longer than 0.5 s to compile and was stopped")
    assert "(the validator's estimate was " in message
    assert message.endswith("use fewer reverbs and filters")
    assert_gone(child_pids)
    assert http_error(err.value).status == 422


def test_a_compile_error_in_the_child_carries_libfausts_message(child_pids):
    with pytest.raises(FaustCompileError, match=r"Faust compile error: .*undefined symbol"):
        check_compiles("process = nosuchthing;", SR)
    assert_gone(child_pids)


def test_a_child_killed_by_a_signal_is_named():
    with pytest.raises(FaustCompileError, match=r"killed by SIGKILL .*out of memory"):
        compile_guard._raise_for(-9, b"", b"")
    with pytest.raises(FaustCompileError, match="more than 4 GiB of memory"):
        compile_guard._raise_for(0, b'{"memory": true}', b"")
    compile_guard._raise_for(0, b'{"ok": true}', b"")


def test_cli_render_stops_a_slow_compile_with_exit_2(tmp_path, capsys, monkeypatch, child_pids):
    monkeypatch.setattr(compile_guard, "COMPILE_TIMEOUT_S", TINY_S)
    stems = tmp_path / "stems"
    stems.mkdir()
    for role in ("drums", "bass"):
        sf.write(stems / f"{role}.wav", synth_stem(role, 0.5).T, SR)
    (tmp_path / "slow.dsp").write_text(SLOW)
    out = tmp_path / "out.wav"
    args = ["render", "--faust", str(tmp_path / "slow.dsp"), "--stems", str(stems)]
    assert main([*args, "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("producer render: error: the script took longer than 0.5 s")
    assert not out.exists()
    assert_gone(child_pids)


def test_the_http_render_stage_guards_and_can_skip_the_guard(monkeypatch, child_pids):
    monkeypatch.setattr(compile_guard, "COMPILE_TIMEOUT_S", TINY_S)

    class Rendered(Exception):
        pass

    class FakeProducer:  # the guard runs before any render: nothing else is needed
        sample_rate = SR

        def render_and_score(self, *args, **kwargs):
            raise Rendered

    stage = RenderStage.__new__(RenderStage)
    stage.producer, stage._pool = FakeProducer(), None
    stems = {"drums": synth_stem("drums", 0.5), "bass": synth_stem("bass", 0.5)}
    with pytest.raises(FaustCompileError, match=r"took longer than 0\.5 s"):
        stage.render_script(SLOW, stems, warm_plan(), "prompt")
    assert_gone(child_pids)
    with pytest.raises(Rendered):
        stage.render_script(SLOW, stems, warm_plan(), "prompt", compile_guard=False)
