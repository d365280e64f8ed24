"""The producer end to end: a prompt (and optionally a song) in, a mixed and mastered beat out.

    from producer.pipeline import Producer
    producer = Producer()                                    # the default model, on the CPU
    result = producer.produce("Create a dark trap beat with heavy 808s", duration=20, seed=7)
    result.master, result.script, result.quality.score, result.timings

Stages, each timed (`ProductionResult.timings`):

    input     load the song; separate it with Demucs (a full mix) or keep it (a single stem);
              measure tempo, beats, key and loudness       (producer.pipeline.input_song)
    plan      the unified model plans style, tempo, key and stems; the song's tempo and key win
              over the model, explicit words in the prompt win over both
    generate  the generators make every `generate` stem, on the song's beat grid (alignment)
    write     the model writes `candidates` Faust mix scripts (grammar-constrained); beside it,
              the mixing teacher (`producer.mixing.teacher`) searches one more script against
              the critic, the way an engineer would mix the stems (`teach_mix`)
    render    each script is compiled and rendered by libfaust stem by stem, then mastered to
              the target; the mix critic (`producer.mixing.critic`) listens to every stem's solo
              and the master, against the plan's style targets moved by the prompt's words
    score     each master is scored: the learned quality score minus a penalty per meter finding
              and a penalty for what the critic found (`Candidate.total`); the best is kept,
              every candidate's scores are reported (the teacher's with `source` "teacher")

This is a plain library object: the CLI (`producer demo`) is a thin shell around it, and the
Ray Serve deployments (`producer.serving`) run its stages one by one: `plan`, `generate`,
`write`, `render_and_score`. The stages that need no model are module functions too
(`generate_stems_for`, `render_master`, `render_and_critique`, `critic_targets`,
`teach_mix`, `reference_of`), so a replica that only generates or renders never loads the model.

Selection (`Candidate.total`): learned score − FINDING_PENALTY × meter findings −
CRITIC_WEIGHT × (1 − critic score) − BASIC_FAILURE_PENALTY × failed basic checks of the critic
− ASKED_PENALTY × asked-for moves of the prompt's words the mix missed.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from producer.errors import ProducerError, RenderError
from producer.faust.render import render
from producer.generators import generate_stem
from producer.generators.events import Stem
from producer.mixing.critic import MixVerdict, critique
from producer.mixing.descriptors import DescriptorMatch, apply_descriptors
from producer.mixing.reference import style_targets
from producer.mixing.solo import SoloRenderError, render_with_solos
from producer.mixing.targets import MixTargets
from producer.mixing.teacher import TeacherResult, teach
from producer.models.loading import load_model  # light: torch loads when a model does
from producer.modules.features import audio_features
from producer.pipeline.alignment import grid_cut, shift_stem
from producer.pipeline.input_song import InputSong, prepare_input
from producer.pipeline.stage_order import ThreadCalls, run_stages, run_sync
from producer.plan import DEFAULT_PROMPT, MAX_DURATION, ProductionPlan
from producer.schemas import QualityReport

__all__ = [
    "ASKED_PENALTY",
    "BASIC_FAILURE_PENALTY",
    "CRITIC_WEIGHT",
    "DEFAULT_DURATION",
    "DEFAULT_PROMPT",
    "FINDING_PENALTY",
    "Candidate",
    "Producer",
    "ProductionResult",
    "Selection",
    "check_request",
    "critic_targets",
    "generate_stems_for",
    "master_lufs",
    "production_length",
    "reference_of",
    "render_and_critique",
    "render_master",
    "teach_mix",
]

log = logging.getLogger("producer.pipeline")

#: Seconds of music made from a prompt alone (an input song sets its own length).
DEFAULT_DURATION = 20.0
#: Subtracted from a candidate's learned score per meter finding (clipping, too quiet, …): the
#: meters are exact where the learned score is a judgement, so a clear fault always costs.
FINDING_PENALTY = 0.05
#: The mix critic's part of the selection: CRITIC_WEIGHT x (1 - critic score) is subtracted. The
#: critic measures what an engineer checks (balance, low end, masking, tone, width, dynamics)
#: against the style's targets moved by the prompt's words, so it is the better judge of a mix
#: than the learned score, which is a model's guess; but its score is steep (one bad check
#: takes it from 1.0 to ~0.5, random writer scripts sit at a median of 0.16), so half of its
#: range is enough: a flat, unprocessed mix (critic 0.65) costs 0.18, a mix with an 808
#: high-passed out of existence (0.08) 0.46. On the default model's own candidates (3 prompts x 4
#: candidates, 10 s) the learned score spread 0.09-0.28 within a production and the critic
#: 0.07-0.55, so either can decide; the critic changed the pick in 2 of the 3, both times to a
#: mix that failed fewer basics (8 -> 3, 3 -> 2).
CRITIC_WEIGHT = 0.5
#: Subtracted per failed basic check of the critic (a stem buried or overpowering, the low end
#: filtered away or wide, harsh or muddy): each is a fault a listener hears at once and nobody
#: asked for, which no engineer signs off whatever else the mix does well. It is the whole range
#: of the learned score, so a mix that passes more basics is always kept over one that passes
#: fewer; the learned score and the rest choose among mixes alike on the basics. (At 0.1 the
#: learned score outvoted the critic: the demo kept an 808 6.9 LU over everything else.)
BASIC_FAILURE_PENALTY = 1.0
#: Subtracted per `asked_for` check the mix fails: the prompt asked for something with a word
#: ("heavy 808s", "vocals tucked back") and the mix did not go half the way. The words are the
#: one thing the user said about the mix, so a mix that ignores them loses to one that follows
#: them unless its learned score is half the scale higher; below BASIC_FAILURE_PENALTY, so a
#: mix that passes more basics still wins. (Measured, benchmarks/mix_quality.py: without it the
#: kept mixes followed 24 of 29 descriptor pairs, the model's own candidates winning over the
#: teacher's on the learned score.)
ASKED_PENALTY = 0.5
MAX_CANDIDATES = 16
# Threads rendering and scoring candidates side by side.
_WORKERS = min(2, os.cpu_count() or 1)

#: `on_stage(stage, seconds)` is called as each stage finishes.
StageCallback = Callable[[str, float], None]


@dataclass
class Candidate:
    """One Faust mix script the model wrote, rendered, critiqued and scored."""

    script: str
    logprob: float | None  # mean token log-probability under the model (None: not the model's)
    score: float  # learned quality score of its master, in [0, 1]
    findings: list[str]  # what the meters found wrong with its master
    chosen: bool = False
    #: The mix critic's verdict on it (None: the script does not split into per-stem programs,
    #: or the critic could not measure it; the candidate is then judged by the rest alone).
    verdict: MixVerdict | None = None
    #: Who wrote the script: "model" (the writer), "teacher" (the mixing teacher's search) or
    #: "user" (a script sent to be rendered).
    source: str = "model"

    @property
    def critic_score(self) -> float | None:
        """The critic's score in [0, 1] (None without a verdict)."""
        return None if self.verdict is None else float(self.verdict.score)

    @property
    def critic_findings(self) -> list[str] | None:
        """The critic's findings as sentences, basics first (None without a verdict)."""
        return None if self.verdict is None else list(self.verdict.findings)

    @property
    def passes_basics(self) -> bool | None:
        """Whether every basic check of the critic passed (None without a verdict)."""
        return None if self.verdict is None else bool(self.verdict.passes_basics)

    @property
    def basics_failed(self) -> int:
        """How many basic checks of the critic failed (0 without a verdict)."""
        if self.verdict is None:
            return 0
        return sum(1 for c in self.verdict.checks if c.basic and not c.passed)

    @property
    def asked_failed(self) -> int:
        """How many of the prompt's asked-for moves the mix missed (0 without a verdict)."""
        if self.verdict is None:
            return 0
        return sum(1 for c in self.verdict.checks if c.name == "asked_for" and not c.passed)

    @property
    def critic_penalty(self) -> float:
        """CRITIC_WEIGHT x (1 - critic score) + BASIC_FAILURE_PENALTY per failed basic check
        + ASKED_PENALTY per missed asked-for move (0 without a verdict)."""
        if self.verdict is None:
            return 0.0
        return (
            CRITIC_WEIGHT * (1.0 - float(self.verdict.score))
            + BASIC_FAILURE_PENALTY * self.basics_failed
            + ASKED_PENALTY * self.asked_failed
        )

    @property
    def total(self) -> float:
        """The selection score: the learned score, minus FINDING_PENALTY per meter finding,
        minus `critic_penalty`."""
        return self.score - FINDING_PENALTY * len(self.findings) - self.critic_penalty

    def summary(self) -> dict[str, Any]:
        critic = self.critic_score
        return {
            "source": self.source,
            "logprob": None if self.logprob is None else round(self.logprob, 4),
            "score": round(self.score, 4),
            "findings": list(self.findings),
            "critic_score": None if critic is None else round(critic, 4),
            "critic_findings": self.critic_findings,
            "passes_basics": self.passes_basics,
            "total": round(self.total, 4),
            "chosen": self.chosen,
        }


