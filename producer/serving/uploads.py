"""An uploaded song, from the bytes of a multipart upload to the (2, T) array the pipeline takes.

The bytes are written to a private temporary file and read by `producer.audio.io.load_audio`, the
same door every file goes through on the command line: its checks (unreadable, truncated, empty,
NaN, too many channels, odd sample rates) apply unchanged. Messages name the upload by its file
name, never by the temporary path.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np

from producer.audio.io import AudioLimits, load_audio
from producer.errors import AudioInputError
from producer.serving.errors import LimitError

__all__ = ["check_upload_size", "decode_upload"]

_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


def check_upload_size(size: int, max_bytes: int) -> None:
    """413 for an upload over `max_bytes`; 400 for an empty one."""
    if size > max_bytes:
        raise LimitError(
            f"the upload is over the {_mb(max_bytes)} limit: send a shorter or compressed file "
            "(FLAC, OGG)",
            status=413,
        )
    if size == 0:
        raise AudioInputError("the upload is empty")


def decode_upload(data: bytes, filename: str, sample_rate: int, max_seconds: float) -> np.ndarray:
    """The upload as (2, T) float32 at `sample_rate`.

    Raises `LimitError` (413) over `max_seconds` (read from the header, before decoding) and
    `AudioInputError` for anything `load_audio` refuses.
    """
    import soundfile as sf

    name = _display_name(filename)
    suffix = _suffix(filename)
    with tempfile.TemporaryDirectory(prefix="producer-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            info = sf.info(str(path))
        except Exception:  # unreadable: load_audio below says why, in its words
            info = None
        if info is not None and info.samplerate > 0:
            seconds = info.frames / info.samplerate
            if seconds > max_seconds:
                raise LimitError(
                    f"upload '{name}' is {seconds:.1f} s long; the limit is {max_seconds:g} s",
                    status=413,
                )
        try:
            return load_audio(path, sample_rate, limits=AudioLimits(max_seconds=max_seconds))
        except AudioInputError as err:
            raise AudioInputError(str(err).replace(str(path), f"upload '{name}'")) from None


def _suffix(filename: str) -> str:
    suffix = os.path.splitext(os.path.basename(filename or ""))[1]
    return suffix.lower() if _SUFFIX.fullmatch(suffix) else ""


def _display_name(filename: str) -> str:
    name = os.path.basename(filename or "") or "audio"
    name = "".join(c if c.isprintable() else "?" for c in name)
    return name if len(name) <= 80 else name[:77] + "..."


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"
