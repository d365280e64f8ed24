"""Tests for producer.audio.separation: roles, rates, chunking, local models, absent weights.

Two models: a tiny random HTDemucs (the real network and code path, whose output means nothing)
and `GainModel`, whose source k is exactly gains[k] × the mix, so rate, alignment, length and
chunk cross-fades can be checked against a known answer.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from fractions import Fraction

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from producer.audio import separation
from producer.audio.separation import (
    DEMUCS_ROLES,
    MANIFEST_NAME,
    WEIGHTS_NAME,
    SeparationError,
    Separator,
    SeparatorConfig,
    SeparatorNotFoundError,
    clear_separator_cache,
    load_separator,
    save_local_demucs,
    source_roles,
)
from producer.errors import AudioInputError, ModelNotFoundError
from producer.plan import ROLES
from tests.audio.tiny_demucs import SOURCES, TINY_KWARGS, GainModel, tiny_htdemucs

QUIET = SeparatorConfig(progress=False)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: faster for tiny models on a busy machine, and deterministic."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Loaded models are cached by name; tests that change TORCH_HOME must not see old ones."""
    clear_separator_cache()
    yield
    clear_separator_cache()


@pytest.fixture(scope="module")
def tiny():
    return tiny_htdemucs()


@pytest.fixture(scope="module")
def tiny_dir(tiny, tmp_path_factory):
    """The tiny HTDemucs saved in the safe local format."""
    return save_local_demucs(tiny, None, tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything opens a network connection."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Point torch hub and the Hugging Face cache at empty folders; return (torch, hf) homes."""
    torch_home, hf_home = tmp_path / "torch", tmp_path / "hf"
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return torch_home, hf_home


def song(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """(2, T) stereo test mix below 4 kHz (survives any resampling here), Hann-faded."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    freqs = rng.uniform(80, 3000, size=(2, 4))
    mix = sum(0.2 * np.sin(2 * np.pi * freqs[:, k, None] * t) for k in range(4))
    return (mix * np.hanning(t.size)).astype(np.float32)


# --- the role mapping -------------------------------------------------------------------------


def test_source_roles_map_demucs_sources_onto_project_roles():
    assert source_roles(["drums", "bass", "other", "vocals"]) == {
        "drums": "drums",
        "bass": "bass",
        "other": "other",
        "vocals": "vocals",
    }
    six = source_roles(["drums", "bass", "other", "vocals", "guitar", "piano"])
    assert six["guitar"] == six["piano"] == "harmony"
    # A custom model's source named like a role keeps it; anything else is "other".
    assert source_roles(["melody", "synth"]) == {"melody": "melody", "synth": "other"}
    assert set(DEMUCS_ROLES.values()) <= set(ROLES)


# --- separate(): exact checks with GainModel ---------------------------------------------------


def test_separate_is_at_input_rate_aligned_and_sums_sources_per_role():
    sources = ["drums", "bass", "other", "vocals", "guitar", "piano"]
    gains = [1.0, 0.5, 0.25, -1.0, 0.1, 0.2]
    sep = Separator(GainModel(sources, gains, samplerate=16000, segment=1.0), QUIET)
    mix = song(2.5, 48000)
    stems = sep.separate(mix, 48000)

    assert list(stems) == ["drums", "bass", "harmony", "vocals", "other"]  # ROLES order
    expected = {"drums": 1.0, "bass": 0.5, "harmony": 0.3, "vocals": -1.0, "other": 0.25}
    for role, gain in expected.items():
        stem = stems[role]
        assert stem.shape == mix.shape and stem.dtype == np.float32
        # Resampled 48 k → 16 k → 48 k and back in place, sample for sample.
        np.testing.assert_allclose(stem, gain * mix, atol=2e-3)
    # The stems add up to the mix (Demucs's sources partition it).
    np.testing.assert_allclose(sum(stems.values()), 1.05 * mix, atol=5e-3)


def test_chunks_cross_fade_back_to_the_exact_signal():
    """A song several segments long runs chunk by chunk; the overlap-add is seamless."""
    model = GainModel(SOURCES, [1.0, 0.0, 0.0, 0.5], samplerate=16000, segment=1.0)
    mix = song(3.5, 16000)  # no resampling: the model's own rate
    for overlap in (0.25, 0.5):
        model.calls = 0
        stems = Separator(model, SeparatorConfig(overlap=overlap, progress=False)).separate(
            mix, 16000
        )
        stride = int((1 - overlap) * 16000)
        assert model.calls == math.ceil(mix.shape[1] / stride) > 3
        np.testing.assert_allclose(stems["drums"], mix, atol=1e-5)
        np.testing.assert_allclose(stems["vocals"], 0.5 * mix, atol=1e-5)


def test_shift_trick_runs_one_pass_per_shift():
    model = GainModel(SOURCES, [0.5, 0, 0, 0], samplerate=16000, segment=4.0)
    mix = song(2.0, 16000)
    stems = Separator(model, SeparatorConfig(shifts=3, progress=False)).separate(mix, 16000)
    assert model.calls == 3  # a 2 s song fits one 4 s chunk; one pass per random shift
    np.testing.assert_allclose(stems["drums"], 0.5 * mix, atol=1e-5)


def test_configured_segment_sets_the_chunk_length():
    model = GainModel(SOURCES, [1, 0, 0, 0], samplerate=16000, segment=1.0)
    mix = song(3.0, 16000)
    Separator(model, SeparatorConfig(segment=0.5, overlap=0.0, progress=False)).separate(mix, 16000)
    assert model.calls == 6


def test_mono_in_gives_stereo_stems_with_equal_channels():
    sep = Separator(GainModel(SOURCES, [1, 1, 1, 1]), QUIET)
    mono = song(1.0, 22050)[0]
    stems = sep.separate(mono, 22050)
    for stem in stems.values():
        assert stem.shape == (2, mono.size)
        np.testing.assert_array_equal(stem[0], stem[1])
        np.testing.assert_allclose(stem[0], mono, atol=2e-3)


def test_mono_model_runs_on_the_mid_signal():
    model = GainModel(SOURCES, [1, 0, 0, 0], audio_channels=1)
    mix = song(1.0, 16000)
    drums = Separator(model, QUIET).separate(mix, 16000)["drums"]
    mid = mix.mean(axis=0)
    np.testing.assert_allclose(drums, np.stack([mid, mid]), atol=1e-5)


def test_progress_bar_goes_to_stderr(capsys):
    sep = Separator(GainModel(SOURCES, [1, 0, 0, 0]), SeparatorConfig(progress=True))
    sep.separate(song(2.0, 16000), 16000)
    assert "seconds" in capsys.readouterr().err  # tqdm's unit, from apply_model


# --- separate(): the real network ----------------------------------------------------------


def test_tiny_htdemucs_returns_every_role_at_input_rate(tiny):
    sep = Separator(tiny, QUIET)
    assert sep.roles == ("drums", "bass", "vocals", "other")
    mix = song(3.0, 44100)
    start = time.perf_counter()
    stems = sep.separate(mix, 44100)
    assert time.perf_counter() - start < 10  # ~0.2 s on one idle thread
    assert list(stems) == list(sep.roles)
    for stem in stems.values():
        assert stem.shape == mix.shape and stem.dtype == np.float32
        assert np.isfinite(stem).all() and np.abs(stem).max() > 0


def test_long_song_is_separated_in_chunks(tiny):
    """A song 3× the model's segment: several forward passes, full length out."""
    calls = []
    hook = tiny.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[-1]))
    try:
        rate = 22050
        mix = song(3 * float(TINY_KWARGS["segment"]), rate)
        stems = Separator(tiny, QUIET).separate(mix, rate)
    finally:
        hook.remove()
    segment_len = int(16000 * TINY_KWARGS["segment"])
    model_len = round(mix.shape[1] * 16000 / rate)
    assert len(calls) == math.ceil(model_len / int(0.75 * segment_len)) >= 4
    assert set(calls) == {segment_len}  # every chunk is one segment long
    for stem in stems.values():
        assert stem.shape == mix.shape and np.isfinite(stem).all()


