"""MusicGen as a stem generator: transformers' MusicGen classes behind the `Generator` protocol.

    from producer.generators.musicgen import MusicGenConfig, MusicGenGenerator
    gen = MusicGenGenerator(MusicGenConfig(model="facebook/musicgen-small", device="cuda"))
    stem = gen.generate(spec, plan, duration=8.0, seed=7)          # Stem, (2, 8 * 44100)

A plan picks it per stem with `{"role": "bass", "generator": "musicgen", "params": {...}}`.
Params (all optional): `model` (hub id or local directory, overrides the config), `prompt`
(extra text), `melody` (an audio array, `(T,)` or `(C, T)`, used by melody models such as
`facebook/musicgen-melody`), `melody_sample_rate` (default: the `sample_rate` asked for),
`guidance_scale`, `temperature`, `top_k`.

Loading is offline only. A hub id is looked up in the local Hugging Face cache
(`producer.hub.cached_snapshot`: huggingface_hub's `snapshot_download(...,
local_files_only=True)`, which never touches the network) and the model is then read from that
snapshot directory with `local_files_only=True`; a local directory is read as it is. A model
that is not on disk raises `ModelNotFoundError` in one line that names it, where it looked and
what to do. Weights are read from safetensors only (no pickles). Loaded models are cached per
(model, device, dtype) for the life of the process.

Generation: the text is built from the plan (mood, style, role, tempo, key: "dark trap 808 bass
line, 142 bpm, F minor", then the person's prompt); torch is seeded inside a forked RNG so a seed
always gives the same audio; the decoder runs for as many tokens as the duration needs (frame
rate from the audio encoder's config, capped at `max_segment_seconds`); the codec output is
freed of any DC offset, resampled with soxr to the asked rate, made stereo, trimmed or looped
on whole bars of the plan's tempo with a raised-cosine crossfade (`fit_to_length`) to exactly
`round(duration * sample_rate)` samples, and peak-normalised to `peak_dbfs`.

transformers and torch are imported inside the functions that need them: importing this module
(which the generator registry does, to name "musicgen") stays cheap.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from producer.audio.io import check_audio_array
from producer.errors import ModelNotFoundError, ProducerError
from producer.generators.events import Stem
from producer.hub import cached_snapshot, hub_cache_dir
from producer.plan import ProductionPlan, StemSpec

log = logging.getLogger(__name__)

#: model_type in config.json → does the model take a melody (chroma) condition?
MUSICGEN_MODEL_TYPES = {"musicgen": False, "musicgen_melody": True}


class ModelLoadError(ProducerError):
    """A model directory that exists but cannot be loaded (bad config, no weights, wrong kind)."""


class GenerationError(ProducerError):
    """A generator could not produce usable audio (non-finite output, nothing generated)."""


@dataclass(frozen=True)
class MusicGenConfig:
    """How the MusicGen generator loads and samples its model."""

    # Hub id (looked up in the local HF cache only) or a directory written by save_pretrained.
    model: str = "facebook/musicgen-small"
    # "cpu", "cuda", "cuda:1", or "auto" (cuda when available, else cpu).
    device: str = "cpu"
    # "float32", "float16" or "bfloat16"; half precision only makes sense on a GPU.
    dtype: str = "float32"
    # Classifier-free guidance: >1 follows the text more closely (MusicGen's default is 3).
    guidance_scale: float = 3.0
    # Sampling temperature and top-k of the audio tokens (MusicGen's defaults: 1.0, 250).
    temperature: float = 1.0
    top_k: int = 250
    # Fixed number of decoder tokens; None derives it from the duration and the frame rate.
    max_new_tokens: int | None = None
    # Longest stretch generated in one pass; a longer stem loops it on whole bars (MusicGen
    # was trained on 30 s clips and its positions run out at max_position_embeddings).
    max_segment_seconds: float = 30.0
    # Crossfade where a loop wraps around, in seconds.
    crossfade_seconds: float = 0.05
    # Peak level of the returned stem, in dB relative to full scale.
    peak_dbfs: float = -3.0
    # Hugging Face hub cache to look in; None: the default (HF_HUB_CACHE / HF_HOME).
    cache_dir: str | None = None

    @classmethod
    def from_env(cls) -> MusicGenConfig:
        """Defaults, with PRODUCER_MUSICGEN_MODEL / _DEVICE / _DTYPE applied when set.

        Read only at the outermost edge (`GeneratorSettings.from_env`, which `get_generator`
        uses when given no settings): the environment is how a deployment that passes no
        settings (a Serve replica with a GPU, a laptop with a local checkpoint) picks the model.
        """
        env = {
            "model": os.environ.get("PRODUCER_MUSICGEN_MODEL"),
            "device": os.environ.get("PRODUCER_MUSICGEN_DEVICE"),
            "dtype": os.environ.get("PRODUCER_MUSICGEN_DTYPE"),
        }
        return cls(**{k: v for k, v in env.items() if v})


# --------------------------------------------------------------------------------------------
# Loading (offline only)
# --------------------------------------------------------------------------------------------


@dataclass
class LoadedMusicGen:
    """A loaded model with what generation needs to know about it."""

    model: Any  # Musicgen(Melody)ForConditionalGeneration, in eval mode, on its device
    processor: Any  # MusicgenProcessor; melody models: the tokenizer alone (see _load)
    path: Path  # the directory it was read from
    melody: bool  # takes a chroma melody condition
    sampling_rate: int  # rate of the codec's output
    frame_rate: float  # decoder tokens per second of audio
    chroma: dict[str, int] = field(default_factory=dict)  # melody feature settings

    @property
    def tokenizer(self) -> Any:
        return getattr(self.processor, "tokenizer", self.processor)


_CACHE: dict[tuple[str, str, str, str | None], LoadedMusicGen] = {}
_CACHE_LOCK = threading.Lock()
_GENERATE_LOCK = threading.Lock()  # torch's RNG is process-global: one seeded run at a time


def clear_cache() -> None:
    """Forget every loaded model (the next load reads from disk again)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _looks_like_path(name: str) -> bool:
    """True for what only a filesystem path can be ('./x', '/x', '~/x', 'a/b/c', 'x\\y')."""
    return name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1


