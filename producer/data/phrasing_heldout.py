"""The "heldout" phrasing set: sentence shapes, openers, nouns, slang and framings that never
occur in the "train" set (`phrasing_train`), for measuring how the planner generalises.
"""

from __future__ import annotations

from producer.data.prompt_vocab import Bank, Choices, Parts, a_or_an, noun_phrase

__all__ = ["HELDOUT"]


def _h_project(p: Parts, r: Choices) -> str:
    # "For my next project I'm after a drill record with a dark feel, 140 bpm, no melody."
    head = f"For {r.pick(('my next project', 'an upcoming EP', 'a short film', 'the intro'))}"
    body = f"I'm after {a_or_an(noun_phrase(p.tempo_adj, p.style, p.noun))}"
    if p.mood:
        body += f" with {a_or_an(p.mood)} {r.pick(('feel', 'atmosphere', 'character'))}"
    tail = "; ".join(p.mods(r))
    return f"{head} {body}" + (f"; {tail}" if tail else "") + "."


def _h_picture(p: Parts, r: Choices) -> str:
    # "Picture this: a moody boom bap composition, rooted in D minor — strictly no drums."
    core = a_or_an(noun_phrase(p.tempo_adj, p.mood, p.style, p.noun))
    tail = " — ".join(p.mods(r))
    slang = f" {p.slang[0].upper() + p.slang[1:]}." if p.slang else ""
    return f"Picture this: {core}" + (f" — {tail}" if tail else "") + "." + slang


def _h_vein(p: Parts, r: Choices) -> str:
    # "Could you put together a piece in a lo-fi vein? The mood should be dreamy; tempo 80."
    core = a_or_an(noun_phrase(p.tempo_adj, p.noun))
    style = p.style or "hip hop"
    ask = r.pick(("Could you put together", "Would you mind sketching", "Might you assemble"))
    text = f"{ask} {core} in {a_or_an(style)} {r.pick(('vein', 'spirit', 'tradition'))}?"
    if p.mood:
        text += f" The mood should be {p.mood}."
    tail = "; ".join(p.mods(r))
    return text + (f" Details: {tail}." if tail else "")


def _h_artist(p: Parts, r: Choices) -> str:
    # "My artist wants g-funk — sunny, 95 beats per minute, without the chords."
    who = r.pick(
        ("My artist wants", "The client asked for", "Our rapper is requesting", "The label needs")
    )
    items = ([p.mood] if p.mood else []) + ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    return f"{who} {p.style or 'hip hop'}" + (f" — {', '.join(items)}" if items else "") + "."


def _h_sounds(p: Parts, r: Choices) -> str:
    # "Compose a drill composition that sounds menacing, set in F# minor, absolutely no bass."
    core = a_or_an(noun_phrase(p.tempo_adj, p.style, p.noun))
    mood = f" that sounds {p.mood}" if p.mood else ""
    tail = ", ".join(p.mods(r))
    return (
        f"{r.pick(('Compose', 'Write', 'Arrange', 'Score'))} {core}{mood}"
        + (f", {tail}" if tail else "")
        + "."
    )


def _h_flavoured(p: Parts, r: Choices) -> str:
    # "Ideally a piece with a sinister atmosphere, trap flavoured, tempo 150, though no 808s."
    mood = f" with {a_or_an(p.mood)} atmosphere" if p.mood else ""
    flavour = f", {p.style} {r.pick(('flavoured', 'influenced', 'inspired'))}" if p.style else ""
    items = ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    return (
        f"{r.pick(('Ideally a piece', 'Preferably a number', 'Perhaps a cut'))}{mood}{flavour}"
        + (f", {', '.join(items)}" if items else "")
        + "."
    )


def _h_write(p: Parts, r: Choices) -> str:
    # "Write me a backing track: drill, dark; 140 bpm; no melody."
    head = f"{r.pick(('Write me', 'Prepare', 'Deliver'))} {a_or_an(p.noun)}: {p.style or 'hip hop'}"
    items = ([p.mood] if p.mood else []) + ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    return head + (f"; {'; '.join(items)}" if items else "") + "."


