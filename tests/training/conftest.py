"""A tiny synthetic corpus and a tiny model, shared by the training and model tests."""

from __future__ import annotations

import pytest

CORPUS_SR = 32000
CORPUS_SECONDS = 1.5


@pytest.fixture(autouse=True, scope="package")
def _one_torch_thread():
    """Tiny models run faster on one thread, and much faster when the cores are busy."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """A 6-song synthetic corpus (train phrasings)."""
    from producer.data.synth import synthesize_corpus

    out = tmp_path_factory.mktemp("corpus")
    synthesize_corpus(
        out, 6, seed=3, duration=CORPUS_SECONDS, sample_rate=CORPUS_SR, progress=False, workers=1
    )
    return out


def debug_model(seed: int = 0):
    """A fresh debug-preset model working at the corpus rate."""
    import torch

    from producer.models.config import preset
    from producer.models.unified import UnifiedProducerModel

    torch.manual_seed(seed)
    config = preset("debug")
    config.sample_rate = CORPUS_SR
    return UnifiedProducerModel.from_config(config)


@pytest.fixture(scope="session")
def rows(corpus):
    """The corpus as training rows (features computed once)."""
    from producer.training.trainer import load_rows

    return load_rows(corpus, sample_rate=CORPUS_SR, progress=False)
