"""Style, tempo words and mood in a prompt: what producers imply without naming it.

- **Style.** A named style ("trap", "boom bap", "chillhop", "g-funk") decides when exactly one
  is named and not negated ("not trap"). Otherwise scenes, eras, gear, textures and a few
  well-known producers and artists vote (`STYLE_CUES`): "ATL" and "Metro Boomin" for trap,
  "London" and "Pop Smoke" for drill, "golden era", "MPC" and "DJ Premier" for boom-bap,
  "bedroom", "study session" and "cassette" for lo-fi, "California", "talkbox" and "Dr. Dre" for
  g-funk. A strong cue counts 2, a weak one ("90s", "dusty", "vinyl", "rainy") 1; the style
  with the most votes wins, and a tie decides nothing (the model does).
- **Tempo words** place the tempo inside the style's range: slow / half-time / laid-back low,
  mid-tempo / head-nod in the middle, fast / uptempo / double-time high (`TEMPO_WORDS`).
- **Mood → mode.** Moods that lean minor (dark, melancholic, eerie…) or major (sunny, uplifting,
  joyful…) give the mode when every leaning mood agrees and none is negated ("not too dark").

Each reading returns `Evidence` naming the words, for `producer plan --explain`.
"""

from __future__ import annotations

import re

from producer.models.prompt_words import Evidence, fuzzy_lookup, tokenize

__all__ = [
    "MOOD_MODES",
    "STYLE_CUES",
    "TEMPO_POSITIONS",
    "TEMPO_WORDS",
    "parse_mood_mode",
    "parse_style",
    "parse_tempo_word",
]

# ------------------------------------------------------------------------------------ style

_STYLE_NAMES: dict[str, re.Pattern] = {
    "trap": re.compile(r"\btrap\b", re.I),
    "drill": re.compile(r"\b(?:uk|ny|nyc|bk|chi)?drill\b", re.I),
    "boom-bap": re.compile(r"\bboom[\s-]?bap(?:py)?\b", re.I),
    "lo-fi": re.compile(
        r"\blo[\s-]?fi\b|\blow[\s-]fi\b|\bchill[\s-]?hop\b|\bjazz[\s-]?hop\b", re.I
    ),
    "g-funk": re.compile(r"\bg[\s-]?funk\b|\bwest[\s-]coast\b", re.I),
}
_STYLE_NEGATION = re.compile(
    r"(?:\b(?:not|no|non|without|except|minus)|\banything\s+but|\bbut\s+not|"
    r"\bnone\s+of\s+(?:that|the|this|your))[\s-]+"
    r"(?:(?:too|very|really|a|an|the|any|so)\s+)?$",
    re.I,
)
# Style names a typo can still reach ("tarp beat", "drlil").
_TYPO_NAMES = {"trap": "trap", "drill": "drill", "boombap": "boom-bap", "lofi": "lo-fi",
               "gfunk": "g-funk"}  # fmt: skip
_NOT_STYLE_TYPOS = frozenset({"part", "rapt", "dirll"})


def _cues(style: str, weight: int, *patterns: str) -> list[tuple[re.Pattern, str, int]]:
    return [(re.compile(p, re.I), style, weight) for p in patterns]


