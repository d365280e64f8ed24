"""The MusicGen adapter, on tiny randomly initialised MusicGen checkpoints saved to a temp dir.

Tiny recipe (`save_tiny_musicgen`): T5 text encoder (d_model 16, 1 layer, 2 heads), Encodec
codec at 8 kHz with hop 320 (25 frames/s, 64-entry codebooks), MusicGen decoder (hidden 16,
1 layer, 2 heads, 4 codebooks, vocab 64) and a word-level `tokenizers` tokenizer saved as a
fast tokenizer, so everything loads offline. The audio is noise; the plumbing is real.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from producer.errors import ModelNotFoundError, ProducerError
from producer.plan import ProductionPlan, StemSpec

SR = 44100
INIT_STD = 1.0  # decoder weights large enough that the condition moves the token logits
WORDS = ["dark", "trap", "808", "bass", "line", "drum", "loop", "lead", "melody", "bpm", "minor"]


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "</s>", "<unk>", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def save_tiny_musicgen(path: Path, melody: bool = False) -> Path:
    """A tiny random MusicGen (or MusicGen-Melody) checkpoint + tokenizer in `path`."""
    import torch
    import transformers as tf

    text = tf.T5Config(
        vocab_size=32, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
        relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0,
    )  # fmt: skip
    audio = tf.EncodecConfig(
        sampling_rate=8000, hidden_size=16, num_filters=4, upsampling_ratios=[8, 5, 4, 2],
        num_lstm_layers=1, codebook_size=64, target_bandwidths=[1.2],
    )  # fmt: skip
    decoder_args = dict(
        vocab_size=64, hidden_size=16, ffn_dim=32, num_hidden_layers=1, num_attention_heads=2,
        num_codebooks=4, pad_token_id=64, bos_token_id=64, max_position_embeddings=256,
        initializer_factor=INIT_STD,
    )  # fmt: skip
    torch.manual_seed(0)
    if melody:
        config = tf.MusicgenMelodyConfig(
            text_encoder=text,
            audio_encoder=audio,
            decoder=tf.MusicgenMelodyDecoderConfig(**decoder_args),
            num_chroma=12,
            chroma_length=16,
        )
        model = tf.MusicgenMelodyForConditionalGeneration(config)
        _tokenizer().save_pretrained(path)  # its processor needs torchaudio: tokenizer only
    else:
        config = tf.MusicgenConfig(
            text_encoder=text,
            audio_encoder=audio,
            decoder=tf.MusicgenDecoderConfig(**decoder_args),
        )
        model = tf.MusicgenForConditionalGeneration(config)
        extractor = tf.EncodecFeatureExtractor(feature_size=1, sampling_rate=8000)
        tf.MusicgenProcessor(feature_extractor=extractor, tokenizer=_tokenizer()).save_pretrained(
            path
        )
    # Encodec starts with all-zero codebooks (every code decodes alike): give them values.
    with torch.no_grad():
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run several times faster on one thread (no pool to wake or oversubscribe)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, one_torch_thread) -> Path:
    return save_tiny_musicgen(tmp_path_factory.mktemp("tiny_musicgen"))


@pytest.fixture(scope="module")
def tiny_melody_dir(tmp_path_factory, one_torch_thread) -> Path:
    return save_tiny_musicgen(tmp_path_factory.mktemp("tiny_musicgen_melody"), melody=True)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _plan(**kw) -> ProductionPlan:
    base = dict(prompt="Create a dark trap beat with heavy 808s", style="trap", mood=["dark"],
                bpm=142, key="F", mode="minor", duration=1.0)  # fmt: skip
    return ProductionPlan(**{**base, **kw})


def _gen(path: Path, **kw):
    from producer.generators.musicgen import MusicGenConfig, MusicGenGenerator

    return MusicGenGenerator(MusicGenConfig(model=str(path), **kw))


# ---------------------------------------------------------------- module and pure helpers


def test_import_is_cheap_and_registers():
    code = (
        "import sys, producer.generators.musicgen as m\n"
        "from producer.generators.registry import GENERATORS\n"
        "assert 'musicgen' in GENERATORS, sorted(GENERATORS)\n"
        "heavy = [n for n in ('torch', 'transformers') if n in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_prompt_from_plan():
    from producer.generators.musicgen import musicgen_prompt

    plan = _plan()
    text = musicgen_prompt(StemSpec(role="bass", generator="musicgen"), plan)
    assert (
        text == "dark trap 808 bass line, 142 bpm, F minor. Create a dark trap beat with heavy 808s"
    )
    drums = musicgen_prompt(
        StemSpec(role="drums", params={"prompt": "crisp hats."}), _plan(style="boom-bap", prompt="")
    )
    assert drums == "dark boom bap drum loop, 142 bpm, F minor. crisp hats"


def test_trim_keeps_the_prefix():
    from producer.generators.musicgen import fit_to_length

    audio = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32)
    out = fit_to_length(audio, 700, SR, bpm=120)
    assert out.shape == (2, 700) and out.dtype == np.float32
    np.testing.assert_array_equal(out, audio[:, :700])


def test_loop_period_prefers_bars_then_beats():
    from producer.generators.musicgen import loop_period

    bar = 4 * 60 / 120 * SR  # 2 s at 120 bpm
    assert loop_period(round(2.5 * bar), SR, 120, 2205) == round(2 * bar)
    assert loop_period(round(0.8 * bar), SR, 120, 2205) == round(3 * bar / 4)  # 3 beats
    assert loop_period(10_000, SR, 120, 2205) == 10_000 - 2205  # not even a beat
    assert loop_period(10_000, SR, None, 100) == 9_900


def test_loop_is_exact_periodic_and_click_free():
    from producer.generators.musicgen import fit_to_length, loop_period

    # 2.3 bars of a 217 Hz tone at 150 bpm: the bar does not hold whole cycles, so a plain
    # loop would jump; the crossfaded one must be no steeper than the tone itself.
    bpm, n = 150.0, 10 * SR  # a bit over three loops of two bars
    t = np.arange(round(2.3 * 4 * 60 / bpm * SR)) / SR
    tone = (0.5 * np.sin(2 * np.pi * 217.0 * t)).astype(np.float32)
    audio = np.stack([tone, 0.5 * tone])
    out = fit_to_length(audio, n, SR, bpm=bpm, crossfade_seconds=0.05)
    assert out.shape == (2, n) and np.all(np.isfinite(out))

    period = loop_period(audio.shape[1], SR, bpm, round(0.05 * SR))
    assert period == round(2 * 4 * 60 / bpm * SR)  # two whole bars
    np.testing.assert_array_equal(out[:, :period], audio[:, :period])  # first pass untouched
    np.testing.assert_array_equal(out[:, period : 2 * period], out[:, 2 * period : 3 * period])

    own_step = np.abs(np.diff(audio, axis=1)).max()
    assert np.abs(np.diff(out, axis=1)).max() <= 1.05 * own_step
    naive = np.concatenate([audio[:, :period]] * 3, axis=1)
    assert np.abs(np.diff(naive, axis=1)).max() > 1.5 * own_step  # the test can see a click


def test_peak_normalize():
    from producer.generators.musicgen import peak_normalize

    x = np.array([[0.1, -0.2], [0.05, 0.0]], dtype=np.float32)
    y = peak_normalize(x, -3.0)
    assert np.isclose(np.abs(y).max(), 10 ** (-3 / 20), atol=1e-6)
    assert not np.any(peak_normalize(np.zeros((2, 4), np.float32)))


def test_melody_chroma_finds_the_pitch_class():
    from producer.generators.musicgen import melody_chroma

    t = np.arange(SR) / SR
    a440 = np.sin(2 * np.pi * 440.0 * t)
    chroma = melody_chroma(np.stack([a440, a440]), SR)
    assert chroma.shape[1] == 12 and chroma.dtype == np.float32
    assert np.all(chroma.sum(axis=1) == 1)
    assert np.all(chroma[1:-1].argmax(axis=1) == 9)  # A, counting from C


# ---------------------------------------------------------------- loading


def test_load_by_path_offline_and_cached(tiny_dir, no_network):
    from producer.generators.musicgen import clear_cache, load_musicgen

    clear_cache()
    model, processor = load_musicgen(str(tiny_dir))
    assert type(model).__name__ == "MusicgenForConditionalGeneration"
    assert model.config.audio_encoder.sampling_rate == 8000
    assert processor.tokenizer("dark trap")["input_ids"] == [3, 4, 1]
    again, _ = load_musicgen(str(tiny_dir))
    assert again is model


@pytest.mark.parametrize("name", ["facebook/musicgen-doesnotexist", "musicgen-nowhere"])
def test_missing_hub_name_is_one_clear_line(name, no_network, tmp_path):
    from producer.generators.musicgen import load_musicgen_model

    start = time.monotonic()
    with pytest.raises(ModelNotFoundError) as err:
        load_musicgen_model(name, cache_dir=str(tmp_path / "hub"))
    assert time.monotonic() - start < 5
    msg = str(err.value)
    assert "\n" not in msg
    assert f"'{name}'" in msg and str(tmp_path / "hub") in msg
    assert f"hf download {name}" in msg and "local model directory" in msg


def test_missing_name_through_the_generator_default_cache(no_network):
    gen = _gen("facebook/musicgen-doesnotexist")
    start = time.monotonic()
    with pytest.raises(ModelNotFoundError, match=r"musicgen-doesnotexist.*Hugging Face cache"):
        gen.generate(StemSpec(role="bass"), _plan(), 1.0, seed=0)
    assert time.monotonic() - start < 5


def test_missing_path_is_one_clear_line(tmp_path):
    from producer.generators.musicgen import load_musicgen

    missing = tmp_path / "nope" / "musicgen"
    with pytest.raises(ModelNotFoundError) as err:
        load_musicgen(str(missing))
    assert "\n" not in str(err.value) and str(missing) in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        load_musicgen(str(empty))


@pytest.mark.parametrize(
    ("config_text", "match"),
    [
        ('{"model_type": "musicgen", ', "not readable JSON"),
        ('{"model_type": "bert", "hidden_size": 8}', "not a MusicGen checkpoint"),
        (None, "cannot load MusicGen model"),  # a valid config, no weights
        (b"not safetensors", "cannot load MusicGen model"),  # a valid config, corrupt weights
    ],
)
def test_broken_directory_is_a_clear_producer_error(tiny_dir, tmp_path, config_text, match):
    from producer.generators.musicgen import ModelLoadError, load_musicgen

    broken = tmp_path / "broken"
    broken.mkdir()
    if not isinstance(config_text, str):
        if config_text is not None:
            (broken / "model.safetensors").write_bytes(config_text)
        config_text = (tiny_dir / "config.json").read_text()
        assert json.loads(config_text)["model_type"] == "musicgen"
    (broken / "config.json").write_text(config_text)
    with pytest.raises(ModelLoadError, match=match) as err:
        load_musicgen(str(broken))
    assert isinstance(err.value, ProducerError)
    assert "\n" not in str(err.value) and str(broken) in str(err.value)


# ---------------------------------------------------------------- generation


def test_generate_exact_length_stereo_float32_finite(tiny_dir, no_network):
    plan = _plan()
    stem = _gen(tiny_dir).generate(StemSpec(role="bass", generator="musicgen"), plan, 0.75, 3)
    assert stem.audio.shape == (2, round(0.75 * SR))
    assert stem.audio.dtype == np.float32 and stem.sample_rate == SR
    assert stem.role == "bass" and stem.generator == "musicgen" and stem.bpm == 142
    assert np.all(np.isfinite(stem.audio))
    peak = np.abs(stem.audio).max()
    assert np.isclose(peak, 10 ** (-3 / 20), atol=1e-4)  # non-silent, normalised to -3 dBFS
    np.testing.assert_array_equal(stem.audio[0], stem.audio[1])  # mono model → both sides


def test_same_seed_same_audio_other_seed_other_audio(tiny_dir):
    gen, spec, plan = _gen(tiny_dir), StemSpec(role="drums"), _plan()
    a = gen.generate(spec, plan, 0.5, seed=11, sample_rate=22050).audio
    b = gen.generate(spec, plan, 0.5, seed=11, sample_rate=22050).audio
    c = gen.generate(spec, plan, 0.5, seed=12, sample_rate=22050).audio
    assert a.shape == (2, 11025)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_loops_when_the_model_generates_less(tiny_dir):
    # 0.4 s segments at 200 bpm: no bar (1.2 s) fits, so it loops whole beats (0.3 s).
    gen = _gen(tiny_dir, max_segment_seconds=0.4)
    stem = gen.generate(StemSpec(role="melody"), _plan(bpm=200), 1.0, seed=5)
    beat = round(0.3 * SR)
    assert stem.audio.shape == (2, SR) and np.all(np.isfinite(stem.audio))
    np.testing.assert_array_equal(
        stem.audio[:, beat : 2 * beat], stem.audio[:, 2 * beat : 3 * beat]
    )
    np.testing.assert_array_equal(stem.audio[:, 3 * beat :], stem.audio[:, beat : SR - 2 * beat])


def test_melody_conditions_melody_models_only(tiny_dir, tiny_melody_dir, no_network):
    t = np.arange(SR) / SR
    tune = (0.5 * np.sin(2 * np.pi * 220.0 * t * (1 + (t > 0.5) * 0.5))).astype(np.float32)
    plan = _plan()
    plain, with_melody = StemSpec(role="melody"), StemSpec(role="melody", params={"melody": tune})

    gen = _gen(tiny_melody_dir)
    assert gen.load().melody
    a = gen.generate(plain, plan, 0.5, seed=2).audio
    b = gen.generate(with_melody, plan, 0.5, seed=2).audio
    assert a.shape == b.shape == (2, SR // 2) and np.all(np.isfinite(b))
    assert not np.allclose(a, b)

    text_only = _gen(tiny_dir)  # no melody input: the melody is ignored (with a warning)
    np.testing.assert_array_equal(
        text_only.generate(plain, plan, 0.5, seed=2).audio,
        text_only.generate(with_melody, plan, 0.5, seed=2).audio,
    )
