"""The quality head's examples, labelled by the mix critic: how far each mix is from a good one.

The quality head used to learn the distance from a song's own mix, which in the synthetic
corpus was a random script: it learned to like random mixes (benchmarks/RESULTS.md, "Mix
quality", before: Spearman -0.25 against the critic). Here the teacher is the critic
(`producer.mixing.critic`), an engineer's checks with their limits, so a score means "how far
from a good mix":

- the song's own mix (its script over its stems: the mixing teacher's script in the synthetic
  corpus, a fitted script for real songs with stems), scored by the critic;
- copies of that script with one engineer's mistake planted (`producer.mixing.faults`: the
  bass high-passed, a stem buried or shouting, a harsh or muddy boost, the bass off centre,
  reverb on the bass) at a random severity, scored by the critic;
- near misses: copies of that script with every fader, EQ gain and pan nudged at random (a
  few dB, a little to the side), scored by the critic. These sit where the writer's own
  candidates sit, close to a good mix with small faults of balance and tone; without them the
  head only saw good mixes and gross faults, and rated every candidate of the writer ~1.0
  while the critic gave them 0.45-0.9 (benchmarks/RESULTS.md, "Mix quality");
- the flat mix (every stem at unit gain, centred, unprocessed), scored by the critic: what a
  mix sounds like before anyone touched it, which the head otherwise never saw (it rated flat
  mixes 0.35 where the critic gave them 0.54);
- mixes by random scripts of the writer language over the same stems, scored by the critic;
- master-level faults the critic does not model (clipping, too quiet or loud, crushed), from
  `data.degrade`, scored down from the own mix's critic score as before.

Every mix is rendered with Faust and mastered to the targets' loudness; the critic judges it
against the style's targets moved by the prompt's words (`mixing.reference`,
`mixing.descriptors`). Each example carries the stems' balance the critic measured
(`mixing.stem_balance`), which the quality head reads beside the master's features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from producer.data.degrade import degrade, degraded_score
from producer.errors import ProducerError
from producer.faust.writer import EQ_GAIN, GAIN, PAN, PANNER, random_script, script_text
from producer.mixing.critic import critique_script
from producer.mixing.descriptors import apply_descriptors
from producer.mixing.faults import FAULTS, applicable, plant
from producer.mixing.reference import style_targets
from producer.mixing.stem_balance import stem_balance_vector
from producer.mixing.strips import Mix, parse_mix

__all__ = ["MASTER_FAULTS", "critic_quality_examples", "flat_script", "nudged_script"]

#: Master faults from `data.degrade` that the critic does not judge (loudness, clipping).
MASTER_FAULTS = ("clipping", "too_quiet", "too_loud", "overcompression")
_MIN_SEVERITY = 0.3  # milder planted faults are within an engineer's taste
# A near miss: each fader moves 1-6 dB either way, each EQ gain the writer set by up to ±4.5 dB,
# each pan by up to 0.25 (the writer's own candidates differ from the teacher's this much).
_NUDGE_FADER_DB = (1.0, 6.0)
_NUDGE_EQ_DB = 4.5
_NUDGE_PAN = 0.25


def critic_quality_examples(
    stems: Mapping[str, np.ndarray],
    script: str,
    sample_rate: int,
    rng: np.random.Generator,
    *,
    style: str | None = None,
    prompt: str = "",
    n_faults: int = 2,
    n_nudged: int = 1,
    n_flat: int = 0,
    n_random: int = 1,
    n_master: int = 1,
) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """(master, score, stem balance) triples: the own mix, `n_faults` planted faults,
    `n_nudged` near misses (when the script is in the writer language), the flat mix (`n_flat`
    1), `n_random` random scripts and `n_master` master faults, in that order (see the module
    docstring).

    The stem balance is `stem_balance_vector` of the critic's measurement (a master fault keeps
    its own mix's). Scripts that fail to render (a random script's runaway filter) are skipped.
    Raises `ProducerError` when the own script cannot be rendered and critiqued.
    """
    targets, _ = apply_descriptors(style_targets(style), prompt)
    roles = list(stems)
    verdict, rendered = critique_script(script, stems, sample_rate, targets)
    balance = stem_balance_vector(verdict.balance_lu)
    examples = [(rendered.master, float(verdict.score), balance)]

    kinds = [k for k in FAULTS if applicable(k, roles)]
    order = [kinds[i] for i in rng.permutation(len(kinds))] if kinds else []
    for k in range(min(n_faults, len(order))):
        severity = float(rng.uniform(_MIN_SEVERITY, 1.0))
        faulty = plant(script, roles, order[k], severity, pick=int(rng.integers(8)))
        _add(examples, faulty, stems, sample_rate, targets)
    for _ in range(n_nudged):
        try:
            nudged = nudged_script(script, roles, sample_rate, rng)
        except ProducerError:
            break  # not a writer-language script (a real song's own mix): no near misses
        _add(examples, nudged, stems, sample_rate, targets)
    if n_flat:
        _add(examples, flat_script(roles), stems, sample_rate, targets)
    for _ in range(n_random):
        _add(examples, random_script(roles, rng, sample_rate), stems, sample_rate, targets)
    for _ in range(n_master):
        kind = MASTER_FAULTS[int(rng.integers(len(MASTER_FAULTS)))]
        severity = float(rng.uniform(_MIN_SEVERITY, 1.0))
        audio = degrade(rendered.master, None, sample_rate, kind, severity, rng)
        examples.append((audio, degraded_score(float(verdict.score), severity), balance))
    return examples


def flat_script(roles: Sequence[str]) -> str:
    """Every stem at unit gain, centred, unprocessed; the master bus untouched."""
    return script_text({r: PANNER.text(0.5) for r in roles}, "_, _")


def nudged_script(
    script: str, roles: Sequence[str], sample_rate: int, rng: np.random.Generator
) -> str:
    """`script` (writer language) with every fader, set EQ gain and pan nudged at random, on
    the writer's grids. Raises `ProducerError` for a script outside the writer language."""
    sr = int(sample_rate)
    mix = parse_mix(script, roles, sr)
    strips = []
    for strip in mix.strips:
        lo, hi = _NUDGE_FADER_DB
        fader_db = float(rng.uniform(lo, hi)) * (1.0 if rng.random() < 0.5 else -1.0)
        changes: dict = {
            "gain": GAIN.snap(strip.gain * 10.0 ** (fader_db / 20.0), sr),
            "pan": PAN.snap(strip.pan + float(rng.uniform(-_NUDGE_PAN, _NUDGE_PAN)), sr),
        }
        for name in ("low_shelf", "peak", "high_shelf"):
            value = getattr(strip, name)
            if value[0]:
                moved = EQ_GAIN.snap(value[0] + float(rng.uniform(-_NUDGE_EQ_DB, _NUDGE_EQ_DB)), sr)
                changes[name] = (moved, *value[1:])
        strips.append(replace(strip, **changes))
    return Mix(tuple(strips), mix.master).script(roles, sr)


def _add(examples, script, stems, sample_rate, targets) -> None:
    try:
        verdict, rendered = critique_script(script, stems, sample_rate, targets)
    except ProducerError:
        return
    examples.append(
        (rendered.master, float(verdict.score), stem_balance_vector(verdict.balance_lu))
    )
