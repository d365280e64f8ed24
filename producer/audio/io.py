"""Audio in and out: load any libsndfile file as stereo float32, validate arrays, save atomically.

Every audio array inside the system has one shape: ``(2, T)`` float32, channels first, at the
sample rate the caller asked for. The functions here are the only door into that shape:

- :func:`load_audio` reads a file (WAV, FLAC, OGG/Vorbis, AIFF, anything libsndfile reads),
  refuses what the system cannot use with an :class:`~producer.errors.AudioInputError` that
  names the file and the problem in one line, folds the channels to stereo and resamples.
  Only regular files are opened (`producer.user_files`): a FIFO would block the reader forever
  and a device never ends; an unreadable file is named as such, not as libsndfile's "System
  error".
- :func:`check_audio_array` does the same checks for arrays handed in by code.
- :func:`save_audio` writes a file atomically (temp file + ``os.replace``): a crash mid-write
  never leaves a half-written file where a good one is expected.

Channel folding (files and arrays alike):

- 1 channel: duplicated to left and right.
- 2 channels: kept as they are.
- 3..8 channels: downmixed with the ITU-R BS.775 coefficients, assuming the WAVE/SMPTE channel
  order that libsndfile and nearly every tool write (libsndfile does not expose the channel
  mask, so the order is inferred from the count): front left/right go to their side at unity,
  centre to both sides at -3 dB, surrounds to their own side at -3 dB, a single back centre to
  both sides at -6 dB, and the LFE channel is dropped (BS.775 leaves it out of the downmix).
  The downmix is not normalised: a loud 5.1 file can fold to peaks above full scale, which the
  float pipeline carries and the mastering limiter later brings down.
"""

from __future__ import annotations

import math
import os
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from producer.errors import AudioInputError
from producer.user_files import check_regular_file

__all__ = [
    "SAVE_FORMATS",
    "AudioLimits",
    "check_audio_array",
    "downmix_to_stereo",
    "load_audio",
    "save_audio",
]


@dataclass(frozen=True)
class AudioLimits:
    """What the system accepts as audio input; anything outside is refused up front."""

    # Longest accepted duration in seconds; checked from the file header, before decoding.
    max_seconds: float = 600.0
    # Lowest accepted sample rate in Hz (below this, the top octave of a mix is gone).
    min_rate: int = 8000
    # Highest accepted sample rate in Hz (above this is almost always a broken header).
    max_rate: int = 192000
    # Most channels accepted (7.1 surround); more is refused rather than guessed at.
    max_channels: int = 8
    # Shortest accepted file in seconds, checked by `load_audio` only (arrays from code may be
    # shorter: analysis windows, tests). Under half a second there is no bar of music to
    # plan, mix or measure: a 1-sample input made a 0.0 s result and six warnings.
    min_seconds: float = 0.5
    # Largest accepted sample magnitude (full scale is 1.0). Float files can hold anything, and
    # samples of 1e30 overflow every power sum downstream (loudness came out as NaN); a real
    # recording or a hot float mix stays within ±1000 (+60 dBFS), far under this.
    max_abs: float = 1000.0


_DEFAULT_LIMITS = AudioLimits()

# Output container chosen from the file suffix.
SAVE_FORMATS: dict[str, str] = {
    ".wav": "WAV",
    ".flac": "FLAC",
    ".aiff": "AIFF",
    ".aif": "AIFF",
    ".ogg": "OGG",
}

_READ_BLOCK = 1 << 18  # frames decoded at a time

_M3 = 1.0 / math.sqrt(2.0)  # -3 dB
_M6 = 0.5  # -6 dB

# (2, C) downmix matrices by channel count, rows = (left, right). Channel order per count
# follows the WAVE_FORMAT_EXTENSIBLE / SMPTE default layout for that many channels.
_DOWNMIX: dict[int, np.ndarray] = {
    # L R C
    3: np.array([[1, 0, _M3], [0, 1, _M3]]),
    # L R Ls Rs (quad)
    4: np.array([[1, 0, _M3, 0], [0, 1, 0, _M3]]),
    # L R C Ls Rs
    5: np.array([[1, 0, _M3, _M3, 0], [0, 1, _M3, 0, _M3]]),
    # L R C LFE Ls Rs (5.1)
    6: np.array([[1, 0, _M3, 0, _M3, 0], [0, 1, _M3, 0, 0, _M3]]),
    # L R C LFE Cs Ls Rs (6.1)
    7: np.array([[1, 0, _M3, 0, _M6, _M3, 0], [0, 1, _M3, 0, _M6, 0, _M3]]),
    # L R C LFE Lb Rb Ls Rs (7.1)
    8: np.array([[1, 0, _M3, 0, _M3, 0, _M3, 0], [0, 1, _M3, 0, 0, _M3, 0, _M3]]),
}


