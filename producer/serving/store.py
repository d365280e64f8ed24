"""Results on disk: each production (or re-render) is a folder named by an unguessable id.

    <dir>/<id>/result.json          the JSON the API answered, plus created/expires times
    <dir>/<id>/master.wav           the master, 24-bit PCM
    <dir>/<id>/stems/<role>.wav     every stem, 32-bit float (a re-render starts from them
                                    bit for bit)

A result is written into a hidden `.tmp-<id>` folder and renamed into place in one step, so a
reader never sees half a result. Its stems may start writing before the rest of it exists
(`ResultStore.begin` → `PendingResult`): a production's stems go to disk while its mix is still
being written and rendered. Ids are 32 hex digits from `secrets`; anything else is refused
before it touches a path, and stem names must be known roles, so no request can name a file
outside the store. Results expire `ttl_s` after they were made: they read as missing from then
on, and `sweep` deletes them (and any temp folder a crash left behind).

The store is private: its folder is 0700 and every result in it 0700 folders and 0600 files,
whatever the umask, because a result is the user's prompt, song and stems. It refuses a folder
that another user owns or that others may write into (they could read, swap or plant results);
a folder of its own that others may only read is tightened to 0700. The default folder
(`default_store_dir`) is in the user's own runtime or cache folder, never a name in /tmp that
another user could take first.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import stat
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from producer.audio.io import load_audio, save_audio
from producer.errors import OutputError
from producer.plan import ROLES
from producer.serving.errors import NotFoundError

__all__ = [
    "PendingResult",
    "ResultStore",
    "StoredResult",
    "default_store_dir",
    "new_result_id",
    "private_folder",
]

_ID = re.compile(r"[0-9a-f]{32}")
_RECORD = "result.json"
_MASTER = "master.wav"
_STEMS = "stems"
_TMP = ".tmp-"
_DIR_MODE, _FILE_MODE = 0o700, 0o600  # results are the user's alone


def _lower_priority() -> None:
    """Store threads run at nice 10 (Linux: per thread): a production's stems are written while
    its mix is decoded, and the decoding should not wait for them."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


# The master and the stems of a result are written side by side: libsndfile releases the GIL,
# and on 2 cores five 20 s files take 69 ms against 116 ms one after another.
_WRITERS = ThreadPoolExecutor(
    max_workers=min(4, os.cpu_count() or 1),
    thread_name_prefix="store",
    initializer=_lower_priority,
)


def default_store_dir() -> Path:
    """Where results go by default: `$XDG_RUNTIME_DIR/producer-results` when the session has a
    runtime folder of its own (tmpfs, per user, emptied at logout), else
    `$XDG_CACHE_HOME/producer/results` (`~/.cache/producer/results`)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(runtime):
        try:
            st = os.stat(runtime)
        except OSError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
            return Path(runtime) / "producer-results"
    cache = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(cache) if os.path.isabs(cache) else Path.home() / ".cache"
    return base / "producer" / "results"


def private_folder(path: str | os.PathLike) -> Path:
    """`path` resolved, created 0700 if missing, and checked to be this user's alone.

    Raises `OutputError` when it is not a folder, another user owns it, or its group or others
    may write into it; a folder of this user's that others may read or enter is made 0700. The
    path is resolved once, here, so a symbolic link swapped later cannot redirect the store.
    """
    path = Path(path).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, _DIR_MODE)
    st = os.stat(path)
    refuse = f"will not keep results in {path}"
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{refuse}: it is not a folder")
    if st.st_uid != os.geteuid():
        raise OutputError(
            f"{refuse}: it belongs to uid {st.st_uid}, not to this user (uid {os.geteuid()}), "
            "who could read or replace the results; choose another store dir"
        )
    if st.st_mode & 0o022:
        raise OutputError(
            f"{refuse}: its group or other users may write into it (mode "
            f"{stat.S_IMODE(st.st_mode):04o}) and could plant or swap results; remove it or "
            "choose another store dir"
        )
    if st.st_mode & 0o077:
        os.chmod(path, _DIR_MODE)
    return path


def new_result_id() -> str:
    """32 random hex digits (128 bits): results cannot be found by guessing."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class StoredResult:
    """A result on disk: its id, folder and record (`result.json`)."""

    id: str
    folder: Path
    record: dict[str, Any]

    @property
    def expires_at(self) -> float:
        return float(self.record["expires_at"])

    @property
    def roles(self) -> list[str]:
        return list(self.record["stem_roles"])

    @property
    def master_path(self) -> Path:
        return self.folder / _MASTER

    def stem_path(self, role: str) -> Path:
        if role not in self.roles:
            raise NotFoundError(
                f"result {self.id} has no '{role}' stem: it has {', '.join(self.roles)}"
            )
        return self.folder / _STEMS / f"{role}.wav"


