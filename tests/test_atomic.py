"""atomic_path: the target appears complete or not at all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from producer.atomic import atomic_path, replace_together


def test_success_renames_into_place(tmp_path):
    target = tmp_path / "sub" / "out.json"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("done")
        assert not target.exists()
    assert target.read_text() == "done"
    assert list(target.parent.iterdir()) == [target]


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_a_set_killed_mid_write_leaves_a_folder_the_next_write_removes(tmp_path):
    target = tmp_path / "result.wav"
    # A writer killed while it wrote its set: its staging folder stays behind.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / f".result.wav.{int(dead.stdout)}-{'0' * 32}.tmp"
    stale.mkdir()
    (stale / "result.wav").write_bytes(b"half")
    # One of a writer still running (this process) is left alone, and so is an `.old` set.
    running = tmp_path / f".result.wav.{os.getpid()}-{'1' * 32}.tmp"
    running.mkdir()
    old = tmp_path / f".result.wav.{int(dead.stdout)}-{'2' * 32}.old"
    old.mkdir()
    with replace_together([target]) as stage:
        (stage / "result.wav").write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert not stale.exists()
    assert running.is_dir() and old.is_dir()