@dataclass
class Selection:
    """Candidates rendered, mastered and scored, with the best one picked."""

    #: Every candidate, in the order written (the teacher's last); one has `chosen`.
    candidates: list[Candidate]
    master: np.ndarray  # the chosen candidate's master, (2, T) float32
    quality: QualityReport  # of that master, with the learned score
    timings: dict[str, float] = field(default_factory=dict)  # "render", "score" in seconds
    #: The prompt's mix descriptors, as found and applied to the critic's targets.
    descriptors: list[DescriptorMatch] = field(default_factory=list)

    @property
    def chosen(self) -> Candidate:
        return next(c for c in self.candidates if c.chosen)

    @property
    def script(self) -> str:
        return self.chosen.script

    @property
    def mix(self) -> MixVerdict | None:
        """The mix critic's verdict on the chosen master (None if it could not be heard)."""
        return self.chosen.verdict


@dataclass
class ProductionResult:
    """Everything a production made. Audio is (2, T) float32 at `sample_rate`."""

    prompt: str
    plan: ProductionPlan
    stems: dict[str, Stem]  # every stem, generated and kept, in mix order
    script: str  # the chosen Faust mix script
    master: np.ndarray
    sample_rate: int
    quality: QualityReport  # of the master, with the learned score
    candidates: list[Candidate]
    timings: dict[str, float]
    seed: int
    input: InputSong | None = None
    checkpoint: str = ""
    #: The mix critic's verdict on the chosen master (None: the critic could not hear it).
    mix: MixVerdict | None = None
    #: The prompt's mix descriptors, as found and applied to the critic's targets.
    descriptors: list[DescriptorMatch] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.master.shape[1] / self.sample_rate

    def summary(self) -> dict[str, Any]:
        """The JSON report (`result.json`): plan, quality, the mix critic's verdict and the
        prompt's descriptors, candidates, timings, versions, seed."""
        return {
            "prompt": self.prompt,
            "seed": self.seed,
            "duration_s": round(self.duration, 3),
            "sample_rate": self.sample_rate,
            "plan": self.plan.model_dump(mode="json"),
            "quality": self.quality.model_dump(mode="json"),
            "mix": self.mix.to_dict() if self.mix is not None else None,
            "descriptors": [d.to_dict() for d in self.descriptors],
            "candidates": [c.summary() for c in self.candidates],
            "stems": {
                role: {"generator": s.generator or "input", "events": len(s.events)}
                for role, s in self.stems.items()
            },
            "input": self.input.summary() if self.input is not None else None,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "checkpoint": self.checkpoint,
            "versions": versions(),
        }


