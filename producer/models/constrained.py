"""Grammar-constrained decoding of mix scripts.

The Faust writer samples a script token by token. Before every step the grammar matcher says
which tokens may come next; all others get `-inf` logits, so whatever the model's weights, the
text it emits is a sentence of the mix-language grammar (`producer.faust.grammar.EBNF`), ended
by `<eos>` exactly where the grammar allows the script to end.

The grammar is compiled once per (vocabulary, grammar) pair and cached in-process: compiling
walks the whole vocabulary against the grammar and is by far the slowest part of set-up.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field

import torch
import xgrammar as xgr
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from producer.errors import ProducerError
from producer.faust.grammar import EBNF


class GrammarBudgetError(ProducerError):
    """Generation used all its tokens before the grammar reached the end of a script.

    `partial` holds the unfinished text (a prefix of some valid script), for debugging.
    """

    def __init__(self, message: str, partial: str = ""):
        super().__init__(message)
        self.partial = partial


@dataclass(frozen=True)
class _CacheKey:
    vocab: tuple[str, ...]
    stop_ids: tuple[int, ...]
    vocab_size: int
    ebnf: str


_COMPILED: dict[_CacheKey, xgr.CompiledGrammar] = {}
_COMPILED_LOCK = threading.Lock()


def _token_strings(tokenizer: PreTrainedTokenizerBase, vocab_size: int) -> list[str]:
    """Each id's text as it appears in the decoded output, special tokens as "" (never text).

    xgrammar treats empty entries as special tokens that can never be matched by grammar text;
    that keeps `<pad>`, `<bos>`, `<unk>` (and any ids past the tokenizer, when the model pads
    its embedding) out of every mask. The stop token is allowed separately, at the end.
    """
    id_to_tok = {i: t for t, i in tokenizer.get_vocab().items()}
    special = set(tokenizer.all_special_ids)
    out = []
    for i in range(vocab_size):
        tok = id_to_tok.get(i)
        out.append("" if tok is None or i in special else tok)
    return out


def _is_raw_vocab(tokenizer: PreTrainedTokenizerBase, strings: list[str]) -> bool:
    """Whether every token decodes to exactly its own vocabulary string."""
    return all(s == tokenizer.decode([i]) for i, s in enumerate(strings) if s)


@dataclass
class GrammarConstraint:
    """The mix-language grammar compiled for one tokenizer; makes fresh matchers.

    `vocab_size` is the model's logit width, which may exceed the tokenizer's size when the
    embedding is padded; the extra ids are never allowed.
    """

    tokenizer: PreTrainedTokenizerBase
    vocab_size: int | None = None
    ebnf: str = EBNF
    compiled: xgr.CompiledGrammar = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.tokenizer.eos_token_id is None:
            raise ValueError("GrammarConstraint needs a tokenizer with an eos token")
        size = self.vocab_size or len(self.tokenizer)
        if size < len(self.tokenizer):
            raise ValueError(
                f"vocab_size {size} is smaller than the tokenizer ({len(self.tokenizer)})"
            )
        self.vocab_size = size
        strings = _token_strings(self.tokenizer, size)
        key = _CacheKey(tuple(strings), (self.tokenizer.eos_token_id,), size, self.ebnf)
        with _COMPILED_LOCK:
            compiled = _COMPILED.get(key)
            if compiled is None:
                stop = [self.tokenizer.eos_token_id]
                if _is_raw_vocab(self.tokenizer, strings):
                    # RAW: token strings are the literal text (the mix-language tokenizer has
                    # no byte-level or sentencepiece markers to undo).
                    info = xgr.TokenizerInfo(
                        strings, xgr.VocabType.RAW, vocab_size=size, stop_token_ids=stop
                    )
                else:
                    # Any other HF tokenizer (byte-level BPE, sentencepiece): let xgrammar
                    # work out how its token strings map to text.
                    info = xgr.TokenizerInfo.from_huggingface(
                        self.tokenizer, vocab_size=size, stop_token_ids=stop
                    )
                compiled = xgr.GrammarCompiler(info).compile_grammar(
                    self.ebnf, root_rule_name="root"
                )
                _COMPILED[key] = compiled
        self.compiled = compiled

    @property
    def eos_token_id(self) -> int:
        return int(self.tokenizer.eos_token_id)

    def matcher(self) -> xgr.GrammarMatcher:
        """A matcher at the start of a script."""
        return xgr.GrammarMatcher(self.compiled)

    def allocate_bitmask(self) -> torch.Tensor:
        """A one-row bitmask sized for this vocabulary."""
        return xgr.allocate_token_bitmask(1, self.vocab_size)


def sample_token(
    logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator | None
) -> int:
    """Draw one id from a 1-D logit row; temperature 0 is greedy (argmax)."""
    if temperature <= 0:
        return int(torch.argmax(logits).item())
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        # Keep the smallest prefix whose mass reaches top_p (always at least the top token).
        keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < top_p
        sorted_p = torch.where(keep, sorted_p, torch.zeros_like(sorted_p))
        probs = torch.zeros_like(probs).scatter(0, order, sorted_p)
    # Sampled on CPU so a seed gives the same text on any device.
    return int(torch.multinomial(probs.cpu(), 1, generator=generator).item())


def _constraint_for(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase
) -> GrammarConstraint:
    width = model.get_output_embeddings().weight.shape[0]
    return GrammarConstraint(tokenizer, vocab_size=max(width, len(tokenizer)))


def _forward_all(model: PreTrainedModel, cache, **inputs):
    """One forward pass: (logits of every row's last position (B, vocab), the updated KV cache).

    `cache=None` starts a cache, `cache=False` runs without one. transformers 5 renamed
    `past_key_values` to `cache` (the old name still works but warns); use whichever this
    model's `forward` takes.
    """
    name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    use_cache = cache is not False
    kwargs = {name: cache} if use_cache and cache is not None else {}
    out = model(**inputs, **kwargs, use_cache=use_cache)
    new_cache = (out.get("cache") or out.get("past_key_values")) if use_cache else False
    return out.logits[:, -1], new_cache


def _forward(model: PreTrainedModel, cache, **inputs):
    """`_forward_all` for a batch of one: (the last position's logits (vocab,), the cache)."""
    logits, cache = _forward_all(model, cache, **inputs)
    return logits[0], cache


@torch.no_grad()
def constrained_generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompt_ids: list[int] | torch.Tensor | None = None,
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int | None = None,
    prefix_embeds: torch.Tensor | None = None,
    constraint: GrammarConstraint | None = None,
    use_cache: bool = True,
) -> str:
    """Sample one mix script from a causal LM, token by token, under the grammar.

    `prompt_ids` (default: just `<bos>`) are the context; `prefix_embeds` (1, P, hidden), when
    given, go in front of them as input embeddings (the conditioning from text and audio
    encoders). The returned text is the generated part only, without `<eos>`; it always parses.
    `use_cache=False` recomputes the whole sequence every step (for tests and debugging).

    Raises `GrammarBudgetError` when `max_new_tokens` run out before the script is complete.
    """
    constraint = constraint or _constraint_for(model, tokenizer)
    device = next(model.parameters()).device
    if prompt_ids is None:
        prompt_ids = [tokenizer.bos_token_id]
    ids = torch.as_tensor(prompt_ids, dtype=torch.long, device=device).reshape(1, -1)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None

    matcher = constraint.matcher()
    bitmask = constraint.allocate_bitmask()
    embed = model.get_input_embeddings()

    def full_inputs(seq: torch.Tensor) -> dict:
        if prefix_embeds is None:
            return {"input_ids": seq}
        embeds = torch.cat([prefix_embeds.to(device, embed.weight.dtype), embed(seq)], dim=1)
        return {"inputs_embeds": embeds}

    # `past` is the KV cache; False means "no cache" (recompute the whole sequence each step).
    logits, past = _forward(model, None if use_cache else False, **full_inputs(ids))
    generated: list[int] = []
    seq = ids
    for _ in range(max_new_tokens):
        matcher.fill_next_token_bitmask(bitmask)
        row = logits.float().unsqueeze(0)
        xgr.apply_token_bitmask_inplace(
            row, bitmask.to(row.device), vocab_size=constraint.vocab_size
        )
        token = sample_token(row[0], temperature, top_p, generator)
        if not matcher.accept_token(token):
            # Cannot happen with a correct mask; guard so a bug never yields invalid text.
            raise RuntimeError(f"grammar matcher refused masked token {token}")
        if token == constraint.eos_token_id or matcher.is_terminated():
            return tokenizer.decode(generated, skip_special_tokens=True)
        generated.append(token)
        step = torch.tensor([[token]], dtype=torch.long, device=device)
        if use_cache:
            logits, past = _forward(model, past, input_ids=step)
        else:
            seq = torch.cat([seq, step], dim=1)
            logits, past = _forward(model, False, **full_inputs(seq))
    # The budget is spent; the script is still complete if the grammar would take <eos> now.
    matcher.fill_next_token_bitmask(bitmask)
    eos = constraint.eos_token_id
    if (int(bitmask[0, eos // 32]) >> (eos % 32)) & 1:
        return tokenizer.decode(generated, skip_special_tokens=True)
    raise GrammarBudgetError(
        f"the mix script was still unfinished after {max_new_tokens} tokens; "
        "raise max_new_tokens or lower the temperature",
        partial=tokenizer.decode(generated, skip_special_tokens=True),
    )