def downmix_to_stereo(audio: np.ndarray) -> np.ndarray:
    """Fold a ``(C, T)`` array of 1..8 channels to ``(2, T)`` float32 (rules: module docstring)."""
    channels = audio.shape[0]
    if channels not in (1, 2) and channels not in _DOWNMIX:
        raise ValueError(f"can fold 1 to 8 channels to stereo, got {channels}")
    if channels == 1:
        out = np.concatenate([audio, audio], axis=0)
    elif channels == 2:
        out = audio
    else:
        out = _DOWNMIX[channels].astype(np.float32) @ audio.astype(np.float32, copy=False)
    return np.ascontiguousarray(out, dtype=np.float32)


def _fail(name: object, problem: str) -> AudioInputError:
    """One-line error naming the file or array and the problem."""
    return AudioInputError(f"{name}: {' '.join(problem.split())}")


def _check_header(name: object, channels: int, rate: float, frames: int, limits: AudioLimits):
    """The checks that need only the header, so huge or wrong files are refused before reading."""
    if channels < 1:
        raise _fail(name, "has no audio channels")
    if channels > limits.max_channels:
        raise _fail(name, f"has {channels} channels; at most {limits.max_channels} are supported")
    if not limits.min_rate <= rate <= limits.max_rate:
        raise _fail(
            name,
            f"sample rate {rate:g} Hz is outside the supported "
            f"{limits.min_rate}..{limits.max_rate} Hz",
        )
    if frames <= 0:
        raise _fail(name, "contains no audio (zero length)")
    seconds = frames / rate
    if seconds > limits.max_seconds:
        raise _fail(name, f"is {seconds:.1f} s long; the limit is {limits.max_seconds:g} s")


def _check_finite(name: object, audio: np.ndarray) -> None:
    # np.isfinite over the whole array is one fast pass; count only when something is wrong.
    if not np.isfinite(audio).all():
        bad = int(np.count_nonzero(~np.isfinite(audio)))
        raise _fail(name, f"contains {bad} NaN or infinite samples")


def _check_samples(name: object, audio: np.ndarray, limits: AudioLimits) -> None:
    """NaN/Inf, then magnitudes beyond `limits.max_abs`, each named in one line."""
    if audio.size == 0:
        return
    # max and min propagate NaN and keep ±Inf, so a clean array costs two passes and no copy.
    peak = max(float(np.max(audio)), -float(np.min(audio)))
    if not math.isfinite(peak):
        _check_finite(name, audio)
    if peak > limits.max_abs:
        over = int(np.count_nonzero(np.abs(audio) > limits.max_abs))
        raise _fail(
            name,
            f"has {over} samples beyond ±{limits.max_abs:g} (up to {peak:.3g}; full scale is "
            "1.0): the file is corrupt or not audio",
        )


def _declared_frames(path: Path) -> int | None:
    """Frame count a WAV or AIFF header promises, or None when unknown / not applicable.

    libsndfile quietly shortens a WAV or AIFF whose data chunk is cut off (it reports and reads
    only the frames that are there), so truncation is only visible by comparing with the size
    the header declared. Streamed WAVs that never patched their size (0 or 0xFFFFFFFF) and
    RF64 files return None.
    """
    try:
        with path.open("rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if len(head) < 12:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _riff_frames(head)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return _aiff_frames(head)
    return None


def _riff_frames(head: bytes) -> int | None:
    pos, block_align, data_size = 12, None, None
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (size,) = struct.unpack("<I", head[pos + 4 : pos + 8])
        if chunk_id == b"fmt " and pos + 22 <= len(head):
            (block_align,) = struct.unpack("<H", head[pos + 20 : pos + 22])
        elif chunk_id == b"data":
            data_size = size
            break
        pos += 8 + size + (size & 1)  # chunks are padded to even sizes
    if not block_align or data_size in (None, 0, 0xFFFFFFFF):
        return None
    return data_size // block_align


def _aiff_frames(head: bytes) -> int | None:
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (size,) = struct.unpack(">I", head[pos + 4 : pos + 8])
        if chunk_id == b"COMM" and pos + 14 <= len(head):
            (frames,) = struct.unpack(">I", head[pos + 10 : pos + 14])
            return frames
        pos += 8 + size + (size & 1)
    return None


def _ogg_unfinished(path: Path) -> bool:
    """True when an Ogg file's last page lacks the end-of-stream flag (the file was cut off).

    A truncated Ogg decodes cleanly up to the cut, so the only sign is the missing EOS bit on
    the last page (the header_type byte, flag 0x04).
    """
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - (1 << 16)))
            tail = f.read()
    except OSError:
        return False
    at = tail.rfind(b"OggS")
    if at < 0 or at + 6 > len(tail):
        return True
    return not tail[at + 5] & 0x04


