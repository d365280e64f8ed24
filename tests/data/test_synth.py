"""The synthetic corpus: song folders in the data layout, matching their prompts, reproducible."""

from __future__ import annotations

import pytest

from producer.audio.io import load_audio
from producer.audio.loudness import integrated_loudness
from producer.data.layout import scan_songs
from producer.data.meta import load_meta
from producer.data.synth import synthesize_corpus
from producer.faust.validate import validate
from producer.plan import STYLES
from tests.data.conftest import CORPUS_SECONDS, CORPUS_SEED, CORPUS_SR

SR, SECONDS, SEED = CORPUS_SR, CORPUS_SECONDS, CORPUS_SEED


@pytest.fixture
def corpus(synth_corpus):
    return synth_corpus


def test_songs_are_written_in_the_data_layout(corpus):
    out, paths = corpus
    entries, problems = scan_songs(out)
    assert problems == [] and [e.dir for e in entries] == paths
    # The seed is one where a song leaves roles out (its prompt says so; no stems for them).
    assert any(len(load_meta(e.meta_path).roles) < 4 for e in entries)
    for i, entry in enumerate(entries):
        meta = load_meta(entry.meta_path)
        assert meta.style == STYLES[i % len(STYLES)]  # styles take turns
        assert meta.prompt and meta.bpm and meta.key and meta.mode
        # The stems on disk are exactly the song's roles, and the script mixes them.
        assert list(entry.stem_paths) == meta.roles
        assert validate(entry.script_path.read_text(), roles=meta.roles, sample_rate=SR)
        mix = load_audio(entry.mix_path, sample_rate=SR)
        assert mix.shape == (2, int(SECONDS * SR))
        assert integrated_loudness(mix, SR) == pytest.approx(-14, abs=0.5)
        for path in entry.stem_paths.values():
            assert load_audio(path, sample_rate=SR).shape == mix.shape


def test_the_same_seed_writes_the_same_songs(corpus, tmp_path):
    _, paths = corpus
    again = synthesize_corpus(
        tmp_path, 2, seed=SEED, duration=SECONDS, sample_rate=SR, progress=False
    )
    for a, b in zip(paths[:2], again, strict=True):
        for name in (f"{a.name}.json", f"{a.name}.dsp", f"{a.name}.wav"):
            assert (a / name).read_bytes() == (b / name).read_bytes()


def test_leaves_no_temporary_folders(corpus):
    out, _ = corpus
    assert not [p for p in out.rglob(".*")]
