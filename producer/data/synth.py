"""A synthetic training corpus: songs made by our own generators, with prompts and scripts.

    synthesize_corpus("data/synth", 400)   # → data/synth/<artist>/<song>/…

Each song is drawn from a style (bpm in the style's range), moods (mostly the style's own;
the mood leans the mode: dark → minor, bright → major, mostly), a key, and its roles: drums,
bass, melody and harmony in most songs; a quarter leave one or two out and say so in the
prompt ("no drums"); about one in seven keep only one to three and ask for just those ("just
drums and bass"). Its stems come from `producer.generators`, its mix from the mixing teacher
(`producer.mixing.teacher.teach`: a script of the writer language that the mix critic rates
well against the style's targets, moved by the prompt's words) rendered and mastered to -14
LUFS, and its prompt from `producer.data.prompts.make_prompt`, which states the tempo and key
explicitly in about 40 % of the songs. Written per song, all or nothing:

    <out>/<artist>/<song>/<song>.wav    the master
    <out>/<artist>/<song>/<song>.json   SongMeta, prompt included
    <out>/<artist>/<song>/<song>.dsp    the script that made the master
    <out>/<artist>/<song>/stems/<role>.wav

Song i depends only on (seed, i), so a corpus is reproducible and a bigger one extends a
smaller one with the same seed.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.context
import os
import shutil
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import producer.faust.juce_thread as juce
from producer.atomic import atomic_path
from producer.audio.io import save_audio
from producer.audio.loudness import integrated_loudness
from producer.data.meta import Segment, SongMeta, save_meta
from producer.data.prompts import MOODS, STYLE_MOODS, Phrasing, make_prompt
from producer.errors import ProducerError, RenderError
from producer.faust.render import render
from producer.faust.writer import random_script
from producer.generators import generate_stems
from producer.mixing.descriptors import apply_descriptors
from producer.mixing.reference import style_targets
from producer.mixing.teacher import teach
from producer.plan import KEYS, ROLES, STYLE_BPM, STYLES, ProductionPlan, StemSpec

__all__ = [
    "BPM_RANGES",
    "DEFAULT_ROLES",
    "SongDraw",
    "default_workers",
    "draw_song",
    "process_pool_context",
    "synthesize_corpus",
    "synthesize_song",
]

#: Roles of a synthetic song before exclusions.
DEFAULT_ROLES = ("drums", "bass", "melody", "harmony")
#: Tempo range (BPM, inclusive) of each style (the planner keeps its tempos inside it too).
BPM_RANGES = STYLE_BPM
#: Chance of minor for a song whose moods do not lean either way.
STYLE_MINOR = {"trap": 0.8, "drill": 0.9, "boom-bap": 0.65, "lo-fi": 0.5, "g-funk": 0.35}
# Chance that a mood leaning to a mode gets that mode.
_MOOD_LEAN = 0.85
# Chance that a song leaves roles out, and that it leaves out two rather than one.
_P_EXCLUDE, _P_TWO = 0.25, 0.2
# Chance that a song keeps only some roles and its prompt says just those, and the chances of
# keeping 1, 2 or 3. Without such songs, a prompt naming roles would mostly be leaving them out.
_P_RESTRICT, _P_N_KEPT = 0.15, (0.3, 0.45, 0.25)
# Chance that the prompt states the tempo, the key, and the mode without a key.
_P_TEMPO, _P_KEY, _P_MODE_ONLY = 0.4, 0.4, 0.1
log = logging.getLogger(__name__)

#: Loudness every synthetic master is mastered to (LUFS).
TARGET_LUFS = -14.0
# Scripts tried per song before giving up on one that renders audible audio.
_SCRIPT_TRIES = 5
# Songs per artist folder (artists only group songs on disk).
_SONGS_PER_ARTIST = 50


@dataclass(frozen=True)
class SongDraw:
    """Everything decided about a synthetic song before any audio is made."""

    style: str
    moods: tuple[str, ...]
    bpm: float
    key: str
    mode: str
    roles: tuple[str, ...]  # in ROLES order
    excluded: tuple[str, ...]  # DEFAULT_ROLES not in `roles`
    prompt: str
    seed: int  # the generators' seed
    stated_bpm: float | None = None  # what the prompt states explicitly (None: not stated)
    stated_key: str | None = None
    stated_mode: str | None = None
    restricted: bool = False  # the prompt asks for just `roles` rather than naming `excluded`


def _draw_moods(rng: np.random.Generator, style: str) -> tuple[str, ...]:
    n = int(rng.choice(3, p=[0.15, 0.55, 0.30]))
    moods: list[str] = []
    for _ in range(n):
        pool = STYLE_MOODS[style] if rng.random() < 0.75 else tuple(MOODS)
        leans = {MOODS[m] for m in moods} - {"neutral"}
        # No second mood leaning the other way ("dark and happy"): the mode label would be
        # a coin toss, and people rarely ask for that.
        pool = tuple(
            m
            for m in pool
            if m not in moods and not (leans and MOODS[m] not in leans | {"neutral"})
        )
        if pool:
            moods.append(pool[int(rng.integers(len(pool)))])
    return tuple(moods)


def _draw_mode(rng: np.random.Generator, style: str, moods: Sequence[str]) -> str:
    leans = {MOODS[m] for m in moods} - {"neutral"}
    if len(leans) == 1:
        lean = leans.pop()
        other = "major" if lean == "minor" else "minor"
        return lean if rng.random() < _MOOD_LEAN else other
    return "minor" if rng.random() < STYLE_MINOR[style] else "major"


def _draw_excluded(rng: np.random.Generator) -> tuple[tuple[str, ...], bool]:
    """(DEFAULT_ROLES left out, whether the prompt restricts to the rest) of one song.

    One draw picks the kind of song: exclusions below _P_EXCLUDE, a restriction in the next
    _P_RESTRICT, else all roles.
    """
    u = rng.random()
    if u < _P_EXCLUDE:
        n = 2 if rng.random() < _P_TWO else 1
        out = rng.choice(len(DEFAULT_ROLES), n, replace=False)
        return tuple(DEFAULT_ROLES[i] for i in out), False
    if u < _P_EXCLUDE + _P_RESTRICT:
        n = 1 + int(rng.choice(len(_P_N_KEPT), p=_P_N_KEPT))
        kept = {DEFAULT_ROLES[i] for i in rng.choice(len(DEFAULT_ROLES), n, replace=False)}
        return tuple(r for r in DEFAULT_ROLES if r not in kept), True
    return (), False


def draw_song(rng: np.random.Generator, style: str, phrasing: Phrasing = "train") -> SongDraw:
    """Draw a song's style-dependent parameters and roles, and write its prompt."""
    moods = _draw_moods(rng, style)
    mode = _draw_mode(rng, style, moods)
    key = KEYS[int(rng.integers(len(KEYS)))]
    lo, hi = BPM_RANGES[style]
    bpm = float(rng.integers(lo, hi + 1))
    excluded, restricted = _draw_excluded(rng)
    roles = tuple(r for r in ROLES if r in DEFAULT_ROLES and r not in excluded)
    say_key = rng.random() < _P_KEY
    stated_bpm = bpm if rng.random() < _P_TEMPO else None
    stated_key = key if say_key else None
    stated_mode = mode if say_key or rng.random() < _P_MODE_ONLY else None
    prompt = make_prompt(
        rng,
        style=style,
        moods=moods,
        bpm=stated_bpm,
        key=stated_key,
        mode=stated_mode,
        excluded=excluded,
        present=roles,
        restricted=restricted,
        phrasing=phrasing,
    )
    return SongDraw(
        style=style,
        moods=moods,
        bpm=bpm,
        key=key,
        mode=mode,
        roles=roles,
        excluded=excluded,
        prompt=prompt,
        seed=int(rng.integers(2**31 - 1)),
        stated_bpm=stated_bpm,
        stated_key=stated_key,
        stated_mode=stated_mode,
        restricted=restricted,
    )


