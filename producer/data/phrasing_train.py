"""The "train" phrasing set: the sentence shapes, openers, nouns and slang the model learns
prompts from (`producer.data.prompts`). The "heldout" set (`phrasing_heldout`) shares none of
them, so a planner measured on it is measured on phrasings it never saw.
"""

from __future__ import annotations

from producer.data.prompt_vocab import Bank, Choices, Parts, a_or_an, noun_phrase

__all__ = ["TRAIN"]

_TRAIN_OPENERS = (
    "Make", "Create", "Produce", "Cook up", "Give me", "I need", "Can you make", "Build",
    "Generate", "Whip up", "make me", "gimme", "pls make", "Need", "i want", "Lay down", "Craft",
    "yo make", "Drop", "Can I get", "Hook me up with", "Bring me", "I'm looking for",
)  # fmt: skip


def _t_classic(p: Parts, r: Choices) -> str:
    # "Make a dark trap beat at 140 bpm in F minor, no drums. that slaps"
    core = noun_phrase(p.tempo_adj, p.mood, p.style, p.noun)
    tail = ", ".join(p.mods(r))
    sep = r.pick((" ", ", ")) if tail and not p.tempo_adj else " "
    return f"{r.pick(_TRAIN_OPENERS)} {a_or_an(core)}{sep}{tail}{_slang(p, r, ', ')}"


def _t_tags(p: Parts, r: Choices) -> str:
    # "trap beat, dark, 140bpm, F minor, no melody"
    tags = [noun_phrase(p.style, p.noun)] + ([p.mood] if p.mood else []) + p.mods(r)
    if p.tempo_adj:
        tags.insert(1, p.tempo_adj)
    return r.pick((", ", " , ", " | ", ", ")).join(tags)


def _t_minimal(p: Parts, r: Choices) -> str:
    # "dark trap 140 bpm no drums"
    return " ".join(
        x for x in (p.mood, p.style, r.pick(("", p.noun)), p.tempo_adj, *p.mods(r)) if x
    )


def _t_feels(p: Parts, r: Choices) -> str:
    # "i want a trap beat that feels dark. Tempo 140. Key: F minor. No drums."
    want = r.pick(("i want", "I want", "I need", "Looking for", "Want"))
    head = f"{want} {a_or_an(noun_phrase(p.style, p.noun))}"
    if p.mood:
        head += f" that {r.pick(('feels', 'is', 'comes off', 'goes'))} {p.mood}"
    rest = [m[0].upper() + m[1:] for m in p.mods(r)]
    if p.tempo_adj:
        rest.insert(0, f"Around {p.tempo_adj}")
    return ". ".join([head, *rest]) + r.pick((".", "", "!")) + _slang(p, r, " ")


def _t_style_of(p: Parts, r: Choices) -> str:
    # "give me a beat in the style of drill, dark vibes, 140 bpm"
    vibe = f", {p.mood} {r.pick(('vibes', 'vibe', 'energy'))}" if p.mood else ""
    style = p.style or "hip hop"
    tail = ", ".join(p.mods(r))
    return (
        f"{r.pick(_TRAIN_OPENERS)} {a_or_an(noun_phrase(p.tempo_adj, p.noun))} "
        f"{r.pick(('in the style of', 'kinda like', 'on some', 'in a'))} {style}"
        f"{' style' if r.chance(0.3) else ''}{vibe}{', ' + tail if tail else ''}{_slang(p, r, ' ')}"
    )


def _t_colon(p: Parts, r: Choices) -> str:
    # "drill: dark, menacing, 140 bpm, no melody"
    items = ([p.mood] if p.mood else []) + ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    style = p.style or "beat"
    return f"{style}{r.pick((':', ' -', ' —', ' ->'))} {', '.join(items) or p.noun}"