def resolve_model_dir(name_or_path: str, cache_dir: str | None = None) -> Path:
    """The local directory holding `name_or_path`, without touching the network.

    A directory is used as it is; a hub id ("facebook/musicgen-small") is found in the local
    HF cache. Anything else raises ModelNotFoundError naming what was asked, where it looked
    and what to do.
    """
    name = str(name_or_path).strip()
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"MusicGen model directory '{path}' has no config.json: pass a directory written "
                "by save_pretrained (config.json, model.safetensors, tokenizer files)"
            )
        return path
    if path.exists():
        raise ModelNotFoundError(
            f"MusicGen model path '{path}' is a file: pass the directory written by "
            "save_pretrained, or a hub id such as facebook/musicgen-small"
        )
    if not name or _looks_like_path(name):
        raise ModelNotFoundError(
            f"MusicGen model path '{name}' does not exist: pass a directory written by "
            "save_pretrained, or a hub id such as facebook/musicgen-small that is in the HF cache"
        )
    cache = hub_cache_dir(cache_dir)
    snapshot = cached_snapshot(name, cache_dir=cache, required=None)
    if snapshot is None:
        raise ModelNotFoundError(
            f"MusicGen model '{name}' is not on disk (not a local directory, and not in the "
            f"Hugging Face cache {cache}; models load offline only): on a networked machine run "
            f"`hf download {name}` (older huggingface_hub: `huggingface-cli download {name}`) "
            "and copy the cache here, or pass a local model directory"
        )
    if not (snapshot / "config.json").is_file():
        raise ModelNotFoundError(
            f"MusicGen model '{name}' is only partly in the Hugging Face cache ({snapshot} has "
            f"no config.json): run `hf download {name}` again on a networked machine"
        )
    return snapshot