def load_audio(
    path: str | os.PathLike[str],
    sample_rate: int = 44100,
    limits: AudioLimits | None = None,
) -> np.ndarray:
    """Read an audio file as a ``(2, T)`` float32 array at ``sample_rate``.

    Reads anything libsndfile reads (WAV, FLAC, OGG/Vorbis, AIFF, …). Channels are folded to
    stereo (see the module docstring) and the audio is resampled with soxr's very-high-quality
    filter when the file's rate differs from ``sample_rate``.

    Raises:
        AudioInputError: naming the file and the problem, for a missing file, anything but a
            regular file (a FIFO, a device, a folder), an unreadable, corrupt or truncated
            file, zero-length audio, NaN/Inf samples or samples beyond ``limits.max_abs``, too
            many channels, a duration under ``limits.min_seconds`` or over
            ``limits.max_seconds`` (checked from the header, before decoding), or a sample
            rate (the file's or ``sample_rate``) outside ``limits.min_rate..limits.max_rate``.
    """
    limits = limits or _DEFAULT_LIMITS
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not limits.min_rate <= sample_rate <= limits.max_rate:
        # Checked before the file is decoded: resampling to 50 MHz allocated gigabytes first.
        raise _fail(
            path,
            f"cannot be loaded at {sample_rate:g} Hz: the supported rates are "
            f"{limits.min_rate}..{limits.max_rate} Hz",
        )
    path = Path(path)
    # A regular file this process can open: no FIFO, device or folder; no "System error".
    check_regular_file(path, error=AudioInputError)
    try:
        info = sf.info(str(path))
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as err:
        raise _fail(path, f"cannot read audio: {_reason(err)}") from err
    _check_header(path, info.channels, info.samplerate, info.frames, limits)
    if info.frames / info.samplerate < limits.min_seconds:
        raise _fail(
            path,
            f"is {info.frames / info.samplerate:.3f} s long ({info.frames} samples); the "
            f"shortest accepted is {limits.min_seconds:g} s",
        )

    declared = _declared_frames(path)
    if declared is not None and declared > info.frames:
        raise _fail(
            path,
            f"truncated: the header declares {declared} frames but only {info.frames} are "
            "in the file",
        )
    if info.format == "OGG" and _ogg_unfinished(path):
        raise _fail(path, "truncated: the Ogg stream ends without its end-of-stream page")

    try:
        stereo = _read_stereo(path)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as err:
        raise _fail(path, f"corrupt audio data: {_reason(err)}") from err
    if stereo.shape[1] < info.frames:
        raise _fail(
            path,
            f"truncated or corrupt: the header declares {info.frames} frames but only "
            f"{stereo.shape[1]} could be decoded",
        )
    if stereo.shape[1] == 0:
        raise _fail(path, "contains no audio (zero length)")
    _check_samples(path, stereo, limits)

    if info.samplerate != sample_rate:
        # soxr wants (frames, channels); VHQ is a linear-phase filter with >170 dB rejection.
        stereo = soxr.resample(stereo.T, info.samplerate, sample_rate, quality="VHQ").T
    return np.ascontiguousarray(stereo, dtype=np.float32)


def _read_stereo(path: Path) -> np.ndarray:
    """Decode block by block, folding each block to stereo as it comes.

    Memory stays at the stereo result even for a 7.1 file at 192 kHz (a whole-file read of
    one at the 10-minute limit would be 3.7 GB of float32). Folding before resampling is
    exact: both are linear, and it leaves soxr two channels instead of eight.
    """
    blocks = []
    with sf.SoundFile(str(path)) as f:
        for block in f.blocks(blocksize=_READ_BLOCK, dtype="float32", always_2d=True):
            blocks.append(downmix_to_stereo(block.T))
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((2, 0), np.float32)


def _reason(err: BaseException) -> str:
    # LibsndfileError carries libsndfile's own words without the "Error opening '<path>':"
    # prefix; the path is already at the start of our message.
    return str(getattr(err, "error_string", None) or err)