class ResultStore:
    """Write, find and expire results under `root`. Safe for several processes at once."""

    def __init__(
        self, root: str | os.PathLike, ttl_s: float, clock: Callable[[], float] = time.time
    ):
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0, got {ttl_s}")
        self.root = private_folder(root)
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._last_sweep = clock()

    # ------------------------------------------------------------------ writing

    def begin(self, result_id: str | None = None) -> PendingResult:
        """A result being written: add its stems as soon as they exist (they are written in
        the background while the rest of the production runs), then `commit` it."""
        result_id = result_id or new_result_id()
        _check_id(result_id)
        return PendingResult(self, result_id)

    def put(
        self,
        record: Mapping[str, Any],
        master: np.ndarray,
        sample_rate: int,
        stems: Mapping[str, np.ndarray] | None = None,
        *,
        stems_from: StoredResult | None = None,
        result_id: str | None = None,
    ) -> StoredResult:
        """Store a result and return it. Stems are `stems` arrays, or the files of `stems_from`
        (a re-render of that result: hard-linked where the file system allows)."""
        if (stems is None) == (stems_from is None):
            raise ValueError("give exactly one of stems and stems_from")
        pending = self.begin(result_id)
        try:
            if stems is not None:
                pending.write_stems(stems, sample_rate)
            else:
                pending.link_stems(stems_from)
            return pending.commit(record, master, sample_rate)
        except BaseException:
            pending.abort()
            raise

    # ------------------------------------------------------------------ reading

    def get(self, result_id: str) -> StoredResult:
        """The result with this id; `NotFoundError` if it is unknown, malformed or expired."""
        if not isinstance(result_id, str) or not _ID.fullmatch(result_id):
            raise NotFoundError(f"no result '{_shown(result_id)}': ids are 32 hex digits")
        folder = self.root / result_id
        try:
            record = json.loads((folder / _RECORD).read_text())
        except (OSError, ValueError):
            raise NotFoundError(self._missing(result_id)) from None
        result = StoredResult(result_id, folder, record)
        if self._clock() >= result.expires_at:
            shutil.rmtree(folder, ignore_errors=True)
            raise NotFoundError(self._missing(result_id))
        return result

    def load_stems(self, result: StoredResult) -> dict[str, np.ndarray]:
        """The result's stems as (2, T) float32 arrays at its sample rate, in mix order."""
        rate = int(result.record["sample_rate"])
        return {role: load_audio(result.stem_path(role), rate) for role in result.roles}

    # ------------------------------------------------------------------ expiry

    def sweep(self) -> int:
        """Delete expired results and stale temp folders; returns how many were deleted."""
        now = self._clock()
        deleted = 0
        for entry in self.root.iterdir():
            try:
                if entry.name.startswith(_TMP):
                    stale = now - entry.stat().st_mtime > self.ttl_s
                elif _ID.fullmatch(entry.name):
                    record = json.loads((entry / _RECORD).read_text())
                    stale = now >= float(record["expires_at"])
                else:
                    continue
            except (OSError, ValueError, KeyError):
                stale = _ID.fullmatch(entry.name) is not None and _old(entry, now, self.ttl_s)
            if stale:
                shutil.rmtree(entry, ignore_errors=True)
                deleted += 1
        return deleted

    def maybe_sweep(self, interval_s: float) -> int:
        """`sweep` if the last one was over `interval_s` ago (called after each write)."""
        if self._clock() - self._last_sweep < interval_s:
            return 0
        self._last_sweep = self._clock()
        return self.sweep()

    def check_writable(self) -> None:
        """Raise OSError unless a file can be created in the store (the health check)."""
        probe = self.root / f"{_TMP}probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()

    def _missing(self, result_id: str) -> str:
        return f"no result '{result_id}' (results are kept {self.ttl_s:g} s after they are made)"