#: (pattern, style, weight): scenes, eras, gear, textures, producers and artists.
STYLE_CUES: list[tuple[re.Pattern, str, int]] = [
    *_cues("trap", 2, r"\batl\b", r"\batlanta\b", r"\bsouthern\b", r"\bdirty\s+south\b",
           r"\bmetro(?:\s+boomin)?\b", r"\bzaytoven\b", r"\bsouthside\b", r"\b808\s+mafia\b",
           r"\btravis\s+scott\b", r"\bmigos\b", r"\bquavo\b", r"\byoung\s+thug\b",
           r"\b21\s+savage\b", r"\blil\s+baby\b", r"\bgunna\b", r"\bwheezy\b",
           r"\bpierre\s+bourne\b", r"\bgucci(?:\s+mane)?\b", r"\bfuture\s+(?:type|vibes?|style)\b",
           r"\blex\s+luger\b", r"\bmike\s+will\b", r"\bmurda\s+beatz\b", r"\btm88\b",
           r"\bjeezy\b", r"\b2\s*chainz\b", r"\blil\s+uzi\b", r"\bplayboi\s+carti\b",
           r"\bcardo\b", r"\btrap\s+house\b", r"\bzone\s+(?:6|six)\b", r"\bdecatur\b",
           r"\bcollege\s+park\b", r"\bbankhead\b", r"\bsouthside\s+atl\b"),
    *_cues("trap", 1, r"\b(?:hi[\s-]?)?hat\s+rolls?\b", r"\brolling\s+(?:hi[\s-]?)?hats\b",
           r"\btriplet\s+(?:hats|flow)\b", r"\brage\b", r"\bplugg\b", r"\bhouston\b",
           r"\bmemphis\b", r"\bdrip\b", r"\bice(?:d)?\s+out\b"),
    *_cues("drill", 2, r"\buk\b", r"\blondon\b", r"\bchicago\b", r"\bchiraq\b",
           r"\bpop\s+smoke\b", r"\bchief\s+keef\b", r"\bheadie(?:\s+one)?\b", r"\bdigga\s+d\b",
           r"\bcentral\s+cee\b", r"\bfivio(?:\s+foreign)?\b", r"\broad\s+rap\b",
           r"\bbrixton\b", r"\bukd\b", r"\bkay\s+flock\b", r"\bsheff\s+g\b",
           r"\bsleepy\s+hallow\b", r"\bking\s+von\b", r"\bg\s+herbo\b", r"\bunknown\s+t\b",
           r"\bloski\b", r"\bm1\s*on\s*the\s*beat\b", r"\baxl\s+beats?\b", r"\b808\s*melo\b",
           r"\bthe\s+ends\b", r"\bopp\s+block\b"),
    *_cues("drill", 1, r"\bopps?\b", r"\bsliding\s+808s?\b", r"\b808\s+slides?\b",
           r"\bgrime\b", r"\b67\b(?!\s*(?:bpm|beats))", r"\bskippy\s+(?:hi[\s-]?)?hats\b"),
    *_cues("boom-bap", 2, r"\bgolden[\s-](?:era|age)\b", r"\bnyc?\b", r"\bnew\s+york\b",
           r"\beast[\s-]coast\b", r"\bqueens(?:bridge)?\b", r"\bharlem\b", r"\bcypher\b",
           r"\bmpc(?:\s*\d+)?\b", r"\bsp[\s-]?1200\b", r"\b(?:dj\s+)?premier\b", r"\bpremo\b",
           r"\bpete\s+rock\b", r"\bwu[\s-]tang\b", r"\brza\b", r"\bmobb\s+deep\b",
           r"\bgang\s*starr\b", r"\bnas\b", r"\billmatic\b", r"\bbiggie\b", r"\bbuckwild\b",
           r"\bcrate[\s-]dig(?:ging|ger)\b", r"\bgriselda\b", r"\bwestside\s+gunn\b",
           r"\bconway\b", r"\bbenny\s+the\s+butcher\b", r"\b(?:a\s+)?tribe\s+called\s+quest\b",
           r"\batcq\b", r"\bq-?tip\b", r"\bde\s+la\s+soul\b", r"\bsouls\s+of\s+mischief\b",
           r"\b93\s+til\s+infinity\b", r"\blarge\s+professor\b", r"\b9th\s+wonder\b",
           r"\bblack\s+star\b", r"\bmos\s+def\b", r"\bbig\s+l\b", r"\brakim\b", r"\bkrs[\s-]?one\b",
           r"\blord\s+finesse\b", r"\bdiamond\s+d\b", r"\bboot\s+camp\b", r"\bhavoc\b",
           r"\bjoey\s+bada\$?s?s?\b", r"\bboom\s+bap\s+era\b"),
    *_cues("boom-bap", 1, r"\b(?:19)?90'?s\b", r"'90s\b", r"'9\d\b", r"\b199\d\b",
           r"\bnineties\b", r"\bold[\s-]school\b", r"\bdusty\b", r"\bchopped\s+(?:soul|samples?)\b",
           r"\bsoul\s+samples?\b", r"\bbreakbeats?\b", r"\bhead[\s-]?nod(?:d?ing|der)?\b",
           r"\bjazz\s+samples?\b", r"\bdilla\b", r"\bmadlib\b", r"\balchemist\b",
           r"\bscratch(?:es|ing)?\b", r"\bstreet\s+corner\b", r"\bboom\s+bappy\b"),
    *_cues("lo-fi", 2, r"\bbedroom\b", r"\bstudy(?:ing)?\b", r"\bhomework\b", r"\bexams?\b",
           r"\bcassette\b", r"\bnujabes\b", r"\blo-?fi\s+girl\b", r"\bcoffee\s*shop\b",
           r"\bcaf[eé]\b", r"\bbeats\s+to\s+(?:relax|study|chill)\b", r"\bsleep(?:y|ing)?\b",
           r"\bdorm\b", r"\bjinsang\b", r"\btomppabeats\b", r"\bidealism\b", r"\bpotsu\b",
           r"\buyama\s+hiroto\b", r"\blo-?fi\s+streams?\b", r"\bstudy\s+beats?\b"),
    *_cues("lo-fi", 1, r"\btapes?\b", r"\bvinyl\b", r"\brain(?:y|ing)?\b", r"\bcosy\b",
           r"\bcozy\b", r"\bdreamy\b", r"\bhazy\b", r"\banime\b", r"\bwobbl(?:e|y)\b",
           r"\bwarbl(?:e|y)\b", r"\bchill(?:ed|ing)?\b", r"\brelax(?:ing|ed)?\b", r"\bmellow\b",
           r"\bjazzy\b", r"\bcrackl(?:e|y|ing)\b", r"\bcalm\b", r"\bbackground\s+music\b"),
    *_cues("g-funk", 2, r"(?-i:\bLA\b)", r"\bl\.a\.?", r"\blos\s+angeles\b", r"\bcalifornia\b",
           r"\bcali\b", r"\bcompton\b", r"\blong\s+beach\b", r"\binglewood\b",
           r"\blow[\s-]?riders?\b", r"\btalk[\s-]?box\b", r"\bp[\s-]funk\b", r"\bparliament\b",
           r"\bfunkadelic\b", r"\bzapp\b", r"\broger\s+troutman\b", r"\bdr\.?\s+dre\b",
           r"\bdre\b", r"\bsnoop\b", r"\bwarren\s+g\b", r"\bnate\s+dogg\b", r"\bdj\s+quik\b",
           r"\bchronic\b", r"\bdoggystyle\b", r"\bregulate\b", r"\bdaz\b", r"\bkurupt\b",
           r"\bdogg\s+pound\b", r"\bbattlecat\b", r"\bhydraulics?\b", r"\b(?:six|6)[\s-]?fo\b",
           r"\bdeath\s+row\b", r"\beazy[\s-]?e\b", r"\bn\.?w\.?a\b", r"\bwest\s+side\b"),
    *_cues("g-funk", 1, r"\bsine\s+lead\b", r"\bwhin(?:y|ey|ing)\s+(?:synth|lead)\b",
           r"\bmoog\b", r"\bcruis(?:e|in'?|ing)\b", r"\bfunk(?:y)?\b", r"\bbay\s+area\b",
           r"\bbounce\b", r"\bpalm\s+trees?\b", r"\bsunset\s+(?:drive|cruise|strip)\b",
           r"\b(?:2|tu)pac\b", r"\bice\s+cube\b", r"\be-?40\b", r"\bmack\s+10\b"),
]  # fmt: skip


