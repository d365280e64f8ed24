"""Hostile cases for the server's result store: private modes, a folder of the user's own.

Results hold a user's prompt, song and stems: 0700 folders and 0600 files whatever the umask;
a store folder that another user owns or may write into is refused with one clear error; the
default folder is in the user's runtime or cache folder, not a predictable name in /tmp.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest

from producer.errors import OutputError
from producer.serving import store as store_module
from producer.serving.store import ResultStore

SR = 8000
OTHER_UID = 65534  # nobody


@pytest.fixture
def loose_umask():
    before = os.umask(0o002)  # the most open umask a desktop session commonly has
    yield
    os.umask(before)


def put(store: ResultStore):
    audio = np.zeros((2, SR // 4), np.float32)
    return store.put({"prompt": "p"}, audio, SR, {"drums": audio, "bass": audio})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_results_are_private_whatever_the_umask(tmp_path, loose_umask):
    store = ResultStore(tmp_path / "store", ttl_s=60)
    stored = put(store)
    assert mode(store.root) == 0o700
    inside = [stored.folder, *stored.folder.rglob("*")]
    assert {p.name for p in inside} >= {"master.wav", "result.json", "stems", "drums.wav"}
    for path in inside:
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    again = store.put({"prompt": "p"}, np.zeros((2, SR // 4), np.float32), SR, stems_from=stored)
    assert {mode(p) for p in again.folder.rglob("*") if p.is_file()} == {0o600}  # re-render


def test_a_result_being_written_is_private_too(tmp_path, loose_umask):
    store = ResultStore(tmp_path / "store", ttl_s=60)
    pending = store.begin()
    try:
        assert mode(pending.tmp) == 0o700 and mode(pending.tmp / "stems") == 0o700
    finally:
        pending.abort(wait_writes=True)


def test_an_own_folder_that_others_may_read_is_tightened(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    root.chmod(0o755)  # a store made by an earlier version
    ResultStore(root, ttl_s=60)
    assert mode(root) == 0o700


@pytest.mark.parametrize("loose", [0o777, 0o770, 0o702, 0o1777])
def test_a_folder_others_may_write_into_is_refused(tmp_path, loose):
    root = tmp_path / "store"
    root.mkdir()
    root.chmod(loose)
    with pytest.raises(OutputError) as caught:
        ResultStore(root, ttl_s=60)
    message = str(caught.value)
    assert message.startswith(f"will not keep results in {root}: its group or other users may")
    assert f"(mode {loose:04o})" in message and "\n" not in message
    assert list(root.iterdir()) == [] and mode(root) == loose  # untouched


def foreign(path: Path, monkeypatch) -> None:
    """Make `path` another user's: chown as root, else pretend this process is someone else."""
    if os.geteuid() == 0:
        os.chown(path, OTHER_UID, OTHER_UID)
    else:
        uid = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: uid + 1)


def test_a_folder_another_user_owns_is_refused(tmp_path, monkeypatch):
    root = tmp_path / "store"
    root.mkdir(mode=0o700)
    owner = root.stat().st_uid if os.geteuid() != 0 else OTHER_UID
    foreign(root, monkeypatch)
    with pytest.raises(OutputError) as caught:
        ResultStore(root, ttl_s=60)
    message = str(caught.value)
    assert message.startswith(f"will not keep results in {root}: it belongs to uid {owner}")
    assert "choose another store dir" in message and list(root.iterdir()) == []


def test_a_link_to_another_users_folder_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "theirs"
    target.mkdir(mode=0o700)
    foreign(target, monkeypatch)
    link = tmp_path / "producer-results-0"
    link.symlink_to(target)
    with pytest.raises(OutputError, match=f"will not keep results in {target}: it belongs to"):
        ResultStore(link, ttl_s=60)


def test_a_file_in_place_of_the_folder_is_refused(tmp_path):
    (tmp_path / "store").write_text("not a folder")
    with pytest.raises(OutputError, match="it is not a folder"):
        ResultStore(tmp_path / "store", ttl_s=60)


def test_the_default_folder_is_the_users_runtime_folder(tmp_path, monkeypatch):
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert store_module.default_store_dir() == runtime / "producer-results"


def test_without_a_runtime_folder_the_default_is_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert store_module.default_store_dir() == tmp_path / "cache" / "producer" / "results"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    default = store_module.default_store_dir()
    assert default == tmp_path / "home" / ".cache" / "producer" / "results"
    store = ResultStore(default, ttl_s=60)  # created, private
    assert mode(store.root) == 0o700


def test_a_runtime_folder_of_someone_else_is_not_used(tmp_path, monkeypatch):
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    foreign(runtime, monkeypatch)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    default = store_module.default_store_dir()
    assert default == tmp_path / "cache" / "producer" / "results"
    assert not str(default).startswith(tempfile.gettempdir() + "/producer-results")