def draw_stems(draw: SongDraw, duration: float, sample_rate: int) -> dict[str, np.ndarray]:
    """The song's stems by role, clipped to full scale as they are saved."""
    plan = ProductionPlan(
        prompt=draw.prompt,
        style=draw.style,
        mood=list(draw.moods),
        bpm=draw.bpm,
        key=draw.key,
        mode=draw.mode,
        duration=duration,
        stems=[StemSpec(role=r) for r in draw.roles],
    )
    generated = generate_stems(plan, duration, seed=draw.seed, sample_rate=sample_rate)
    # The saved stems are 24-bit PCM, which clips at full scale: mix exactly what is saved.
    return {r: np.clip(generated[r].audio, -1.0, 1.0) for r in draw.roles}


def _render_song(
    draw: SongDraw, rng: np.random.Generator, duration: float, sample_rate: int
) -> tuple[dict[str, np.ndarray], str, np.ndarray]:
    """Stems (clipped to full scale, as saved), the script, and the mastered mix.

    The script is the mixing teacher's (`producer.mixing.teacher.teach`): a mix the critic
    rates well against the style's targets moved by the prompt's words, so that the writer
    learns mixing and the prompt's descriptors ("heavy 808", "bright", "wide") from it. Should
    the teacher fail on a song (it never has on generated stems), a random script of the
    writer language stands in, as the whole corpus used before the teacher existed.
    """
    stems = draw_stems(draw, duration, sample_rate)
    try:
        return stems, *_taught(draw, stems, sample_rate)
    except ProducerError as err:
        log.warning("teacher failed on '%s' (%s): a random script instead", draw.prompt, err)
    return stems, *_random_mix(draw, stems, rng, sample_rate)


