"""Words that move the mix: the prompt's descriptors turned into changes of `MixTargets`.

``apply_descriptors(targets, "dark trap beat with heavy 808s, vocals tucked back")`` raises the
bass range by 3 LU (and the sub and bass bands with it), lowers the vocals range by 2.5 LU and
tilts the top down 1.5 dB for the mood word "dark"; it also returns one `DescriptorMatch` per
descriptor found, with the words and the change in one line (for ``--explain`` and
``result.json``).

Who the teacher is. The sizes below are mixing-engineer practice, not fits to data: the smallest
step a listener reliably hears as "more" or "less" of something is about 1 to 1.5 dB, a clear
"up front" or "heavier" is 2 to 3 dB, and a shelf past 4 to 6 dB on a whole mix is a different
record rather than a tweak. So every move is at least 1.5 LU or dB (a mix that meets the moved
target then measures differently), the big ones stay at 3 to 4.5, and the sum of all moves is
capped (`MAX_BALANCE_SHIFT_LU`, `MAX_TONAL_OFFSET_DB`, the master and PLR bounds). Each
descriptor's `why` says where its number comes from; `docs/mix_descriptors.md` is the table.

How a prompt is read (rules that would rather miss than invent):

- **Patterns.** Each descriptor has regular expressions, whole words, case-insensitive. The
  table is ordered specific first, and a matched span is taken: "loud vocals" is the vocals
  moving forward, not a loud master; "soft kick" is quieter drums, not a quiet master; "crisp
  hats" is the hats, not the whole mix bright.
- **Roles.** "bass", "808", "sub", "low end" → ``bass``; "kick", "drums", "snare", "hats",
  "percussion" → ``drums``; "vocals", "vox", "hook", "rap" → ``vocals``; "keys", "chords",
  "pads", "piano" → ``harmony``; "melody", "lead" → ``melody``. A descriptor naming a role the
  targets have no range for leaves them unchanged (and its line says so).
- **Negation.** A negator just before a descriptor in the same clause ("not too bright", "no
  distortion", "nothing too loud", "don't make it too wide", "no grit or distortion") stops it:
  it is reported with status ``"negated"`` and changes nothing. The opposite is *not* applied:
  "not too loud" asks to avoid a slammed master, not for a quiet one, and "not too bright" is
  not "dark". Between the negator and the descriptor only small words ("too", "very", "so",
  "overly", "make it", …), "or"/"nor", and other descriptors may stand.
- **Opposites cancel.** Descriptors on both sides of one axis ("bright … muffled", "vocals up
  front … vocals buried") cancel each other: none of them is applied, all are reported with
  status ``"cancelled"``. Axes that carry a role are per role: "vocals up front, keys tucked"
  is no conflict.
- **Synonyms do not stack.** Several descriptors on the same side of one axis ("dark, muffled
  and warm") give, per quantity, the largest of their moves, not the sum: three words for one
  wish are still one wish. Different axes add up ("bright mix with crisp hats").
- **"dark" is mostly a mood.** In "dark trap beat" it says minor key, sparse, eerie; trap's sound
  keeps crisp hats and a bright top, so darkening every dark beat by a full shelf would dull
  them all. Alone it tilts the top by the smallest audible step (high −1.5 dB); any explicit
  tonal word on the brightness axis ("bright", "muffled", "warm", "dark-sounding", "dark mix")
  overrules it (status ``"overruled"``). The sound words give the full move.
- **"lo-fi" is also a style.** "lo-fi beat" and "lofi hip hop" name the style, whose own targets
  already carry its sound; "lo-fi" counts as dusty only where it colours another style or the
  sound ("lo-fi boom bap", "lofi trap", "lo-fi sound", "lo-fi'd").

Pure Python and `re`: this layer must not import the model or the data layers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from producer.mixing.targets import MixTargets

__all__ = [
    "BANDS",
    "DESCRIPTORS",
    "MAX_BALANCE_SHIFT_LU",
    "MAX_TONAL_OFFSET_DB",
    "QUANTITIES",
    "ROLE_FROM_WORDS",
    "Descriptor",
    "DescriptorMatch",
    "DescriptorPair",
    "TargetMove",
    "apply_descriptors",
    "descriptor_pairs",
    "descriptor_table_markdown",
    "find_descriptors",
    "side_level_db",
    "target_value",
]

#: The analysis bands, low to high (the names of `audio.quality.BANDS`; a test keeps them equal).
BANDS = ("sub", "bass", "low_mid", "mid", "high_mid", "high")
#: A descriptor whose role is read from its words ("vocals up front", "keys tucked").
ROLE_FROM_WORDS = "<role>"
#: The most all descriptors together may move one role's range, LU: past 6 LU a stem is not
#: "up front" or "tucked" any more but a different arrangement.
MAX_BALANCE_SHIFT_LU = 6.0
#: The most all descriptors together may move one band, dB: a 6 dB shelf on a whole master is
#: the limit of a mastering move (past it the engineer goes back to the mix).
MAX_TONAL_OFFSET_DB = 6.0
#: Loudest master a descriptor may ask for, LUFS: the loudest commercial rap masters measure
#: about -7 LUFS-I; beyond it the limiter only adds distortion.
LOUDEST_MASTER_LUFS = -7.0
#: Quietest master, LUFS: the EBU R128 broadcast level; quieter reads as a fault, not a style.
QUIETEST_MASTER_LUFS = -23.0
#: Lowest PLR a descriptor may ask for, dB, and the least span of the PLR range.
MIN_PLR_DB = 4.0
MIN_PLR_SPAN_DB = 2.0
#: Widest side share a descriptor may ask for: side 1.8 dB over mid; wider folds badly to mono.
MAX_WIDTH_SHARE = 0.6

# ------------------------------------------------------------------------------ the words

# Role words. Plural and spelling variants are part of each word; order matters inside an
# alternation ("lead vocals" is vocals before "lead" is melody).
_BASS = r"(?:808s?|sub[\s-]?bass(?:es)?|subs?|bass(?:lines?|es)?|low[\s-]?end|bottom[\s-]?end)"
_HATS = r"(?:hi[\s-]?hats?|hihats?|hats?|cymbals?|shakers?)"
_DRUMS = (
    r"(?:kick[\s-]?drums?|kicks?|drums?|drum\s+kit|snares?|percussion|perc|claps?|"
    + _HATS[3:-1]
    + r")"
)
_VOCALS = r"(?:(?:lead\s+)?(?:vocals?|vox|voices?)|hooks?|raps?)"
_MELODY = r"(?:melod(?:y|ies)|lead\s+(?:synths?|lines?)|synth\s+leads?|leads?)"
_HARMONY = r"(?:keys|chords?|pads?|pianos?|rhodes|organs?)"
# The roles "forward" / "back" may name. Bass has its own descriptors (heavy / light), whose
# tonal moves go with the level move.
_ROLE = rf"(?P<role>{_VOCALS}|{_MELODY}|{_HARMONY}|{_DRUMS})"
_ROLE_WORDS = {
    "bass": _BASS,
    "vocals": _VOCALS,
    "melody": _MELODY,
    "harmony": _HARMONY,
    "drums": _DRUMS,
}
_ANY_ROLE = "(?:" + "|".join(_ROLE_WORDS.values()) + ")"
_STYLE_NOT_LOFI = r"(?:trap|drill|boom[\s-]?bap|boombap|g[\s-]?funk|r&b|rnb|soul|jazz)"
# What may stand between a role and its adjective: "808s are heavy", "808s gotta knock",
# "drums really loud", "kicks that are nice and punchy".
_INTENS = r"(?:(?:really|very|super|extra|so|way|nice\s+and|pretty)\s+)?"
_IS = (
    r"(?:(?:that\s+)?(?:is|are|gotta|got\s+to|need\s+to|needs\s+to|should|must|have\s+to|"
    r"has\s+to)\s+)?" + _INTENS
)


def _patterns(*sources: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(s, re.IGNORECASE) for s in sources)


def _split(examples: str) -> tuple[str, ...]:
    """ "a; b" → ("a", "b"): the table's examples, one string per descriptor."""
    return tuple(e.strip() for e in examples.split(";"))


