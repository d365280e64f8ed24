"""Hostile cases for `producer demo`'s result files: all or nothing, and modes under the umask.

A full disk and a read-only folder end in one line and exit 2 with nothing new on disk and an
old result of the same name exactly as it was; a new set replaces an old one whole. The real
file-system cases mount a tiny tmpfs (root only) and are skipped elsewhere; the same failures
are also injected into the writer so every machine runs them.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest

from producer import atomic
from producer.cli import main
from producer.errors import OutputError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NAMES = ("result.wav", "result.dsp", "result.json", "result.png", "result.stems")


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def made(tiny_checkpoint):
    """One real production (1 s, one candidate) that the demo runs below write again."""
    from producer.pipeline import Producer

    return Producer(tiny_checkpoint).produce("dark trap", duration=1.0, candidates=1, seed=0)


@pytest.fixture
def fake_producer(made, monkeypatch):
    """`producer demo` without the model: `produce` hands back `made` (counted in `calls`)."""

    class FakeProducer:
        calls = 0

        def __init__(self, *args, **kwargs):
            self.checkpoint = "fake"
            self.sample_rate = made.sample_rate

        def produce(self, *args, **kwargs):
            FakeProducer.calls += 1
            return copy.copy(made)

    monkeypatch.setattr("producer.pipeline.Producer", FakeProducer)
    return FakeProducer


@pytest.fixture
def umask():
    """Set the umask for one test (`umask(0o077)`); the old one comes back after."""
    before = os.umask(0o022)

    def set_(mask: int) -> None:
        os.umask(mask)

    yield set_
    os.umask(before)


def demo(out: Path, *extra: str) -> int:
    return main(["demo", "--output", str(out), "--quiet", *extra])


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("producer demo: error: ") and "Traceback" not in err
    assert "internal error" not in err
    return lines[0]


def old_set(folder: Path) -> dict[str, bytes]:
    """Write an older result set (different length, a stem role the new one lacks) in
    `folder`; returns every file's bytes by relative path."""
    from producer.audio.io import save_audio

    folder.mkdir(parents=True, exist_ok=True)
    save_audio(folder / "result.wav", np.zeros((2, 100), np.float32), 44100)
    (folder / "result.dsp").write_text("old script\n")
    (folder / "result.json").write_text('{"old": true}\n')
    (folder / "result.png").write_bytes(b"old picture")
    (folder / "result.stems").mkdir()
    (folder / "result.stems" / "vocals.wav").write_bytes(b"old stem")
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones included) by relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def tiny_fs(tmp_path):
    """Mount a tmpfs of the given size at a fresh folder (root only; skipped otherwise)."""
    mounted: list[Path] = []

    def mount(size: str, name: str = "fs") -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a tiny file system needs root")
        where = tmp_path / name
        where.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
            capture_output=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


# ------------------------------------------------------------------- full disk, read-only


def test_full_disk_is_one_line_exit_2_and_nothing_new_is_left(fake_producer, tiny_fs, capsys):
    fs = tiny_fs("600k")  # the new set needs ~1.4 MB: the stems fill it
    out = fs / "beat" / "result.wav"
    assert demo(out) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == f"producer demo: error: cannot write {out}: No space left on device; " + (
        "nothing was changed"
    )
    assert tree(fs) == []  # not even the folder made for it


def test_full_disk_leaves_the_old_set_exactly_as_it_was(fake_producer, tiny_fs, capsys):
    fs = tiny_fs("1m")
    before = old_set(fs)
    assert demo(fs / "result.wav") == 2
    assert "No space left on device" in one_error_line(capsys.readouterr().err)
    assert snapshot(fs) == before and tree(fs) == sorted([*before, "result.stems"])


def test_read_only_folder_is_refused_before_the_work(fake_producer, tiny_fs, capsys):
    fs = tiny_fs("1m")
    before = old_set(fs)
    subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
    assert demo(fs / "result.wav") == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == f"producer demo: error: cannot write {fs / 'result.wav'}: Read-only file " + (
        f"system ({fs})"
    )
    assert fake_producer.calls == 0  # said before the model ran, not after
    assert snapshot(fs) == before


def test_folder_without_write_permission_is_refused_before_the_work(
    fake_producer, tmp_path, capsys
):
    if os.geteuid() == 0:
        pytest.skip("root writes into any folder whatever its mode")
    folder = tmp_path / "locked"
    before = old_set(folder)
    folder.chmod(0o555)
    try:
        assert demo(folder / "result.wav") == 2
    finally:
        folder.chmod(0o755)
    assert "Permission denied" in one_error_line(capsys.readouterr().err)
    assert fake_producer.calls == 0 and snapshot(folder) == before


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EIO])
def test_a_failing_master_write_keeps_the_old_set_whole(
    fake_producer, tmp_path, monkeypatch, capsys, code
):
    """The master is written last: every companion is already staged when it fails."""
    import producer.audio.io as io

    save_audio = io.save_audio

    def failing(path, *args, **kwargs):
        if Path(path).name == "result.wav":
            raise OSError(code, os.strerror(code))
        return save_audio(path, *args, **kwargs)

    before = old_set(tmp_path)
    monkeypatch.setattr(io, "save_audio", failing)
    assert demo(tmp_path / "result.wav") == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.endswith(f": {os.strerror(code)}; nothing was changed")
    assert snapshot(tmp_path) == before and tree(tmp_path) == sorted([*before, "result.stems"])