def check_audio_array(
    audio: np.ndarray,
    sample_rate: int,
    name: str = "audio",
    limits: AudioLimits | None = None,
) -> np.ndarray:
    """Validate an array handed in by code and return it as ``(2, T)`` float32.

    Shape rule: a 1-D array is mono ``(T,)``. For a 2-D array the shorter axis is the channel
    axis, so ``(C, T)`` and ``(T, C)`` both work; a square array (only possible for tiny
    clips) is read as ``(C, T)``. Integer arrays are taken as PCM and scaled to [-1, 1)
    (int16 by 2**15, int32 by 2**31, uint8 centred on 128). The array is not resampled:
    ``sample_rate`` is what the caller says it is, and is only range-checked.

    Raises:
        AudioInputError: naming ``name`` and the problem (bad shape or dtype, too many
            channels, zero length, NaN/Inf or beyond ``limits.max_abs``, too long, sample rate
            out of range).
    """
    limits = limits or _DEFAULT_LIMITS
    arr = np.asarray(audio)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise _fail(name, f"must be a real-valued numeric array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise _fail(name, f"must be real-valued, got dtype {arr.dtype}")
    if arr.size == 0:
        raise _fail(name, f"contains no audio (zero length, shape {arr.shape})")
    if arr.ndim == 1:
        arr = arr[None, :]
    elif arr.ndim == 2:
        if arr.shape[1] < arr.shape[0]:
            arr = arr.T
    else:
        raise _fail(name, f"must be 1-D (T,) or 2-D (C, T) / (T, C), got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.integer):
        arr = _pcm_to_float(arr)
    else:
        # float32 before the finite check: a finite float64 beyond 3.4e38 becomes inf here.
        with np.errstate(over="ignore"):
            arr = arr.astype(np.float32)
    if not isinstance(sample_rate, int | float | np.integer | np.floating) or not math.isfinite(
        sample_rate
    ):
        raise _fail(name, f"sample rate must be a number, got {sample_rate!r}")
    _check_header(name, arr.shape[0], float(sample_rate), arr.shape[1], limits)
    _check_samples(name, arr, limits)
    return downmix_to_stereo(arr)


def _pcm_to_float(arr: np.ndarray) -> np.ndarray:
    info = np.iinfo(arr.dtype)
    if info.min == 0:  # unsigned PCM (8-bit WAV style): centred on the middle code
        mid = (int(info.max) + 1) // 2
        return ((arr.astype(np.float64) - mid) / mid).astype(np.float32)
    return (arr.astype(np.float64) / -float(info.min)).astype(np.float32)


def save_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sample_rate: int,
    subtype: str | None = "PCM_24",
) -> Path:
    """Write ``audio`` (``(2, T)``, ``(C, T)`` or mono ``(T,)``) to ``path`` atomically.

    The container comes from the suffix (:data:`SAVE_FORMATS`: .wav, .flac, .aiff/.aif, .ogg).
    ``subtype`` is libsndfile's sample format, 24-bit PCM by default; integer subtypes clip at
    full scale (libsndfile clips on float→int conversion). Ogg is always Vorbis: a PCM subtype
    asked for an .ogg path is replaced by ``"VORBIS"``; ``None`` means the format's default.

    The data go to a hidden temp file in the same directory, which then replaces ``path`` in
    one ``os.replace``. On any failure the temp file is removed, nothing appears at ``path``,
    and a file already there is left untouched. Parent directories are created.

    Returns:
        The path written.

    Raises:
        AudioInputError: for an unsupported suffix or subtype, a bad shape, or NaN/Inf samples.
        OSError: when the file system refuses the write (the temp file is cleaned up first).
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise _fail(
            path, f"unsupported output format {path.suffix!r}; use one of {sorted(SAVE_FORMATS)}"
        )
    if subtype is None or (fmt == "OGG" and subtype.upper().startswith("PCM")):
        subtype = sf.default_subtype(fmt)
    if not sf.check_format(fmt, subtype):
        raise _fail(path, f"subtype {subtype!r} cannot be written as {fmt}")
    arr = np.asarray(audio, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    channels_last = arr.ndim == 2 and arr.shape[0] > arr.shape[1]
    if arr.ndim != 2 or channels_last or arr.size == 0:
        raise _fail(
            path, f"audio to save must be (C, T) or (T,) and not empty, got shape {arr.shape}"
        )
    _check_finite(path, arr)

    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory so os.replace is a rename on one file system (atomic); hidden and unique
    # so concurrent writers and directory listings never pick up a half-written file.
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        sf.write(str(tmp), arr.T, int(sample_rate), subtype=subtype, format=fmt)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