# ------------------------------------------------------------------------------ the moves


@dataclass(frozen=True)
class TargetMove:
    """What one descriptor does to `MixTargets`; every field is a change, 0 means none."""

    #: shift of the descriptor's role's balance range, LU (the role is the descriptor's).
    balance_lu: float = 0.0
    #: band → dB added to the tonal offset (bands as `BANDS`).
    tonal_db: Mapping[str, float] = field(default_factory=dict)
    #: change of the side level (side-to-mid ratio) of both ends of the width range, dB.
    width_db: float = 0.0
    #: (lo, hi) change of the PLR range, dB.
    plr_db: tuple[float, float] = (0.0, 0.0)
    #: change of the master loudness, LU.
    master_lu: float = 0.0
    #: (lo, hi) change of the saturation drive range (a share, 0..1).
    drive: tuple[float, float] = (0.0, 0.0)

    def describe(self, role: str | None = None) -> str:
        """One line: ``"bass +3 LU; sub +3 dB, bass band +2 dB"``."""
        parts: list[str] = []
        if self.balance_lu:
            parts.append(f"{role or ROLE_FROM_WORDS} {_signed(self.balance_lu)} LU")
        tonal = [
            f"{'bass band' if b == 'bass' else b} {_signed(self.tonal_db[b])} dB"
            for b in BANDS
            if self.tonal_db.get(b)
        ]
        if tonal:
            parts.append(", ".join(tonal))
        if self.width_db:
            parts.append(f"width (side level) {_signed(self.width_db)} dB")
        if self.master_lu:
            parts.append(f"master {_signed(self.master_lu)} LU")
        if any(self.plr_db):
            parts.append(f"PLR {_pair(self.plr_db)} dB")
        if any(self.drive):
            parts.append(f"drive {_pair(self.drive)}")
        return "; ".join(parts) or "no change"


def _signed(x: float) -> str:
    return f"{x:+g}"


def _pair(pair: tuple[float, float]) -> str:
    lo, hi = pair
    return _signed(lo) if lo == hi else f"{_signed(lo)}/{_signed(hi)} (lo/hi)"


@dataclass(frozen=True)
class Descriptor:
    """One descriptor: the words that find it and what it does to the targets."""

    name: str
    #: phrasings it is found in (shown in the docs; every one is tested to match).
    examples: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    #: what it is about; descriptors on both sides of one axis cancel (per role, if any).
    axis: str
    #: +1 or -1: its side of the axis.
    side: int
    #: the canonical opposite (same axis, other side).
    opposite: str
    move: TargetMove
    #: where the numbers come from.
    why: str
    #: the role whose range `move.balance_lu` shifts: a role, ROLE_FROM_WORDS, or None.
    role: str | None = None
    #: a weak descriptor applies only when no strong one on its axis is found ("dark" mood).
    weak: bool = False
    #: what, just before a match, means the words say something else ("bring the vocals back").
    veto_before: re.Pattern[str] | None = None


