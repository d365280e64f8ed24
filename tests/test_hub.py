"""The one hub-cache resolver: huggingface_hub's cache, read offline, for every pretrained model."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from producer.errors import ModelNotFoundError
from producer.hub import cached_file, cached_snapshot, hub_cache_dir, resolve_pretrained


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the hub resolver tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _cache(root: Path, repo_id: str, commit: str, files: dict[str, str], main: bool = True):
    """Lay files out as huggingface_hub caches a download of `repo_id` (blobs + symlinks)."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, text in files.items():
        blob = repo / "blobs" / f"{commit}-{name}"
        blob.write_text(text)
        os.symlink(blob, snap / name)
    if main:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
    return snap


def test_the_cache_directory_follows_the_environment_at_each_call(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "a"))
    assert hub_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub_cache_dir() == tmp_path / "home" / "hub"
    assert hub_cache_dir(tmp_path / "given") == tmp_path / "given"


def test_a_cached_model_is_found_at_main_and_its_files_one_by_one(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snap = _cache(tmp_path, "org/model", "abc123", {"config.json": "{}", "weights.bin": "w"})
    assert cached_snapshot("org/model") == snap
    assert resolve_pretrained("org/model", "text encoder") == snap
    assert cached_file("org/model", "weights.bin").read_text() == "w"
    assert cached_file("org/model", "missing.bin") is None
    assert cached_file("org/other", "config.json") is None


def test_a_download_at_a_pinned_revision_is_found_without_a_main_ref(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snap = _cache(tmp_path, "org/pinned", "fedcba", {"config.json": "{}"}, main=False)
    assert cached_snapshot("org/pinned") == snap


def test_an_incomplete_snapshot_is_not_a_model(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    _cache(tmp_path, "org/partial", "0001", {"tokenizer.json": "{}"})
    assert cached_snapshot("org/partial") is None
    assert cached_snapshot("org/partial", required=None) is not None


@pytest.mark.parametrize("name", ["org/absent", "not a hub id!", "a/b/c"])
def test_what_is_not_cached_is_refused_in_one_line_naming_where_it_looked(
    monkeypatch, tmp_path, name
):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    assert cached_snapshot(name) is None
    with pytest.raises(ModelNotFoundError) as err:
        resolve_pretrained(name, "Faust decoder")
    message = str(err.value)
    assert "\n" not in message and "Faust decoder" in message and str(tmp_path / "empty") in message