def _h_video(p: Parts, r: Choices) -> str:
    # "We're shooting a video tonight and need a gloomy drill number in C minor."
    scene = r.pick(
        (
            "We're shooting a video tonight",
            "There's a showcase on Friday",
            "I have a session tomorrow",
        )
    )
    core = a_or_an(noun_phrase(p.tempo_adj, p.mood, p.style, p.noun))
    tail = ", ".join(p.mods(r))
    want = r.pick(("we require", "I'd love", "I'm hoping for"))
    return f"{scene} and {want} {core}" + (f", {tail}" if tail else "") + "."


def _h_theme(p: Parts, r: Choices) -> str:
    # "Soundtrack for a late-night drive: lo-fi, nostalgic, 78 BPM, no drums."
    what = r.pick(
        ("Soundtrack for a late-night drive", "Theme for a rooftop scene", "Score for a montage")
    )
    items = ([p.style] if p.style else []) + ([p.mood] if p.mood else [])
    items += ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    return f"{what}: {', '.join(items) or p.noun}."


def _h_hear(p: Parts, r: Choices) -> str:
    # "Let's hear a dreamy lo-fi piece, 75 beats per minute, and strictly no chords, please."
    core = a_or_an(noun_phrase(p.tempo_adj, p.mood, p.style, p.noun))
    tail = ", ".join(p.mods(r))
    slang = f" — {p.slang}" if p.slang else ""
    return (
        f"{r.pick(('Let us hear', 'How about', 'I would like to hear'))} {core}"
        + (f", {tail}" if tail else "")
        + slang
        + "."
    )


HELDOUT = Bank(
    nouns=(
        "backing track", "composition", "piece", "number", "cut", "production", "record", "beat",
    ),
    slang=(
        "a certified heater", "should bump in the car", "make the speakers rattle",
        "a total head-nodder", "straight gas", "let it ride",
    ),
    tempo_adj=("{n} beats per minute", "{n} BPM", "{n} bpm"),
    tempo_tail=("at {n}BPM", "{n} beats per minute", "tempo {n}", "running at {n} bpm"),
    key_minor=("in {k} minor", "rooted in {k} minor", "{k} minor key", "set in {k} minor"),
    key_major=("in {k} major", "rooted in {k} major", "{k} major key", "set in {k} major"),
    key_only=("rooted in {k}", "set in {k}"),
    mode_only={"minor": ("minor key",), "major": ("major key",)},
    plus={
        "bass": (
            "a thick low end", "gliding 808s", "a rumbling bassline", "a round sub bass",
            "a walking bass line", "plenty of low end", "808s", "sub", "a bass line", "bass",
        ),
        "drums": (
            "snappy snares", "tight drums", "a shuffling drum loop", "a chopped breakbeat",
            "live percussion", "brushed snares", "booming kicks", "hi-hats",
            "claps", "drums", "percussion",
        ),
        "harmony": (
            "dusty piano chords", "airy pads", "a rich bed of chords", "swelling strings",
            "a gospel organ", "electric piano", "sustained pads", "rhodes", "keys", "piano",
        ),
        "melody": (
            "a memorable hook melody", "a plucked lead line", "muted horns", "glassy bells",
            "a breathy flute", "a looping riff", "a synth lead", "a whistle", "a pluck", "melody",
        ),
    },
    plus_frames=(
        "featuring {x}", "featuring {x}", "built around {x}", "complete with {x}",
        "showcasing {x}",
    ),
    heavy_frames=("decidedly {x}", "{x} throughout"),
    only_frames=(
        "using only {x}", "with just {x}", "built from nothing but {x}",
        "pared down to only {x}", "{x} and nothing else", "{x} only, if you would",
    ),
    excl_frames=(
        "strictly {x}", "absolutely {x}", "though {x}", "{x} for this one", "and {x}, please",
        "{x} this time",
    ),
    templates=(
        _h_project, _h_picture, _h_vein, _h_artist, _h_sounds, _h_flavoured, _h_write,
        _h_video, _h_theme, _h_hear,
    ),
)  # fmt: skip