# The order is the matching order: specific phrases first (see the module docstring).
DESCRIPTORS: tuple[Descriptor, ...] = (
    Descriptor(
        name="crisp_hats",
        examples=_split("crisp hats; crispy hi-hats; bright hats; hats that cut; crispy"),
        patterns=_patterns(
            rf"\b(?:crisp(?:y|er)?|bright(?:er)?|sizzl(?:ing|y)|shiny|sharp|cutting|snappy)\s+"
            rf"{_HATS}\b",
            rf"\b{_HATS}\s+{_IS}(?:crisp(?:y|er)?|bright(?:er)?|sizzling|sharp|snappy|"
            r"(?:that\s+)?cut(?:ting)?(?:\s+through)?)\b",
            r"\bcrisp(?:y|er|ness)?\b",
        ),
        axis="hats",
        side=+1,
        opposite="soft_hats",
        move=TargetMove(tonal_db={"high": 2.0}),
        why="Hats and cymbals carry the 6–20 kHz band; a 2 dB high shelf is the usual "
        "'crisp hats' move, smaller than 'bright' because it asks for one element.",
    ),
    Descriptor(
        name="soft_hats",
        examples=_split("soft hats; dull hi hats; hats tucked back; muffled cymbals"),
        patterns=_patterns(
            r"\b(?:soft(?:er)?|dull(?:er)?|muffled|dark(?:er)?|gentle|quiet(?:er)?|subtle|"
            rf"smooth|mellow|rolled[\s-]off)\s+{_HATS}\b",
            rf"\b{_HATS}\s+{_IS}(?:soft(?:er)?|dull(?:er)?|muffled|dark(?:er)?|gentle|"
            r"quiet(?:er)?|subtle|rolled[\s-]off|tucked(?:\s+(?:back|in|away|under))?)\b",
        ),
        axis="hats",
        side=-1,
        opposite="crisp_hats",
        move=TargetMove(tonal_db={"high": -2.0}),
        why="The same 2 dB shelf down: hats that sit back without dulling the whole mix.",
    ),
    Descriptor(
        name="heavy_bass",
        examples=_split(
            "heavy 808s; booming 808; big 808; 808-heavy; bass heavy; deep sub; "
            "more bass; heavy on the 808s; 808s that hit hard"
        ),
        patterns=_patterns(
            r"\b(?:heav(?:y|ier)|booming|boomin['’]?|big(?:ger)?|huge|fat(?:ter)?|thick(?:er)?|"
            r"deep(?:er)?|massive|loud(?:er)?|strong(?:er)?|more|extra|hard[\s-]hitting|hard|"
            r"slapping|knocking|rumbling|rattling|earth[\s-]shaking|chest[\s-]rattling|monster)"
            rf"\s+{_BASS}\b",
            rf"\b{_BASS}[\s-]+(?:heavy|driven)\b",
            rf"\bheavy\s+on\s+(?:the\s+)?{_BASS}\b",
            rf"\b{_BASS}\s+{_IS}(?:heavy|booming|boomin|huge|big|massive|loud(?:er)?|"
            r"up[\s-]?front|upfront|forward|cranked|boosted|turned\s+up|knock(?:s|ing)?|"
            r"slap(?:s|ping)?|bang(?:s|ing)?|(?:that\s+)?hits?\s+hard|hitting\s+hard|"
            r"rattl(?:e|es|ing)|shaking)\b",
        ),
        axis="level",
        side=+1,
        opposite="light_bass",
        move=TargetMove(balance_lu=3.0, tonal_db={"sub": 3.0, "bass": 2.0}),
        role="bass",
        why="+3 LU is the step from a balanced to a bass-heavy hip-hop mix (the 808 about 1.4× "
        "as loud); the sub and bass bands rise with it so the tonal check agrees with the "
        "balance check.",
    ),
    Descriptor(
        name="light_bass",
        examples=_split(
            "light 808s; light bass; subtle bass; thin low end; less bass; 808 tucked under"
        ),
        patterns=_patterns(
            r"\b(?:light(?:er)?|subtle|soft(?:er)?|gentle|thin(?:ner)?|lean(?:er)?|quiet(?:er)?|"
            rf"less|minimal|restrained|small(?:er)?|tamed?|modest)\s+{_BASS}\b",
            rf"\blight\s+on\s+(?:the\s+)?{_BASS}\b",
            rf"\b{_BASS}\s+{_IS}(?:light|subtle|quiet(?:er)?|thin|restrained|"
            r"tucked(?:\s+(?:back|in|away|under))?|pulled\s+back|turned\s+down|in\s+check)\b",
        ),
        axis="level",
        side=-1,
        opposite="heavy_bass",
        move=TargetMove(balance_lu=-3.0, tonal_db={"sub": -3.0, "bass": -2.0}),
        role="bass",
        why="The mirror of heavy_bass: the low end 3 LU under the style's usual, sub and bass "
        "bands with it.",
    ),
    Descriptor(
        name="punchy_drums",
        examples=_split(
            "punchy kick; punchy kicks; knocking drums; hard-hitting snare; "
            "drums that knock; punchy"
        ),
        patterns=_patterns(
            r"\b(?:punch(?:y|ier)|knock(?:ing|in['’]?)|hard[\s-]?hitting|hard|slapp(?:ing|in['’]?)|"
            rf"bang(?:ing|in['’]?)|thump(?:ing|y)|snappy|driving|heavy)\s+{_DRUMS}\b",
            rf"\b{_DRUMS}\s+{_IS}(?:knock(?:s|ing)?|slap(?:s|ping)?|bang(?:s|ing)?|"
            r"punch(?:y|es)?|(?:that\s+)?hits?\s+hard|hard[\s-]hitting)\b",
            r"\b(?:punch(?:y|ier)|knock(?:s|ing|in['’]?)?)\b",
        ),
        axis="level",
        side=+1,
        opposite="soft_drums",
        move=TargetMove(balance_lu=2.0, plr_db=(1.5, 0.0)),
        role="drums",
        why="Drums 2 LU up, and the PLR floor 1.5 dB higher: punch is transients, so the master "
        "limiter may not flatten them.",
    ),
    Descriptor(
        name="soft_drums",
        examples=_split("soft kick; soft drums; gentle percussion; drums are quiet"),
        patterns=_patterns(
            r"\b(?:soft(?:er)?|gentle|light|quiet(?:er)?|subtle|muted|brushed|laid[\s-]back|"
            rf"relaxed|tame)\s+{_DRUMS}\b",
            rf"\b{_DRUMS}\s+{_IS}(?:soft(?:er)?|gentle|quiet(?:er)?|subtle|muted)\b",
        ),
        axis="level",
        side=-1,
        opposite="punchy_drums",
        move=TargetMove(balance_lu=-2.0),
        role="drums",
        why="Drums 2 LU down: clearly softer, still holding the groove.",
    ),
    Descriptor(
        name="forward",
        examples=_split(
            "vocals up front; vocals forward; vocals loud; loud vocals; "
            "vocal-forward; vox on top of the mix; keys up front; melody forward"
        ),
        patterns=_patterns(
            rf"\b{_ROLE}\s+(?:(?:are|sitting|sit|sits|placed|mixed|pushed|brought|right)\s+)?"
            rf"{_INTENS}(?:up[\s-]?front|upfront|forward|front\s+and\s+cent(?:er|re)|in\s+front|"
            r"out\s+front|on\s+top\s+of\s+the\s+mix|in\s+your\s+face|loud(?:er)?|prominent|cranked|"
            r"(?:pushed|turned|brought|way)\s+up|high\s+in\s+the\s+mix)\b",
            rf"\b{_ROLE}[\s-]forward\b",
            r"\b(?:loud(?:er)?|up[\s-]?front|upfront|forward|prominent|big(?:ger)?|"
            rf"front[\s-]and[\s-]cent(?:er|re)|in[\s-]your[\s-]face)\s+{_ROLE}\b",
        ),
        axis="level",
        side=+1,
        opposite="back",
        move=TargetMove(balance_lu=2.5),
        role=ROLE_FROM_WORDS,
        why="Pushing a part 2–3 dB is the engineer's 'up front'; 2.5 LU is plainly audible "
        "without burying the beat.",
    ),
    Descriptor(
        name="back",
        examples=_split(
            "vocals tucked back; vocals back; vocals buried; buried vocals; "
            "vocals back in the mix; melody tucked; soft piano"
        ),
        patterns=_patterns(
            rf"\b{_ROLE}\s+(?:(?:are|sitting|sit|sits|sat|placed|mixed|set|kept|pushed|pulled|"
            rf"laid)\s+)?{_INTENS}(?:tucked(?:\s+(?:back|in|away|under))?|buried|further\s+back|"
            r"back\s+in\s+the\s+mix|low\s+in\s+the\s+mix|in\s+the\s+back(?:ground)?|"
            r"down\s+low|turned\s+down|quiet(?:er)?|subtle|distant|"
            r"back(?=\s*(?:[,.;:!?)]|$|and\b|with\b)))",
            r"\b(?:buried|tucked(?:[\s-](?:back|in|away))?|quiet(?:er)?|understated|subtle|"
            rf"distant|soft(?:er)?|low[\s-]key)\s+{_ROLE}\b",
        ),
        axis="level",
        side=-1,
        opposite="forward",
        move=TargetMove(balance_lu=-2.5),
        role=ROLE_FROM_WORDS,
        why="The mirror of forward: 2.5 LU down, behind the beat but still heard.",
        # "bring the vocals back" asks for the vocals to return, not to sit back.
        veto_before=re.compile(
            r"\b(?:bring|brings|bringing|brought|put|putting|add|adding|get|give)\s+"
            r"(?:(?:the|my|some|his|her|their)\s+)?$",
            re.IGNORECASE,
        ),
    ),
    Descriptor(
        name="dusty",
        examples=_split(
            "dusty; lo-fi boom bap; lofi trap; lo-fi sound; vintage; tape saturation; vinyl crackle"
        ),
        patterns=_patterns(
            r"\bdust(?:y|ier|iest)\b",
            r"\bvinyl(?:\s+(?:crackle|noise|hiss|sound|texture))?\b",
            r"\bcrackl(?:e|es|ing|y)\b",
            r"\btape(?:[\s-](?:saturat(?:ed|ion)|hiss|warmth|sound|feel|texture|wobble|flutter|"
            r"machine|stop))?\b",
            r"\b(?:cassette|vintage|grainy|worn)\b",
            rf"\blo[\s-]?fi(?:e?d|['’]d|[\s-]sounding)?(?=[\s-]+(?:{_STYLE_NOT_LOFI}|sound(?:ing)?|"
            r"mix|feel|texture|aesthetic|quality|filter|treatment)\b)",
            r"\blo[\s-]?fi(?:e?d|['’]d|[\s-]sounding)\b",
        ),
        axis="grit",
        side=+1,
        opposite="clean",
        move=TargetMove(tonal_db={"high": -4.0}, drive=(0.25, 0.3)),
        why="Tape, vinyl and old samplers lose the top: about 4 dB above 6 kHz; their "
        "saturation raises the drive range by a quarter.",
    ),
    Descriptor(
        name="raw",
        examples=_split("raw; gritty; distorted; distortion; grimy; crunchy"),
        patterns=_patterns(
            r"\b(?:raw(?:er)?|gritt(?:y|ier)|grit|grimy|dirt(?:y|ier)|rough(?![\s-]+mix)|"
            r"unpolished|crunch(?:y|ier)?|distort(?:ed|ion)|overdriven|overdrive|"
            r"saturat(?:ed|ion)|fuzz(?:y)?|blown[\s-]out|abrasive)\b",
        ),
        axis="grit",
        side=+1,
        opposite="clean",
        move=TargetMove(tonal_db={"high_mid": 2.0}, drive=(0.2, 0.3)),
        why="Saturation adds harmonics in 2–6 kHz, the bite a polished mix would tame: "
        "high-mid +2 dB, drive range up by a fifth or more.",
    ),
    Descriptor(
        name="clean",
        examples=_split("clean; polished; pristine; crystal clear; hi-fi"),
        patterns=_patterns(
            # Not a song's clean version, nor an instrument's clean tone ("clean guitar": an
            # undistorted guitar says nothing about the mix's polish).
            r"\bclean(?:er)?\b(?![\s-]+(?:version|edit|lyrics|radio\s+edit|"
            r"(?:electric[\s-]+|bass[\s-]+)?(?:guitars?|bass(?:line)?|piano|keys|tones?)\b))",
            r"\b(?:polished|pristine|crystal[\s-]clear|hi[\s-]?fi|glossy|slick|"
            r"squeaky[\s-]clean)\b",
        ),
        axis="grit",
        side=-1,
        opposite="dusty",
        move=TargetMove(tonal_db={"high": 1.5}, drive=(-0.2, -0.2)),
        why="Little saturation (drive range down 0.2) and an open top (+1.5 dB air shelf, the "
        "usual polish), where dusty rolls it off.",
    ),
    Descriptor(
        name="bright",
        examples=_split("bright; airy; shimmering; sparkly; more air"),
        patterns=_patterns(
            r"\bbright(?:er|est|ness)?\b",
            r"\bair(?:y|ier|iness)\b",
            r"\b(?:more|lots\s+of|plenty\s+of|extra)\s+air\b",
            r"\bshimmer(?:ing|y|s)?\b",
            r"\bsparkl(?:e|y|ing)\b",
            r"\b(?:brilliant|open\s+top(?:[\s-]end)?)\b",
        ),
        axis="brightness",
        side=+1,
        opposite="dark_tone",
        move=TargetMove(tonal_db={"high_mid": 2.0, "high": 3.0}),
        why="A high shelf from about 2 kHz, +2 dB in high-mid rising to +3 dB above 6 kHz: a "
        "clear brightening that stays short of harsh.",
    ),
    Descriptor(
        name="dark_tone",
        examples=_split("dark-sounding; dark mix; muffled; dull; low-passed; rolled-off highs"),
        patterns=_patterns(
            r"\bdark(?:er)?[\s-]+(?:sounding|tone[ds]?|toned|mix(?:ed)?|sound|eq(?:['’]?d)?|"
            r"top(?:[\s-]end)?|highs|timbre)\b",
            r"\b(?:muffled|dull(?:er)?|murky)\b",
            # "filtered bassline" is the bass's own sound, not a dark mix
            rf"\b(?:low[\s-]?pass(?:ed)?|filtered)\b(?!\s+{_BASS})",
            r"\brolled[\s-]off\s+(?:highs|top(?:[\s-]end)?|treble)\b",
            r"\bless\s+(?:highs|treble|top[\s-]end)\b",
        ),
        axis="brightness",
        side=-1,
        opposite="bright",
        move=TargetMove(tonal_db={"high_mid": -2.0, "high": -3.0}),
        why="The mirror of bright: −2 dB high-mid, −3 dB above 6 kHz.",
    ),
    Descriptor(
        name="warm",
        examples=_split("warm; warmth; warmer"),
        patterns=_patterns(r"\bwarm(?:er|th|ly)?\b"),
        axis="brightness",
        side=-1,
        opposite="bright",
        move=TargetMove(tonal_db={"low_mid": 1.5, "high": -2.0}),
        why="Body in 250–500 Hz (+1.5 dB) and a softer top (−2 dB): warmth is a tilt, not a "
        "muffle.",
    ),
    Descriptor(
        name="dark",
        examples=_split("dark; darker"),
        patterns=_patterns(r"\bdark(?:er|est|ness)?\b"),
        axis="brightness",
        side=-1,
        opposite="bright",
        move=TargetMove(tonal_db={"high": -1.5}),
        weak=True,
        why="Mostly a mood (minor, eerie), not a sound: the smallest audible tilt of the top, "
        "and any explicit tonal word overrules it.",
    ),
    Descriptor(
        name="wide",
        examples=_split("wide; spacious; stereo; wide stereo image; widened"),
        patterns=_patterns(
            r"\bwide(?:r|st|ned)?\b(?![\s-]+(?:range|variety|selection))",
            r"\bwiden(?:ed|ing)?\b",
            r"\b(?:spacious|expansive|panoramic|immersive)\b",
            r"(?<!\bin )\bstereo\b(?![\s-]+(?:file|wav|mp3|output|master|render|mix(?:down)?|"
            r"track|bounce|export))",
        ),
        axis="width",
        side=+1,
        opposite="narrow",
        move=TargetMove(width_db=3.0),
        why="Side 3 dB louder against mid (the usual M/S widening step): side share 0.35 → 0.52 "
        "at the top of the default range.",
    ),
    Descriptor(
        name="narrow",
        examples=_split("narrow; mono; in mono; tight; centered"),
        patterns=_patterns(
            r"\bnarrow(?:er|ed)?\b",
            r"\bmono(?:phonic)?\b(?![\s-]*(?:low|bass|subs?\b|808|kick|compatib|below|under|synth))",
            r"\bcent(?:ered|red)\b",
            rf"\btight(?:er)?\b(?![\s-]+(?:{_ANY_ROLE}|groove|pocket|rhythm|timing|quantiz))",
        ),
        axis="width",
        side=-1,
        opposite="wide",
        move=TargetMove(width_db=-3.0),
        why="Side 3 dB quieter: a centred image. Not a fold to mono: a master with no side at "
        "all sounds broken on headphones, so 'mono' in a prompt reads as 'centred'.",
        # "low end in mono", "mono bass": the low end is mono in every mix (targets.MONO_BELOW_HZ).
        veto_before=re.compile(
            rf"\b{_BASS}\s+(?:(?:in|is|stays|kept|kept\s+in)\s+)?$", re.IGNORECASE
        ),
    ),
    Descriptor(
        name="loud",
        examples=_split("loud; slammed; in your face; in-your-face; squashed; brickwalled"),
        patterns=_patterns(
            r"\bloud(?:er|est)?\b",
            r"\b(?:slammed|squashed|brick[\s-]?wall(?:ed)?|maximi[sz]ed|in[\s-]your[\s-]face)\b",
            r"\b(?:hot|slamming)\s+(?:master|mix)\b",
        ),
        axis="loudness",
        side=+1,
        opposite="dynamic",
        move=TargetMove(master_lu=4.5, plr_db=(-1.5, -5.0)),
        why="Loud rap masters measure about −9 to −8 LUFS-I with a PLR of 7–9 dB: from the "
        "−14 LUFS streaming reference that is +4.5 LU, and the PLR range pulled down with it.",
    ),
    Descriptor(
        name="dynamic",
        examples=_split("dynamic; quiet; soft; uncompressed; room to breathe"),
        patterns=_patterns(
            r"\bdynamic(?:s)?\b",
            r"\b(?:quiet(?:er)?|soft(?:er)?|uncompressed|headroom)\b",
            r"\broom\s+to\s+breathe\b",
        ),
        axis="loudness",
        side=-1,
        opposite="loud",
        move=TargetMove(master_lu=-2.0, plr_db=(2.0, 2.0)),
        why="Less limiting: 2 LU quieter (−16 LUFS from −14, Apple Music's reference level) and "
        "2 dB more peak-to-loudness, so transients keep their shape.",
    ),
)