def _named_styles(text: str) -> tuple[set[str], list[Evidence]]:
    named: set[str] = set()
    evidence = []
    for style, pattern in _STYLE_NAMES.items():
        for m in pattern.finditer(text):
            if not _STYLE_NEGATION.search(text[max(0, m.start() - 30) : m.start()]):
                named.add(style)
                evidence.append(Evidence("style", style, (m.group(0),), "named style"))
    if not named:  # a typo of a style name: "tarp beat", "lofy"
        for tok in tokenize(text):
            hit = fuzzy_lookup(tok.norm.replace("-", ""), _TYPO_NAMES, never=_NOT_STYLE_TYPOS)
            if hit is not None:
                named.add(_TYPO_NAMES[hit])
                evidence.append(Evidence("style", _TYPO_NAMES[hit], (tok.text,), "named style"))
    return named, evidence


def parse_style(text: str) -> tuple[str | None, list[Evidence]]:
    """The style `text` names or implies, with the words that decided it (None: undecided)."""
    named, evidence = _named_styles(text)
    if len(named) == 1:
        return named.pop(), evidence
    if named:  # "lo-fi trap", "trap meets drill": the person asked for a blend
        return None, []
    votes: dict[str, int] = {}
    cue_evidence: dict[str, list[Evidence]] = {}
    for pattern, style, weight in STYLE_CUES:
        for m in pattern.finditer(text):
            votes[style] = votes.get(style, 0) + weight
            rule = "scene, era or gear" if weight > 1 else "style hint"
            cue_evidence.setdefault(style, []).append(Evidence("style", style, (m.group(0),), rule))
    if not votes:
        return None, []
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None, []
    return ranked[0][0], cue_evidence[ranked[0][0]]


# ------------------------------------------------------------------------------ tempo words

