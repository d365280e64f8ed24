"""The pipeline end to end on a tiny model: prompt only, an a cappella, a full mix via Demucs."""

from __future__ import annotations

import numpy as np
import pytest

from producer.audio.analysis import estimate_tempo
from producer.audio.io import load_audio, save_audio
from producer.audio.loudness import integrated_loudness, true_peak_dbtp
from producer.errors import AudioInputError, ModelNotFoundError, ProducerError
from producer.faust.validate import validate
from producer.pipeline import FINDING_PENALTY, Producer

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SR = 44100


@pytest.fixture(scope="module")
def producer(tiny_checkpoint):
    return Producer(tiny_checkpoint)


def vocal_take(seconds: float, bpm: float = 90.0, start: float = 0.37) -> np.ndarray:
    """A sung-like line: vibrato tones phrased on a 90 bpm grid from `start`, with breaths."""
    t = np.arange(int(seconds * SR)) / SR
    beat = 60.0 / bpm
    pos = (t - start) / beat
    notes = np.array([57, 60, 62, 64, 62, 60, 57, 55])
    pitch = notes[np.clip(pos, 0, None).astype(int) % len(notes)]
    freq = 440.0 * 2 ** ((pitch - 69) / 12) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / SR
    env = np.where(pos >= 0, np.exp(-((pos % 1.0) * 2.5)), 0.0)  # a syllable per beat
    mono = 0.3 * env * (np.sin(phase) + 0.3 * np.sin(2 * phase) + 0.1 * np.sin(3 * phase))
    return np.stack([mono, 0.9 * mono]).astype(np.float32)


def test_prompt_only_makes_a_mastered_beat_at_the_planned_tempo(producer):
    stages = []
    result = producer.produce(
        "dark trap beat at 140 bpm in F minor",
        duration=6.0,
        seed=3,
        candidates=2,
        on_stage=lambda stage, s: stages.append(stage),
    )
    assert stages == ["plan", "generate", "write", "render", "score"]
    assert result.plan.bpm == 140 and (result.plan.key, result.plan.mode) == ("F", "minor")
    assert result.master.shape == (2, 6 * SR)
    assert integrated_loudness(result.master, SR) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_dbtp(result.master, SR) <= -1.0 + 0.05
    # Every stem the plan asked for was generated, at the plan's length.
    assert set(result.stems) == {s.role for s in result.plan.stems}
    assert all(s.audio.shape == (2, 6 * SR) for s in result.stems.values())
    # Quality-guided search: two candidates scored, the best by total kept.
    assert len(result.candidates) == 2
    chosen = [c for c in result.candidates if c.chosen]
    assert len(chosen) == 1 and chosen[0].script == result.script
    assert chosen[0].total == max(c.total for c in result.candidates)
    assert chosen[0].total == pytest.approx(
        chosen[0].score - FINDING_PENALTY * len(chosen[0].findings)
    )
    assert result.quality.score == pytest.approx(chosen[0].score)
    validate(result.script, roles=list(result.stems), sample_rate=SR)
    assert set(result.timings) >= {"plan", "generate", "write", "render", "score", "total"}


def test_same_seed_gives_the_same_master(producer):
    a = producer.produce("lo-fi beat at 80 bpm", duration=3.0, seed=5, candidates=1)
    b = producer.produce("lo-fi beat at 80 bpm", duration=3.0, seed=5, candidates=1)
    assert a.script == b.script
    np.testing.assert_array_equal(a.master, b.master)