_BY_NAME = {d.name: d for d in DESCRIPTORS}

# ------------------------------------------------------------------------------ negation

_CLAUSE_END = re.compile(r"[,.;:!?()\[\]\n]")
_TOKEN = re.compile(r"[\w'’/-]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NEGATORS = _words(
    "not no nothing never without w/o less avoid avoiding zero minus neither nor "
    "isn't isnt aren't arent don't dont doesn't doesnt shouldn't shouldnt won't wont "
    "can't cant skip remove lose ditch"
)
# Small words that may stand between a negator and what it negates ("not too bright", "don't
# make it overly loud", "not at all wide").
_FILLER = _words(
    "too very so overly that really super a an the any much way extremely excessively be it "
    "sound sounding make made all at of my or anything"
)


# ------------------------------------------------------------------------------ matching


Status = Literal["applied", "negated", "cancelled", "overruled"]


@dataclass(frozen=True)
class DescriptorMatch:
    """One descriptor found in a prompt, and what became of it.

    `words` are the prompt's words that matched (every occurrence); `change` is one line: the
    move when applied, or why nothing changed.
    """

    name: str
    words: tuple[str, ...]
    change: str
    status: Status = "applied"
    role: str | None = None  # the role moved, for role descriptors

    @property
    def applied(self) -> bool:
        return self.status == "applied"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, for ``result.json``."""
        return {
            "name": self.name,
            "words": list(self.words),
            "change": self.change,
            "status": self.status,
            "role": self.role,
        }

    def __str__(self) -> str:
        words = ", ".join(f'"{w}"' for w in self.words)
        return f"{self.name} ({words}): {self.change}"


@dataclass(frozen=True)
class _Hit:
    descriptor: Descriptor
    start: int
    end: int
    words: str
    role: str | None
    negated_by: str | None = None


def _role_of(words: str) -> str | None:
    for role, pattern in _ROLE_WORDS.items():
        if re.fullmatch(pattern, words, re.IGNORECASE):
            return role
    return None


def _clause_start(text: str, pos: int) -> int:
    ends = [m.end() for m in _CLAUSE_END.finditer(text, 0, pos)]
    return ends[-1] if ends else 0


def _negator(text: str, start: int, spans: list[tuple[int, int]]) -> str | None:
    """The negation right before `start` in its clause ("not too"), or None."""
    begin = _clause_start(text, start)
    tokens = list(_TOKEN.finditer(text, begin, start))
    for i in range(len(tokens) - 1, -1, -1):
        tok = tokens[i]
        word = tok.group(0).lower().replace("’", "'")
        if word in _NEGATORS:
            return text[tok.start() : start].strip()
        if word == "but" and i > 0 and tokens[i - 1].group(0).lower() == "anything":
            return text[tokens[i - 1].start() : start].strip()
        inside_other = any(s <= tok.start() and tok.end() <= e for s, e in spans)
        if word in _FILLER or inside_other:
            continue
        return None
    return None


def _hits(prompt: str) -> list[_Hit]:
    """Every descriptor occurrence, in the table's order of precedence, then by position."""
    taken: list[tuple[int, int]] = []
    hits: list[_Hit] = []
    for descriptor in DESCRIPTORS:
        for pattern in descriptor.patterns:
            for m in pattern.finditer(prompt):
                start, end = m.span()
                if any(start < e and s < end for s, e in taken):
                    continue
                if descriptor.veto_before is not None:
                    prefix = prompt[_clause_start(prompt, start) : start]
                    if descriptor.veto_before.search(prefix):
                        continue
                role = descriptor.role
                if role == ROLE_FROM_WORDS:
                    role = _role_of(m.group("role"))
                taken.append((start, end))
                hits.append(_Hit(descriptor, start, end, m.group(0), role))
    spans = [(h.start, h.end) for h in hits]
    hits = [replace(h, negated_by=_negator(prompt, h.start, spans)) for h in hits]
    return sorted(hits, key=lambda h: h.start)