def _taught(
    draw: SongDraw, stems: dict[str, np.ndarray], sample_rate: int
) -> tuple[str, np.ndarray]:
    """The teacher's script for the song and its master (as the renderer masters it)."""
    targets, _ = apply_descriptors(style_targets(draw.style), draw.prompt)
    script = teach(stems, sample_rate, targets, seed=draw.seed).script
    try:
        mix = render(script, stems, sample_rate, target_lufs=TARGET_LUFS)
    except RenderError as err:
        raise ProducerError(f"the teacher's script does not render: {err}") from err
    return script, mix


def _random_mix(
    draw: SongDraw, stems: dict[str, np.ndarray], rng: np.random.Generator, sample_rate: int
) -> tuple[str, np.ndarray]:
    """A random writer-language script that renders to a usable master, and the master."""
    problem = "silent"
    for _ in range(_SCRIPT_TRIES):
        script = random_script(list(draw.roles), rng, sample_rate)
        try:
            mix = render(script, stems, sample_rate, target_lufs=TARGET_LUFS)
        except RenderError as err:  # e.g. a runaway filter: draw another script
            problem = str(err)
            continue
        if np.isfinite(integrated_loudness(mix, sample_rate)):
            return script, mix
    raise ProducerError(
        f"no usable mix from {_SCRIPT_TRIES} random scripts for '{draw.prompt}' (last: {problem})"
    )