def test_segment_longer_than_htdemucs_can_run_is_clamped(tiny, caplog):
    calls = []
    hook = tiny.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[-1]))
    try:
        cfg = SeparatorConfig(segment=30.0, progress=False)
        Separator(tiny, cfg).separate(song(4.0, 16000), 16000)
    finally:
        hook.remove()
    assert set(calls) == {int(16000 * TINY_KWARGS["segment"])}
    assert "longer than this model can run" in caplog.text


def test_silence_gives_finite_silence(tiny):
    for mix in (np.zeros((2, 20000), np.float32), np.full((2, 20000), 1e-12, np.float32)):
        stems = Separator(tiny, QUIET).separate(mix, 16000)
        for stem in stems.values():
            assert np.isfinite(stem).all()
            assert np.abs(stem).max() < 1e-6


def test_inputs_shorter_than_a_segment(tiny):
    sep = Separator(tiny, QUIET)
    for length, rate in ((100, 44100), (3, 48000), (5000, 16000)):
        stems = sep.separate(song(1.0, rate)[:, :length], rate)
        for stem in stems.values():
            assert stem.shape == (2, length) and np.isfinite(stem).all()
    # One sample at 48 kHz is a third of a sample at the model's 16 kHz (1-D: a (2, 1) array
    # would read as two mono samples, by check_audio_array's shorter-axis rule).
    stems = sep.separate(np.array([0.5], np.float32), 48000)
    assert all(s.shape == (2, 1) and np.isfinite(s).all() for s in stems.values())


