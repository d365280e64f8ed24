"""A tiny synthetic corpus shared by the data tests (made once per session: ~2 s a song)."""

from __future__ import annotations

import pytest

CORPUS_SR = 32000  # fewer samples than 44.1 kHz keep it quick (the drum kit needs > 24 kHz)
CORPUS_SECONDS = 1.5
CORPUS_SEED = 11


@pytest.fixture(scope="session")
def synth_corpus(tmp_path_factory):
    """(folder, song folders) of a 4-song corpus; tests copy it before changing anything."""
    from producer.data.synth import synthesize_corpus

    out = tmp_path_factory.mktemp("synth")
    paths = synthesize_corpus(
        out, 4, seed=CORPUS_SEED, duration=CORPUS_SECONDS, sample_rate=CORPUS_SR, progress=False
    )
    return out, paths