class Producer:
    """The production pipeline around one loaded model.

    `checkpoint` is a `save_pretrained` directory or a trainer checkpoint (None: the default
    model shipped in the package); `separator` a Demucs name or local model for input songs;
    `separator_download` lets Demucs fetch pretrained weights that are not on disk.
    `mix_teacher` adds the mixing teacher's script to the model's candidates (`teach_mix`).
    The model loads once, here; `produce` can be called any number of times.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike | None = None,
        *,
        device: str = "cpu",
        separator: str | os.PathLike = "htdemucs",
        separator_download: bool = False,
        model=None,
        mix_teacher: bool = True,
    ):
        self.device = device
        self.separator = separator
        self.separator_download = separator_download
        self.mix_teacher = mix_teacher
        self.checkpoint = str(checkpoint) if checkpoint is not None else "default"
        self.model = model if model is not None else load_model(checkpoint, device=device)

    @property
    def sample_rate(self) -> int:
        return int(self.model.config.sample_rate)

    # ------------------------------------------------------------------ the whole pipeline

    def produce(
        self,
        prompt: str = DEFAULT_PROMPT,
        input: str | os.PathLike | np.ndarray | None = None,
        *,
        input_sample_rate: int | None = None,
        input_role: str | None = None,
        duration: float | None = None,
        seed: int = 0,
        candidates: int = 4,
        on_stage: StageCallback | None = None,
        progress: bool = False,
    ) -> ProductionResult:
        """Make a production. See the module docstring for the stages.

        `input` is a song (file path, or array with `input_sample_rate`); `input_role` says it
        is already one stem (e.g. "vocals") and is kept as it is. `duration` defaults to the
        song's length, or DEFAULT_DURATION without a song. Raises `ProducerError` subclasses
        (bad audio, unknown roles, missing separator weights) before any audio is made.
        """
        check_request(prompt, candidates, duration)
        timings: dict[str, float] = {}
        started = time.perf_counter()

        def record(stage: str, seconds: float) -> None:
            timings[stage] = seconds
            if on_stage is not None:
                on_stage(stage, seconds)

        song = None
        if input is not None:
            t = time.perf_counter()
            song = prepare_input(
                input,
                sample_rate=self.sample_rate,
                input_sample_rate=input_sample_rate,
                role=input_role,
                max_duration=duration,
                separator=self.separator,
                device=self.device,
                progress=progress,
                download=self.separator_download,
            )
            record("input", time.perf_counter() - t)
        length = production_length(song, duration)

        # Stems, candidates and feature extraction are independent of each other: two at a
        # time (libfaust, numpy and scipy release the GIL; on 2 cores the 30 s benchmark beat
        # went from 4.35x to over 5x real time). The teacher has a thread of its own from the
        # moment the stems exist: the writer decodes on one torch thread, which leaves the other
        # core to it. The stage order itself is `stage_order.run_stages`, as in serving.
        with ThreadPoolExecutor(_WORKERS) as pool, ThreadPoolExecutor(1) as teacher:
            beside: dict[str, Future] = {}

            def generate(plan: ProductionPlan, song: InputSong | None, seed: int):
                stems = self.generate(plan, song, seed, pool=pool)
                if self.mix_teacher:
                    beside["taught"] = teacher.submit(
                        teach_mix, stems, plan, prompt, self.sample_rate
                    )
                # The reference mix's features are only needed for scoring: computed meanwhile,
                # awaited only once every candidate is rendered.
                beside["reference"] = pool.submit(self.reference, stems)
                return stems

            def render_and_score(written, stems, plan, prompt):
                taught = beside.get("taught")
                return self.render_and_score(
                    written,
                    stems,
                    plan,
                    prompt,
                    pool=pool,
                    reference=beside["reference"],
                    on_stage=record,
                    teacher=taught is not None,
                    taught=taught,
                )

            calls = ThreadCalls(
                plan=self.plan,
                generate=generate,
                write=lambda stems, prompt, n, seed: self.write(stems, prompt, n, seed, pool=pool),
                render_and_score=render_and_score,
                in_threads=False,
            )
            made = run_sync(
                run_stages(calls, prompt, song, length, seed, candidates, on_stage=record)
            )
        plan, stems, chosen = made.plan, made.stems, made.selection
        timings["total"] = time.perf_counter() - started

        return ProductionResult(
            prompt=prompt,
            plan=plan,
            stems=stems,
            script=chosen.script,
            master=chosen.master,
            sample_rate=self.sample_rate,
            quality=chosen.quality,
            candidates=chosen.candidates,
            timings=timings,
            seed=seed,
            input=song,
            checkpoint=self.checkpoint,
            mix=chosen.mix,
            descriptors=chosen.descriptors,
        )

    # ------------------------------------------------------------------ stages

    def plan(self, prompt: str, song: InputSong | None, duration: float) -> ProductionPlan:
        """The production plan; a song lends its measured tempo, key and kept stem."""
        from producer.models.planning import InputAnalysis  # deferred: torch

        if song is None:
            return self.model.plan_production(prompt, duration=duration)
        analysis = InputAnalysis(bpm=song.bpm, key=song.key, mode=song.mode, role=song.kept_role)
        return self.model.plan_production(
            prompt, song.audio, song.sample_rate, duration=duration, analysis=analysis
        )

    def generate(
        self,
        plan: ProductionPlan,
        song: InputSong | None,
        seed: int,
        *,
        pool: ThreadPoolExecutor | None = None,
    ) -> dict[str, Stem]:
        """Every stem of the plan in plan order (see `generate_stems_for`)."""
        return generate_stems_for(plan, song, seed, self.sample_rate, pool=pool)

    def write(
        self,
        stems: Mapping[str, Stem],
        prompt: str,
        candidates: int,
        seed: int,
        *,
        pool: ThreadPoolExecutor | None = None,
    ) -> list[tuple[str, float]]:
        """`candidates` Faust mix scripts with their mean token log-probabilities."""

        def featured(stem: Stem) -> _Featured:
            return _Featured(stem.audio, audio_features(stem.audio, self.sample_rate))

        views = list(pool.map(featured, stems.values())) if pool else map(featured, stems.values())
        by_role = dict(zip(stems, views, strict=True))
        return self.model.write_faust_candidates(by_role, prompt, candidates=candidates, seed=seed)

    def render(self, script: str, stems: Mapping[str, Stem], plan: ProductionPlan) -> np.ndarray:
        """The mastered mix of the stems through one script (see `render_master`)."""
        return render_master(script, stems, plan, self.sample_rate)

    def reference(self, stems: Mapping[str, Stem]) -> np.ndarray | None:
        """Features of the stems' reference mix, which the quality score compares with."""
        return reference_of(stems, self.sample_rate)

    def score(
        self,
        master: np.ndarray,
        stems: Mapping[str, Stem],
        prompt: str,
        script: str = "",
        logprob: float | None = 0.0,
        *,
        reference: np.ndarray | None = None,
        balance_lu: Mapping[str, float | None] | None = None,
    ) -> tuple[Candidate, QualityReport]:
        """A master's learned score and meter findings, as a candidate and a full report.

        `reference` is `self.reference(stems)`, computed once per stem set by the caller;
        `balance_lu` the mix critic's `MixVerdict.balance_lu` of this mix, where there is one.
        """
        report = self.model.assess_quality(
            master, self.sample_rate, stems, prompt, reference=reference, balance_lu=balance_lu
        )
        candidate = Candidate(script, logprob, float(report.score), list(report.findings))
        return candidate, report

    def render_and_score(
        self,
        written: Sequence[tuple[str, float]],
        stems: Mapping[str, Stem],
        plan: ProductionPlan,
        prompt: str,
        *,
        pool: ThreadPoolExecutor | None = None,
        reference: Future | None = None,
        on_stage: StageCallback | None = None,
        teacher: bool | None = None,
        taught: Future | None = None,
    ) -> Selection:
        """Render and master every written `(script, logprob)`, critique and score each, keep
        the best (the highest `Candidate.total`).

        `teacher` (None: `self.mix_teacher`) adds the mixing teacher's script as one more
        candidate (`teach_mix`, source "teacher"); `taught` is a future of it started by the
        caller (None: it is started here, before the renders). A teacher that fails adds none.

        Each script is rendered stem by stem (`render_with_solos`: the same master as
        `render_master`, plus every stem's solo) and the mix critic checks it against the
        plan's style targets moved by the prompt's descriptors (`critic_targets`). A script
        that does not split into per-stem programs is rendered whole and gets no verdict; a
        candidate without a verdict is only chosen when no candidate has one. The critic never
        fails a production: a measurement that raises is logged and leaves no verdict.

        `reference` is a future of `self.reference(stems)` started by the caller (None: it is
        computed here, beside the renders). `on_stage` hears "render" and "score" as they end.
        """
        if not written:
            raise ProducerError("no mix script to render")
        if pool is None:
            with ThreadPoolExecutor(_WORKERS) as own:
                return self.render_and_score(
                    written,
                    stems,
                    plan,
                    prompt,
                    pool=own,
                    reference=reference,
                    on_stage=on_stage,
                    teacher=teacher,
                    taught=taught,
                )
        if taught is None and (self.mix_teacher if teacher is None else teacher):
            taught = pool.submit(teach_mix, stems, plan, prompt, self.sample_rate)
        timings: dict[str, float] = {}

        def done(stage: str, t0: float) -> None:
            timings[stage] = time.perf_counter() - t0
            if on_stage is not None:
                on_stage(stage, timings[stage])

        if reference is None:
            reference = pool.submit(self.reference, stems)
        targets, descriptors = critic_targets(plan, prompt)
        t = time.perf_counter()
        # Render and critique side by side: candidate k's critique overlaps k+1's render, and
        # each candidate's solos are dropped as soon as it is judged.

        def attempt(w: tuple[str, float | None]):
            try:
                return render_and_critique(w[0], stems, plan, self.sample_rate, targets)
            except RenderError as err:  # e.g. a master that is silence or DC: not a mix
                return err

        outcomes = list(pool.map(attempt, written))
        lesson: TeacherResult | None = taught.result() if taught is not None else None
        # A candidate whose master the output check refused is dropped (logged), unless none
        # is left: then the first refusal is the production's error.
        refused = [o for o in outcomes if isinstance(o, RenderError)]
        if len(refused) == len(outcomes) and (lesson is None or lesson.master is None):
            raise refused[0]
        for err in refused:
            log.warning("candidate dropped: %s", err)
        kept = [k for k, o in enumerate(outcomes) if not isinstance(o, RenderError)]
        written = [written[k] for k in kept]
        heard = [outcomes[k] for k in kept]
        sources = ["model"] * len(written)
        if lesson is not None and lesson.master is not None:
            written = [*written, (lesson.script, None)]
            heard.append((lesson.master, lesson.verdict))
            sources.append("teacher")
            timings["teach"] = lesson.seconds
            if on_stage is not None:
                on_stage("teach", lesson.seconds)
        done("render", t)

        t = time.perf_counter()
        ref = reference.result()  # once: every candidate mixes the same stems

        def score(w: tuple[str, float | None], h: tuple[np.ndarray, MixVerdict | None]):
            balance = h[1].balance_lu if h[1] is not None else None
            return self.score(h[0], stems, prompt, w[0], w[1], reference=ref, balance_lu=balance)

        scored = list(pool.map(score, written, heard))
        for (candidate, _), (_, verdict), source in zip(scored, heard, sources, strict=True):
            candidate.verdict = verdict
            candidate.source = source
        best = max(
            range(len(scored)),
            key=lambda k: (scored[k][0].verdict is not None, scored[k][0].total),
        )
        scored[best][0].chosen = True
        done("score", t)
        return Selection(
            candidates=[c for c, _ in scored],
            master=heard[best][0],
            quality=scored[best][1],
            timings=timings,
            descriptors=descriptors,
        )