def _axis_key(hit: _Hit) -> tuple[str, str | None]:
    """Opposites cancel per axis, and per role on role axes ("level")."""
    return (hit.descriptor.axis, hit.role)


def _decide(hits: list[_Hit]) -> list[tuple[_Hit, Status, str]]:
    """Each hit with its status and the reason when not applied."""
    live = [h for h in hits if h.negated_by is None]
    strong_sides: dict[tuple[str, str | None], set[int]] = {}
    for h in live:
        if not h.descriptor.weak:
            strong_sides.setdefault(_axis_key(h), set()).add(h.descriptor.side)
    decided: list[tuple[_Hit, Status, str]] = []
    for h in hits:
        key, name = _axis_key(h), h.descriptor.name
        sides = strong_sides.get(key, set())
        if h.negated_by is not None:
            decided.append((h, "negated", f'negated by "{h.negated_by}": no change'))
        elif h.descriptor.weak and sides:
            others = sorted({o.descriptor.name for o in live if _axis_key(o) == key} - {name})
            decided.append((h, "overruled", f"overruled by {', '.join(others)}: no change"))
        elif not h.descriptor.weak and len(sides) > 1:
            others = sorted(
                {
                    o.descriptor.name
                    for o in live
                    if _axis_key(o) == key
                    and not o.descriptor.weak
                    and o.descriptor.side != h.descriptor.side
                }
            )
            decided.append((h, "cancelled", f"cancelled by {', '.join(others)}: no change"))
        else:
            decided.append((h, "applied", ""))
    return decided