class PendingResult:
    """A result under construction in its hidden temp folder (`ResultStore.begin`).

    Stem files start writing the moment `write_stems` is called and run beside whatever the
    caller does next (the Serve ingress hands the stems over while the writer and the renderer
    still work, so only the master is written after the last stage). `commit` waits for them,
    writes the master and the record, and renames the folder into place in one step; `abort`
    (or a failed commit) removes the folder once no write is running into it any more.
    """

    def __init__(self, store: ResultStore, result_id: str):
        self.store = store
        self.id = result_id
        self.tmp = store.root / f"{_TMP}{result_id}"
        self.roles: list[str] = []
        self._writes: list[Future] = []
        self._rate: int | None = None  # the stems' sample rate, once some were given
        self._done = False
        os.mkdir(self.tmp, _DIR_MODE)
        os.mkdir(self.tmp / _STEMS, _DIR_MODE)

    def write_stems(self, stems: Mapping[str, np.ndarray], sample_rate: int) -> None:
        """Start writing these stems (32-bit float WAV); returns at once."""
        self._add_roles(list(stems))
        self._rate = int(sample_rate)
        for role, audio in stems.items():
            target = self.tmp / _STEMS / f"{role}.wav"
            self._writes.append(
                _WRITERS.submit(save_audio, target, audio, sample_rate, subtype="FLOAT")
            )

    def link_stems(self, source: StoredResult) -> None:
        """Take the stems of a stored result (a re-render): hard links where possible."""
        self._add_roles(source.roles)
        for role in source.roles:
            _link_or_copy(source.stem_path(role), self.tmp / _STEMS / f"{role}.wav")

    def commit(
        self, record: Mapping[str, Any], master: np.ndarray, sample_rate: int
    ) -> StoredResult:
        """Write the master and the record, wait for the stems, rename into place. A failure
        removes the temp folder and raises."""
        if self._done:
            raise RuntimeError(f"result {self.id} was already committed or aborted")
        if self._rate is not None and self._rate != int(sample_rate):
            raise ValueError(f"stems at {self._rate} Hz but the master at {sample_rate} Hz")
        now = self.store._clock()
        full = {
            **record,
            "id": self.id,
            "created_at": now,
            "expires_at": now + self.store.ttl_s,
            "sample_rate": int(sample_rate),
            "stem_roles": self.roles,
        }
        final = self.store.root / self.id
        try:
            save_audio(self.tmp / _MASTER, master, sample_rate)
            for write in self._writes:  # every file written before the folder is renamed
                write.result()
            (self.tmp / _RECORD).write_text(json.dumps(full, indent=1, allow_nan=False))
            _make_private(self.tmp)
            os.rename(self.tmp, final)  # one step: readers see all of it or nothing
        except BaseException:
            self.abort(wait_writes=True)
            raise
        self._done = True
        return StoredResult(self.id, final, full)

    def abort(self, wait_writes: bool = False) -> None:
        """Give the result up: its folder goes once the writes into it have finished. Without
        `wait_writes` this returns at once (safe from an event loop or a cancelled task)."""
        if self._done:
            return
        self._done = True
        writes, tmp = list(self._writes), self.tmp

        def remove() -> None:
            wait(writes)  # no write still running into the folder about to be removed
            shutil.rmtree(tmp, ignore_errors=True)

        if wait_writes or not writes:
            remove()
        else:
            # Queued behind the writes it waits for (first in, first out): cannot deadlock.
            _WRITERS.submit(remove)

    def _add_roles(self, roles: list[str]) -> None:
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown stem roles {unknown}")
        clash = [r for r in roles if r in self.roles]
        if clash:
            raise ValueError(f"stems {clash} were given twice")
        self.roles.extend(roles)


def _check_id(result_id: str) -> None:
    if not _ID.fullmatch(result_id):
        raise ValueError(f"bad result id {result_id!r}")


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _old(entry: Path, now: float, ttl_s: float) -> bool:
    try:
        return now - entry.stat().st_mtime > ttl_s
    except OSError:
        return False


def _make_private(folder: Path) -> None:
    """Folders 0700 and files 0600 under `folder` (the writers created them under the umask)."""
    os.chmod(folder, _DIR_MODE)
    for parent, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(parent, name), _DIR_MODE)
        for name in files:
            os.chmod(os.path.join(parent, name), _FILE_MODE)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
