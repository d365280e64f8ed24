"""Finding pretrained models on disk, through huggingface_hub's own cache, never the network.

    resolve_pretrained(name_or_path, what)   a local folder with config.json, or a cached hub id
    cached_snapshot(repo_id)                 the cached snapshot folder of a hub model, or None
    cached_file(repo_id, filename)           one cached file of a hub repo, or None
    hub_cache_dir()                          where the cache is (HF_HUB_CACHE, HF_HOME)
    quiet_progress()                         transformers' loading bars hidden for a block

A model is named by a local directory or by a Hugging Face hub id (`bert-base-uncased`,
`facebook/musicgen-small`, `adefossez/Demucs_Models`). The text encoder, the Faust decoder,
MusicGen and Demucs all look hub ids up here, with huggingface_hub's functions in offline mode
(`snapshot_download(..., local_files_only=True)`, `try_to_load_from_cache`, `scan_cache_dir`),
so the cache layout is huggingface_hub's business, not ours. When a model is in neither place,
`ModelNotFoundError` says where we looked and how to get it there.

This is the bottom layer: it imports only `producer.errors` (huggingface_hub and transformers
are imported where they are used, so that importing the package stays light).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from producer.errors import ModelNotFoundError

__all__ = [
    "cached_file",
    "cached_snapshot",
    "hub_cache_dir",
    "quiet_progress",
    "resolve_pretrained",
]

#: `name` or `org/name`, as on the hub; anything else can only be a local path.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


def hub_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The hub cache directory: `cache_dir` if given, else HF_HUB_CACHE, else HF_HOME/hub, else
    huggingface_hub's default.

    huggingface_hub reads those variables once, when it is imported; they are read again here on
    each call so that a process (a test, a Ray worker) that sets them later is heard.
    """
    if cache_dir:
        return Path(cache_dir).expanduser()
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE).expanduser()


def cached_snapshot(
    repo_id: str,
    cache_dir: str | os.PathLike | None = None,
    required: str | None = "config.json",
) -> Path | None:
    """The cached snapshot folder of hub model `repo_id` that holds `required` (any file, with
    None): the `main` revision, else the newest complete one (a download at a pinned revision).
    None when it is not cached or `repo_id` is no valid hub id."""
    from huggingface_hub import scan_cache_dir, snapshot_download
    from huggingface_hub.errors import CacheNotFound, HFValidationError

    cache = hub_cache_dir(cache_dir)

    def complete(path: Path) -> bool:
        return path.is_dir() and (required is None or (path / required).is_file())

    try:
        snap = Path(snapshot_download(repo_id, cache_dir=str(cache), local_files_only=True))
    except (OSError, HFValidationError):
        snap = None
    if snap is not None and complete(snap):
        return snap
    try:
        info = scan_cache_dir(cache)
    except (CacheNotFound, OSError):
        return None
    for repo in info.repos:
        if repo.repo_id == repo_id and repo.repo_type == "model":
            for rev in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True):
                if complete(Path(rev.snapshot_path)):
                    return Path(rev.snapshot_path)
    return None


def cached_file(
    repo_id: str, filename: str, cache_dir: str | os.PathLike | None = None
) -> Path | None:
    """`filename` of hub repo `repo_id` at `main` from the cache, or None (not cached, or no
    valid hub id)."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        found = try_to_load_from_cache(repo_id, filename, cache_dir=str(hub_cache_dir(cache_dir)))
    except (OSError, HFValidationError):
        return None
    # A str is a path; None "not cached"; a sentinel object "cached as missing on the hub".
    return Path(found) if isinstance(found, str) else None


def resolve_pretrained(name_or_path: str, what: str) -> Path:
    """A directory holding `config.json` for this model name, or `ModelNotFoundError`.

    `what` names the component in the error ("text encoder", "Faust decoder").
    """
    if not name_or_path or not str(name_or_path).strip():
        raise ModelNotFoundError(f"no {what} given: pass a hub id or a local directory")
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file():
            return path
        raise ModelNotFoundError(
            f"{what} '{name_or_path}' is a directory without config.json: point at a folder "
            "written by save_pretrained"
        )
    if _HUB_ID.fullmatch(str(name_or_path)):
        snap = cached_snapshot(str(name_or_path))
        if snap is not None:
            return snap
    raise ModelNotFoundError(
        f"{what} '{name_or_path}' not found: not a local directory and not in the Hugging Face "
        f"cache ({hub_cache_dir()}); on a networked machine run `hf download {name_or_path}` "
        "(older huggingface_hub: `huggingface-cli download`), or save it with save_pretrained "
        "and pass its directory"
    )


@contextlib.contextmanager
def quiet_progress():
    """Hide transformers' "Loading weights" / "Writing model shards" bars (restored after)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