def find_descriptors(prompt: str) -> list[DescriptorMatch]:
    """The descriptors of `prompt` and what becomes of each, without targets to move.

    Same as the matches `apply_descriptors` returns, except that a role the targets lack is
    not noted.
    """
    return _matches(_decide(_hits(prompt)), balance=None)


def _matches(
    decided: list[tuple[_Hit, Status, str]],
    balance: Mapping[str, tuple[float, float]] | None,
) -> list[DescriptorMatch]:
    # One match per (descriptor, role, status), in the order of first occurrence.
    grouped: dict[tuple[str, str | None, Status], list[tuple[_Hit, str]]] = {}
    for hit, status, reason in decided:
        grouped.setdefault((hit.descriptor.name, hit.role, status), []).append((hit, reason))
    out = []
    for (name, role, status), items in grouped.items():
        descriptor = _BY_NAME[name]
        if status == "applied":
            change = descriptor.move.describe(role)
            if descriptor.move.balance_lu and balance is not None and role not in balance:
                change += f" (no {role or 'such role'} range in these targets: unchanged)"
        else:
            change = items[0][1]
        words = tuple(dict.fromkeys(h.words for h, _ in items))
        out.append(DescriptorMatch(name, words, change, status, role))
    return out


def _merge(moves: Iterable[TargetMove]) -> TargetMove:
    """Moves on one side of one axis: per quantity the largest, not the sum (synonyms)."""

    def biggest(values: Iterable[float]) -> float:
        return max(values, key=abs, default=0.0)

    moves = list(moves)
    bands = {b for m in moves for b in m.tonal_db}
    return TargetMove(
        balance_lu=biggest(m.balance_lu for m in moves),
        tonal_db={b: biggest(m.tonal_db.get(b, 0.0) for m in moves) for b in bands},
        width_db=biggest(m.width_db for m in moves),
        plr_db=(biggest(m.plr_db[0] for m in moves), biggest(m.plr_db[1] for m in moves)),
        master_lu=biggest(m.master_lu for m in moves),
        drive=(biggest(m.drive[0] for m in moves), biggest(m.drive[1] for m in moves)),
    )


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def apply_descriptors(targets: MixTargets, prompt: str) -> tuple[MixTargets, list[DescriptorMatch]]:
    """`targets` moved by the descriptors of `prompt`, and what was found.

    Negated descriptors change nothing (the opposite is not applied: "not too loud" leaves the
    loudness alone); opposites on one axis cancel; the mood word "dark" gives way to explicit
    tonal words. Every descriptor found is in the list, with its status. The moves add up
    across axes and are capped (`MAX_BALANCE_SHIFT_LU`, `MAX_TONAL_OFFSET_DB`, the loudness,
    PLR and width bounds). A prompt without descriptors returns `targets` itself.
    """
    decided = _decide(_hits(prompt))
    groups: dict[tuple[str, str | None], list[TargetMove]] = {}
    for hit, status, _ in decided:
        if status == "applied":
            groups.setdefault(_axis_key(hit), []).append(hit.descriptor.move)

    balance: dict[str, float] = {}
    tonal: dict[str, float] = {}
    width_db = master_lu = 0.0
    plr = [0.0, 0.0]
    drive = [0.0, 0.0]
    for (_axis, role), moves in groups.items():
        move = _merge(moves)
        if move.balance_lu and role is not None:
            balance[role] = balance.get(role, 0.0) + move.balance_lu
        for band, db in move.tonal_db.items():
            tonal[band] = tonal.get(band, 0.0) + db
        width_db += move.width_db
        master_lu += move.master_lu
        plr = [plr[0] + move.plr_db[0], plr[1] + move.plr_db[1]]
        drive = [drive[0] + move.drive[0], drive[1] + move.drive[1]]

    moved = targets
    for role, shift in balance.items():
        moved = moved.with_balance(role, _clamp(shift, -MAX_BALANCE_SHIFT_LU, MAX_BALANCE_SHIFT_LU))
    tonal = {b: _clamp(db, -MAX_TONAL_OFFSET_DB, MAX_TONAL_OFFSET_DB) for b, db in tonal.items()}
    if any(tonal.values()):
        moved = moved.with_tonal({b: db for b, db in tonal.items() if db})
    if width_db:
        lo, hi = moved.width
        moved = replace(
            moved,
            width=(
                min(_shift_share(lo, width_db), MAX_WIDTH_SHARE),
                min(_shift_share(hi, width_db), MAX_WIDTH_SHARE),
            ),
        )
    if any(plr):
        lo = max(MIN_PLR_DB, moved.plr_db[0] + plr[0])
        hi = max(lo + MIN_PLR_SPAN_DB, moved.plr_db[1] + plr[1])
        moved = replace(moved, plr_db=(lo, hi))
    if master_lu:
        lufs = _clamp(moved.master_lufs + master_lu, QUIETEST_MASTER_LUFS, LOUDEST_MASTER_LUFS)
        moved = replace(moved, master_lufs=lufs)
    if any(drive):
        lo = _clamp(moved.drive[0] + drive[0], 0.0, 1.0)
        hi = _clamp(moved.drive[1] + drive[1], lo, 1.0)
        moved = replace(moved, drive=(lo, hi))
    asked = {
        f"balance:{r}": _clamp(v, -MAX_BALANCE_SHIFT_LU, MAX_BALANCE_SHIFT_LU)
        for r, v in balance.items()
        if v and r in targets.balance_lu
    }
    asked |= {f"band:{b}": v for b, v in tonal.items() if v}
    if width_db:
        asked["width"] = width_db
    if asked:
        moved = replace(moved, asked={**moved.asked, **asked})
    return moved, _matches(decided, targets.balance_lu)


