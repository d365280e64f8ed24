"""A user's files, opened the careful way: regular files only, sizes checked before reading.

    check_regular_file(path)                 refuse a FIFO, a device, a folder, an unreadable file
    read_user_text(path, max_bytes=...)      the text of a small file (a plan, a config)
    read_script_file(path)                   a Faust mix script: at most 64 KiB, BOM stripped
    check_output_path(path, suffixes=...)    refuse an output path that cannot be written

A path on the command line or in a request can name anything: a FIFO (reading one blocks until
a writer comes, so `producer assess fifo.wav` hung), a device (`/dev/zero` as a script was read
until memory ran out), a folder, or a 50 MB file where a 2 KB script was expected. So:

- only regular files are read. `os.stat` says what the path is before anything opens it (opening
  some devices already does something); the file is then opened with O_NONBLOCK, which never
  blocks even if the path was swapped for a FIFO in between, and `fstat` checks that what was
  opened is still a regular file;
- sizes are checked from `fstat` before reading, and the read itself stops one byte past the
  limit, so a file that grows while it is read is still refused;
- every failure is one line naming the path and the reason in words ("permission denied", not
  libsndfile's "System error"), raised as a `ProducerError` (or the subclass the caller names,
  e.g. `AudioInputError` for audio) that the CLI prints with exit code 2.

This module is core: it imports nothing from the rest of the package but `errors`.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from pathlib import Path

from producer.errors import ProducerError

__all__ = [
    "DEFAULT_TEXT_BYTES",
    "MAX_SCRIPT_BYTES",
    "check_output_path",
    "check_regular_file",
    "describe_os_error",
    "read_script_file",
    "read_user_text",
]

#: Largest text file `read_user_text` reads unless told otherwise (a plan JSON, a config).
DEFAULT_TEXT_BYTES = 1 << 20
#: Largest mix script file in bytes: the validator's `MAX_SCRIPT_CHARS` (64 KiB; a test keeps
#: the two equal; this module cannot import the validator, which sits a layer above). A script
#: of the allowlisted subset is ASCII outside its comments, so bytes and characters agree.
MAX_SCRIPT_BYTES = 64 * 1024

# errno → the words a user reads; anything else falls back to the system's own strerror.
_OS_REASONS: dict[int, str] = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ELOOP: "too many symbolic links (a loop?)",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error (a failing disk or network share?)",
    errno.ENXIO: "no such device",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
}


def describe_os_error(err: OSError) -> str:
    """The reason of an `OSError` in a few plain words, without the path (the caller adds it)."""
    if err.errno in _OS_REASONS:
        return _OS_REASONS[err.errno]
    if err.strerror:
        return err.strerror[0].lower() + err.strerror[1:]
    return str(err) or type(err).__name__


def _kind(mode: int) -> str:
    """What a non-regular file is, for the refusal."""
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is a special file"


def _open_regular(path: Path, error: type[ProducerError]) -> tuple[int, os.stat_result]:
    """An open, blocking, read-only descriptor of the regular file at `path`, and its stat."""
    try:
        before = os.stat(path)
    except OSError as err:
        raise error(f"{path}: cannot read: {describe_os_error(err)}") from None
    if not stat.S_ISREG(before.st_mode):
        raise error(f"{path}: {_kind(before.st_mode)}, not a regular file")
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, open() still returns
        # at once (and fstat below refuses it) instead of waiting for a writer forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise error(f"{path}: cannot read: {describe_os_error(err)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: {_kind(info.st_mode)}, not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def check_regular_file(
    path: str | os.PathLike[str], *, error: type[ProducerError] = ProducerError
) -> os.stat_result:
    """Refuse `path` unless it is a regular file this process can open for reading.

    Returns its stat (for the size). Raises `error` (a `ProducerError` subclass) with one line
    naming the path and the reason: no such file, a folder, a FIFO, a device, permission denied.
    """
    fd, info = _open_regular(Path(path), error)
    os.close(fd)
    return info


def read_user_text(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_TEXT_BYTES,
    what: str = "file",
    error: type[ProducerError] = ProducerError,
) -> str:
    """The UTF-8 text of a user's file, refused when it is not a regular file or is too big.

    The size is checked before anything is read, and the read stops one byte past `max_bytes`.
    A UTF-8 byte-order mark (editors on Windows write one) is accepted and stripped; it does
    not count towards the limit. `what` names the file in the refusal ("script", "plan").
    Raises `error` with one line: not a regular file, unreadable, too big, or not UTF-8 text.
    """
    path = Path(path)
    bom = codecs.BOM_UTF8
    fd, info = _open_regular(path, error)
    with os.fdopen(fd, "rb") as f:
        if info.st_size > max_bytes + len(bom):
            raise error(f"{path}: the {what} is {info.st_size} bytes; the limit is {max_bytes}")
        try:
            data = f.read(max_bytes + len(bom) + 1)
        except OSError as err:
            raise error(f"{path}: cannot read: {describe_os_error(err)}") from None
    text = data[len(bom) :] if data.startswith(bom) else data
    if len(text) > max_bytes:
        # Up to a BOM's 3 bytes over passed the fstat check; more means it grew since.
        size = f"over {max_bytes}" if len(data) > max_bytes + len(bom) else str(len(text))
        raise error(f"{path}: the {what} is {size} bytes; the limit is {max_bytes}")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(
            f"{path}: the {what} is not UTF-8 text (byte 0x{text[err.start]:02x} at offset "
            f"{err.start}); save it as UTF-8"
        ) from None


def read_script_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_SCRIPT_BYTES) -> str:
    """A user's Faust mix script (`.dsp`): `read_user_text` with the script's size limit.

    Every command that takes a script file reads it through here, so a FIFO, `/dev/zero`, a
    50 MB file, a UTF-8 BOM and a Latin-1 file are all handled the same way everywhere.
    """
    return read_user_text(path, max_bytes=max_bytes, what="script")


def check_output_path(
    path: str | os.PathLike[str],
    *,
    suffixes: tuple[str, ...] | None = None,
    option: str = "--output",
    error: type[ProducerError] = ProducerError,
) -> Path:
    """Refuse an output file path before any work is done, so a long render never fails at
    the very end: a suffix not in `suffixes` (lower case, with the dot), a folder or other
    non-regular file already at the path, a parent folder that does not exist, is not a folder
    or cannot be written into. `option` names the flag in the message. Returns the path.

    An existing regular file is fine: it is replaced (atomically, by the writers).
    """
    out = Path(path)
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise error(f"{option} {out}: {describe_os_error(err)}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise error(f"{option} {out}: {_kind(mode)}; give a file name")
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise error(f"{option} {out}: must end in {', '.join(suffixes)}")
    parent = out.parent
    if not parent.is_dir():
        where = "does not exist" if not os.path.lexists(parent) else "is not a folder"
        raise error(f"{option} {out}: the folder {parent} {where}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise error(f"{option} {out}: cannot write into {parent} (permission denied)")
    return out