@dataclass(frozen=True)
class _Featured:
    """A stem's audio with its features computed already (the model reads `.features`)."""

    audio: np.ndarray
    features: np.ndarray


# ---------------------------------------------------------------------- stages without the model


def check_request(prompt: str, candidates: int, duration: float | None) -> None:
    """Refuse a request `Producer.produce` cannot make, with a `ProducerError` that says why."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise ProducerError("the prompt is empty: say what to make")
    if not 1 <= candidates <= MAX_CANDIDATES:
        raise ProducerError(f"candidates must be 1..{MAX_CANDIDATES}, got {candidates}")
    if duration is not None and not 0.5 <= duration <= MAX_DURATION:
        raise ProducerError(f"duration must be 0.5..{MAX_DURATION:g} s, got {duration}")


def production_length(song: InputSong | None, duration: float | None) -> float:
    """Seconds to make: the (trimmed) song's length, else `duration`, else DEFAULT_DURATION."""
    return song.duration if song is not None else (duration or DEFAULT_DURATION)


def generate_stems_for(
    plan: ProductionPlan,
    song: InputSong | None,
    seed: int,
    sample_rate: int,
    *,
    pool: ThreadPoolExecutor | None = None,
) -> dict[str, Stem]:
    """Every stem of the plan in plan order: generated ones on the song's grid, kept ones
    exactly as they came in. With a `pool`, stems are generated side by side."""
    cut = grid_cut(song.grid_offset, plan.seconds_per_bar) if song is not None else 0.0

    def make(spec) -> Stem:
        if spec.source == "input":
            if song is None or spec.role not in song.kept:
                raise ProducerError(f"the plan keeps an input '{spec.role}' but none was given")
            return Stem(spec.role, song.kept[spec.role], sample_rate, plan.bpm)
        stem = generate_stem(spec, plan, plan.duration + cut, seed, sample_rate)
        return shift_stem(stem, cut, plan.duration) if cut else stem

    made = list(pool.map(make, plan.stems)) if pool is not None else map(make, plan.stems)
    stems = {stem.role: stem for stem in made}
    if not stems:
        raise ProducerError("the plan has no stems: the prompt excluded every role")
    return stems


