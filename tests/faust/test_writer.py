"""The writer sub-language: every sentence is canonical, validates for its roles and compiles."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
import xgrammar as xgr

from producer.errors import ProducerError
from producer.faust.ast import format_number
from producer.faust.engine import program_io
from producer.faust.parser import parse
from producer.faust.render import render
from producer.faust.validate import MAX_FREQ_FRACTION, validate
from producer.faust.writer import (
    CHAIN_SLOTS,
    GRIDS,
    MASTER_CHAINS,
    PANNER,
    WRITER_EFFECTS,
    WRITER_FUNCTIONS,
    chain_text,
    random_script,
    script_text,
    writer_ebnf,
)
from producer.models.constrained import GrammarConstraint, constrained_generate
from producer.models.faust_tokenizer import build_faust_tokenizer
from tests.tiny_models import tiny_mistral

SR = 44100
ROLE_SETS = (
    ("drums",),
    ("drums", "bass"),
    ("bass", "drums", "melody"),
    ("drums", "bass", "melody", "harmony", "vocals", "other"),
)


@pytest.fixture(scope="module")
def tok():
    return build_faust_tokenizer()


@pytest.fixture
def one_torch_thread():
    # A tiny model gains nothing from intra-op threads, and on a busy machine their
    # spin-waits make token-by-token decoding several times slower.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _accepts(ebnf: str, text: str) -> bool:
    return xgr.testing._is_grammar_accept_string(
        xgr.Grammar.from_ebnf(ebnf, root_rule_name="root"), text
    )


def _matcher_accepts(tok, constraint: GrammarConstraint, text: str) -> bool:
    """Feed `text` token by token, as the decoder would, then `<eos>`."""
    matcher = constraint.matcher()
    for token in tok.encode(text):
        if not matcher.accept_token(token):
            return False
    return matcher.accept_token(tok.eos_token_id) and matcher.is_terminated()


@pytest.mark.parametrize("sample_rate", [SR, 16000])
def test_random_scripts_are_canonical_valid_and_accepted_by_the_matcher(tok, sample_rate):
    rng = np.random.default_rng(0)
    for roles in ROLE_SETS:
        constraint = GrammarConstraint(tok, ebnf=writer_ebnf(roles, sample_rate))
        for _ in range(10):
            text = random_script(roles, rng, sample_rate)
            assert parse(text).to_faust() == text
            validated = validate(text, roles=roles, sample_rate=sample_rate)
            assert validated.stem_roles == roles  # definitions and process keep the role order
            assert validated.channels_per_stem == 1 and validated.outputs == 2
            assert _matcher_accepts(tok, constraint, text), text


def test_random_scripts_compile_and_render_finite_audio():
    rng = np.random.default_rng(1)
    noise = np.random.default_rng(2)
    n = 4096
    for k in range(8):
        roles = ROLE_SETS[k % len(ROLE_SETS)]
        text = random_script(roles, rng, SR)
        stems = {r: (0.3 * noise.standard_normal((2, n))).astype(np.float32) for r in roles}
        out = render(text, stems, SR, target_lufs=None)
        assert out.shape == (2, n)
        assert np.isfinite(out).all()
        assert np.abs(out).max() > 0


def test_random_script_is_deterministic_and_explores_the_whole_language():
    a = [random_script(["drums", "bass"], np.random.default_rng(5)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(3)
    texts = [random_script(["drums", "bass", "melody"], rng) for _ in range(150)]
    joined = "\n".join(texts)
    for name in WRITER_FUNCTIONS:
        assert name in joined, name
    assert "*(" in joined and "_, _;" in joined
    assert len(set(texts)) == len(texts)
    lengths = {len(t) for t in texts}
    assert len(lengths) > 50  # chains of many shapes, not one template


def _extreme_chain(pick: int, sr: int) -> str:
    """Every slot filled, every argument at its smallest (pick=0) or largest (pick=-1) value."""
    effects = []
    for slot in CHAIN_SLOTS:
        for effect in slot.effects[:1] if pick == 0 else slot.effects[-1:]:
            values = (g.allowed(sr)[pick] for g in effect.grids)
            effects.append(effect.text(*values, sample_rate=sr))
    return chain_text(effects, PANNER.text(PANNER.grids[0].values[pick]))


@pytest.mark.parametrize("sr", [SR, 16000])
@pytest.mark.parametrize("pick", [0, -1])
def test_grid_extremes_in_every_slot_validate_and_render(pick, sr):
    # The grids' end points stress the ranges: each must be legal for the allowlist (and below
    # Nyquist), and the longest possible chain (every slot filled) must compile and run.
    roles = ("drums", "bass")
    master = " : ".join(e.text(*(g.values[pick] for g in e.grids)) for e in MASTER_CHAINS[-1][0])
    text = script_text({r: _extreme_chain(pick, sr) for r in roles}, master)
    assert _accepts(writer_ebnf(roles, sr), text)
    assert parse(text).to_faust() == text
    validate(text, roles=roles, sample_rate=sr)
    stems = {
        r: (0.1 * np.random.default_rng(0).standard_normal((2, 4096))).astype(np.float32)
        for r in roles
    }
    out = render(text, stems, sr, target_lufs=None)
    assert np.isfinite(out).all()


def test_grid_values_are_canonical_and_frequencies_stay_below_nyquist():
    for grid in GRIDS.values():
        assert 1 <= len(grid.values) <= 40, grid.name
        assert list(grid.values) == sorted(set(grid.values)), grid.name
        for text in grid.strings(SR):
            assert format_number(float(text), grid.integer) == text
            assert "e" not in text
    for sr in (8000, 16000, 22050):
        for grid in GRIDS.values():
            if grid.frequency:
                assert all(v <= MAX_FREQ_FRACTION * sr for v in grid.allowed(sr))
    # The 44.1 kHz language may low-pass at 18 kHz; the 16 kHz one may not.
    text = script_text({"drums": chain_text(["fi.lowpass(2, 18000)"], "sp.panner(0.5)")}, "_, _")
    assert _accepts(writer_ebnf(["drums"], SR), text)
    assert not _accepts(writer_ebnf(["drums"], 16000), text)
    assert "18000" not in writer_ebnf(["drums"], 16000)


def _good(roles=("drums", "bass")) -> str:
    chains = {r: chain_text(["fi.highpass(2, 30)", "*(0.8)"], "sp.panner(0.5)") for r in roles}
    return script_text(chains, "co.limiter_1176_R4_stereo")


@pytest.mark.parametrize(
    "change",
    [
        ("bass_process = fi.highpass", "bass_process = de.delay(100, 10) : fi.highpass"),
        ("sp.panner(0.5)", "sp.panner(0.33)"),  # off the pan grid
        ("*(0.8)", "*(0.80)"),  # not canonical
        ("fi.highpass(2, 30) : *(0.8)", "*(0.8) : fi.highpass(2, 30)"),  # slot order
        ("fi.highpass(2, 30)", "fi.highpass(2,30)"),  # spacing
        ("drums_process, bass_process", "bass_process, drums_process"),  # role order
        ("co.limiter_1176_R4_stereo", "co.limiter_1176_R4_mono"),  # mono master
        (" : sp.panner(0.5);\nmaster", ";\nmaster"),  # last stem not panned
    ],
)
def test_grammar_rejects_text_outside_the_writer_language(change):
    old, new = change
    good = _good()
    assert old in good
    ebnf = writer_ebnf(["drums", "bass"])
    assert _accepts(ebnf, good)
    assert not _accepts(ebnf, good.replace(old, new, 1))


def test_grammar_is_specialised_to_the_roles():
    text = _good(("drums", "bass"))
    assert _accepts(writer_ebnf(["drums", "bass"]), text)
    assert not _accepts(writer_ebnf(["bass", "drums"]), text)
    assert not _accepts(writer_ebnf(["drums", "bass", "melody"]), text)
    assert not _accepts(writer_ebnf(["drums"]), text)


def test_writer_ebnf_is_cached_and_checks_roles():
    assert writer_ebnf(["drums", "bass"]) is writer_ebnf(("drums", "bass"), 44100)
    assert writer_ebnf(["drums"], 16000) != writer_ebnf(["drums"], 44100)
    for bad in ([], ["Drums"], ["master"], ["drums", "drums"], ["my drums"]):
        with pytest.raises(ProducerError):
            writer_ebnf(bad)
    with pytest.raises(ProducerError):
        random_script(["drums", "drums"], np.random.default_rng(0))


def test_effect_text_refuses_off_grid_values():
    with pytest.raises(ValueError, match="grid"):
        WRITER_EFFECTS["fader"].text(0.77)
    assert WRITER_EFFECTS["fader"].text(0.75) == "*(0.75)"


def test_a_random_model_under_the_writer_grammar_always_writes_valid_compiling_scripts(
    tok, one_torch_thread
):
    model = tiny_mistral(tok)
    # Mostly one stem: what the model chooses is per stem chain, and short scripts keep the 50
    # token-by-token generations (a forward pass per token) fast; every fifth has 2 or 3 stems.
    cases = [
        (ROLE_SETS[(k % 10 == 0) + 1] if k % 5 == 0 else ROLE_SETS[0], 16000 if k % 4 == 3 else SR)
        for k in range(50)
    ]
    constraints = {
        key: GrammarConstraint(tok, vocab_size=model.config.vocab_size, ebnf=writer_ebnf(*key))
        for key in set(cases)
    }
    texts, compiled = [], []
    # libfaust compiles on its own thread while the next script is sampled.
    with ThreadPoolExecutor(max_workers=1) as pool:
        for seed, (roles, sr) in enumerate(cases):
            text = constrained_generate(
                model, tok, max_new_tokens=3000, seed=seed, constraint=constraints[roles, sr]
            )
            validated = validate(text, roles=roles, sample_rate=sr)
            assert validated.stem_roles == roles
            assert parse(text).to_faust() == text
            compiled.append((roles, pool.submit(program_io, validated.code, sr)))
            texts.append(text)
        # Every script compiles (as one program) to the stereo master the renderer expects.
        for roles, io in compiled:
            assert io.result() == (len(roles), 2)
    assert len(set(texts)) >= 45  # the random model wanders; the grammar keeps it valid
