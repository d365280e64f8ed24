"""The pipeline end to end on a tiny model: prompt only, an a cappella, a full mix via Demucs;
the mix critic's verdict in the selection and the report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from producer.audio.analysis import estimate_tempo
from producer.audio.io import load_audio, save_audio
from producer.audio.loudness import integrated_loudness, true_peak_dbtp
from producer.errors import AudioInputError, ModelNotFoundError, ProducerError, RenderError
from producer.faust.validate import validate
from producer.pipeline import (
    ASKED_PENALTY,
    BASIC_FAILURE_PENALTY,
    CRITIC_WEIGHT,
    FINDING_PENALTY,
    Producer,
    generate_stems_for,
    render_master,
)
from producer.plan import ProductionPlan

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
    assert stages == ["plan", "generate", "write", "teach", "render", "score"]
    assert result.plan.bpm == 140 and (result.plan.key, result.plan.mode) == ("F", "minor")
    assert result.master.shape == (2, 6 * SR)
    assert integrated_loudness(result.master, SR) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_dbtp(result.master, SR) <= -1.0 + 0.05
    # Every stem the plan asked for was generated, at the plan's length.
    assert set(result.stems) == {s.role for s in result.plan.stems}
    assert all(s.audio.shape == (2, 6 * SR) for s in result.stems.values())
    # Quality-guided search: two candidates of the model and the teacher's, scored and
    # critiqued, the best by total kept.
    assert [c.source for c in result.candidates] == ["model", "model", "teacher"]
    chosen = [c for c in result.candidates if c.chosen]
    assert len(chosen) == 1 and chosen[0].script == result.script
    assert chosen[0].total == max(c.total for c in result.candidates)
    for c in result.candidates:
        assert c.verdict is not None and 0.0 <= c.critic_score <= 1.0  # writer scripts split
        assert c.total == pytest.approx(documented_total(c))
    assert result.quality.score == pytest.approx(chosen[0].score)
    assert result.mix is chosen[0].verdict
    validate(result.script, roles=list(result.stems), sample_rate=SR)
    assert set(result.timings) >= {"plan", "generate", "write", "teach", "render", "score", "total"}


def documented_total(c) -> float:
    """The selection score as the pipeline's docstring writes it, from the report's numbers."""
    failed_basics = sum(1 for check in c.verdict.checks if check.basic and not check.passed)
    assert failed_basics == 0 or not c.passes_basics
    return (
        c.score
        - FINDING_PENALTY * len(c.findings)
        - CRITIC_WEIGHT * (1.0 - c.critic_score)
        - BASIC_FAILURE_PENALTY * failed_basics
        - ASKED_PENALTY * sum(1 for k in c.verdict.checks if k.name == "asked_for" and not k.passed)
    )


def test_a_mix_that_ignores_the_prompts_words_loses_unless_it_fails_fewer_basics():
    from producer.mixing.verdict import Check, MixVerdict
    from producer.pipeline import Candidate

    def cand(score: float, asked_passed: bool, basic_passed: bool = True) -> Candidate:
        checks = [
            Check("asked_for", asked_passed, -3.0, 1.5, stem="bass", asked=3.0),
            Check("balance", basic_passed, 0.0, (-6.0, 0.0), stem="bass", basic=True),
        ]
        verdict = MixVerdict(checks, {}, {}, {}, score=0.8, passes_basics=basic_passed)
        return Candidate("", None, score, [], verdict=verdict)

    # "heavy 808s" asked for the bass up: the mix that went there wins on a lower learned score.
    assert cand(0.6, asked_passed=True).total > cand(0.95, asked_passed=False).total
    assert cand(0.6, True).total - cand(0.6, False).total == pytest.approx(ASKED_PENALTY)
    # But a failed basic costs more than a missed word.
    assert cand(0.6, False).total > cand(0.6, True, basic_passed=False).total


def test_result_json_carries_the_critics_verdict_and_the_descriptors(producer):
    result = producer.produce("trap beat with heavy 808s", duration=3.0, seed=2, candidates=3)
    report = json.loads(json.dumps(result.summary(), allow_nan=False))  # strict JSON
    mix = report["mix"]
    assert mix == result.mix.to_dict()
    assert mix["style"] == result.plan.style == "trap"
    assert 0.0 <= mix["score"] <= 1.0 and isinstance(mix["passes_basics"], bool)
    assert mix["findings"] == result.mix.findings
    names = {c["name"] for c in mix["checks"]}
    assert {"balance", "low_end_mono", "tonal_balance", "plr"} <= names
    assert [d["name"] for d in report["descriptors"]] == ["heavy_bass"]
    assert report["descriptors"][0]["status"] == "applied"
    # Every candidate reports the critic beside the learned score; the chosen one maximises
    # the documented total.
    rows = report["candidates"]
    assert [row["source"] for row in rows] == ["model"] * 3 + ["teacher"]
    assert rows[-1]["logprob"] is None and all(row["logprob"] < 0 for row in rows[:3])
    for row, c in zip(rows, result.candidates, strict=True):
        assert {"logprob", "score", "findings", "total", "chosen"} <= set(row)  # as before
        assert row["critic_score"] == pytest.approx(c.verdict.score, abs=1e-4)
        assert row["critic_findings"] == c.verdict.findings
        assert row["passes_basics"] == c.verdict.passes_basics
        assert row["total"] == pytest.approx(documented_total(c), abs=1e-4)
    best = max(range(4), key=lambda k: rows[k]["total"])
    assert rows[best]["chosen"] and sum(r["chosen"] for r in rows) == 1
    assert report["candidates"][best]["critic_score"] == mix["score"]


def test_heavy_and_light_808s_move_the_bass_target_of_the_verdict(producer):
    heavy = producer.produce("trap beat with heavy 808s", duration=2.0, seed=4, candidates=1)
    light = producer.produce("trap beat with light 808s", duration=2.0, seed=4, candidates=1)
    lo_heavy, hi_heavy = heavy.mix.check("balance", stem="bass").limit
    lo_light, hi_light = light.mix.check("balance", stem="bass").limit
    assert lo_heavy - lo_light == pytest.approx(6.0) and hi_heavy - hi_light == pytest.approx(6.0)
    assert heavy.mix.bands["sub"]["target_db"] > light.mix.bands["sub"]["target_db"]
    assert [d.name for d in heavy.descriptors] == ["heavy_bass"]
    assert [d.name for d in light.descriptors] == ["light_bass"]


def test_loud_and_dynamic_move_the_master_loudness(producer):
    loud = producer.produce("loud trap beat", duration=3.0, seed=4, candidates=1)
    dynamic = producer.produce("dynamic trap beat", duration=3.0, seed=4, candidates=1)
    plain = producer.produce("trap beat", duration=3.0, seed=4, candidates=1)
    lufs = [integrated_loudness(r.master, SR) for r in (loud, plain, dynamic)]
    assert lufs[0] > lufs[1] + 2.0 > lufs[2] + 3.0, lufs  # about -9.5, -14, -16 LUFS
    assert lufs[1] == pytest.approx(plain.plan.target_lufs, abs=0.5)


SPLIT = (
    'import("stdfaust.lib");\n'
    "drums_process = _ : sp.panner(0.5);\n"
    "bass_process = _ : sp.panner(0.5);\n"
    "process = drums_process, bass_process :> _, _;\n"
)
# Renders as one program, but has no per-stem outputs to solo (tests/mixing/test_solo.py).
FUSED = SPLIT.replace(":> _, _;", ": si.bus(4) :> _, _;")


@pytest.fixture(scope="module")
def two_stems():
    plan = ProductionPlan(prompt="trap", duration=2.0, stems=[{"role": "drums"}, {"role": "bass"}])
    return plan, generate_stems_for(plan, None, 0, SR)


def test_a_script_that_does_not_split_falls_back_to_a_whole_render_without_a_verdict(
    producer, two_stems
):
    plan, stems = two_stems
    alone = producer.render_and_score([(FUSED, 0.0)], stems, plan, "trap", teacher=False)
    cand = alone.chosen
    assert cand.verdict is None and alone.mix is None
    summary = cand.summary()
    assert summary["critic_score"] is None and summary["critic_findings"] is None
    assert summary["passes_basics"] is None
    assert cand.total == pytest.approx(cand.score - FINDING_PENALTY * len(cand.findings))
    np.testing.assert_array_equal(alone.master, render_master(FUSED, stems, plan, SR))
    # Beside a script the critic can hear, the unheard one is not chosen.
    both = producer.render_and_score(
        [(FUSED, 0.0), (SPLIT, 0.0)], stems, plan, "trap", teacher=False
    )
    assert [c.chosen for c in both.candidates] == [False, True]
    assert both.mix is both.candidates[1].verdict is not None


def test_a_failing_critic_never_fails_the_production(producer, two_stems, monkeypatch):
    import producer.pipeline.producer as pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("critic bug")

    monkeypatch.setattr(pipeline, "critique", broken)
    plan, stems = two_stems
    selection = producer.render_and_score([(SPLIT, 0.0)], stems, plan, "trap", teacher=False)
    assert selection.mix is None and selection.chosen.critic_score is None
    np.testing.assert_array_equal(selection.master, render_master(SPLIT, stems, plan, SR))


def test_the_teachers_mix_is_a_candidate_that_passes_the_basics(producer, two_stems):
    plan, stems = two_stems
    # A script that buries the bass 30 dB: the critic fails it, the teacher's mix is kept.
    buried = SPLIT.replace("bass_process = _ :", "bass_process = _ : *(0.03) :")
    selection = producer.render_and_score([(buried, -0.5)], stems, plan, "trap")
    model, taught = selection.candidates
    assert (model.source, taught.source) == ("model", "teacher")
    assert model.passes_basics is False and taught.passes_basics is True
    assert taught.chosen and selection.script == taught.script and taught.logprob is None
    validate(taught.script, roles=list(stems), sample_rate=SR)
    # Its master is the renderer's master of its script, and its verdict the critic's of it.
    np.testing.assert_allclose(
        selection.master, render_master(taught.script, stems, plan, SR), atol=1e-5
    )
    assert taught.total == pytest.approx(documented_total(taught))
    # A failed basic costs more than the learned score's whole range: whatever the learned
    # score says, the mix that passes the basics is kept.
    assert BASIC_FAILURE_PENALTY >= 1.0
    assert taught.summary()["source"] == "teacher" and taught.summary()["logprob"] is None


def test_a_candidate_whose_master_is_silence_is_dropped_and_alone_it_is_the_error(
    producer, two_stems
):
    plan, stems = two_stems
    muted = SPLIT.replace("_ : sp.panner(0.5)", "_ : *(0) : sp.panner(0.5)")
    selection = producer.render_and_score(
        [(muted, -0.1), (SPLIT, -0.2)], stems, plan, "trap", teacher=False
    )
    assert [c.script for c in selection.candidates] == [SPLIT] and selection.chosen.chosen
    with pytest.raises(RenderError, match="silent"):
        producer.render_and_score([(muted, -0.1)], stems, plan, "trap", teacher=False)


def test_without_the_teacher_only_the_models_candidates_are_rendered(producer):
    plain = Producer(model=producer.model, mix_teacher=False)
    result = plain.produce("trap beat", duration=2.0, seed=1, candidates=2)
    assert [c.source for c in result.candidates] == ["model", "model"]
    assert "teach" not in result.timings


def test_a_failing_teacher_never_fails_the_production(producer, monkeypatch):
    import producer.pipeline.producer as pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("teacher bug")

    monkeypatch.setattr(pipeline, "teach", broken)
    result = producer.produce("trap beat", duration=2.0, seed=1, candidates=2)
    assert [c.source for c in result.candidates] == ["model", "model"]
    assert sum(c.chosen for c in result.candidates) == 1


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
