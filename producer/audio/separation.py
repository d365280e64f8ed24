"""Separating a full-mix song into stems by role, with Demucs.

    separator = load_separator("htdemucs", device="cuda")      # cached per (model, device)
    stems = separator.separate(audio, sample_rate)              # {"drums": (2, T) float32, ...}

What :meth:`Separator.separate` does, in order:

1. Validates the array like every other audio door (:func:`~producer.audio.io.check_audio_array`:
   mono or stereo in, ``(2, T)`` float32 out, finite, length and rate limits).
2. Resamples to the model's rate (``model.samplerate``, 44100 Hz for the pretrained models) with
   soxr VHQ, the resampler :func:`~producer.audio.io.load_audio` uses.
3. Normalises as Demucs's own ``separate.py`` does: subtract the mean and divide by the standard
   deviation of the mono reference, then undo both on the estimates (the mean is added back to
   every source, as there). Silence has a standard deviation of 0; it is left unscaled instead
   of divided by zero, so silence in gives finite silence out.
4. Runs :func:`demucs.apply.apply_model` with ``split=True``: the song is cut into ``segment``-long
   chunks that overlap by ``overlap`` and are cross-faded with a triangular window, so memory is
   bounded by one chunk, not by the song. HTDemucs cannot run chunks longer than the segment it
   was trained on (``model.segment``); a longer ``segment`` is clamped to it. A shorter one does
   not save memory with HTDemucs (it pads every chunk back to its training length), it only adds
   chunks; it does for the older Demucs / HDemucs models.
5. Sums the sources into project roles (:data:`DEMUCS_ROLES`), resamples back to the input rate
   and trims or pads to the input length (resampling there and back can be off by a sample).

Role mapping (project roles are ``producer.plan.ROLES``): drums → drums, bass → bass, vocals →
vocals, other → other (the 4-source models' "other" holds the melody and the harmony together,
which is what the song-folder layout and the dataset already call "other"), and the
``htdemucs_6s`` extras piano and guitar → harmony (both are mostly chordal in the music we
produce, and Demucs cannot split a lead line from its accompaniment, so no source is called
"melody"). A source of a custom model named like a project role keeps its name; any other source
goes to "other". Sources that land on the same role are summed, so the stems still add up to the
mix.

Where models come from (:func:`load_demucs_model`):

- A pretrained name ("htdemucs", "htdemucs_ft", "htdemucs_6s", "mdx_extra", a signature such as
  "955717e8", or "namespace/name" for another Hugging Face namespace) is looked up ON DISK only,
  where Demucs itself caches downloads: the Hugging Face cache (Demucs >= 4.1 fetches
  ``adefossez/<Repo>`` safetensors there first) and the torch hub checkpoints folder
  (``torch.hub.get_dir()/checkpoints``, the older ``<sig>-<hash>.th`` downloads). Nothing is
  downloaded at run time unless ``download=True``, which hands the name to
  ``demucs.pretrained.get_model``. Checking the disk first matters: on an offline machine
  ``get_model`` spends ~30 s in Hugging Face retries before it fails.
- A folder written by :func:`save_local_demucs`: ``demucs.json`` (class name and constructor
  kwargs) + ``model.safetensors`` (the state dict). This is the safe format: no pickle is read.
- A Demucs ``.safetensors`` file in Demucs's Hugging Face export format (class in its metadata).
- A Demucs "repo" folder of ``<sig>.th`` files and bag ``.yaml`` files (or one ``.yaml`` inside
  it, to pick a bag), and a bare ``.th`` file. ``.th`` files are pickles, which can run code when
  loaded: they are loaded only from a path the user names, never found by searching.

Loaded models are cached per (model, device); a local model's cache entry is keyed by the
path's modification time too, so re-saving a model folder is picked up.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import os
import socket
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import soxr
import torch
from demucs.apply import BagOfModels, apply_model
from demucs.demucs import Demucs
from demucs.hdemucs import HDemucs
from demucs.htdemucs import HTDemucs
from torch import nn

from producer.atomic import atomic_path
from producer.audio.io import check_audio_array
from producer.errors import ModelNotFoundError, ProducerError
from producer.hub import cached_file, hub_cache_dir
from producer.plan import ROLES

__all__ = [
    "DEMUCS_ROLES",
    "MANIFEST_NAME",
    "WEIGHTS_NAME",
    "SeparationError",
    "Separator",
    "SeparatorConfig",
    "SeparatorNotFoundError",
    "clear_separator_cache",
    "load_demucs_model",
    "load_separator",
    "save_local_demucs",
    "source_roles",
]

logger = logging.getLogger(__name__)

#: Demucs source name → project role (see the module docstring for why).
DEMUCS_ROLES: dict[str, str] = {
    "drums": "drums",
    "bass": "bass",
    "vocals": "vocals",
    "other": "other",
    "piano": "harmony",
    "guitar": "harmony",
}

#: File names of the safe local format written by :func:`save_local_demucs`.
MANIFEST_NAME = "demucs.json"
WEIGHTS_NAME = "model.safetensors"
_FORMAT = "producer-demucs"
_FORMAT_VERSION = 1

# The model classes the safe format may name; nothing else is ever constructed from a manifest.
_CLASSES: dict[str, type[nn.Module]] = {"HTDemucs": HTDemucs, "HDemucs": HDemucs, "Demucs": Demucs}

# Mono-reference standard deviation below which a mix counts as silence (-160 dBFS): it is left
# unscaled rather than divided by ~0.
_SILENT_STD = 1e-8

# Socket timeout while `download=True` fetches weights; torch.hub's urlopen has none by default.
_DOWNLOAD_TIMEOUT_S = 60.0

# Loaded models kept in memory; small because a pretrained HTDemucs bag can be ~300 MB.
_CACHE_SIZE = 4


class SeparatorNotFoundError(ModelNotFoundError):
    """A Demucs model that is not on disk, or not a Demucs model we can load (one line)."""


class SeparationError(ProducerError):
    """Separation cannot run as configured (bad settings, device) or produced unusable output."""


@dataclass(frozen=True)
class SeparatorConfig:
    """How to separate: which model, where it runs, and how the song is chunked."""

    # Pretrained Demucs name or a local path (see the module docstring).
    model: str = "htdemucs"
    # Torch device string: "cpu", "cuda", "cuda:1", "mps".
    device: str = "cpu"
    # Chunk length in seconds; None = the model's own (7.8 s for htdemucs). Clamped to the
    # longest chunk an HTDemucs model can run.
    segment: float | None = None
    # Fraction of a chunk shared with the next one, cross-faded (Demucs's default).
    overlap: float = 0.25
    # Random time shifts averaged per chunk ("shift trick"): +~0.2 dB SDR per shift, each one a
    # full extra pass. 0 keeps the output deterministic.
    shifts: int = 0
    # tqdm progress bar over the chunks (on stderr).
    progress: bool = True
    # Let Demucs download pretrained weights that are not on disk (off: nothing downloads at run
    # time unless asked).
    download: bool = False

    def __post_init__(self) -> None:
        if self.segment is not None and not (math.isfinite(self.segment) and self.segment > 0):
            raise SeparationError(f"separator segment must be > 0 seconds, got {self.segment}")
        if not 0 <= self.overlap < 1:
            raise SeparationError(f"separator overlap must be in [0, 1), got {self.overlap}")
        if self.shifts < 0:
            raise SeparationError(f"separator shifts must be >= 0, got {self.shifts}")


def source_roles(sources: Sequence[str]) -> dict[str, str]:
    """Demucs source name → project role, for every source of a model (rules: module docstring)."""
    return {s: DEMUCS_ROLES.get(s, s if s in ROLES else "other") for s in sources}


class Separator:
    """A loaded Demucs model on a device, ready to split songs into role stems.

    Build one with :func:`load_separator` (cached loading) or directly from an in-memory model
    (a Demucs / HDemucs / HTDemucs module or a ``BagOfModels``).
    """

    def __init__(self, model: nn.Module, config: SeparatorConfig | None = None):
        self.config = config or SeparatorConfig()
        self.device = _torch_device(self.config.device)
        if getattr(model, "audio_channels", None) not in (1, 2):
            raise SeparationError(
                f"Demucs model has {getattr(model, 'audio_channels', None)} audio channels; "
                "only mono and stereo models are supported"
            )
        self.model = model.to(self.device).eval()
        self.source_roles = source_roles(list(model.sources))

    @classmethod
    def from_config(cls, config: SeparatorConfig) -> Separator:
        """Load (or reuse from the cache) ``config.model`` on ``config.device``."""
        device = _torch_device(config.device)
        return cls(_cached_model(config.model, device, config.download), config)

    @property
    def sources(self) -> tuple[str, ...]:
        """The model's source names, in its output order."""
        return tuple(self.model.sources)

    @property
    def samplerate(self) -> int:
        """The rate the model runs at; inputs are resampled to it and back."""
        return int(self.model.samplerate)

    @property
    def audio_channels(self) -> int:
        return int(self.model.audio_channels)

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles :meth:`separate` returns, in ``producer.plan.ROLES`` order."""
        produced = set(self.source_roles.values())
        return tuple(r for r in ROLES if r in produced)

    @property
    def max_segment(self) -> float | Fraction | None:
        """Longest chunk in seconds the model can run (HTDemucs), or None when unbounded."""
        # Not BagOfModels.max_allowed_segment, which rounds the exact Fraction (39/5 s) to a
        # float: the chunk length in samples should be the model's training length exactly.
        models = self.model.models if isinstance(self.model, BagOfModels) else [self.model]
        limits = [m.segment for m in models if isinstance(m, HTDemucs)]
        return min(limits) if limits else None

    def separate(self, audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
        """Split a mix into ``{role: (2, T) float32}`` at the input's rate and length.

        ``audio`` is mono ``(T,)`` / ``(1, T)`` or stereo ``(2, T)`` (anything
        :func:`~producer.audio.io.check_audio_array` accepts). Roles are those of
        :attr:`roles`, in ``producer.plan.ROLES`` order.

        Raises:
            AudioInputError: the array is unusable (empty, non-finite, too long…).
            SeparationError: the segment is too short to chunk, or the model produced NaN/Inf.
        """
        stereo = check_audio_array(audio, sample_rate, name="song")
        length = stereo.shape[1]
        rate = float(sample_rate)
        model_rate = self.samplerate
        mix = stereo if self.audio_channels == 2 else stereo.mean(axis=0, keepdims=True)
        if rate != model_rate:
            mix = _resample(mix, rate, model_rate)
        if mix.shape[1] == 0:  # a few samples at a high rate can resample to nothing
            mix = np.zeros((mix.shape[0], 1), dtype=np.float32)

        estimates = self._separate_at_model_rate(torch.from_numpy(mix))  # (S, C, T')
        roles = self.roles
        by_role = {r: np.zeros_like(mix) for r in roles}
        for index, source in enumerate(self.sources):
            by_role[self.source_roles[source]] += estimates[index]

        # One soxr call for every role and channel: (R * C, T') → (R * C, T).
        stacked = np.concatenate([by_role[r] for r in roles])
        if rate != model_rate:
            stacked = _resample(stacked, model_rate, rate)
        stacked = _fit_length(stacked, length)
        if not np.isfinite(stacked).all():
            raise SeparationError(
                "Demucs produced NaN or infinite samples: the model weights are broken "
                "(re-save or re-download the model)"
            )
        channels = self.audio_channels
        stems: dict[str, np.ndarray] = {}
        for i, role in enumerate(roles):
            stem = stacked[i * channels : (i + 1) * channels]
            if channels == 1:
                stem = np.concatenate([stem, stem])
            stems[role] = np.ascontiguousarray(stem, dtype=np.float32)
        return stems

    def _separate_at_model_rate(self, mix: torch.Tensor) -> np.ndarray:
        """(C, T') float32 at the model's rate → (S, C, T') source estimates."""
        cfg = self.config
        segment = self._segment()
        chunk = int(self.samplerate * (segment if segment is not None else self._own_segment()))
        if int((1 - cfg.overlap) * chunk) < 1:
            raise SeparationError(
                f"separator segment {segment} s with overlap {cfg.overlap} leaves no room to "
                f"advance between chunks at {self.samplerate} Hz: use a longer segment"
            )
        # Normalise like demucs/separate.py, so results match the `demucs` command.
        ref = mix.mean(0)
        mean = float(ref.mean())
        std = float(ref.std()) if ref.numel() > 1 else 0.0
        scale = std if math.isfinite(std) and std > _SILENT_STD else 1.0
        normed = (mix - mean) / scale
        # The mix stays on the CPU: apply_model moves one chunk at a time to the device and
        # gathers the output on the mix's device, so GPU memory holds a chunk, not a song.
        with torch.no_grad():
            est = apply_model(
                self.model,
                normed[None],
                shifts=cfg.shifts,
                split=True,
                overlap=cfg.overlap,
                progress=cfg.progress,
                device=self.device,
                segment=segment,
            )[0]
        return (est * scale + mean).cpu().numpy()

    def _segment(self) -> float | Fraction | None:
        """The chunk length to ask for: the configured one, clamped to what the model can run."""
        segment = self.config.segment
        limit = self.max_segment
        if segment is None or limit is None or segment <= limit:
            return segment
        logger.warning(
            "separator segment %.2f s is longer than this model can run; using %.2f s",
            segment,
            float(limit),
        )
        return limit  # the model's own value (often a Fraction: 39/5 s), exact in samples

    def _own_segment(self) -> float:
        if isinstance(self.model, BagOfModels):
            return min(float(m.segment) for m in self.model.models)
        return float(self.model.segment)


def load_separator(
    model: str | os.PathLike[str] = "htdemucs", device: str = "cpu", *, download: bool = False
) -> Separator:
    """A :class:`Separator` for a pretrained name or local path, with default chunking.

    Loading is cached per (model, device), so callers may call this for every song. For other
    chunking settings use ``Separator.from_config(SeparatorConfig(...))`` (same cache).

    Raises:
        SeparatorNotFoundError: the model is not on disk (one line: where Demucs looks, what to
            do), or the path is not a Demucs model.
        SeparationError: the device is not available.
    """
    return Separator.from_config(
        SeparatorConfig(model=os.fspath(model), device=device, download=download)
    )


# --- loading -------------------------------------------------------------------------------

_cache: OrderedDict[tuple[str, str, int | None], nn.Module] = OrderedDict()


def _cached_model(spec: str, device: torch.device, download: bool) -> nn.Module:
    """Load once per (model, device); a local path's mtime is part of the key."""
    path = Path(spec).expanduser()
    stamp = None
    if path.exists():
        spec = str(path.resolve())
        stamp = path.stat().st_mtime_ns
    key = (spec, str(device), stamp)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    model = load_demucs_model(spec, download=download).to(device).eval()
    _cache[key] = model
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return model


def clear_separator_cache() -> None:
    """Forget every cached model (frees their memory once no Separator holds them)."""
    _cache.clear()


def load_demucs_model(model: str | os.PathLike[str] = "htdemucs", *, download: bool = False):
    """Load a Demucs model (uncached, on the CPU, in eval mode) from a name or a path.

    Names are found on disk only (Hugging Face cache, torch hub checkpoints) unless
    ``download`` is True; paths may be a :func:`save_local_demucs` folder, a Demucs
    ``.safetensors`` file, a Demucs repo folder or one of its ``.yaml`` bags, or a ``.th`` file.
    Returns a Demucs / HDemucs / HTDemucs module or a ``BagOfModels``.

    Raises:
        SeparatorNotFoundError: one line naming what was asked, where it looked, what to do.
    """
    spec = os.fspath(model).strip()
    if not spec:
        raise SeparatorNotFoundError(
            "no Demucs model given: pass a pretrained name such as htdemucs, or a local model "
            "directory with --separator-model"
        )
    path = Path(spec).expanduser()
    if path.exists():
        loaded = _load_local(path)
    elif _looks_like_path(spec):
        raise SeparatorNotFoundError(
            f"Demucs model path '{spec}' does not exist: pass a folder written by "
            f"save_local_demucs ({MANIFEST_NAME} + {WEIGHTS_NAME}), a Demucs .th / .safetensors "
            "file or repo folder, or a pretrained name such as htdemucs"
        )
    else:
        loaded = _load_pretrained(spec, download)
    return loaded.eval()


def _looks_like_path(spec: str) -> bool:
    """True for what only a filesystem path can be ('./x', '/x', '~/x', 'a/b/c', 'x.th')."""
    if spec.startswith("hf://"):
        return False
    return (
        spec.startswith((".", "/", "~"))
        or "\\" in spec
        or spec.count("/") > 1
        or Path(spec).suffix.lower() in (".th", ".safetensors", ".yaml", ".json")
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _demucs_call(load, what: str) -> nn.Module:
    """Run a Demucs loader, turning its failures into one line.

    Demucs reports some failures with ``fatal()``, which prints and calls ``sys.exit(1)``;
    SystemExit is caught here so a bad model file cannot end the process.
    """
    try:
        return load()
    except (Exception, SystemExit) as exc:
        if isinstance(exc, SystemExit):
            # fatal() has printed its reason; the one Demucs reaches while loading is diffq.
            reason = "Demucs gave up (see its message above; quantized models need diffq)"
        else:
            reason = _one_line(exc)
        raise SeparatorNotFoundError(f"cannot load Demucs model {what}: {reason}") from exc


# --- local models ----------------------------------------------------------------------------


def _load_local(path: Path) -> nn.Module:
    if path.is_dir():
        if (path / MANIFEST_NAME).is_file():
            return _load_safe_dir(path)
        return _load_repo_dir(path)
    suffix = path.suffix.lower()
    if path.name == MANIFEST_NAME:
        return _load_safe_dir(path.parent)
    if suffix == ".safetensors":
        return _load_safetensors_file(path)
    if suffix == ".yaml":
        return _load_repo(path.parent, path.stem)
    if suffix == ".th":
        # A pickle: loaded only because the user named this very file.
        from demucs.states import load_model

        return _demucs_call(lambda: load_model(path), f"'{path}'")
    raise SeparatorNotFoundError(
        f"'{path}' is not a Demucs model: pass a folder with {MANIFEST_NAME} + {WEIGHTS_NAME} "
        "(save_local_demucs), a Demucs .th or .safetensors file, or a Demucs repo folder"
    )


def _load_safe_dir(directory: Path) -> nn.Module:
    """The save_local_demucs format: a JSON manifest and a safetensors state dict, no pickle."""
    from safetensors.torch import load_file

    where = f"'{directory}'"
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text())
        if manifest.get("format") != _FORMAT or manifest.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{MANIFEST_NAME} is not a {_FORMAT} v{_FORMAT_VERSION} manifest")
        cls = _CLASSES.get(manifest.get("class"))
        if cls is None:
            raise ValueError(
                f"unknown model class {manifest.get('class')!r} (one of {', '.join(_CLASSES)})"
            )
        weights = directory / WEIGHTS_NAME
        if not weights.is_file():
            raise ValueError(f"{WEIGHTS_NAME} is missing")
        if _sha256(weights) != manifest.get("sha256"):
            # Written last, the manifest names the weights it belongs to: a save interrupted
            # between the two files is caught here instead of loading mismatched weights.
            raise ValueError(f"{WEIGHTS_NAME} does not match {MANIFEST_NAME} (re-save the model)")
        kwargs = _from_json(manifest.get("kwargs", {}))
        model = cls(**kwargs)
        model.load_state_dict(load_file(str(weights)))
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise SeparatorNotFoundError(f"cannot load Demucs model {where}: {_one_line(exc)}") from exc
    return model


def _load_safetensors_file(path: Path) -> nn.Module:
    """A Demucs Hugging Face export: class and kwargs in the safetensors metadata."""
    from demucs.hf import load_safetensors_model
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as file:
            klass = (file.metadata() or {}).get("klass", "")
    except Exception as exc:
        raise SeparatorNotFoundError(f"cannot read '{path}': {_one_line(exc)}") from exc
    # Demucs imports the class the metadata names; allow only Demucs's own modules.
    if not klass.startswith("demucs."):
        raise SeparatorNotFoundError(
            f"'{path}' has no Demucs class in its metadata: pass a folder written by "
            f"save_local_demucs ({MANIFEST_NAME} + {WEIGHTS_NAME}) instead"
        )
    return _demucs_call(lambda: load_safetensors_model(path), f"'{path}'")


def _load_repo_dir(directory: Path) -> nn.Module:
    """A Demucs repo folder: pick its only bag (.yaml), or its only model (.th)."""
    bags = sorted(p.stem for p in directory.glob("*.yaml"))
    sigs = sorted(p.stem.split("-", 1)[0] for p in directory.glob("*.th"))
    if len(bags) == 1:
        return _load_repo(directory, bags[0])
    if not bags and len(sigs) == 1:
        return _load_repo(directory, sigs[0])
    if not bags and not sigs:
        raise SeparatorNotFoundError(
            f"'{directory}' is not a Demucs model folder: it has no {MANIFEST_NAME} (see "
            "save_local_demucs) and no Demucs .th / .yaml files"
        )
    names = ", ".join(bags or sigs)
    raise SeparatorNotFoundError(
        f"Demucs repo folder '{directory}' holds several models ({names}): pass "
        f"'{directory}/<name>.yaml' or '{directory}/<sig>.th' to pick one"
    )


def _load_repo(directory: Path, name: str) -> nn.Module:
    # The .th files of a repo are pickles; this runs only for a folder the user named.
    from demucs.pretrained import get_model

    return _demucs_call(lambda: get_model(name, repo=directory), f"'{name}' in '{directory}'")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _to_json(value: Any, key: str) -> Any:
    """Constructor kwargs → JSON; Fractions (HTDemucs's segment) as Demucs's HF export does."""
    if isinstance(value, Fraction):
        return {"_type": "fraction", "numerator": value.numerator, "denominator": value.denominator}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_to_json(v, key) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _to_json(v, f"{key}.{k}") for k, v in value.items()}
    raise ValueError(f"{MANIFEST_NAME} cannot store {key}={value!r} ({type(value).__name__})")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("_type") == "fraction":
            return Fraction(value["numerator"], value["denominator"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def save_local_demucs(
    model: nn.Module, kwargs: Mapping[str, Any] | None, directory: str | os.PathLike[str]
) -> Path:
    """Write ``model`` as ``<directory>/demucs.json`` + ``<directory>/model.safetensors``.

    ``kwargs`` are the constructor keyword arguments; None takes the ones Demucs recorded when
    the model was built (its ``capture_init``). ``sources``, ``samplerate``, ``audio_channels``
    and ``segment`` are always taken from the model itself (a bag of models may have changed
    ``segment`` in place). A ``BagOfModels`` of one model is saved as that model (the bag's
    weights cancel out); larger bags are refused. Each file is written atomically and the
    manifest last, with the weights' SHA-256, so a half-finished save never loads.
    Returns the directory.
    """
    from safetensors.torch import save_file

    if isinstance(model, BagOfModels):
        if len(model.models) != 1:
            raise ValueError(
                f"save_local_demucs saves one model; this bag holds {len(model.models)}"
            )
        model = model.models[0]
    name = next((n for n, c in _CLASSES.items() if type(model) is c), None)
    if name is None:
        raise TypeError(f"cannot save {type(model).__name__}: one of {', '.join(_CLASSES)}")
    cls = _CLASSES[name]
    signature = inspect.signature(cls)
    if kwargs is None:
        captured = getattr(model, "_init_args_kwargs", None)
        if captured is None:
            raise ValueError("the model did not record its constructor arguments: pass kwargs")
        args, kw = captured
        arguments = dict(signature.bind(*args, **kw).arguments)
    else:
        arguments = dict(signature.bind(**kwargs).arguments)
    for attr in ("sources", "samplerate", "audio_channels", "segment"):
        if attr in signature.parameters and hasattr(model, attr):
            arguments[attr] = getattr(model, attr)
    encoded = {k: _to_json(v, k) for k, v in arguments.items()}

    directory = Path(directory)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(directory / WEIGHTS_NAME, suffix=".safetensors") as tmp:
        save_file(state, str(tmp))
        digest = _sha256(tmp)
    manifest = {
        "format": _FORMAT,
        "version": _FORMAT_VERSION,
        "class": name,
        "kwargs": encoded,
        "sha256": digest,
    }
    with atomic_path(directory / MANIFEST_NAME, suffix=".json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    return directory


# --- pretrained names --------------------------------------------------------------------------


def _torch_hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _load_pretrained(name: str, download: bool) -> nn.Module:
    """A pretrained Demucs name, from the caches Demucs downloads into; never the network
    unless ``download``."""
    from demucs.pretrained import REMOTE_ROOT, _parse_remote_files

    hf_name = name.removeprefix("hf://")
    model, repo_id = _from_hf_cache(hf_name)
    if model is not None:
        return model
    # The legacy index: signature → URL, and bag name → signatures (bundled with Demucs).
    urls = _parse_remote_files(REMOTE_ROOT / "files.txt")
    bags = {p.stem for p in REMOTE_ROOT.glob("*.yaml")}
    plain = hf_name == name and "/" not in name
    if plain and name not in bags and name not in urls:
        raise SeparatorNotFoundError(
            f"unknown Demucs model '{name}': pretrained names are {', '.join(sorted(bags))}; "
            "or pass a local model directory with --separator-model"
        )
    files: list[Path] = []
    if plain:
        model, files = _from_torch_hub(name, urls, REMOTE_ROOT)
        if model is not None:
            return model
    if download:
        return _download(name)
    hub = _torch_hub_checkpoints()
    where = f"the Hugging Face cache {hub_cache_dir()} ({repo_id})"
    if files:
        where += f" or torch hub checkpoints {hub} ({', '.join(f.name for f in files)})"
    raise SeparatorNotFoundError(
        f"Demucs model '{name}' weights are not on disk (looked in {where}; nothing downloads at "
        f'run time): run `uv run python -c "from demucs.pretrained import get_model; '
        f"get_model('{name}')\"` once on a networked machine (it fills one of those caches) and "
        "copy that cache here, or pass a local model directory with --separator-model"
    )


def _from_hf_cache(name: str) -> tuple[nn.Module | None, str | None]:
    """Demucs >= 4.1's first stop: ``<namespace>/<Repo>`` safetensors in the HF cache."""
    import yaml
    from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name

    namespace, short = name.split("/", 1) if "/" in name else (DEFAULT_NAMESPACE, name)
    repo_id = f"{namespace}/{hf_repo_name(short)}"
    bag_file = cached_file(repo_id, f"{short}.yaml")
    if bag_file is None:
        return None, repo_id
    try:
        bag = yaml.safe_load(bag_file.read_text())
        files = [cached_file(repo_id, f"{sig}.safetensors") for sig in bag["models"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError):  # unreadable: not in the cache, then
        return None, repo_id
    if any(f is None for f in files):
        return None, repo_id
    models = [_load_safetensors_file(f) for f in files]
    return BagOfModels(models, bag.get("weights"), bag.get("segment")), repo_id


def _from_torch_hub(
    name: str, urls: dict[str, str], remote_root: Path
) -> tuple[nn.Module | None, list[Path]]:
    """The legacy downloads: ``<sig>-<hash>.th`` files in the torch hub checkpoints folder."""
    import yaml
    from demucs.repo import AnyModelRepo, BagOnlyRepo, RemoteRepo

    bag_file = remote_root / f"{name}.yaml"
    sigs = yaml.safe_load(bag_file.read_text())["models"] if bag_file.is_file() else [name]
    hub = _torch_hub_checkpoints()
    files = [hub / Path(urlparse(urls[s]).path).name for s in sigs if s in urls]
    if len(files) != len(sigs) or not all(f.is_file() for f in files):
        return None, files
    # Every file is on disk, so torch.hub reads its cache and never opens a connection. These
    # are pickles Demucs downloaded itself (hash-checked then); loading them is what `demucs` does.
    model_repo = RemoteRepo(urls)
    repo = AnyModelRepo(model_repo, BagOnlyRepo(remote_root, model_repo))
    return _demucs_call(lambda: repo.get_model(name), f"'{name}'"), files


def _download(name: str) -> nn.Module:
    """Let Demucs fetch the weights (``download=True`` only), with a bounded socket timeout."""
    from demucs.pretrained import get_model

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)
    try:
        return _demucs_call(lambda: get_model(name), f"'{name}' (download)")
    finally:
        socket.setdefaulttimeout(previous)


# --- helpers -----------------------------------------------------------------------------------


def _torch_device(device: str) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise SeparationError(f"unknown separator device '{device}': {_one_line(exc)}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SeparationError(f"separator device '{device}' asked for, but CUDA is not available")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise SeparationError(f"separator device '{device}' asked for, but MPS is not available")
    return dev


def _resample(audio: np.ndarray, rate_in: float, rate_out: float) -> np.ndarray:
    """(C, T) → (C, T') with soxr VHQ, as producer.audio.io.load_audio resamples."""
    out = soxr.resample(np.ascontiguousarray(audio.T), rate_in, rate_out, quality="VHQ")
    return np.ascontiguousarray(np.asarray(out, dtype=np.float32).reshape(-1, audio.shape[0]).T)


def _fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad (C, T) to exactly ``length`` samples."""
    if audio.shape[1] >= length:
        return audio[:, :length]
    return np.pad(audio, ((0, 0), (0, length - audio.shape[1])))