def test_a_full_disk_while_drawing_is_an_error_not_a_warning(
    fake_producer, tmp_path, monkeypatch, capsys
):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("producer.pipeline.report_plot.plot_result", full)
    before = old_set(tmp_path)
    assert demo(tmp_path / "result.wav") == 2
    assert "No space left on device" in one_error_line(capsys.readouterr().err)  # no warning
    assert snapshot(tmp_path) == before


def test_libsndfile_system_error_is_explained(fake_producer, tmp_path, monkeypatch, capsys):
    """libsndfile says only "System error."; the cause is read back from the folder."""
    import soundfile as sf

    import producer.audio.io as io

    def fails(*args, **kwargs):
        raise sf.LibsndfileError(2, "Error opening 'x': ")  # 2: SF_ERR_SYSTEM

    monkeypatch.setattr(io.sf, "write", fails)
    monkeypatch.setattr("shutil.disk_usage", lambda _: type("U", (), {"free": 1000})())
    assert demo(tmp_path / "result.wav") == 2
    assert "No space left on device" in one_error_line(capsys.readouterr().err)
    assert tree(tmp_path) == []


def test_a_folder_in_place_of_a_companion_is_refused_and_kept(fake_producer, tmp_path, capsys):
    (tmp_path / "result.json").mkdir()
    (tmp_path / "result.json" / "keep").write_text("mine")
    assert demo(tmp_path / "result.wav") == 2
    assert "result.json is a folder" in one_error_line(capsys.readouterr().err)
    assert fake_producer.calls == 0 and tree(tmp_path) == ["result.json", "result.json/keep"]


# ------------------------------------------------------------------------- sets, renames


def test_a_new_set_replaces_the_old_one_whole(fake_producer, tmp_path, capsys):
    old_set(tmp_path)
    assert demo(tmp_path / "result.wav", "--no-plot") == 0
    # No picture this time: the old one goes with the rest of the old set.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(NAMES) - {"result.png"})
    stems = sorted(p.name for p in (tmp_path / "result.stems").iterdir())
    assert "vocals.wav" not in stems and "drums.wav" in stems
    report = json.loads((tmp_path / "result.json").read_text())
    assert report["prompt"] == "dark trap" and report["warnings"] == []


def test_a_failure_while_renaming_puts_the_old_set_back(tmp_path, monkeypatch):
    before = old_set(tmp_path)
    targets = [tmp_path / n for n in ("result.dsp", "result.json", "result.png", "result.stems")]
    rename = os.rename
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 6:  # four old entries moved out, one new one in, then a failure
            raise OSError(errno.EIO, "Input/output error")
        rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", flaky)
    with pytest.raises(OSError, match="Input/output"), atomic.replace_together(targets) as stage:
        for target in targets[:3]:
            (stage / target.name).write_text("new")
        (stage / "result.stems").mkdir()
    assert snapshot(tmp_path) == before and tree(tmp_path) == sorted([*before, "result.stems"])


def test_a_failed_set_removes_the_folders_it_made(tmp_path):
    out = tmp_path / "new" / "deeper"
    with pytest.raises(RuntimeError), atomic.replace_together([out / "a.json"]) as stage:
        (stage / "a.json").write_text("half")
        raise RuntimeError("failed")
    assert tree(tmp_path) == []


def test_write_result_raises_output_error_not_os_error(made, tmp_path, monkeypatch):
    from producer.pipeline.result_files import write_result

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("producer.audio.io.save_audio", full)
    with pytest.raises(OutputError, match="No space left on device; nothing was changed"):
        write_result(made, tmp_path / "x" / "result.wav", plot=False)
    assert tree(tmp_path) == []


# ---------------------------------------------------------------------------------- modes


def modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.lstat().st_mode) for p in folder.rglob("*")}


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"),
    [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700), (0o002, 0o664, 0o775)],
)
def test_every_result_file_follows_the_umask(
    fake_producer, tmp_path, umask, mask, file_mode, dir_mode
):
    umask(mask)
    out = tmp_path / "made" / "result.wav"
    assert demo(out) == 0
    got = modes(out.parent)
    assert {".mid", ".wav"} <= {Path(name).suffix for name in got}  # stems and their notes
    assert got == {name: dir_mode if (out.parent / name).is_dir() else file_mode for name in got}, (
        got
    )
    assert stat.S_IMODE(out.parent.stat().st_mode) == dir_mode  # the folder made for it


def test_atomic_path_follows_the_umask(tmp_path, umask):
    for mask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        umask(mask)
        target = tmp_path / f"{mask:o}.json"
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("{}")
        assert stat.S_IMODE(target.stat().st_mode) == mode
