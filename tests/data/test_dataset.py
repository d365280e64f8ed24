"""The dataset: one example per good song, bad songs reported by path and skipped."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from producer.data.dataset import UnifiedProducerDataset
from producer.data.meta import load_meta
from producer.data.prompts import STYLE_WORDS
from producer.errors import ProducerError
from producer.faust.validate import validate
from producer.mixing.stem_balance import STEM_BALANCE_DIM
from producer.modules.features import AUDIO_FEATURE_DIM
from producer.plan import ROLES, STYLES
from tests.data.conftest import CORPUS_SR

SR = CORPUS_SR


@pytest.fixture(scope="module")
def data(synth_corpus, tmp_path_factory):
    """The synthetic corpus plus four damaged or unusual songs."""
    src, _ = synth_corpus
    root = tmp_path_factory.mktemp("data") / "data"
    shutil.copytree(src, root)
    songs = sorted(p for p in root.glob("*/*") if p.is_dir())
    # 1. a corrupt stem; 2. bad JSON; 3. no stems and no prompt; 4. a script for other roles.
    bad_wav = (
        songs[0]
        / "stems"
        / f"{next(iter(load_meta(songs[0] / f'{songs[0].name}.json').roles))}.wav"
    )
    bad_wav.write_bytes(b"RIFF....WAVEfmt garbage")
    bad_json = songs[1] / f"{songs[1].name}.json"
    bad_json.write_text('{"bpm": 90,,}')
    bare = songs[2]
    shutil.rmtree(bare / "stems")
    meta = json.loads((bare / f"{bare.name}.json").read_text())
    meta.pop("prompt")
    meta.pop("roles")
    (bare / f"{bare.name}.json").write_text(json.dumps(meta))
    (songs[3] / f"{songs[3].name}.dsp").write_text(
        'import("stdfaust.lib");\nvocals_process = sp.panner(0.5);\n'
        "process = vocals_process :> _, _;\n"
    )
    return root, songs


@pytest.fixture(scope="module")
def dataset(data):
    root, _ = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = UnifiedProducerDataset(root, sample_rate=SR, quality_copies=2, seed=3, workers=1)
    ds.caught = [str(w.message) for w in caught]
    return ds


def test_bad_songs_are_reported_by_path_and_skipped(data, dataset):
    _, songs = data
    assert [e.path for e in dataset] == [songs[2], songs[3]]
    reasons = dict(dataset.problems)
    assert set(reasons) == {songs[0], songs[1]}
    assert "stems" in reasons[songs[0]] and ".wav" in reasons[songs[0]]
    assert "invalid JSON" in reasons[songs[1]] and f"{songs[1].name}.json" in reasons[songs[1]]
    assert any(str(songs[0]) in w for w in dataset.caught)


def test_an_example_has_every_target(data, dataset):
    example = dataset[1]  # songs[3]: stems, a prompt, a script for other roles
    meta = load_meta(example.path / f"{example.path.name}.json")
    assert example.prompt == meta.prompt
    assert example.roles == meta.roles
    assert [r for r, on in zip(ROLES, example.planning.roles, strict=True) if on] == meta.roles
    assert example.planning.style == STYLES.index(meta.style) and example.planning.bpm == meta.bpm
    assert example.mix_features.shape == (AUDIO_FEATURE_DIM,)
    assert example.mix_features.dtype == np.float32 and np.isfinite(example.mix_features).all()
    assert list(example.stem_features) == example.roles
    assert all(f.shape == (AUDIO_FEATURE_DIM,) for f in example.stem_features.values())
    # Its own script routes other stems, so a fitted one for its stems replaced it.
    assert validate(example.faust_script, roles=example.roles).stem_roles == tuple(example.roles)
    assert any("mix script not used" in w for w in dataset.caught)
    # With stems and a script the mix critic labels the quality examples: the own mix, a
    # planted fault, two near misses, the flat mix, a random script, a master fault (scored
    # down from the own mix's score).
    scores = [s for _, s, _ in example.quality]
    assert len(scores) == 7 and all(0.0 <= s <= 1.0 for s in scores)
    assert scores[-1] < scores[0] and len(set(scores)) == 7
    # Each carries the stems' balance the critic measured: its own stems marked, the rest not;
    # the master fault keeps its own mix's.
    balances = np.stack([b for _, _, b in example.quality])
    assert balances.shape == (7, STEM_BALANCE_DIM)
    present = balances[:, len(ROLES) :]
    want = [1.0 if r in example.roles else 0.0 for r in ROLES]
    assert (present == want).all()
    np.testing.assert_array_equal(balances[-1], balances[0])
    assert np.abs(balances[2] - balances[0]).max() > 0.05  # a near miss moves the faders


def test_a_song_without_stems_or_prompt_gets_a_prompt_from_its_metadata(data, dataset):
    example = dataset[0]
    meta = load_meta(example.path / f"{example.path.name}.json")
    assert meta.prompt is None
    assert any(w.lower() in example.prompt.lower() for w in STYLE_WORDS[meta.style])
    assert all(tag in example.prompt.lower() for tag in meta.tags)
    assert example.faust_script is None and example.stem_features == {}
    assert not example.planning.roles_known and example.roles == []


def test_the_same_seed_gives_the_same_examples_and_limit_stops_early(data, dataset):
    root, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = UnifiedProducerDataset(root, sample_rate=SR, quality_copies=2, seed=3, limit=1)
    assert len(again) == 1 and again[0].prompt == dataset[0].prompt
    for (a, sa, ba), (b, sb, bb) in zip(again[0].quality, dataset[0].quality, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ba, bb)
        assert sa == sb


def test_worker_processes_give_the_same_examples(data, dataset):
    root, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = UnifiedProducerDataset(root, sample_rate=SR, quality_copies=2, seed=3, workers=2)
    assert [e.path for e in pooled] == [e.path for e in dataset]
    assert pooled.problems == dataset.problems
    for a, b in zip(pooled, dataset, strict=True):
        assert (a.prompt, a.roles, a.faust_script) == (b.prompt, b.roles, b.faust_script)
        np.testing.assert_array_equal(a.mix_features, b.mix_features)


def test_missing_data_folder_raises(tmp_path):
    with pytest.raises(ProducerError, match="no such data folder"):
        UnifiedProducerDataset(tmp_path / "nope")