def _read_config(path: Path) -> dict[str, Any]:
    config_file = path / "config.json"
    try:
        config = json.loads(config_file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"MusicGen config {config_file} is not readable JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise ModelLoadError(f"MusicGen config {config_file} is not a JSON object")
    model_type = config.get("model_type")
    if model_type not in MUSICGEN_MODEL_TYPES:
        known = ", ".join(sorted(MUSICGEN_MODEL_TYPES))
        raise ModelLoadError(
            f"{path} is not a MusicGen checkpoint: config.json has model_type {model_type!r} "
            f"(expected one of {known})"
        )
    return config


def _chroma_settings(path: Path, config: dict[str, Any]) -> dict[str, int]:
    """Chroma feature settings of a melody model (preprocessor_config.json, else its defaults)."""
    settings = {
        "sampling_rate": 32000,
        "n_fft": 16384,
        "hop_length": 4096,
        "chunk_length": 30,
        "num_chroma": int(config.get("num_chroma", 12)),
    }
    pre = path / "preprocessor_config.json"
    if pre.is_file():
        try:
            stored = json.loads(pre.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"MusicGen feature config {pre} is not readable JSON") from exc
        for key in settings:
            if isinstance(stored.get(key), int | float):
                settings[key] = int(stored[key])
    return settings


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ProducerError(f"MusicGen device '{device}' asked for, but no CUDA GPU is available")
    return device


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _load(path: Path, device: str, dtype: str) -> LoadedMusicGen:
    config = _read_config(path)
    melody = MUSICGEN_MODEL_TYPES[config["model_type"]]

    import torch
    import transformers

    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype):
        raise ProducerError(f"MusicGen dtype '{dtype}' is not a torch dtype (float32, float16…)")
    model_class = (
        transformers.MusicgenMelodyForConditionalGeneration
        if melody
        else transformers.MusicgenForConditionalGeneration
    )
    # from_pretrained fails in many ways (OSError, ValueError, SafetensorError, …): each one
    # means "this directory is not a loadable checkpoint", told in one line with the cause kept.
    try:
        model = model_class.from_pretrained(
            str(path), local_files_only=True, use_safetensors=True, dtype=torch_dtype
        )
    except Exception as exc:
        raise ModelLoadError(f"cannot load MusicGen model from {path}: {_first_line(exc)}") from exc
    model.to(device).eval()

    # MusicgenMelodyProcessor needs torchaudio (not a dependency): melody models get their
    # tokenizer only, and the chroma is computed here (`melody_chroma`).
    try:
        if melody:
            processor = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        else:
            try:
                processor = transformers.AutoProcessor.from_pretrained(
                    str(path), local_files_only=True
                )
            except (OSError, ValueError, KeyError, TypeError):
                processor = transformers.AutoTokenizer.from_pretrained(
                    str(path), local_files_only=True
                )
    except Exception as exc:
        raise ModelLoadError(
            f"cannot load the tokenizer of MusicGen model {path}: {_first_line(exc)}"
        ) from exc

    audio_config = model.config.audio_encoder
    return LoadedMusicGen(
        model=model,
        processor=processor,
        path=path,
        melody=melody,
        sampling_rate=int(audio_config.sampling_rate),
        frame_rate=float(audio_config.frame_rate),
        chroma=_chroma_settings(path, config) if melody else {},
    )


def load_musicgen_model(
    name_or_path: str, device: str = "cpu", dtype: str = "float32", cache_dir: str | None = None
) -> LoadedMusicGen:
    """Load (once per process) a MusicGen or MusicGen-Melody model from disk, offline.

    Raises:
        ModelNotFoundError: the name or path is not on disk (one line: what, where, what to do).
        ModelLoadError: it is on disk but is not a loadable MusicGen checkpoint.
    """
    key = (str(name_or_path), device, dtype, cache_dir)
    with _CACHE_LOCK:
        if key not in _CACHE:
            path = resolve_model_dir(str(name_or_path), cache_dir)
            _CACHE[key] = _load(path, _resolve_device(device), dtype)
        return _CACHE[key]


def load_musicgen(name_or_path: str, device: str = "cpu") -> tuple[Any, Any]:
    """(model, processor) of a MusicGen model on disk; see `load_musicgen_model`."""
    loaded = load_musicgen_model(name_or_path, device)
    return loaded.model, loaded.processor