def _t_mixtape(p: Parts, r: Choices) -> str:
    # "need a dark beat for my mixtape, trap type, 140bpm, no chords"
    core = noun_phrase(p.tempo_adj, p.mood, p.noun)
    style = f", {p.style} {r.pick(('type', 'style', 'vibes', 'flavor'))}" if p.style else ""
    where = r.pick(("for my mixtape", "for my album", "for my next single", "for a freestyle"))
    tail = ", ".join(p.mods(r))
    return f"{r.pick(('need', 'Need', 'I need', 'gotta have'))} {a_or_an(core)} {where}{style}" + (
        f", {tail}" if tail else ""
    )


def _t_energy(p: Parts, r: Choices) -> str:
    # "a trap beat with dark energy, at 140 bpm, with heavy 808s, no melody"
    head = a_or_an(noun_phrase(p.tempo_adj, p.style, p.noun))
    if p.mood:
        head += f" with {p.mood} {r.pick(('energy', 'vibes', 'mood'))}"
    tail = ", ".join(p.mods(r))
    return head + (f", {tail}" if tail else "") + _slang(p, r, ". ")


def _t_slangy(p: Parts, r: Choices) -> str:
    # "yo can u cook up a dark trap beat no drums that goes crazy"
    opener = r.pick(
        ("yo can u cook up", "ayy make", "bro make", "yo gimme", "can u do", "lemme get")
    )
    core = noun_phrase(p.tempo_adj, p.mood, p.style, p.noun)
    tail = " ".join(p.mods(r))
    slang = p.slang or r.pick(_TRAIN_SLANG)
    return f"{opener} {a_or_an(core)} {tail} {r.pick(('', '', ',', ' -'))} {slang}"


def _t_sentences(p: Parts, r: Choices) -> str:
    # "Trap beat please. Make it dark. 140 bpm. In F minor. No drums."
    first = f"{noun_phrase(p.style, p.noun)} {r.pick(('please', 'pls', 'plz', ''))}".strip()
    parts = [first[0].upper() + first[1:]]
    if p.mood:
        parts.append(f"{r.pick(('Make it', 'Keep it', 'Should be', 'Go'))} {p.mood}")
    if p.tempo_adj:
        parts.append(p.tempo_adj)
    parts += p.mods(r)
    return ". ".join(parts) + r.pick((".", "", "!"))


def _t_tempo_first(p: Parts, r: Choices) -> str:
    # "140 bpm dark trap beat in F minor with heavy 808s"
    core = noun_phrase(p.tempo_adj, p.mood, p.style, p.noun)
    return f"{core} {' '.join(p.mods(r))}{_slang(p, r, ', ')}"


def _t_no_first(p: Parts, r: Choices) -> str:
    # "No drums, give me a dark lo-fi beat at 80 bpm"
    mods = p.mods(r)
    excl = [m for m in mods if m in p.excl]
    rest = [m for m in mods if m not in p.excl]
    core = a_or_an(noun_phrase(p.tempo_adj, p.mood, p.style, p.noun))
    head = ", ".join(excl)
    # Not "just" or "only" after the exclusions: those words restrict to the roles named.
    lead = (
        f"{head[0].upper() + head[1:]}, {r.pick(('give me', 'make', 'make it', 'I want'))} "
        if head
        else ""
    )
    return f"{lead}{core}{', ' if rest else ''}{', '.join(rest)}"


def _t_ish(p: Parts, r: Choices) -> str:
    # "something dark and trap-ish, tempo 140, no bass"
    mood = f"{p.mood} and " if p.mood else ""
    style = (
        f"{p.style}{r.pick(('-ish', ' ish', '-y', ' type', '-leaning'))}" if p.style else "hip hop"
    )
    tail = ", ".join(([p.tempo_adj] if p.tempo_adj else []) + p.mods(r))
    return f"{r.pick(('something', 'Something', 'smth', 'gimme something'))} {mood}{style}" + (
        f", {tail}" if tail else ""
    )


