"""`UnifiedProducerModel`: plans a production, writes its Faust mix, and scores mixes.

    prompt ──TextEncoder──► text ─┐
    input song ─features─► AudioEncoder ─┴─► fuse ─► fused ─┬─► PlanningHead ─► roles, style,
                                                             │                   mode, key, tempo
    stems ─features─► AudioEncoder (+ role) ─────────────────┼─► FaustPrefix ─► causal LM ─► script
    mix ─features─► AudioEncoder ──────────────────────────────► QualityHead ─► score in [0, 1]

One `nn.Module` holds every trainable part, so one optimizer (or one DeepSpeed engine) trains
them together; `forward(batch)` returns the three losses and their weighted sum. The user API
(`plan_production`, `generate_stems`, `generate_faust_script`, `assess_quality`) wraps the same
parts for inference. `save_pretrained` / `from_pretrained` write and read a self-describing
checkpoint: `config.json`, `model.safetensors` (heads, encoders, prefix) and `decoder/` (the
causal LM and its tokenizer, in Hugging Face's safetensors format); no pickle anywhere.

    model = UnifiedProducerModel.from_pretrained()          # the default model in the package
    plan = model.plan_production("Create a dark trap beat with heavy 808s")
    stems = model.generate_stems(plan, duration=8.0)
    script = model.generate_faust_script(stems, plan.prompt)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from producer.audio.analysis import estimate_key, estimate_tempo
from producer.audio.io import check_audio_array, load_audio
from producer.audio.mastering import reference_mix
from producer.audio.quality import assess
from producer.errors import ModelNotFoundError, ProducerError
from producer.faust.validate import validate
from producer.faust.writer import writer_ebnf
from producer.generators import generate_stems
from producer.hub import quiet_progress
from producer.mixing.stem_balance import STEM_BALANCE_DIM, stem_balance_vector
from producer.models import losses, planning
from producer.models.config import DEFAULT, UnifiedConfig
from producer.models.decoder import FaustPrefix, encode_scripts, load_decoder
from producer.models.planning import InputAnalysis
from producer.models.prompt_rules import parse_prompt
from producer.models.threads import decode_threads
from producer.modules.audio_encoder import AudioEncoder
from producer.modules.features import AUDIO_FEATURE_DIM, audio_features
from producer.modules.heads import PlanningHead, QualityHead
from producer.modules.norm import RunningNorm
from producer.modules.text_encoder import TextEncoder
from producer.plan import KEYS, MODES, ROLES, STYLES, ProductionPlan

#: The package's own trained checkpoint, used whenever no `--checkpoint` is given.
DEFAULT_CHECKPOINT = Path(__file__).parent / "weights" / "default"
#: Loss weights of the three tasks in `forward`'s total.
LOSS_WEIGHTS = {"planning": 1.0, "quality": 1.0, "faust": 1.0}
TASKS = ("planning", "quality", "faust")


class UnifiedProducerModel(nn.Module):
    """Planner, Faust writer and quality scorer over shared prompt and audio encoders.

    The seed API: `UnifiedProducerModel(device, text_model_name, decoder_model_name)` builds
    the architecture with a pretrained text encoder and a fresh (or pretrained hub) decoder; use
    `from_pretrained()` for the trained default model.
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        text_model_name: str = DEFAULT,
        decoder_model_name: str = DEFAULT,
        *,
        config: UnifiedConfig | None = None,
        train_text_encoder: bool | None = None,
    ):
        super().__init__()
        config = config or UnifiedConfig()
        config.text_model_name = text_model_name if text_model_name else config.text_model_name
        config.decoder_model_name = decoder_model_name or config.decoder_model_name
        if train_text_encoder is not None:
            config.train_text_encoder = train_text_encoder
        self.config = config
        c = config

        self.text_encoder = TextEncoder(
            c.text_model_name, trainable=c.train_text_encoder, max_length=c.text_max_length
        )
        self.decoder, self.tokenizer = load_decoder(c.decoder_model_name, c.decoder)
        hidden = self.decoder.get_input_embeddings().weight.shape[1]

        self.text_proj = nn.Sequential(nn.Linear(self.text_encoder.dim, c.fusion_dim), nn.GELU())
        self.audio_encoder = AudioEncoder(
            AUDIO_FEATURE_DIM, hidden=c.audio_hidden, out_dim=c.audio_hidden
        )
        self.fuse = nn.Sequential(
            nn.Linear(c.fusion_dim + c.audio_hidden + 1, c.fusion_dim),
            nn.GELU(),
            nn.LayerNorm(c.fusion_dim),
        )
        self.planning_head = PlanningHead(c.fusion_dim, hidden=c.planning_hidden)
        # The quality head reads the mix's standardised features, their difference from the
        # reference (the stems summed flat and mastered), whether there is a reference, and the
        # prompt through a narrow projection, and (with `quality_stem_balance`) each stem's
        # loudness in the mix (see `quality_scores`).
        self.quality_norm = RunningNorm(AUDIO_FEATURE_DIM)
        self.quality_ref_norm = RunningNorm(AUDIO_FEATURE_DIM)
        self.quality_prompt = nn.Linear(c.fusion_dim, c.quality_prompt_dim)
        balance_dim = STEM_BALANCE_DIM if c.quality_stem_balance else 0
        self.quality_head = QualityHead(
            2 * AUDIO_FEATURE_DIM + 1 + c.quality_prompt_dim + balance_dim,
            hidden=c.quality_hidden,
            periodic=2 * AUDIO_FEATURE_DIM,
        )
        self.prefix = FaustPrefix(c.fusion_dim, c.audio_hidden, hidden, c.prefix_length)
        self._constraints: dict[tuple, Any] = {}
        self.to(device)

    # ------------------------------------------------------------------ construction helpers

    @classmethod
    def from_config(cls, config: UnifiedConfig, device: str | torch.device = "cpu"):
        """A fresh model with this config (random heads and decoder, pretrained text encoder)."""
        return cls(device, config.text_model_name, config.decoder_model_name, config=config)

    @property
    def device(self) -> torch.device:
        return next(self.prefix.parameters()).device

    # ------------------------------------------------------------------ shared encoders

    def encode_text(self, prompts: Sequence[str]) -> torch.Tensor:
        """(B, text_dim) prompt embeddings (cached and gradient-free when the encoder is frozen)."""
        return self.text_encoder(list(prompts)).to(self.device)

    def fuse_prompt(
        self, text: torch.Tensor, audio_feat: torch.Tensor | None, has_audio: torch.Tensor | None
    ) -> torch.Tensor:
        """The joint prompt (+ input song) representation, (B, fusion_dim)."""
        b = text.shape[0]
        t = self.text_proj(text)
        if audio_feat is None:
            a = torch.zeros(b, self.config.audio_hidden, device=t.device, dtype=t.dtype)
            flag = torch.zeros(b, 1, device=t.device, dtype=t.dtype)
        else:
            flag = has_audio.to(t.dtype).view(b, 1)
            a = self.audio_encoder(audio_feat.to(t.dtype)) * flag
        return self.fuse(torch.cat([t, a, flag], dim=-1))

    def encode_stems(self, stem_feat: torch.Tensor) -> torch.Tensor:
        """(B, 6, F) stem features in ROLES order → (B, 6, audio_hidden)."""
        b, s, f = stem_feat.shape
        return self.audio_encoder(stem_feat.reshape(b * s, f)).view(b, s, -1)

    # ------------------------------------------------------------------ training forward

    def forward(self, batch: Mapping[str, Any], tasks: Sequence[str] = TASKS) -> dict:
        """Losses for a batch (see `producer.training.batch` for its keys).

        Returns `planning_loss`, `quality_loss`, `faust_loss` (those in `tasks`) and `loss`, their
        weighted sum, which is what the optimizer (or `deepspeed_engine.backward`) minimises.
        """
        text = self.encode_text(batch["prompts"])
        fused = self.fuse_prompt(text, batch.get("audio_feat"), batch.get("has_audio"))
        out: dict[str, torch.Tensor] = {}
        if "planning" in tasks:
            out["planning_loss"] = losses.planning_loss(self.planning_head(fused), batch)
        stem_emb = None
        if "faust" in tasks:
            stem_emb = self.encode_stems(batch["stem_feat"])
        if "quality" in tasks:
            logits = self.quality_scores(
                batch["quality_feat"],
                batch["quality_ref"],
                batch["has_ref"],
                fused,
                batch["quality_mask"],
                logits=True,
                stem_balance=batch.get("quality_stems"),
            )
            out["quality_loss"] = losses.quality_loss(
                torch.sigmoid(logits), batch["quality_score"], batch["quality_mask"], logits
            )
        if "faust" in tasks:
            logits = self.faust_logits(
                fused, stem_emb, batch["stem_mask"], batch["faust_ids"], batch["faust_mask"]
            )
            out["faust_loss"] = losses.faust_loss(logits, batch["faust_ids"], batch["faust_mask"])
        out["loss"] = sum(LOSS_WEIGHTS[k.removesuffix("_loss")] * v for k, v in out.items())
        return out

    def quality_scores(
        self,
        quality_feat: torch.Tensor,
        ref_feat: torch.Tensor,
        has_ref: torch.Tensor,
        fused: torch.Tensor,
        mask: torch.Tensor | None = None,
        *,
        logits: bool = False,
        stem_balance: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Scores in [0, 1] for (B, Q, F) mixes → (B, Q) (pre-sigmoid with `logits=True`).

        `ref_feat` (B, F) are the features of each example's reference mix: its stems summed at
        unit gain and mastered. Mud or one stem shouting is hard to hear in a mix alone (a good
        mix may be bass-heavy by design) but plain against what the stems sound like together;
        `has_ref` (B,) is 0 where there are no stems to compare with. `mask` (B, Q) marks the
        real mixes among the padding, which alone update the feature statistics in training.
        `stem_balance` (B, Q, STEM_BALANCE_DIM) is each mix's `stem_balance_vector` (None or
        zeros: not measured); a model without `quality_stem_balance` ignores it.
        """
        b, q, f = quality_feat.shape
        dtype = fused.dtype
        mix = quality_feat.to(dtype)
        flag = has_ref.to(dtype).view(b, 1, 1).expand(b, q, 1)
        diff = (mix - ref_feat.to(dtype).view(b, 1, f)) * flag
        real = mask.bool() if mask is not None else torch.ones(b, q, dtype=torch.bool)
        real = real.to(mix.device)
        mix_n = self.quality_norm(mix.reshape(b * q, f), real)
        diff_n = self.quality_ref_norm(diff.reshape(b * q, f), real & flag.squeeze(-1).bool())
        # Detached: the quality loss must not pull the shared prompt encoder towards itself
        # (and a quality-only training phase then touches the quality parts alone).
        prompt = self.quality_prompt(fused.detach()).unsqueeze(1).expand(b, q, -1)
        prompt = prompt.reshape(b * q, -1)
        parts = [mix_n, diff_n * flag.reshape(b * q, 1), flag.reshape(b * q, 1), prompt]
        if self.config.quality_stem_balance:
            if stem_balance is None:
                stem_balance = torch.zeros(b, q, STEM_BALANCE_DIM, device=mix.device)
            parts.append(stem_balance.to(device=mix.device, dtype=dtype).reshape(b * q, -1))
        x = torch.cat(parts, -1)
        head = self.quality_head.logits if logits else self.quality_head
        return head(x).view(b, q)

    def prefix_embeds(
        self, fused: torch.Tensor, stem_emb: torch.Tensor, stem_mask: torch.Tensor
    ) -> torch.Tensor:
        dtype = self.decoder.get_input_embeddings().weight.dtype
        return self.prefix(fused, stem_emb, stem_mask).to(dtype)

    def faust_logits(
        self,
        fused: torch.Tensor,
        stem_emb: torch.Tensor,
        stem_mask: torch.Tensor,
        ids: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """Next-token logits over the script positions: (B, L - 1, vocab) for ids (B, L)."""
        prefix = self.prefix_embeds(fused, stem_emb, stem_mask)
        embeds = torch.cat([prefix, self.decoder.get_input_embeddings()(ids[:, :-1])], dim=1)
        attn = torch.cat(
            [torch.ones(prefix.shape[:2], device=mask.device, dtype=mask.dtype), mask[:, :-1]], 1
        )
        logits = self.decoder(inputs_embeds=embeds, attention_mask=attn).logits
        # Position P-1+k predicts script token k; keep the positions that predict tokens 1..L-1.
        return logits[:, prefix.shape[1] :]

    # ------------------------------------------------------------------ user API

    @torch.no_grad()
    def plan_production(
        self,
        text_prompt: str,
        audio: np.ndarray | str | os.PathLike | None = None,
        sample_rate: int | None = None,
        *,
        duration: float = 20.0,
        input_role: str | None = None,
        analysis=None,
    ) -> ProductionPlan:
        """Plan a production from a prompt and, optionally, an input song.

        Explicit tempo, key, style and excluded roles in the prompt are honoured exactly; an
        input song's measured tempo and key come next; the planning head fills in the rest.
        `audio` is an array (with `sample_rate`) or a file path. `input_role` keeps the input as
        that stem in the plan (e.g. "vocals" for an a cappella). `analysis` (a
        `planning.InputAnalysis`) gives measurements made already, so the song is not analysed
        twice.
        """
        self.eval()
        hints = parse_prompt(text_prompt)
        audio_feat = has_audio = None
        if audio is not None:
            audio, sample_rate = _audio_array(audio, sample_rate)
            if analysis is None:
                analysis = _analyse(audio, sample_rate, input_role)
            audio_feat = _features(audio, sample_rate).to(self.device)
            has_audio = torch.ones(1, device=self.device)
        fused = self.fuse_prompt(self.encode_text([text_prompt]), audio_feat, has_audio)
        out = self.planning_head(fused)
        prediction = planning.PlanningPrediction(
            roles=torch.sigmoid(out["roles"][0]).float().cpu().numpy(),
            style=torch.softmax(out["style"][0], -1).float().cpu().numpy(),
            mode=torch.softmax(out["mode"][0], -1).float().cpu().numpy(),
            key=torch.softmax(out["key"][0], -1).float().cpu().numpy(),
            bpm=float(out["tempo"][0].reshape(-1)[0]) * planning.TEMPO_SCALE
            + planning.TEMPO_CENTER,
        )
        return planning.decide_plan(
            text_prompt, prediction, hints, duration=duration, analysis=analysis
        )

    def generate_stems(
        self, plan: ProductionPlan, duration: float | None = None, seed: int = 0
    ) -> dict:
        """Every stem the plan generates, `{role: Stem}`, at the model's sample rate."""
        return generate_stems(plan, duration, seed=seed, sample_rate=self.config.sample_rate)

    @torch.no_grad()
    def generate_faust_script(
        self,
        stems: Mapping[str, Any],
        text_prompt: str = "",
        *,
        candidates: int = 1,
        temperature: float = 0.7,
        top_p: float = 0.95,
        seed: int = 0,
    ) -> str:
        """Write the Faust mix script for these stems (the most likely of `candidates`)."""
        return self.write_faust_candidates(
            stems,
            text_prompt,
            candidates=candidates,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
        )[0][0]

    @torch.no_grad()
    def write_faust_candidates(
        self,
        stems: Mapping[str, Any],
        text_prompt: str = "",
        *,
        candidates: int = 4,
        temperature: float = 0.7,
        top_p: float = 0.95,
        seed: int = 0,
    ) -> list[tuple[str, float]]:
        """`candidates` scripts with their mean token log-probability, most likely first.

        `stems` maps roles to `Stem`s or (2, T) arrays at the model's sample rate; the script
        mixes them in this order. Decoding is constrained by the writer grammar for exactly these
        roles, so every script validates and compiles.
        """
        # deferred: transformers, xgrammar and scipy (constrained decoding)
        from producer.models.constrained_batch import constrained_generate_batch

        self.eval()
        roles = _stem_roles(stems)
        sr = self.config.sample_rate
        fused = self.fuse_prompt(self.encode_text([text_prompt]), None, None)
        stem_feat, stem_mask = _stem_feature_tensor(stems, sr, self.device)
        prefix = self.prefix_embeds(fused, self.encode_stems(stem_feat), stem_mask)
        n = max(1, candidates)
        width = self.decoder.get_input_embeddings().weight.shape[1]
        # All candidates in one batch: one forward pass per token for all of them.
        with decode_threads(width, self.device):
            scripts = constrained_generate_batch(
                self.decoder,
                self.tokenizer,
                n,
                max_new_tokens=self.config.max_script_tokens,
                temperature=temperature,
                top_p=top_p,
                seeds=[seed + k for k in range(n)],
                prefix_embeds=prefix,
                constraint=self._constraint(roles),
            )
        for text in scripts:
            validate(text, roles=roles, sample_rate=sr)  # the grammar guarantees it; checked anyway
        scored = list(
            zip(scripts, self.script_logprobs(fused, stem_feat, stem_mask, scripts), strict=True)
        )
        return sorted(scored, key=lambda s: -s[1])

    @torch.no_grad()
    def script_logprobs(
        self, fused: torch.Tensor, stem_feat: torch.Tensor, stem_mask: torch.Tensor, scripts
    ) -> list[float]:
        """Mean log-probability per token of each script under the model (teacher forcing)."""
        ids, mask = encode_scripts(self.tokenizer, scripts, device=self.device)
        n = len(scripts)
        logits = self.faust_logits(
            fused.expand(n, -1),
            self.encode_stems(stem_feat).expand(n, -1, -1),
            stem_mask.expand(n, -1),
            ids,
            mask,
        )
        lp, m = losses.token_logprobs(logits, ids, mask)
        return ((lp * m).sum(1) / m.sum(1).clamp(min=1)).tolist()

    def _constraint(self, roles: tuple[str, ...]):
        # deferred: transformers, xgrammar and scipy (constrained decoding)
        from producer.models.constrained import GrammarConstraint

        key = (roles, self.config.sample_rate)
        if key not in self._constraints:
            width = self.decoder.get_output_embeddings().weight.shape[0]
            self._constraints[key] = GrammarConstraint(
                self.tokenizer,
                vocab_size=max(width, len(self.tokenizer)),
                ebnf=writer_ebnf(roles, self.config.sample_rate),
            )
        return self._constraints[key]

    @torch.no_grad()
    def quality_score(
        self,
        audio: np.ndarray,
        sample_rate: int,
        stems: Mapping[str, Any] | None = None,
        text_prompt: str = "",
        *,
        reference: np.ndarray | None = None,
        balance_lu: Mapping[str, float | None] | None = None,
    ) -> float:
        """The learned quality score of a mix in [0, 1] (higher is better).

        With the `stems` the mix was made from, the score also compares the mix with them (see
        `quality_scores`); it is sharper on balance and tone that way. `reference` gives the
        stems' `reference_features` computed already (scoring several mixes of one stem set).
        `balance_lu` is each stem's loudness in the mix as the mix critic measured it
        (`MixVerdict.balance_lu`); it is read only together with the stems.
        """
        self.eval()
        feat = _features(audio, sample_rate).to(self.device).view(1, 1, -1)
        fused = self.fuse_prompt(self.encode_text([text_prompt]), None, None)
        ref = reference
        if ref is None and stems:
            ref = reference_features(stems, sample_rate)
        has_ref = torch.tensor([1.0 if ref is not None else 0.0], device=self.device)
        ref_t = (
            torch.as_tensor(ref, device=self.device).view(1, -1)
            if ref is not None
            else torch.zeros(1, feat.shape[-1], device=self.device)
        )
        balance = stem_balance_vector(balance_lu if ref is not None else None)
        balance_t = torch.as_tensor(balance, device=self.device).view(1, 1, -1)
        scores = self.quality_scores(feat, ref_t, has_ref, fused, stem_balance=balance_t)
        return float(scores.reshape(-1)[0])

    def assess_quality(
        self,
        audio: np.ndarray,
        sample_rate: int,
        stems: Mapping[str, Any] | None = None,
        text_prompt: str = "",
        *,
        reference: np.ndarray | None = None,
        balance_lu: Mapping[str, float | None] | None = None,
    ):
        """The meters' `QualityReport` with the learned `score` filled in."""
        report = assess(audio, sample_rate)
        score = self.quality_score(
            audio, sample_rate, stems, text_prompt, reference=reference, balance_lu=balance_lu
        )
        return report.model_validate({**report.model_dump(), "score": score})

    # ------------------------------------------------------------------ checkpoints

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write config.json, model.safetensors and decoder/ (model + tokenizer) atomically.

        A frozen text encoder is stored by name (it is loaded from its own files); a fine-tuned
        one is saved in text_encoder/.
        """
        from safetensors.torch import save_file

        target = Path(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            # The decoder is always read back from decoder/; its original name is kept as a note.
            config = self.config.to_dict()
            if self.config.train_text_encoder:
                self.text_encoder.save_pretrained(tmp / "text_encoder")
                config["text_model_name"] = "text_encoder"
            state = {
                k: v.detach().contiguous().cpu()
                for k, v in self.state_dict().items()
                if not k.startswith(("decoder.", "text_encoder."))
            }
            save_file(state, tmp / "model.safetensors", metadata={"format": "pt"})
            with quiet_progress():
                self.decoder.save_pretrained(tmp / "decoder", safe_serialization=True)
            self.tokenizer.save_pretrained(tmp / "decoder")
            (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n")
            if target.exists():
                old = target.with_name(f".{target.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                target.rename(old)
                tmp.rename(target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    @classmethod
    def from_pretrained(
        cls, directory: str | os.PathLike | None = None, device: str | torch.device = "cpu"
    ) -> UnifiedProducerModel:
        """Load a checkpoint written by `save_pretrained` (default: the packaged model)."""
        from safetensors.torch import load_file

        is_default = directory is None or str(directory) == DEFAULT
        path = DEFAULT_CHECKPOINT if is_default else Path(directory)
        if is_default and not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"the default model is not built ({path} has no config.json): run "
                "`uv run python -m producer.training.default_model` to train it"
            )
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"no producer checkpoint at '{directory}' (expected config.json, "
                "model.safetensors and decoder/ written by save_pretrained)"
            )
        try:
            config = UnifiedConfig.from_dict(json.loads((path / "config.json").read_text()))
        except (ValueError, TypeError) as err:
            raise ProducerError(
                f"{path / 'config.json'}: not a producer model config ({err})"
            ) from None
        if config.text_model_name == "text_encoder":
            config.text_model_name = str(path / "text_encoder")
        original_decoder = config.decoder_model_name
        model = cls(device, config.text_model_name, str(path / "decoder"), config=config)
        state = load_file(path / "model.safetensors", device="cpu")
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith(("decoder.", "text_encoder."))]
        if missing or unexpected:
            raise ProducerError(
                f"{path}: checkpoint does not match the model (missing {missing[:3]}, "
                f"unexpected {unexpected[:3]})"
            )
        model.config.decoder_model_name = original_decoder
        return model.to(device)


# ---------------------------------------------------------------------- helpers


def _audio_array(audio, sample_rate: int | None) -> tuple[np.ndarray, int]:
    if isinstance(audio, (str, os.PathLike)):
        rate = sample_rate or 44100
        return load_audio(audio, rate), rate
    if sample_rate is None:
        raise ValueError("sample_rate is required with an audio array")
    return check_audio_array(audio, sample_rate, name="input audio"), sample_rate


def _analyse(audio: np.ndarray, sample_rate: int, role: str | None):
    tempo = estimate_tempo(audio, sample_rate)
    key = estimate_key(audio, sample_rate)
    return InputAnalysis(bpm=round(float(tempo.bpm), 1), key=key.key, mode=key.mode, role=role)


def _features(audio: np.ndarray, sample_rate: int) -> torch.Tensor:
    return torch.from_numpy(np.asarray(audio_features(audio, sample_rate), dtype=np.float32))


def reference_features(stems: Mapping[str, Any], sample_rate: int) -> np.ndarray | None:
    """Features of the stems' reference mix (`producer.audio.mastering.reference_mix`), or None."""
    ref = reference_mix({r: _stem_audio(s) for r, s in stems.items()}, sample_rate)
    return None if ref is None else audio_features(ref, sample_rate)


def _stem_roles(stems: Mapping[str, Any]) -> tuple[str, ...]:
    roles = tuple(stems)
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ProducerError(f"unknown stem roles {unknown}: roles are {', '.join(ROLES)}")
    if not roles:
        raise ProducerError("no stems to mix")
    return roles


def _stem_audio(stem) -> np.ndarray:
    return stem.audio if hasattr(stem, "audio") else np.asarray(stem)


def _stem_feature_tensor(stems: Mapping[str, Any], sample_rate: int, device):
    """(1, 6, F) stem features in ROLES order and the (1, 6) mask of present roles."""
    feat = torch.zeros(1, len(ROLES), AUDIO_FEATURE_DIM)
    mask = torch.zeros(1, len(ROLES))
    for role, stem in stems.items():
        k = ROLES.index(role)
        if hasattr(stem, "features"):  # precomputed (evaluation works from dataset rows)
            feat[0, k] = torch.as_tensor(np.asarray(stem.features, np.float32))
        else:
            feat[0, k] = _features(_stem_audio(stem), sample_rate)
        mask[0, k] = 1.0
    return feat.to(device), mask.to(device)


__all__ = ["DEFAULT_CHECKPOINT", "KEYS", "MODES", "STYLES", "UnifiedProducerModel"]