def render_master(
    script: str, stems: Mapping[str, Stem], plan: ProductionPlan, sample_rate: int
) -> np.ndarray:
    """The mastered mix of the stems through one script (validated before it runs)."""
    audio = {role: s.audio for role, s in stems.items()}
    return render(script, audio, sample_rate, target_lufs=plan.target_lufs)


def critic_targets(
    plan: ProductionPlan, prompt: str
) -> tuple[MixTargets | None, list[DescriptorMatch]]:
    """What the mix critic checks a production against: the plan's style targets
    (`reference.style_targets`) moved by the prompt's descriptors ("heavy 808s", "bright"),
    and the descriptors found. (None, []) for a style the critic has no reference for."""
    try:
        return apply_descriptors(style_targets(plan.style), prompt)
    except ValueError as err:
        log.warning("mix critic: no targets for style %r (%s)", plan.style, err)
        return None, []


def teach_mix(
    stems: Mapping[str, Stem], plan: ProductionPlan, prompt: str, sample_rate: int
) -> TeacherResult | None:
    """The mixing teacher's script for the stems (`producer.mixing.teacher.teach`): a search
    of the writer language against the critic, aiming at the plan's style targets moved by the
    prompt's words, mastered as the production is (`master_lufs`).

    None when the style has no targets or the teacher fails (logged): like the critic, the
    teacher is advice, and the model's candidates stand without it.
    """
    targets, _ = critic_targets(plan, prompt)
    if targets is None:
        return None
    targets = replace(targets, master_lufs=master_lufs(plan, targets))
    audio = {role: s.audio for role, s in stems.items()}
    try:
        return teach(audio, sample_rate, targets)
    except Exception as err:  # advice: a failure of it never fails the production
        log.warning("mixing teacher failed, the model's candidates stand alone: %r", err)
        return None