# --------------------------------------------------------------------------------------------
# Pure helpers: prompt, length fitting, chroma
# --------------------------------------------------------------------------------------------

_STYLE_WORDS = {
    "trap": "trap",
    "boom-bap": "boom bap",
    "lo-fi": "lo-fi hip hop",
    "drill": "drill",
    "g-funk": "g-funk",
}
_ROLE_WORDS = {
    "drums": "drum loop",
    "bass": "bass line",
    "melody": "lead melody",
    "harmony": "chord progression",
    "vocals": "vocal chops",
    "other": "atmospheric texture",
}


def musicgen_prompt(spec: StemSpec, plan: ProductionPlan) -> str:
    """The text condition of a stem: "dark trap 808 bass line, 142 bpm, F minor. <prompt>"."""
    role = _ROLE_WORDS.get(spec.role, spec.role)
    if spec.role == "bass" and plan.style in ("trap", "drill"):
        role = "808 " + role
    words = [*plan.mood, _STYLE_WORDS.get(plan.style, plan.style), role]
    text = f"{' '.join(w.strip() for w in words if w.strip())}, {plan.bpm:.0f} bpm, "
    text += f"{plan.key} {plan.mode}"
    extra = [str(spec.params.get("prompt") or "").strip(), plan.prompt.strip()]
    return ". ".join([text, *(e.rstrip(".") for e in extra if e)])


def loop_period(available: int, sample_rate: int, bpm: float | None, crossfade: int) -> int:
    """Samples of the loop body: the most whole bars (else beats) of `bpm` that fit.

    `available` samples are on hand and `crossfade` more past the loop point are needed for the
    crossfade; with no tempo, or not even one beat fitting, the whole usable length loops.
    """
    usable = available - crossfade
    if bpm and bpm > 0:
        beat = 60.0 / bpm * sample_rate
        for unit in (4 * beat, beat):
            count = math.floor(usable / unit + 1e-9)
            if count >= 1:
                return max(1, min(usable, round(count * unit)))
    return max(1, usable)


def _fades(length: int) -> tuple[np.ndarray, np.ndarray]:
    """Raised-cosine (fade_out, fade_in) of `length` samples; they sum to 1 at every sample."""
    fade_in = np.sin(0.5 * np.pi * np.arange(1, length + 1) / (length + 1)) ** 2
    fade_in = fade_in.astype(np.float32)
    return 1.0 - fade_in, fade_in


def fit_to_length(
    audio: np.ndarray,
    num_samples: int,
    sample_rate: int,
    bpm: float | None = None,
    crossfade_seconds: float = 0.05,
) -> np.ndarray:
    """`(C, T)` audio cut or looped to exactly `(C, num_samples)`.

    Longer audio keeps its first `num_samples`. Shorter audio loops a body of whole bars of
    `bpm` (whole beats when no bar fits) that starts at sample 0; each wrap crossfades the
    audio just past the loop point into the loop's start, so the join is as smooth as the
    signal itself and the loop stays on the bar grid (period = body length exactly).
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise GenerationError(f"cannot fit audio of shape {audio.shape} to a length")
    if num_samples <= 0:
        raise GenerationError(f"a stem needs at least one sample, asked for {num_samples}")
    channels, available = audio.shape
    if available >= num_samples:
        return np.ascontiguousarray(audio[:, :num_samples])

    crossfade = min(round(crossfade_seconds * sample_rate), available // 4)
    period = loop_period(available, sample_rate, bpm, crossfade)
    crossfade = min(crossfade, available - period)
    unit = audio[:, :period].copy()  # what every repetition after the first plays
    if crossfade > 0:
        fade_out, fade_in = _fades(crossfade)
        tail = audio[:, period : period + crossfade]
        unit[:, :crossfade] = tail * fade_out + audio[:, :crossfade] * fade_in

    out = np.empty((channels, num_samples), dtype=np.float32)
    first = min(period, num_samples)
    out[:, :first] = audio[:, :first]
    pos = first
    while pos < num_samples:
        take = min(period, num_samples - pos)
        out[:, pos : pos + take] = unit[:, :take]
        pos += take
    return out


def peak_normalize(audio: np.ndarray, peak_dbfs: float = -3.0) -> np.ndarray:
    """Scale so the largest |sample| is `peak_dbfs`; silence is returned unchanged."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 1e-9:
        return audio
    return (audio * np.float32(10.0 ** (peak_dbfs / 20.0) / peak)).astype(np.float32)


