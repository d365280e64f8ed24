"""Mix words for training prompts: "wide stereo image", "punchy kicks", "keys tucked back".

The mixing teacher and the quality labels read a prompt's mix descriptors
(`producer.mixing.descriptors`): "bright" raises the style's top end, "keys up front" raises
the keys' range. A model learns what those words do only from prompts that use them, and
people write them all the time ("warm 808", "airy pads", "soft kick"), so some training
prompts carry one or two of them. Each phrase here is found by the descriptor finder as the
descriptor it is filed under (`tests/data/test_mix_phrases.py`), so the teacher's mix of the
song follows the words.

A role's phrase is only used for a role the production has, as a described role would be:
a mix word about a role never says the role is absent. Only the "train" phrasing set uses
these; the held-out set and the benchmarks' hand-written prompts are written apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from producer.data.prompt_vocab import Choices

__all__ = ["MIX_PHRASES", "MIX_ROLE_WORDS", "ROLE_MIX_PHRASES", "mix_phrases"]

#: Phrases about the whole mix, by descriptor name.
MIX_PHRASES: dict[str, tuple[str, ...]] = {
    "bright": ("bright mix", "keep the mix bright", "more air on top", "sparkly highs"),
    "dark_tone": ("dark-sounding mix", "muffled mix", "rolled-off highs", "dull top end"),
    "warm": ("warm mix", "warm tone", "keep the mix warm"),
    "wide": ("wide stereo image", "spacious mix", "keep it wide", "wide mix"),
    "narrow": ("mono mix", "keep it in mono", "centered mix", "narrow mix"),
    "loud": ("mix it loud", "slammed master", "in your face", "brickwalled master"),
    "dynamic": ("keep it dynamic", "room to breathe", "uncompressed mix", "dynamic mix"),
    "raw": ("raw mix", "grimy sound", "crunchy", "some distortion"),
    "clean": ("clean mix", "polished mix", "crystal clear", "pristine sound"),
    "dusty": ("dusty sound", "tape saturation", "vintage sound", "dusty feel"),
}

#: Phrases about one role, by descriptor name then role; "{w}" is a word for the role.
ROLE_MIX_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "heavy_bass": {"bass": ("booming 808s", "more bass", "deep sub", "heavy on the 808s")},
    "light_bass": {"bass": ("light 808s", "subtle bass", "less bass", "808 tucked under")},
    "punchy_drums": {"drums": ("punchy kicks", "knocking drums", "drums that knock")},
    "soft_drums": {"drums": ("soft drums", "gentle percussion", "soft kick")},
    "crisp_hats": {"drums": ("crisp hats", "hats that cut", "crispy hi-hats")},
    "soft_hats": {"drums": ("soft hats", "dull hi hats", "hats tucked back")},
    "forward": {
        "melody": ("{w} up front", "{w} forward", "loud {w}"),
        "harmony": ("{w} up front", "{w} forward", "loud {w}"),
    },
    "back": {
        "melody": ("{w} tucked back", "{w} buried", "{w} back in the mix"),
        "harmony": ("{w} tucked back", "{w} buried", "{w} back in the mix"),
    },
}

#: The role words "{w}" stands for: those the descriptor finder reads as the role.
MIX_ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "melody": ("melody", "lead", "synth lead"),
    "harmony": ("keys", "chords", "pads", "piano", "rhodes"),
}

# Chance that a training prompt carries mix words, and that it carries two (on different
# descriptors) rather than one. High enough that every descriptor is seen often in a corpus of
# a few hundred songs; low enough that most prompts still look like the rest of the set.
P_MIX = 0.35
P_TWO = 0.25
# Of the mix words, the share about a role rather than the whole mix. Role phrases name the
# role, so they also make its words mean "present" more often (see prompts._P_DESCRIBE).
_P_ROLE = 0.35


def _one(present: Sequence[str], r: Choices, skip: set[str]) -> tuple[str, str] | None:
    """(descriptor name, phrase) for one mix word not about a descriptor in `skip`."""
    roles = {
        name: [x for x in by_role if x in present]
        for name, by_role in ROLE_MIX_PHRASES.items()
        if name not in skip
    }
    roles = {name: xs for name, xs in roles.items() if xs}
    if roles and r.chance(_P_ROLE):
        name = r.pick(sorted(roles))
        role = r.pick(roles[name])
        phrase = r.pick(ROLE_MIX_PHRASES[name][role])
        return name, phrase.format(w=r.pick(MIX_ROLE_WORDS[role])) if "{w}" in phrase else phrase
    names = sorted(set(MIX_PHRASES) - skip)
    if not names:
        return None
    name = r.pick(names)
    return name, r.pick(MIX_PHRASES[name])


def mix_phrases(present: Sequence[str], r: Choices) -> list[str]:
    """None, one or two mix phrases for a training prompt of a production with `present`."""
    if not r.chance(P_MIX):
        return []
    out: list[str] = []
    used: set[str] = set()
    for _ in range(2 if r.chance(P_TWO) else 1):
        found = _one(present, r, used)
        if found is None:
            break
        name, phrase = found
        # A second word never sits on the first one's axis ("bright" with "muffled").
        used |= {name, *_SAME_AXIS.get(name, ())}
        out.append(phrase)
    return out


# Descriptors on one axis: two of them in one prompt would cancel each other.
_AXES = (
    ("bright", "dark_tone", "warm"),
    ("wide", "narrow"),
    ("loud", "dynamic"),
    ("raw", "clean", "dusty"),
    ("heavy_bass", "light_bass"),
    ("punchy_drums", "soft_drums"),
    ("crisp_hats", "soft_hats"),
    ("forward", "back"),
)
_SAME_AXIS = {name: axis for axis in _AXES for name in axis}