# ------------------------------------------------------------------------------ width in dB


def side_level_db(share: float) -> float:
    """Side-to-mid level, dB, of a side share S²/(M²+S²): 0.5 → 0 dB, 0.2 → −6 dB."""
    share = _clamp(share, 1e-9, 1.0 - 1e-9)
    return 10.0 * math.log10(share / (1.0 - share))


def _shift_share(share: float, db: float) -> float:
    if share <= 0.0:
        return 0.0  # no side stays no side, whatever the gain
    ratio = 10.0 ** ((side_level_db(share) + db) / 10.0)
    return ratio / (1.0 + ratio)


# ------------------------------------------------------------------------------ pairs

Quantity = Literal["balance_lu", "band_db", "width", "plr_db", "master_lufs"]
#: What a descriptor pair moves, and the unit `target_value` gives it in.
QUANTITIES: dict[str, str] = {
    "balance_lu": "LU, the middle of the role's balance range",
    "band_db": "dB, the band's tonal offset",
    "width": "dB, the side level of the width range (mean of its ends)",
    "plr_db": "dB, the middle of the PLR range",
    "master_lufs": "LUFS, the master loudness",
}


def target_value(targets: MixTargets, quantity: str, role_or_band: str | None = None) -> float:
    """The number a descriptor pair moves, read from `targets` (units: `QUANTITIES`)."""
    if quantity == "balance_lu":
        lo, hi = targets.balance_lu[role_or_band or ""]
        return (lo + hi) / 2.0
    if quantity == "band_db":
        return float(targets.tonal_offset_db.get(role_or_band or "", 0.0))
    if quantity == "width":
        return (side_level_db(targets.width[0]) + side_level_db(targets.width[1])) / 2.0
    if quantity == "plr_db":
        return (targets.plr_db[0] + targets.plr_db[1]) / 2.0
    if quantity == "master_lufs":
        return targets.master_lufs
    raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}, got {quantity!r}")