def test_bad_audio_is_refused_with_the_audio_error(tiny):
    sep = Separator(tiny, QUIET)
    bad = song(0.5, 16000)
    bad[0, 10] = np.nan
    with pytest.raises(AudioInputError):
        sep.separate(bad, 16000)
    with pytest.raises(AudioInputError):
        sep.separate(np.zeros((2, 0), np.float32), 16000)


def test_bad_settings_are_refused():
    for kwargs in ({"overlap": 1.0}, {"overlap": -0.1}, {"segment": 0.0}, {"shifts": -1}):
        with pytest.raises(SeparationError):
            SeparatorConfig(**kwargs)
    sep = Separator(GainModel(SOURCES, [1, 0, 0, 0]), SeparatorConfig(segment=1e-4))
    with pytest.raises(SeparationError, match="longer segment"):
        sep.separate(song(0.5, 16000), 16000)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA refusal")
def test_unavailable_device_is_refused(tiny):
    with pytest.raises(SeparationError, match="CUDA is not available"):
        Separator(tiny, SeparatorConfig(device="cuda"))
    with pytest.raises(SeparationError, match="unknown separator device"):
        Separator(tiny, SeparatorConfig(device="gpu0"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(tiny):
    mix = song(5.0, 44100)
    on_cpu = Separator(tiny_htdemucs(), QUIET).separate(mix, 44100)
    cfg = SeparatorConfig(device="cuda", progress=False)
    on_gpu = Separator(tiny_htdemucs(), cfg).separate(mix, 44100)
    for role in on_cpu:
        np.testing.assert_allclose(on_gpu[role], on_cpu[role], atol=1e-4)


# --- local models --------------------------------------------------------------------------


def test_save_and_load_round_trip_is_identical(tiny, tiny_dir):
    manifest = json.loads((tiny_dir / MANIFEST_NAME).read_text())
    assert manifest["class"] == "HTDemucs"
    assert manifest["kwargs"]["segment"] == {
        "_type": "fraction",
        "numerator": 39,
        "denominator": 20,
    }
    loaded = load_separator(tiny_dir)
    assert loaded.model is not tiny and loaded.model.segment == Fraction(39, 20)
    mix = song(4.0, 48000)
    expected = Separator(tiny, QUIET).separate(mix, 48000)
    got = Separator(loaded.model, QUIET).separate(mix, 48000)
    for role in expected:
        np.testing.assert_array_equal(got[role], expected[role])


def test_save_with_explicit_kwargs(tiny, tmp_path):
    kwargs = {k: v for k, v in TINY_KWARGS.items() if k != "segment"}
    out = save_local_demucs(tiny, kwargs, tmp_path / "explicit")
    # The model's own segment wins over the constructor default.
    assert load_separator(out).model.segment == Fraction(39, 20)


def test_loaded_models_are_cached_until_the_folder_changes(tiny, tmp_path):
    folder = save_local_demucs(tiny, None, tmp_path / "m")
    first = load_separator(folder)
    assert load_separator(str(folder)).model is first.model
    other = tiny_htdemucs(seed=1)
    save_local_demucs(other, None, folder)
    # The cache key is the folder's mtime, which the save moved; move it a second further so
    # the test holds on filesystems with coarse timestamps too.
    stat = folder.stat()
    os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    reloaded = load_separator(folder)
    assert reloaded.model is not first.model
    assert torch.equal(
        next(iter(reloaded.model.state_dict().values())),
        next(iter(other.state_dict().values())),
    )


def test_mismatched_weights_are_refused(tiny, tmp_path):
    folder = save_local_demucs(tiny, None, tmp_path / "m")
    state = {k: torch.zeros_like(v) for k, v in tiny.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_NAME))  # as if a save died between the two files
    with pytest.raises(SeparatorNotFoundError, match="does not match"):
        load_separator(folder)


def test_demucs_repo_folder_and_th_file_load(tiny, tmp_path):
    """Demucs's own pickle packages, from paths the user names."""
    package = {
        "klass": type(tiny),
        "args": (),
        "kwargs": dict(TINY_KWARGS),
        "state": tiny.state_dict(),
    }
    repo = tmp_path / "repo"
    repo.mkdir()
    torch.save(package, repo / "tinysig.th")
    mix = song(1.0, 16000)
    expected = Separator(tiny, QUIET).separate(mix, 16000)
    for path in (repo, repo / "tinysig.th"):
        model = load_separator(path).model
        got = Separator(model, QUIET).separate(mix, 16000)
        np.testing.assert_array_equal(got["vocals"], expected["vocals"])
    torch.save(package, repo / "another.th")
    with pytest.raises(SeparatorNotFoundError, match="several models"):
        load_separator(repo)


@pytest.mark.parametrize("name", ["missing", "missing.th", "sub/dir/missing"])
def test_nonexistent_local_path_is_model_not_found(tmp_path, name):
    path = tmp_path / name
    for spec in (path, str(path)):
        with pytest.raises(ModelNotFoundError) as info:
            load_separator(spec)
        assert "\n" not in str(info.value) and "does not exist" in str(info.value)


def test_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelNotFoundError, match="not a Demucs model folder"):
        load_separator(tmp_path)
    with pytest.raises(ModelNotFoundError, match="not a Demucs model"):
        load_separator(tmp_path / "notes.txt")