def synthesize_song(
    song_dir: str | Path,
    draw: SongDraw,
    rng: np.random.Generator,
    *,
    duration: float = 4.0,
    sample_rate: int = 44100,
) -> Path:
    """Make one song and write its folder (all files appear together, or none)."""
    song_dir = Path(song_dir)
    name = song_dir.name
    stems, script, mix = _render_song(draw, rng, duration, sample_rate)
    meta = SongMeta(
        bpm=draw.bpm,
        key=draw.key,
        mode=draw.mode,
        style=draw.style,
        segments=[Segment(start=0.0, end=duration, label="loop")],
        prompt=draw.prompt,
        tags=list(draw.moods),
        roles=list(draw.roles),
    )
    # Build the folder beside its final place under a hidden name, then rename it in one
    # step, so a crash never leaves a half-written song that scan_songs would pick up.
    tmp = song_dir.parent / f".{name}.{uuid.uuid4().hex}.tmp"
    try:
        for role, audio in stems.items():
            save_audio(tmp / "stems" / f"{role}.wav", audio, sample_rate)
        save_audio(tmp / f"{name}.wav", mix, sample_rate)
        with atomic_path(tmp / f"{name}.dsp") as path:
            path.write_text(script, encoding="utf-8")
        save_meta(tmp / f"{name}.json", meta)
        if song_dir.exists():
            shutil.rmtree(song_dir)
        os.replace(tmp, song_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return song_dir


def _song(out: Path, i: int, seed: int, duration: float, sample_rate: int, phrasing: str) -> Path:
    """Song i of a corpus (top level, so worker processes can run it)."""
    rng = np.random.default_rng([seed, i])
    draw = draw_song(rng, STYLES[i % len(STYLES)], phrasing)  # type: ignore[arg-type]
    song_dir = out / f"artist_{i // _SONGS_PER_ARTIST:03d}" / f"song_{i:05d}"
    return synthesize_song(song_dir, draw, rng, duration=duration, sample_rate=sample_rate)


def process_pool_context(renders: bool = True) -> multiprocessing.context.BaseContext:
    """The multiprocessing context for worker pools: fork where it is safe, else spawn.

    fork starts workers at once and works from any script. It is used on Linux when the
    workers do not render (`renders=False`: the dataset's numpy work), or while this process
    has not used DawDreamer yet: a child forked after JUCE's message thread started cannot
    build graphs. Otherwise spawn, which needs the usual `if __name__ == "__main__":` guard
    in a calling script and pays the imports again in every worker.
    """
    fork = sys.platform.startswith("linux") and (not renders or juce._THREAD is None)
    return multiprocessing.get_context("fork" if fork else "spawn")


def default_workers(n_songs: int) -> int:
    """Processes for a corpus: one for a few songs, else one per core (at most 8)."""
    return 1 if n_songs < 8 else max(1, min(8, os.cpu_count() or 1))


def synthesize_corpus(
    out_dir: str | Path,
    n_songs: int,
    *,
    seed: int = 0,
    duration: float = 4.0,
    sample_rate: int = 44100,
    phrasing: Phrasing = "train",
    progress: bool = True,
    workers: int | None = None,
) -> list[Path]:
    """Write `n_songs` synthetic songs under `out_dir`; returns their folders, in order.

    Styles take turns (song i has STYLES[i % 5]), so every style is equally represented.
    Song i is `<out>/artist_<i // 50>/song_<i>` and depends only on (seed, i, duration,
    sample_rate, phrasing): the same call writes the same files, whatever `workers` is.

    `workers` processes make songs in parallel (None: `default_workers(n_songs)`). Most of
    a song's time is the mixing teacher's search and libfaust compiling its programs, which
    run on one thread per process, so processes are what scale it.
    """
    from tqdm.auto import tqdm

    if n_songs < 0:
        raise ValueError(f"n_songs must be >= 0, got {n_songs}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    workers = default_workers(n_songs) if workers is None else max(1, int(workers))
    args = [(out, i, seed, duration, sample_rate, phrasing) for i in range(n_songs)]
    bar = tqdm(total=n_songs, desc="synthesizing songs", unit="song", disable=not progress)
    paths: list[Path] = []
    with bar:
        if workers == 1:
            for a in args:
                paths.append(_song(*a))
                bar.update()
            return paths
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=process_pool_context()) as pool:
            futures = [pool.submit(_song, *a) for a in args]
            for future in futures:
                paths.append(future.result())
                bar.update()
    return paths