def master_lufs(plan: ProductionPlan, targets: MixTargets | None) -> float:
    """The master's loudness: the plan's, moved as the prompt's words moved the critic's
    target ("loud" +4.5 LU, "dynamic" -2 LU: `mixing.descriptors`), within -23..-7 LUFS."""
    if targets is None:
        return plan.target_lufs
    moved = plan.target_lufs + targets.master_lufs - MixTargets().master_lufs
    return float(min(max(moved, -23.0), -7.0))


def render_and_critique(
    script: str,
    stems: Mapping[str, Stem],
    plan: ProductionPlan,
    sample_rate: int,
    targets: MixTargets | None,
) -> tuple[np.ndarray, MixVerdict | None]:
    """The mastered mix of the stems through one script (as `render_master`) and the mix
    critic's verdict on it against `targets`.

    The verdict is None when `targets` is None, when the script does not split into per-stem
    programs (it is then rendered whole by `render_master`), or when the critic's measurement
    fails (logged): the critic never stops a production. Render errors (an invalid script,
    unusable audio) raise as `render_master`'s.
    """
    if targets is None:
        return render_master(script, stems, plan, sample_rate), None
    audio = {role: s.audio for role, s in stems.items()}
    try:
        rendered = render_with_solos(
            script, audio, sample_rate, target_lufs=master_lufs(plan, targets)
        )
    except SoloRenderError:
        return render_master(script, stems, plan, sample_rate), None
    try:
        verdict = critique(
            audio, rendered.solos, rendered.master, sample_rate, targets, script=script
        )
    except Exception as err:  # the critic is advice: a failure of it never fails the production
        log.warning("mix critic failed, candidate kept without a verdict: %r", err)
        verdict = None
    return rendered.master, verdict


def reference_of(stems: Mapping[str, Stem], sample_rate: int) -> np.ndarray | None:
    """Features of the stems' reference mix, which the quality score compares with."""
    from producer.models.unified import reference_features  # deferred: torch

    return reference_features(stems, sample_rate)


def versions() -> dict[str, str]:
    """Versions of the parts that shape the output, for the report."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("producer", "torch", "transformers", "dawdreamer", "demucs", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out