def test_a_cappella_is_kept_unaltered_in_time_over_a_beat_on_its_grid(producer, tmp_path):
    take = vocal_take(8.0)
    path = tmp_path / "acapella.wav"
    save_audio(path, take, SR, subtype="FLOAT")
    result = producer.produce(
        "boom bap beat at 90 bpm", path, input_role="vocals", seed=1, candidates=2
    )
    assert result.plan.bpm == 90
    assert [s.role for s in result.plan.stems if s.source == "input"] == ["vocals"]
    # The kept stem is the file's audio, sample for sample.
    np.testing.assert_array_equal(result.stems["vocals"].audio, load_audio(path, SR))
    assert result.master.shape == take.shape
    # The vocal sits at zero lag in the master: cross-correlation peaks there, within 0.5 ms
    # (the chosen chain's filters shift the phase of a tone by a few samples; a timing error
    # from alignment would be tens of milliseconds).
    lags = 2048
    m, v = result.master.mean(0), take.mean(0)
    corr = [
        float(np.dot(m[lags + k : -lags + k or None], v[lags:-lags]))
        for k in range(-lags, lags + 1)
    ]
    assert abs(int(np.argmax(np.abs(corr))) - lags) <= round(0.0005 * SR)
    # The beat is on the take's grid: the drums' bar lines fall on its first beat (mod a bar).
    assert result.input is not None and not result.input.separated
    drums = result.stems.get("drums")
    if drums is not None and drums.events:
        bar = result.plan.seconds_per_bar
        onsets = sorted(e.seconds(result.plan.bpm)[0] for e in drums.events)
        offset = result.input.grid_offset % bar
        phases = [((o - offset) / (bar / 16)) % 1.0 for o in onsets]  # on the 16th grid
        assert np.median(np.minimum(phases, 1 - np.array(phases))) < 0.1
    # Tempo of the whole production as librosa hears it.
    bpm = estimate_tempo(result.master, SR).bpm
    assert any(abs(bpm - 90 * f) <= 0.02 * 90 * f for f in (0.5, 1, 2)), bpm


def test_full_mix_is_separated_in_chunks_by_a_local_demucs(tmp_path, tiny_checkpoint, monkeypatch):
    from demucs.htdemucs import HTDemucs

    from producer.audio.separation import clear_separator_cache, save_local_demucs
    from tests.audio.tiny_demucs import tiny_htdemucs

    model_dir = tmp_path / "tiny-demucs"
    save_local_demucs(tiny_htdemucs(), None, model_dir)
    calls = []
    forward = HTDemucs.forward
    monkeypatch.setattr(
        HTDemucs, "forward", lambda self, x: calls.append(x.shape[-1]) or forward(self, x)
    )
    clear_separator_cache()

    song = vocal_take(6.0) + 0.2 * np.sin(2 * np.pi * 55 * np.arange(6 * SR) / SR).astype(
        np.float32
    )
    path = tmp_path / "song.wav"
    save_audio(path, song, SR)
    prod = Producer(tiny_checkpoint, separator=model_dir)
    result = prod.produce("trap beat", path, seed=0, candidates=1)
    assert result.input.separated and "separate" in result.input.timings
    assert len(calls) >= 3  # 6 s through a 1.95 s model: several overlapping chunks
    assert result.master.shape == (2, 6 * SR)
    assert integrated_loudness(result.master, SR) == pytest.approx(-14.0, abs=1.0)


def test_full_mix_without_separator_weights_fails_fast_with_one_line(
    producer, tmp_path, monkeypatch
):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    from producer.audio.separation import clear_separator_cache

    clear_separator_cache()
    path = tmp_path / "song.wav"
    save_audio(path, vocal_take(3.0), SR)
    with pytest.raises(ModelNotFoundError) as err:
        producer.produce("trap beat", path)
    assert "\n" not in str(err.value) and "htdemucs" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": "  "}, "prompt is empty"),
        ({"candidates": 0}, "candidates"),
        ({"duration": 0.1}, "duration"),
        (
            {
                "input_role": "kazoo",
                "input": np.zeros((2, SR), np.float32),
                "input_sample_rate": SR,
            },
            "role",
        ),
    ],
)
def test_bad_requests_are_refused_before_any_work(producer, kwargs, message):
    kwargs = {"prompt": "trap beat", **kwargs}
    with pytest.raises(ProducerError, match=message):
        producer.produce(**kwargs)


def test_silent_input_is_refused(producer):
    with pytest.raises(AudioInputError, match="silent"):
        producer.produce(
            "trap beat",
            np.zeros((2, 2 * SR), np.float32),
            input_sample_rate=SR,
            input_role="vocals",
        )