def _t_question(p: Parts, r: Choices) -> str:
    # "can you make me a dark trap beat? 140 bpm, no drums"
    core = a_or_an(noun_phrase(p.tempo_adj, p.mood, p.style, p.noun))
    tail = ", ".join(p.mods(r))
    ask = r.pick(("can you make me", "could u make", "can you produce", "can we get"))
    return f"{ask} {core}?" + (f" {tail}" if tail else "")


def _slang(p: Parts, r: Choices, sep: str) -> str:
    return f"{sep}{p.slang}" if p.slang else ""


_TRAIN_SLANG = (
    "that slaps", "it has to slap", "make it go crazy", "hard-hitting", "something that bangs",
    "pure fire", "make it knock", "bangin", "for the club", "gotta hit hard", "🔥🔥", "go crazy",
    "no cap", "make it hit", "straight heat", "it needs to slap",
)  # fmt: skip

TRAIN = Bank(
    nouns=(
        "beat", "beat", "beat", "track", "instrumental", "type beat", "joint", "banger", "loop",
        "groove", "tune", "song", "instrumental beat", "riddim", "vibe",
    ),
    slang=_TRAIN_SLANG,
    tempo_adj=("{n} bpm", "{n}bpm", "{n} BPM", "{n}BPM"),
    tempo_tail=("at {n} bpm", "{n} bpm", "tempo {n}", "around {n} bpm", "at {n}bpm", "{n} BPM"),
    key_minor=(
        "in {k} minor", "{k} minor", "{k}m", "key of {k}m", "{k} min", "in the key of {k} minor",
        "in {k}m", "in {k} min",
    ),
    key_major=(
        "in {k} major", "{k} major", "{k} maj", "key of {k} major", "in the key of {k} major",
        "in {k} maj",
    ),
    key_only=("in {k}", "key of {k}", "in the key of {k}"),
    mode_only={"minor": ("in minor", "minor key"), "major": ("in major", "major key")},
    plus={
        "bass": (
            "heavy 808s", "booming 808 bass", "sliding 808s", "distorted 808s", "a big 808",
            "a fat bassline", "a deep sub bass", "a rumbling sub", "thick low end", "some sub bass",
            "a funky bass line", "808s", "808s", "bass", "a bassline", "low end", "sub bass",
        ),
        "drums": (
            "hard kicks and crispy hats", "crispy hi-hats", "rolling hi-hats", "knocking drums",
            "punchy drums", "snappy snares", "some dusty drums", "a dusty breakbeat", "trap hats",
            "punchy kicks", "a drum loop", "some percussion", "swung hats", "drums",
            "drums", "hats", "kicks", "claps", "a breakbeat",
        ),
        "harmony": (
            "lush chords", "piano chords", "rhodes keys", "soft pads", "some rhodes", "dusty keys",
            "lush strings", "an organ", "a piano loop", "keys", "keys", "piano", "chords", "pads",
            "strings", "organ", "rhodes",
        ),
        "melody": (
            "a catchy melody", "a simple lead", "a flute melody", "a bell melody", "a synth lead",
            "a catchy riff", "some horns", "a whistle", "a pluck", "a bell lead", "melody",
            "a lead", "bells", "flute", "horns", "a riff",
        ),
    },
    plus_frames=(
        "with {x}", "with {x}", "with {x}", "{x}", "{x}", "add {x}", "{x} on it",
        "throw in {x}", "got to have {x}",
    ),
    heavy_frames=("{x}", "make it {x}", "real {x}"),
    only_frames=(
        "just {x}", "just {x}", "only {x}", "only {x}", "nothing but {x}", "{x} only",
        "strip it down to {x}", "just {x}, nothing else", "keep it to just {x}",
    ),
    excl_frames=("{x}", "{x}", "{x}", "but {x}", "{x} please", "{x} pls"),
    templates=(
        _t_classic, _t_classic, _t_tags, _t_minimal, _t_feels, _t_style_of, _t_colon,
        _t_mixtape, _t_energy, _t_slangy, _t_sentences, _t_tempo_first, _t_no_first, _t_ish,
        _t_question,
    ),
)  # fmt: skip