@dataclass(frozen=True)
class DescriptorPair:
    """Two prompts that differ in one descriptor: `prompt_up` should measure higher.

    `quantity` is one of `QUANTITIES`; `role_or_band` names the role (``balance_lu``) or the
    band (``band_db``), None otherwise.
    """

    prompt_up: str
    prompt_down: str
    quantity: Quantity
    role_or_band: str | None = None
    style: str | None = None


# (style, quantity, role or band, prompt with {} for the descriptor, words up, words down):
# built from one template, the two prompts differ only in the descriptor by construction.
_PAIRS: tuple[tuple[str, Quantity, str | None, str, str, str], ...] = (
    ("trap", "balance_lu", "bass", "trap beat with {}", "heavy 808s", "light 808s"),
    ("trap", "band_db", "high", "{} trap beat", "bright", "muffled"),
    ("trap", "width", None, "{} trap beat", "wide", "narrow"),
    ("trap", "master_lufs", None, "{} trap beat", "loud", "dynamic"),
    ("trap", "balance_lu", "vocals", "trap beat with {}", "vocals up front", "vocals tucked back"),
    ("trap", "band_db", "high", "trap beat with {}", "crisp hats", "soft hats"),
    ("boom-bap", "band_db", "high", "{} boom bap beat", "clean", "dusty"),
    ("boom-bap", "width", None, "{} boom bap beat", "wide", "narrow"),
    ("boom-bap", "balance_lu", "drums", "boom bap beat with {}", "punchy drums", "soft drums"),
    ("boom-bap", "band_db", "high_mid", "{} boom bap beat", "raw", "clean"),
    ("boom-bap", "plr_db", None, "{} boom bap beat", "quiet", "loud"),
    ("boom-bap", "balance_lu", "vocals", "boom bap beat, {}", "vocals loud", "vocals buried"),
    ("lo-fi", "band_db", "high", "{} lofi beat", "bright", "dark"),
    ("lo-fi", "balance_lu", "harmony", "lofi beat with the {}", "keys up front", "keys buried"),
    ("lo-fi", "width", None, "{} lo-fi beat", "spacious", "mono"),
    ("lo-fi", "band_db", "high", "{} lo-fi beat", "airy", "warm"),
    ("lo-fi", "band_db", "sub", "lo-fi hip hop with a {}", "heavy bass", "light bass"),
    ("drill", "plr_db", None, "{} drill beat", "dynamic", "loud"),
    ("drill", "balance_lu", "drums", "drill beat with {}", "punchy kicks", "soft kicks"),
    ("drill", "balance_lu", "bass", "drill beat with {}", "booming 808s", "subtle 808s"),
    ("drill", "balance_lu", "melody", "drill beat with the {}", "melody up front", "melody buried"),
    ("drill", "band_db", "high_mid", "{} drill beat", "gritty", "polished"),
    ("drill", "width", None, "{} drill beat", "wide", "tight"),
    ("g-funk", "balance_lu", "vocals", "g-funk beat with {}", "vocals forward", "vocals buried"),
    ("g-funk", "band_db", "high_mid", "{} g-funk beat", "bright", "dark-sounding"),
    ("g-funk", "master_lufs", None, "{} g-funk beat", "slammed", "soft"),
    ("g-funk", "band_db", "sub", "g-funk beat with {}", "big 808s", "thin low end"),
    ("g-funk", "width", None, "{} g-funk beat", "wide", "mono"),
    ("g-funk", "balance_lu", "melody", "g-funk beat with the {}", "lead loud", "lead tucked"),
)


def descriptor_pairs() -> list[DescriptorPair]:
    """Prompt pairs for the benchmark that checks mixes move the way their words say.

    Every style and every quantity kind, several phrasings; each pair's prompts differ only in
    the descriptor, and `prompt_up` should measure higher in `quantity`.
    """
    return [
        DescriptorPair(template.format(up), template.format(down), quantity, what, style)
        for style, quantity, what, template, up, down in _PAIRS
    ]


# ------------------------------------------------------------------------------ docs


def descriptor_table_markdown() -> str:
    """The descriptor table of ``docs/mix_descriptors.md`` (a test keeps the doc equal)."""
    lines = [
        "| Descriptor | Words (examples) | Opposite | Change | Why |",
        "|---|---|---|---|---|",
    ]
    for d in DESCRIPTORS:
        words = ", ".join(f'"{w}"' for w in d.examples)
        name = f"`{d.name}`" + (" (weak)" if d.weak else "")
        role = d.role if d.role != ROLE_FROM_WORDS else "the named role"
        lines.append(f"| {name} | {words} | `{d.opposite}` | {d.move.describe(role)} | {d.why} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m producer.mixing.descriptors > table (for the docs)
    print(descriptor_table_markdown(), end="")