# --- pretrained names ------------------------------------------------------------------------


def test_absent_pretrained_weights_fail_fast_on_one_line(empty_caches, no_network):
    torch_home, hf_home = empty_caches
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError) as info:
        load_separator("htdemucs")
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert isinstance(info.value, SeparatorNotFoundError)
    assert "\n" not in message
    assert "'htdemucs'" in message and "not on disk" in message
    assert str(torch_home / "hub" / "checkpoints") in message  # where Demucs looks
    assert "955717e8-8726e21a.th" in message
    assert str(hf_home / "hub") in message
    assert "--separator-model" in message


def test_unknown_pretrained_name(empty_caches, no_network):
    with pytest.raises(SeparatorNotFoundError, match=r"unknown Demucs model 'nope'.*htdemucs_ft"):
        load_separator("nope")


def test_pretrained_weights_in_torch_hub_cache_load_offline(tiny, empty_caches, no_network):
    """A legacy download, as Demucs leaves it in <TORCH_HOME>/hub/checkpoints, is found."""
    torch_home, _ = empty_caches
    checkpoints = torch_home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    package = {"klass": type(tiny), "args": (), "kwargs": dict(TINY_KWARGS)}
    torch.save({**package, "state": tiny.state_dict()}, checkpoints / "955717e8-8726e21a.th")
    sep = load_separator("htdemucs")
    assert load_separator("htdemucs").model is sep.model  # cached per (name, device)
    mix = song(1.0, 16000)
    expected = Separator(tiny, QUIET).separate(mix, 16000)
    got = Separator(sep.model, QUIET).separate(mix, 16000)
    np.testing.assert_array_equal(got["drums"], expected["drums"])


def test_pretrained_weights_in_hf_cache_load_offline(tiny, empty_caches, no_network):
    """Demucs >= 4.1 downloads adefossez/<Repo> safetensors into the HF cache; they are found."""
    _, hf_home = empty_caches
    repo = hf_home / "hub" / "models--adefossez--HTDemucs"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    (snapshot / "htdemucs.yaml").write_text("models: ['955717e8']\n")
    kwargs = {k: separation._to_json(v, k) for k, v in TINY_KWARGS.items()}
    metadata = {
        "klass": "demucs.htdemucs.HTDemucs",
        "args": "[]",
        "kwargs": json.dumps(kwargs),
    }
    state = {k: v.contiguous() for k, v in tiny.state_dict().items()}
    save_file(state, str(snapshot / "955717e8.safetensors"), metadata=metadata)
    model = load_separator("htdemucs").model
    mix = song(1.0, 16000)
    expected = Separator(tiny, QUIET).separate(mix, 16000)
    got = Separator(model, QUIET).separate(mix, 16000)
    np.testing.assert_array_equal(got["bass"], expected["bass"])
    # The same file passed as a path also loads (the Demucs export format).
    assert load_separator(snapshot / "955717e8.safetensors").model.segment == Fraction(39, 20)