#: Where in the style's tempo range each tempo word puts the tempo (0 = bottom, 1 = top).
TEMPO_POSITIONS = {"slow": 0.2, "mid": 0.5, "fast": 0.8}
#: Tempo words, by the position they ask for.
TEMPO_WORDS: dict[str, re.Pattern] = {
    "slow": re.compile(
        r"\b(?:slow(?:ed|er)?|half[\s-]?time|sluggish|down[\s-]?tempo|low[\s-]tempo|hazy|"
        r"lazy|crawling|dragging|laid[\s-]?back)\b",
        re.I,
    ),
    "mid": re.compile(
        r"\b(?:mid[\s-]?tempo|medium[\s-]tempo|moderate[\s-]tempo|head[\s-]?nod(?:d?ing|der)?|"
        r"mid[\s-]paced?|medium[\s-]paced?)\b",
        re.I,
    ),
    "fast": re.compile(
        r"\b(?:fast(?:er)?|up[\s-]?tempo|quick|double[\s-]?time|high[\s-]tempo|speedy|rapid|"
        r"frantic|racing)\b",
        re.I,
    ),
}
_NOT_TEMPO = re.compile(r"\b(?:fast|quick)(?:ly)?\s+(?:render|turnaround|please|pls)\b", re.I)


def parse_tempo_word(text: str) -> tuple[str | None, list[Evidence]]:
    """ "slow", "mid" or "fast" when the prompt's tempo words agree; None otherwise."""
    text = _NOT_TEMPO.sub(" ", text)
    found = {
        where: [m.group(0) for m in pattern.finditer(text)]
        for where, pattern in TEMPO_WORDS.items()
    }
    found = {k: v for k, v in found.items() if v}
    if len(found) != 1:
        return None, []
    ((where, words),) = found.items()
    return where, [Evidence("bpm", where, tuple(words), "tempo word")]


# ------------------------------------------------------------------------------------- mood

#: Mood words (regex stems) and the mode they imply.
MOOD_MODES: dict[str, tuple[str, ...]] = {
    "minor": (
        r"dark(?:er|est|ness)?",
        r"sad(?:der|dest|ness)?",
        r"melanchol(?:y|ic)",
        r"eerie",
        r"creepy",
        r"spooky",
        r"haunt(?:ing|ed)",
        r"sinister",
        r"menac(?:ing|e)",
        r"ominous",
        r"gloom(?:y)?",
        r"somb(?:er|re)",
        r"grim",
        r"bleak",
        r"lonely",
        r"loneliness",
        r"heartbr(?:eak|oken|eaking)",
        r"mournful",
        r"depress(?:ing|ed|ive)?",
        r"tense",
        r"evil",
        r"scary",
        r"horror",
        r"brooding",
        r"mysterious",
        r"moody",
        r"paranoid",
        r"tragic",
        r"sorrow(?:ful)?",
        r"grie(?:f|ving)",
        r"dread(?:ful)?",
        r"nightmar(?:e|ish)",
        r"villain(?:ous)?",
        r"gothic",
        r"painful",
        r"angry",
        r"aggressive",
        r"cold",
        r"emotional",
        r"pensive",
    ),
    "major": (
        r"happy",
        r"happier",
        r"bright(?:er)?",
        r"uplift(?:ing|ed)?",
        r"joy(?:ful|ous)?",
        r"sunny",
        r"sunshine",
        r"summery",
        r"summer(?:time)?",
        r"feel[\s-]?good",
        r"cheerful",
        r"playful",
        r"hopeful",
        r"triumphant",
        r"celebrat(?:ory|ion|ing)",
        r"victor(?:y|ious)",
        r"carefree",
        r"optimistic",
        r"euphori(?:a|c)",
        r"blissful",
        r"fun",
        r"party",
        r"good\s+vibes",
        r"positive",
        r"wholesome",
        r"sweet",
    ),
}
_MOOD_RE = {
    mode: re.compile(r"\b(?:" + "|".join(words) + r")\b", re.I)
    for mode, words in MOOD_MODES.items()
}
# A negation just before a mood word cancels it: "not too dark", "nothing sad", "less bright".
_MOOD_NEGATION = re.compile(
    r"\b(?:not|no|nothing|never|less|without|isn'?t|don'?t|avoid|anything\s+but)\s+"
    r"(?:(?:too|very|so|overly|that|really|super|a|the|any)\s+)?$",
    re.I,
)


def parse_mood_mode(text: str) -> tuple[str | None, list[Evidence]]:
    """The mode the prompt's moods imply, when they agree; None otherwise."""
    found: dict[str, list[str]] = {}
    for mode, pattern in _MOOD_RE.items():
        for m in pattern.finditer(text):
            if _MOOD_NEGATION.search(text[max(0, m.start() - 30) : m.start()]):
                continue
            found.setdefault(mode, []).append(m.group(0))
    if len(found) != 1:
        return None, []
    ((mode, words),) = found.items()
    return mode, [Evidence("mode", mode, tuple(words), "mood")]