def melody_chroma(
    audio: np.ndarray,
    sample_rate: int,
    *,
    feature_rate: int = 32000,
    n_fft: int = 16384,
    hop_length: int = 4096,
    num_chroma: int = 12,
    max_seconds: float = 30.0,
) -> np.ndarray:
    """The melody condition of MusicGen-Melody: `(frames, num_chroma)` one-hot dominant chroma.

    The same features as transformers' MusicgenMelodyFeatureExtractor (mono, resampled to
    `feature_rate`, power STFT with a Hann window, centre-padded by reflection, librosa chroma
    filters, arg-max per frame), computed with numpy so torchaudio is not needed.
    """
    from transformers.audio_utils import chroma_filter_bank

    mono = np.asarray(audio, dtype=np.float64)
    mono = mono.mean(axis=0) if mono.ndim == 2 else mono
    if sample_rate != feature_rate:
        mono = soxr.resample(mono, sample_rate, feature_rate)
    mono = mono[: int(max_seconds * feature_rate)]
    if mono.size < n_fft:  # as the feature extractor: centre the clip in n_fft zeros
        pad = n_fft - mono.size
        mono = np.pad(mono, (pad // 2, pad - pad // 2))
    padded = np.pad(mono, (n_fft // 2, n_fft // 2), mode="reflect")
    frames = 1 + (padded.size - n_fft) // hop_length
    index = np.arange(n_fft)[None, :] + hop_length * np.arange(frames)[:, None]
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as torch.hann_window
    power = np.abs(np.fft.rfft(padded[index] * window, axis=-1)) ** 2  # (frames, bins)
    filters = chroma_filter_bank(
        num_frequency_bins=n_fft, num_chroma=num_chroma, sampling_rate=feature_rate, tuning=0
    )  # (num_chroma, bins)
    chroma = power @ filters.T
    one_hot = np.zeros_like(chroma, dtype=np.float32)
    one_hot[np.arange(frames), chroma.argmax(axis=-1)] = 1.0
    return one_hot


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class MusicGenGenerator:
    """Stems from a MusicGen model, conditioned on the plan's text (and a melody if given)."""

    name = "musicgen"

    def __init__(self, config: MusicGenConfig | None = None):
        # Plain defaults, never the environment: settings come from the caller (the registry
        # passes GeneratorSettings.musicgen), so one process can hold differently set up ones.
        self.config = config if config is not None else MusicGenConfig()

    def load(self, model: str | None = None) -> LoadedMusicGen:
        cfg = self.config
        return load_musicgen_model(model or cfg.model, cfg.device, cfg.dtype, cfg.cache_dir)

    def generate(
        self,
        spec: StemSpec,
        plan: ProductionPlan,
        duration: float,
        seed: int,
        sample_rate: int = 44100,
    ) -> Stem:
        if not (math.isfinite(duration) and duration > 0):
            raise GenerationError(f"musicgen: duration must be > 0 seconds, got {duration}")
        params = spec.params
        cfg = replace(
            self.config,
            guidance_scale=float(params.get("guidance_scale", self.config.guidance_scale)),
            temperature=float(params.get("temperature", self.config.temperature)),
            top_k=int(params.get("top_k", self.config.top_k)),
        )
        loaded = self.load(params.get("model"))
        num_samples = round(duration * sample_rate)

        # Generate a little past the end when the whole stem fits in one segment, so that it
        # is only ever trimmed; a longer stem loops the longest segment allowed.
        seconds = min(duration + cfg.crossfade_seconds + 0.1, cfg.max_segment_seconds)
        melody = self._melody_features(params, loaded, sample_rate)
        raw = self._generate_raw(loaded, musicgen_prompt(spec, plan), seconds, seed, cfg, melody)

        if not np.all(np.isfinite(raw)):
            raise GenerationError(f"musicgen model {loaded.path} produced non-finite audio")
        audio = raw if raw.shape[0] <= 2 else raw.mean(axis=0, keepdims=True)
        audio = audio - audio.mean(axis=1, keepdims=True)  # a DC offset only eats headroom
        if loaded.sampling_rate != sample_rate:
            audio = soxr.resample(audio.T, loaded.sampling_rate, sample_rate).T
        if audio.shape[0] == 1:
            audio = np.concatenate([audio, audio], axis=0)
        audio = fit_to_length(
            np.ascontiguousarray(audio, dtype=np.float32),
            num_samples,
            sample_rate,
            bpm=plan.bpm,
            crossfade_seconds=cfg.crossfade_seconds,
        )
        audio = peak_normalize(audio, cfg.peak_dbfs)
        if float(np.max(np.abs(audio))) <= 1e-9:
            log.warning("musicgen model %s generated silence for %s", loaded.path, spec.role)
        return Stem(
            role=spec.role,
            audio=np.ascontiguousarray(audio, dtype=np.float32),
            sample_rate=sample_rate,
            bpm=plan.bpm,
            events=[],
            generator=self.name,
        )

    def _melody_features(
        self, params: dict[str, Any], loaded: LoadedMusicGen, sample_rate: int
    ) -> np.ndarray | None:
        melody = params.get("melody")
        if melody is None:
            return None
        if not loaded.melody:
            log.warning(
                "musicgen model %s takes no melody condition; the melody is ignored", loaded.path
            )
            return None
        melody_rate = int(params.get("melody_sample_rate", sample_rate))
        stereo = check_audio_array(np.asarray(melody), melody_rate, name="musicgen melody")
        ch = loaded.chroma
        return melody_chroma(
            stereo,
            melody_rate,
            feature_rate=ch["sampling_rate"],
            n_fft=ch["n_fft"],
            hop_length=ch["hop_length"],
            num_chroma=ch["num_chroma"],
            max_seconds=ch["chunk_length"],
        )

    def _generate_raw(
        self,
        loaded: LoadedMusicGen,
        text: str,
        seconds: float,
        seed: int,
        cfg: MusicGenConfig,
        melody: np.ndarray | None,
    ) -> np.ndarray:
        """`(C, T)` float32 at the model's rate: C is 1, or 2 for stereo MusicGen models."""
        import torch

        model = loaded.model
        decoder = model.decoder.config
        frames = math.ceil(seconds * loaded.frame_rate)
        # The delay pattern costs num_codebooks - 1 tokens before the first whole frame.
        tokens = cfg.max_new_tokens or frames + decoder.num_codebooks
        tokens = max(decoder.num_codebooks + 1, min(tokens, decoder.max_position_embeddings - 1))

        inputs = loaded.tokenizer([text], padding=True, return_tensors="pt")
        kwargs: dict[str, Any] = {k: v.to(model.device) for k, v in inputs.items()}
        if melody is not None:
            kwargs["input_features"] = torch.from_numpy(melody)[None].to(model.device, model.dtype)

        devices = [model.device] if model.device.type == "cuda" else []
        with _GENERATE_LOCK, torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(seed)
            out = model.generate(
                **kwargs,
                do_sample=True,
                guidance_scale=cfg.guidance_scale,
                temperature=cfg.temperature,
                top_k=cfg.top_k,
                max_new_tokens=tokens,
            )
        audio = out[0].float().cpu().numpy()
        if audio.ndim != 2 or audio.shape[-1] == 0:
            raise GenerationError(f"musicgen model {loaded.path} generated no audio")
        return audio.astype(np.float32, copy=False)


__all__ = [
    "GenerationError",
    "LoadedMusicGen",
    "ModelLoadError",
    "MusicGenConfig",
    "MusicGenGenerator",
    "clear_cache",
    "fit_to_length",
    "load_musicgen",
    "load_musicgen_model",
    "loop_period",
    "melody_chroma",
    "musicgen_prompt",
    "peak_normalize",
    "resolve_model_dir",
]
