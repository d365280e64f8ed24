"""Atomic file writes: write beside the target, then rename over it.

`atomic_path` does it for one file: a failed or interrupted write never leaves a half-written
file at the target path, and an existing file there stays untouched until the new one is
complete. `replace_together` does it for a set of paths that belong together (a master and its
report, script, picture and stems): the new set is written into a hidden folder beside them and
renamed into place at the end, and a failure leaves the old set as it was.

Everything written follows the process umask (0644 files and 0755 folders by default), as a
plain `open` would: the temporary names are created with the same modes as their targets.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path

from producer.errors import OutputError

__all__ = ["atomic_path", "explain_write_failure", "make_parents", "replace_together"]

_FILE_MODE = 0o666  # less the umask, as open() and the C library's fopen() create files
_PRIVATE_DIR = 0o700  # the staging folders: nobody sees a set before it is complete


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `path` on success.

    `suffix` keeps a file extension on the temporary name for writers that infer the format
    from it (matplotlib). Parent folders are created. The temporary file exists (empty) when
    the body starts, with the mode a new file gets under the umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}{suffix or '.tmp'}"
    # Not mkstemp: it creates 0600 whatever the umask, and the rename would keep that mode.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE))
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def make_parents(folder: str | Path) -> list[Path]:
    """Create `folder` and its missing parents; return the ones created, outermost first
    (so a caller that fails later can remove exactly what it made)."""
    folder = Path(folder)
    missing = []
    while not os.path.lexists(folder):
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    missing.reverse()
    for done, made in enumerate(missing):
        try:
            os.mkdir(made)
        except OSError:
            _remove_parents(missing[:done])
            raise
    return missing


def _remove_parents(created: list[Path]) -> None:
    """Undo `make_parents`: remove the folders it made, innermost first, if still empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (someone else wrote there) or gone: leave the rest


@contextmanager
def replace_together(targets: Sequence[str | Path]) -> Iterator[Path]:
    """Yield a hidden folder beside `targets`; the body writes the new set into it, each entry
    under its target's name. On success every target is replaced: entries written take their
    target's place, in the order of `targets` (put the one readers look for last), and targets
    not written are removed, so no old file is left beside new ones. On any failure, in the body
    or while renaming, the old set stays as it was and nothing new is left (folders created for
    the targets are removed too).

    The targets must share one folder: renames within one folder never copy. A process killed
    during the final renames (microseconds) can leave part of each set; the hidden folders it
    leaves (`.<name>.<pid>-<hex>.tmp`/`.old`) hold the rest. A process killed while writing the
    set leaves its `.tmp` folder: the next call for the same targets removes it (`_sweep_stale`).
    """
    paths = [Path(t) for t in targets]
    if not paths:
        raise ValueError("replace_together needs at least one target")
    folder = paths[0].parent
    assert all(p.parent == folder for p in paths), "targets must share one folder"
    created = make_parents(folder)
    _sweep_stale(folder, paths[0].name)
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    stage = folder / f".{paths[0].name}.{token}.tmp"
    backup = folder / f".{paths[0].name}.{token}.old"
    try:
        os.mkdir(stage, _PRIVATE_DIR)
        try:
            yield stage
            _swap_in(paths, stage, backup)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    except BaseException:
        _remove_parents(created)
        raise
    shutil.rmtree(backup, ignore_errors=True)  # the old set, now replaced


def _sweep_stale(folder: Path, name: str) -> None:
    """Remove the staging folders of `name` left by processes that died (killed mid-write).

    Only `.tmp` folders (a set never swapped in: nothing in them was ever the user's) that this
    user owns and whose writer's pid is gone; never `.old` ones, which may hold a previous set.
    """
    for stage in folder.glob(f".{glob_escape(name)}.*-*.tmp"):
        pid = stage.name[len(name) + 2 :].split("-", 1)[0]
        try:
            if not pid.isdigit() or _alive(int(pid)) or stage.lstat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if stage.is_dir() and not stage.is_symlink():
            shutil.rmtree(stage, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _swap_in(paths: list[Path], stage: Path, backup: Path) -> None:
    """Move the old set into `backup`, then the new set from `stage` into place; on a failure
    put everything back as it was (or say where the old files were left)."""
    old = [p for p in paths if os.path.lexists(p)]
    moved_out: list[Path] = []
    moved_in: list[Path] = []
    try:
        if old:
            os.mkdir(backup, _PRIVATE_DIR)
        for path in old:
            os.rename(path, backup / path.name)
            moved_out.append(path)
        for path in paths:
            new = stage / path.name
            if os.path.lexists(new):
                os.rename(new, path)
                moved_in.append(path)
    except BaseException as err:
        try:
            for path in reversed(moved_in):
                os.rename(path, stage / path.name)
            for path in reversed(moved_out):
                os.rename(backup / path.name, path)
        except OSError as undo:
            # Never delete the old files when they could not be put back: say where they are.
            raise OutputError(
                f"{err}; then putting the previous files back failed ({undo}): they are in {backup}"
            ) from err
        if old:
            shutil.rmtree(backup, ignore_errors=True)
        raise


def explain_write_failure(err: Exception, folder: str | Path, size: int) -> OSError:
    """`err` as an OSError with its cause, for a write of about `size` bytes into `folder`.

    libsndfile reports a failed write as "System error." and drops the errno; the cause is
    read back from the folder instead: read-only file system, no permission, or not enough
    space. An OSError is returned as it is.
    """
    if isinstance(err, OSError):
        return err
    folder = Path(folder)
    code = errno.EIO
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            code = errno.EROFS
        elif not os.access(folder, os.W_OK | os.X_OK):
            code = errno.EACCES
        elif shutil.disk_usage(folder).free < size:
            code = errno.ENOSPC
    except OSError:
        pass  # the folder itself went away: keep EIO
    reason = os.strerror(code) if code != errno.EIO else f"the write failed ({err})"
    return OSError(code, reason, str(folder))
