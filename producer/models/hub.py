"""Finding pretrained models on disk, never on the network.

A model is named by a local directory or by a Hugging Face hub id (`bert-base-uncased`,
`mistralai/Mistral-7B-v0.1`). Hub ids are looked up only in the local Hugging Face cache
(`HF_HUB_CACHE`, default `~/.cache/huggingface/hub`), the way `local_files_only=True` does; when a
model is in neither place, `ModelNotFoundError` says where we looked and how to get it there.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from producer.errors import ModelNotFoundError

#: `name` or `org/name`, as on the hub; anything else can only be a local path.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


def hf_cache_dir() -> Path:
    """The hub cache directory, honouring HF_HUB_CACHE and HF_HOME like huggingface_hub does."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def cached_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot directory of a hub model (the `main` revision), if any."""
    repo_dir = hf_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        snap = repo_dir / "snapshots" / ref.read_text().strip()
        if (snap / "config.json").is_file():
            return snap
    # No `main` ref (e.g. downloaded at a pinned revision): take any complete snapshot.
    snaps = sorted((repo_dir / "snapshots").glob("*/config.json")) if repo_dir.is_dir() else []
    return snaps[-1].parent if snaps else None


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
        f"cache ({hf_cache_dir()}); on a networked machine run `huggingface-cli download "
        f"{name_or_path}` (or save it with save_pretrained) and pass its directory"
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
