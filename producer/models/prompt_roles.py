"""Which stems a prompt asks for, refuses, or restricts the production to.

``parse_roles("just drums and a deep 808, no vocals")`` →
``RoleHints(included={"drums", "bass"}, excluded={"vocals", …}, only=True, …)``.

Producers name stems by instrument more than by role ("808s", "hats", "rhodes", "vocal chops"),
so the vocabulary maps their words to the plan's roles (`LEXICON`). A mention is read in one of
three ways, and the same word means the same thing in each, so a role can never be inverted by
being named:

- **positive**: "with heavy 808s", "bass-heavy", "hard kicks and crispy hats" → the role is made;
- **excluded**: a negation right before a role list ("no drums", "without the 808s", "minus the
  keys", "leave the vocals out", "drumless", "vocal-free"; "instrumental" means no vocals) → the
  role is left out. A word between the negation and the role changes the meaning ("no live
  drums" still has drums), so it blocks the match; so does a role word used as a modifier ("no
  drum fills", "no 808 glide");
- **restricted**: "only", "just", "nothing but", "strip it down to", "X and Y only", "X alone"
  before or after a role list (adjectives allowed: "just some dusty drums and a fat bassline")
  → exactly those roles, plus any other stem the prompt names positively.

Naming a drum part ("no hi-hats") neither refuses nor asks for the drums as a whole. A role both
asked for and refused is a conflict, for the planner to report — except when the refusal names
one instrument and the request another of the same role ("no 808, a live bassline instead"):
then the role stays, played on the instrument asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from producer.models.prompt_words import Evidence, Token, fuzzy_lookup, phrase_at, tokenize

__all__ = ["LEXICON", "RoleHints", "RoleWord", "parse_roles"]


@dataclass(frozen=True)
class RoleWord:
    """What a stem word means."""

    role: str  # one of plan.ROLES
    kind: str = "whole"  # "whole" (the role itself), "part" (a drum piece: positive only),
    #                      "negative" (only read in an exclusion: "no rap" yes, "rap beat" no)
    generic: bool = True  # names the role, not one instrument of it ("bass" vs "808")
    instrument: str | None = None  # what plays it: a bass generator or a pitched instrument


def _words(role: str, words: str, **kw) -> dict[tuple[str, ...], RoleWord]:
    """Lexicon entries for space-separated words; "_" joins the tokens of a phrase."""
    return {tuple(w.split("_")): RoleWord(role, **kw) for w in words.split()}


#: Stem words → roles. Phrases are tuples of tokens; hyphenated words are one token.
LEXICON: dict[tuple[str, ...], RoleWord] = {
    **_words("drums", "drums drum drumz percussion percs perc drumkit drum_kit drum_kits "
             "drum_loop drum_loops drum_track drum_tracks drum_groove drum_beat"),
    **_words("drums", "kick kicks kick_drum kick_drums snare snares snare_drum hats hat hi-hats "
             "hi-hat hihats hihat hi_hats hi_hat high_hats hat_rolls claps clap rimshot rimshots "
             "rims shaker shakers toms cymbals cymbal crash tambourine cowbell break breaks "
             "breakbeat breakbeats bass_drum bass_drums 808_kick 808_kicks 808_drums 909s",
             kind="part"),
    **_words("bass", "bass basses low_end low-end lows", generic=True),
    **_words("bass", "808 808s 808_bass 808_basses sub subs sub-bass sub_bass subbass sub-basses "
             "sub_808 sub_808s", generic=False, instrument="808"),
    **_words("bass", "bassline basslines bass_line bass_lines bass_guitar bass_guitars "
             "synth_bass electric_bass live_bass reese upright_bass slap_bass", generic=False,
             instrument="bass"),
    **_words("harmony", "chords chord chord_progression chord_progressions chord_stabs harmony "
             "harmonies progression"),
    **_words("harmony", "keys piano pianos rhodes organ organs electric_piano e-piano epiano "
             "wurlitzer wurli", generic=False, instrument="keys"),
    **_words("harmony", "pads pad strings string_section synth_pads synth_pad choir",
             generic=False, instrument="pad"),
    **_words("harmony", "guitar guitars", generic=False, instrument="pluck"),
    **_words("melody", "melody melodies melodic_line lead leads topline toplines riff riffs "
             "lick licks countermelody motif hook_melody"),
    **_words("melody", "synth synths synth_lead lead_synth synth_leads flute flutes whistle "
             "whistles horns horn brass sax saxophone trumpet trumpets violin lead_line",
             generic=False, instrument="lead"),
    **_words("melody", "bells bell glockenspiel celesta music_box", generic=False,
             instrument="bell"),
    **_words("melody", "pluck plucks arp arps arpeggio arpeggios", generic=False,
             instrument="pluck"),
    **_words("vocals", "vocals vocal vox voice voices lead_vocals lead_vocal choir_vocals "
             "choir_vox"),
    **_words("vocals", "hook hooks vocal_chops vocal_chop vocal_samples vocal_sample a_cappella "
             "acapella acappella a-cappella a_capella a-capella adlibs ad-libs ad_libs",
             generic=False),
    **_words("vocals", "rap raps rapping rapper rappers singer singers singing lyrics lead_singer",
             kind="negative"),
    **_words("other", "fx sfx sound_effects sound_fx ear_candy"),
    **_words("other", "risers riser sweeps impacts texture textures ambience ambiences "
             "atmospherics vinyl_crackle vinyl_noise tape_hiss foley field_recordings "
             "field_recording rain rain_sounds rain_noise crackle crackles hiss ambient_noise "
             "white_noise", generic=False),
}  # fmt: skip


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _phrases(*phrases: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(p.split()) for p in phrases)


# A word after a stem word that makes it a modifier ("no drum fills" keeps the drums).
_MODIFIERS = _set(
    "heavy boost boosted drop drops fill fills roll rolls solo solos distortion machine "
    "machines tag tags change changes processing effect effects fx reverb delay eq sidechain "
    "sidechaining pattern patterns switch switches slide slides glide glides genre genres "
    "sound sounds mix level levels volume tone"
)
_DETERMINERS = _set("the any a an all those these some my your of more extra")
_CONNECTORS = frozenset({",", "and", "or", "nor", "/", "&", "+", "plus", "n"})
# Words an adjective slot may not take: they end a stem list ("just a vibe", "only the best beat").
_BREAKS = (
    _set(
        "beat beats track tracks song songs tune tunes loop loops instrumental vibe vibes groove "
        "record piece joint banger mix type style with at in on for to from over under into "
        "like make give create produce add put use need want please pls plz no not without but "
        "is are be that which it this bpm key minor major"
    )
    | _CONNECTORS
    | frozenset(".;:!?()—–")
)
_NEGATIONS = _phrases(
    "no", "without", "minus", "zero", "sans", "skip", "remove", "mute", "lose", "ditch", "kill",
    "nix", "exclude", "excluding", "omit", "hate", "hates", "dislike", "leave out", "take out",
    "cut out", "strip out",
    "not any", "leave off", "get rid of", "no need for", "don't need", "dont need",
    "do not need", "don't want", "dont want", "do not want", "doesn't want", "doesnt want",
    "does not want", "doesn't need", "doesnt need", "does not need", "won't need", "wont need",
    "don't add", "dont add",
    "don't include", "dont include", "don't use", "dont use", "don't put", "dont put",
    "do not put", "do not add", "do not use", "do not include", "hold the", "drop the", "drop any",
    "drop all", "everything but", "everything except", "all but", "lay off the", "leave the",
    "take the", "keep the", "cut the",
)  # fmt: skip
# "leave the drums out": these need "out" / "off" after the list to be a negation.
_SPLIT_NEGATIONS = _phrases("leave the", "take the", "keep the", "cut the")
_VERB_NEGATIONS = _set("skip remove mute lose leave take cut drop")
_DROP_OUT = _set("out entirely completely altogether")
_KEEPERS = _set("don't dont never not")  # "don't skip the drums"
_RESTRICT_BEFORE = _phrases(
    "only", "just", "solely", "purely", "exclusively", "merely", "nothing but", "nothing except",
    "nothing other than", "strip it down to", "stripped down to", "strip down to",
    "stripped back to", "keep it to", "limit it to", "nothing besides", "all i need is",
    "all i want is", "all we need is",
)  # fmt: skip
_RESTRICT_BEFORE_WORDS = frozenset(w for p in _RESTRICT_BEFORE if len(p) == 1 for w in p)
# "just give me chords", "only need drums": a request verb between the restriction and the list.
_REQUEST_VERBS = _set("need want give gimme make use have add do")
_REQUEST_OBJECTS = _set("me us")
# "strip it down to just those two": the restriction points back at the stems named before it.
_ANAPHORA = _set("those these them both")
_ANAPHOR_TAILS = _set("two three four 2 3 4 things stems instruments elements parts sounds")
_RESTRICT_AFTER = _phrases(
    "only", "alone", "by themselves", "by itself", "and nothing else", "nothing else",
    "and that's it", "and thats it", "that's it", "thats it", "that's all", "thats all",
    "and nothing more", "are the only things", "are the only sounds", "is the only thing",
    "is the only sound", "are the only elements", "are all i need", "is all i need",
)  # fmt: skip
# After a list, these make it positive even after a negation: "no melody, chords and drums are
# fine" refuses the melody alone.
_FINE = _phrases(
    "are fine", "is fine", "are ok", "is ok", "are okay", "is okay", "are good", "is good",
    "can stay", "are cool", "is cool", "are welcome", "stay",
)  # fmt: skip
# "no nothing", "no instruments at all": every stem the producer makes is refused.
_EVERYTHING = _set("nothing instruments instrumentation music beat stems anything")
_GENERATED = ("drums", "bass", "melody", "harmony", "other")
# "my own bass", "I'll add the vocals myself": the person brings that stem.
_OWN_BEFORE = _phrases("my own", "our own", "their own", "his own", "her own", "your own")
_OWN_AFTER = _set("myself ourselves himself herself themselves later")
# "my guy is doing the drums and the keys", "I'll play the keys": someone else brings those.
_BRING_SUBJECTS = _set(
    "is are am i'm he's she's they're we're will i'll he'll she'll they'll we'll gonna"
)
_BRING_VERBS = _set(
    "doing do handling handle covering cover bringing bring providing provide recording record "
    "playing play"
)
_INSTRUMENTAL = _set("instrumental instrumentals instrumentally")
# Real words one typo away from a stem word.
_NOT_TYPOS = _set(
    "cords brash lease heads hooked bases based sunny subtle rainy train brain grain rains"
)
# Tails that make "<stem>-<tail>" a positive mention of the stem ("bass-heavy", "keys-driven").
_HYPHEN_TAILS = _set(
    "heavy driven led forward focused centric boosted laden rich based first dominant fueled "
    "fuelled powered backed loaded"
)
_SINGLE_WORDS = [w[0] for w in LEXICON if len(w) == 1]


@dataclass(frozen=True)
class RoleHints:
    """What a prompt says about its stems."""

    included: frozenset[str] = frozenset()  # roles named positively (restricted ones too)
    excluded: frozenset[str] = frozenset()  # roles refused
    only: bool = False  # a restriction: the production has exactly `included`
    instruments: Mapping[str, str] = field(default_factory=dict)  # role → instrument asked for
    conflicts: tuple[str, ...] = ()  # roles both asked for and refused
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class _Mention:
    word: RoleWord
    start: int  # token index of the first word
    end: int  # token index after the last word
    text: str  # as written

    @property
    def role(self) -> str:
        return self.word.role


_PITCHED = frozenset({"keys", "pad", "bell", "lead", "pluck"})


def _single(tokens: list[Token], i: int) -> tuple[RoleWord, int] | None:
    """The lexicon word or phrase at `tokens[i]` (typos and "bass-heavy" forms too)."""
    found = phrase_at(tokens, i, LEXICON)
    if found is not None:
        key, n = found
        return LEXICON[key], n
    norm = tokens[i].norm
    head, _, tail = norm.partition("-")
    if tail in _HYPHEN_TAILS and (head,) in LEXICON:  # "bass-heavy", "piano-driven"
        return LEXICON[(head,)], 1
    parts = norm.split("-")
    if len(parts) > 1 and all((w,) in LEXICON for w in parts):  # "kick-snare", "keys-bass"
        roles = {LEXICON[(w,)].role for w in parts}
        if len(roles) == 1:
            return LEXICON[(parts[-1],)], 1
    typo = fuzzy_lookup(norm, _SINGLE_WORDS, never=_NOT_TYPOS)
    if typo is not None:
        return LEXICON[(typo,)], 1
    return None


def _lookup(tokens: list[Token], i: int) -> tuple[RoleWord, int] | None:
    """The stem word at `tokens[i]` with its compound ("808 bass", "piano melody")."""
    found = _single(tokens, i)
    if found is None:
        return None
    word, n = found
    # A run of stem words is one compound named by its last word: "808 bass" is bass, "piano
    # melody" a melody. An instrument named earlier in it plays it ("piano melody" on keys).
    while i + n < len(tokens) and (nxt := _single(tokens, i + n)) is not None:
        head, m = nxt
        # Words of two roles side by side are a list without commas ("drums bass keys"), not a
        # compound, unless a pitched instrument plays the melody or chords ("piano melody").
        related = head.role == word.role or (
            head.role in ("harmony", "melody") and word.instrument in _PITCHED
        )
        if head.kind == "negative" or not related:
            break
        instrument = head.instrument
        if instrument is None and (
            word.role == head.role
            or (head.role in ("harmony", "melody") and word.instrument in _PITCHED)
        ):
            instrument = word.instrument
        word = RoleWord(head.role, head.kind, head.generic and instrument is None, instrument)
        n += m
    return word, n


# Stem words that are also verbs, and the words that show the verb: "hook me up", "kick back".
_VERBISH = _set("hook hooks kick kicks break breaks lead leads drum")
_VERB_OBJECTS = _set("me us it up you them him her into back off down")


def _mentions(tokens: list[Token]) -> dict[int, _Mention]:
    """Every stem mention, by the index of its first token."""
    out, i = {}, 0
    while i < len(tokens):
        found = _lookup(tokens, i)
        verb = (
            i + 1 < len(tokens)
            and tokens[i + 1].norm in _VERB_OBJECTS
            and (tokens[i].norm in _VERBISH or fuzzy_lookup(tokens[i].norm, _VERBISH))
        )
        # "make it rain" is a money phrase, not the sound of rain
        weather = tokens[i].norm == "rain" and i > 0 and tokens[i - 1].norm in ("it", "make")
        if found is None or verb or weather:
            i += 1
            continue
        word, n = found
        out[i] = _Mention(word, i, i + n, " ".join(t.text for t in tokens[i : i + n]))
        i += n
    return out


def _is_modifier(tokens: list[Token], m: _Mention) -> bool:
    """ "drum fills", "808 glide", "bass-heavy": the stem word describes something else."""
    following = tokens[m.end].norm if m.end < len(tokens) else ""
    hyphenated = (
        m.end - m.start == 1
        and (tokens[m.start].norm,) not in LEXICON
        and "-" in (tokens[m.start].norm)
    )
    return following in _MODIFIERS or hyphenated


def _skip(tokens: list[Token], i: int, words: frozenset[str], at=()) -> int:
    """The first token from `i` on that is not in `words` (or that starts a mention in `at`:
    the "a" of "a cappella")."""
    while i < len(tokens) and tokens[i].norm in words and i not in at:
        i += 1
    return i


def _item_at(tokens, i, at, adjectives: int) -> _Mention | None:
    """The stem mention starting a list item at token `i`: determiners and up to `adjectives`
    free words may come first ("some dusty drums", "a fat bassline")."""
    j = _skip(tokens, i, _DETERMINERS, at)
    free = 0
    while j not in at and j < len(tokens) and free < adjectives:
        if tokens[j].norm in _BREAKS:
            return None
        j, free = j + 1, free + 1
        j = _skip(tokens, j, _DETERMINERS, at)
    return at.get(j)


def _list_from(tokens, i, at, *, adjectives: int) -> tuple[list[_Mention], list[str]]:
    """The stem list at token `i` and the connectors joining its items."""
    items: list[_Mention] = []
    joiners: list[str] = []
    while (item := _item_at(tokens, i, at, adjectives)) is not None:
        items.append(item)
        k = item.end
        if k in at:  # "drums bass and keys": no comma between
            joiners.append("")
            i = k
            continue
        if k < len(tokens) and tokens[k].norm in _CONNECTORS:
            joiners.append(tokens[k].norm)
            i = k + 1
            if k + 1 < len(tokens) and tokens[k + 1].norm in ("and", "or", "plus"):
                i += 1  # ", and"
            continue
        break
    return items, joiners[: max(len(items) - 1, 0)]


def _list_before(tokens, end: int, at, *, adjectives: int) -> list[_Mention]:
    """The stem list that ends at token `end` (exclusive), read backwards."""
    by_end = {m.end: m for m in at.values()}
    if end not in by_end:
        return []
    items = [by_end[end]]
    while True:
        k = items[0].start
        if k in by_end:  # "drums bass and keys": no comma between
            items.insert(0, by_end[k])
            continue
        # Up to `adjectives` free words and determiners, then a connector, then an item.
        free = 0
        while k > 0 and free <= adjectives and tokens[k - 1].norm not in _CONNECTORS:
            if tokens[k - 1].norm in _BREAKS:
                return items
            k, free = k - 1, free + (tokens[k - 1].norm not in _DETERMINERS)
        if k == 0 or free > adjectives or tokens[k - 1].norm not in _CONNECTORS:
            return items
        k -= 1
        if k > 0 and tokens[k - 1].norm == "," and tokens[k].norm in ("and", "or"):
            k -= 1
        if k not in by_end:
            return items
        items.insert(0, by_end[k])


def _phrase_len(tokens: list[Token], i: int, phrases) -> int:
    """Length of the phrase of `phrases` at token `i` (0: none)."""
    for n in (5, 4, 3, 2, 1):
        if i + n <= len(tokens) and tuple(t.norm for t in tokens[i : i + n]) in phrases:
            return n
    return 0


class _Reader:
    """One pass over a prompt's tokens, collecting exclusions, restrictions and mentions."""

    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.at = _mentions(self.tokens)
        self.excluded: dict[str, list[RoleWord | None]] = {}  # None: a generic refusal
        self.restricted: list[_Mention] = []
        self.used: set[int] = set()  # mentions read as an exclusion or a restriction
        self.evidence: list[Evidence] = []
        self.refused_parts: set[str] = set()  # drum parts refused ("no hats")

    def words(self, start: int, end: int) -> str:
        return " ".join(t.text for t in self.tokens[start:end])

    def exclude(self, role: str, word: RoleWord | None, words: str, rule: str = "exclusion"):
        self.excluded.setdefault(role, []).append(word)
        self.evidence.append(Evidence("roles", f"exclude {role}", (words,), rule))

    def restrict(self, items: list[_Mention], words: str) -> None:
        for m in items:
            self.used.add(m.start)
            self.restricted.append(m)
            self.evidence.append(Evidence("roles", f"only {m.role}", (words,), "restriction"))

    def affixed(self, i: int) -> bool:
        """ "drumless", "vocal-free", "no-drums", "drums-only": one token says it all."""
        norm, text = self.tokens[i].norm, self.tokens[i].text
        for suffix in ("less", "free", "only"):
            stem = norm[: -len(suffix)].rstrip("-")
            if norm.endswith(suffix) and (stem,) in LEXICON:
                word = LEXICON[(stem,)]
                if suffix == "only":
                    self.restrict([_Mention(word, i, i + 1, text)], text)
                elif suffix != "only" and word.kind != "part":
                    self.exclude(word.role, word, text)
                    self.used.add(i)
                return True
        if norm.startswith("no-") and (norm[3:],) in LEXICON:
            if LEXICON[(norm[3:],)].kind != "part":
                self.exclude(LEXICON[(norm[3:],)].role, LEXICON[(norm[3:],)], text)
            self.used.add(i)
            return True
        return False

    def negation(self, i: int) -> None:
        n = _phrase_len(self.tokens, i, _NEGATIONS)
        if not n:
            return
        tokens = self.tokens
        phrase = tuple(t.norm for t in tokens[i : i + n])
        if phrase[0] in _VERB_NEGATIONS and i > 0 and tokens[i - 1].norm in _KEEPERS:
            return  # "don't skip the drums"
        if self.everything(i + n):
            return
        items, joiners = _list_from(tokens, i + n, self.at, adjectives=0)
        if not items or items[0].start in self.used:
            return
        if _is_modifier(tokens, items[0]):  # "no 808 glide": neither refused nor asked for
            self.used.add(items[0].start)
            return
        if phrase in _SPLIT_NEGATIONS:
            end = items[-1].end
            if not (end < len(tokens) and tokens[end].norm in ("out", "off")):
                return  # "keep the drums hard" is no exclusion
        if phrase[0] == "drop" and items[0].text.lower() == "bass" and not self.drop_refuses(i):
            return  # "drop the bass" asks for a bass drop, "…but drop the bass" refuses it
        # "no drums, bass or vocals" is a list; "no vocals, 808s hitting hard" is not: when
        # only commas join the items, the comma ends the negated phrase. So does a list that
        # goes on to be allowed or restricted to ("no melody, chords and drums are fine",
        # "without the drums, piano and sax only").
        after = items[-1].end
        if set(joiners) <= {",", ""} or _phrase_len(tokens, after, _FINE | _RESTRICT_AFTER):
            items = items[:1]
        words = self.words(i, items[-1].end)
        for m in items:
            if _is_modifier(tokens, m):
                break
            self.used.add(m.start)
            if m.word.kind != "part":  # "no hi-hats": the drums are neither refused nor asked
                self.exclude(m.role, m.word, words)
            else:
                self.refused_parts.add(m.text.lower().rstrip("s"))

    def drop_refuses(self, i: int) -> bool:
        """Whether "drop the bass" at token `i` refuses the bass rather than asking for a drop:
        after "but" ("bells, but drop the bass") or before "out", "entirely", "completely"."""
        after = self.tokens[i + 3].norm if i + 3 < len(self.tokens) else ""
        return (i > 0 and self.tokens[i - 1].norm == "but") or after in _DROP_OUT

    def everything_asked(self) -> str | None:
        """The words asking for every stem ("with everything except vocals", "the works")."""
        tokens = self.tokens
        for i, tok in enumerate(tokens):
            nxt = tokens[i + 1].norm if i + 1 < len(tokens) else "."
            prev = tokens[i - 1].norm if i > 0 else ""
            if tok.norm == "everything" and (nxt in ("except", "but") or prev == "with"):
                return self.words(max(i - 1, 0), i + 1)
            if (prev, tok.norm) in (("the", "works"), ("full", "band")):
                return self.words(i - 1, i + 1)
        return None

    def everything(self, i: int) -> bool:
        """ "no nothing", "no instruments at all": every generated stem refused."""
        j = _skip(self.tokens, i, _DETERMINERS)
        if j >= len(self.tokens) or self.tokens[j].norm not in _EVERYTHING:
            return False
        after = self.tokens[j + 1].norm if j + 1 < len(self.tokens) else "."
        if after not in _BREAKS - {"with", "for", "in", "on", "to", "like"} and after != "at":
            return False  # "no beat switch", "no music theory"
        for role in _GENERATED:
            self.exclude(role, None, self.words(i - 1, j + 1), "nothing to make")
        return True

    def own(self) -> None:
        """Stems the person brings ("my own bass", "I'll add the vocals myself", "my guy is
        doing the drums") are not made."""
        tokens = self.tokens
        for i in range(1, len(tokens) - 1):
            if tokens[i].norm in _BRING_VERBS and tokens[i - 1].norm in _BRING_SUBJECTS:
                items, _ = _list_from(tokens, i + 1, self.at, adjectives=0)
                for item in items:
                    if item.start not in self.used:
                        self.used.add(item.start)
                        words = self.words(i - 1, items[-1].end)
                        self.exclude(item.role, None, words, "someone brings it")
        for m in self.at.values():
            if m.start in self.used:
                continue
            before = m.start >= 2 and _phrase_len(self.tokens, m.start - 2, _OWN_BEFORE) == 2
            after = m.end < len(self.tokens) and self.tokens[m.end].norm in _OWN_AFTER
            if before:
                self.used.add(m.start)
                self.exclude(m.role, None, self.words(m.start - 2, m.end), "you bring it")
            elif after:  # "I'll do the drums, bass and keys myself": the whole list
                items = _list_before(self.tokens, m.end, self.at, adjectives=2)
                for item in items:
                    if item.start not in self.used:
                        self.used.add(item.start)
                        words = self.words(items[0].start, m.end + 1)
                        self.exclude(item.role, None, words, "you bring it")

    def drum_parts(self) -> None:
        """ "no kicks, no snares, no hats": refusing two drum parts or more refuses the drums."""
        named = {m.role for m in self.at.values() if m.start not in self.used}
        if len(self.refused_parts) >= 2 and "drums" not in named:
            self.exclude("drums", None, "every drum part", "drum parts refused")

    def restriction_before(self, i: int) -> None:
        tokens = self.tokens
        n = _phrase_len(tokens, i, _RESTRICT_BEFORE)
        if not n or (i > 0 and tokens[i - 1].norm == "not"):  # "not just drums"
            return
        j = i + n
        while j < len(tokens) and tokens[j].norm in _RESTRICT_BEFORE_WORDS:
            j += 1  # "strip it down to just those two", "only just"
        if j < len(tokens) and tokens[j].norm in _ANAPHORA and self.anaphor(j):
            earlier = [m for m in self.at.values() if m.end <= i and m.start not in self.used]
            if earlier:
                self.restrict(earlier, self.words(earlier[0].start, j + 1))
            return
        if j < len(tokens) and tokens[j].norm in _REQUEST_VERBS:
            j += 1
            if j < len(tokens) and tokens[j].norm in _REQUEST_OBJECTS:
                j += 1
        items, _ = _list_from(tokens, j, self.at, adjectives=2)
        items = [m for m in items if m.start not in self.used]
        if items:
            self.restrict(items, self.words(i, items[-1].end))

    def anaphor(self, j: int) -> bool:
        """Whether "those" at token `j` stands for stems ("just those two", "only these.")
        rather than opening a noun phrase ("just those dark vibes")."""
        k = j + 1
        while k < len(self.tokens) and self.tokens[k].norm in _ANAPHOR_TAILS:
            k += 1
        return k >= len(self.tokens) or self.tokens[k].norm in _BREAKS

    def restriction_after(self, i: int) -> None:
        n = _phrase_len(self.tokens, i, _RESTRICT_AFTER)
        if not n:
            return
        # "808s and hats, that's it", "piano. thats it"
        end = i - 1 if i > 0 and self.tokens[i - 1].norm in (",", ".", ";", "!") else i
        items = _list_before(self.tokens, end, self.at, adjectives=2)
        items = [m for m in items if m.start not in self.used]
        if items:
            self.restrict(items, self.words(items[0].start, i + n))


def _resolve(reader: _Reader, positive: dict[str, list[_Mention]]):
    """Instruments asked for, and the roles both asked for and refused."""
    instruments: dict[str, str] = {}
    conflicts: list[str] = []
    for role, named in positive.items():
        asked = [m.word.instrument for m in named if m.word.instrument]
        refused = reader.excluded.get(role)
        if refused is None:
            if asked:
                instruments[role] = asked[0]
            continue
        # "no 808, a live bassline instead": one instrument refused, another asked for.
        refused_instruments = {w.instrument for w in refused if w is not None}
        specific = all(w is not None and not w.generic and w.instrument for w in refused)
        other = [x for x in asked if x not in refused_instruments]
        if specific and other:
            instruments[role] = other[0]
            del reader.excluded[role]
        else:
            conflicts.append(role)
    return instruments, conflicts


_SAMPLED_VOCALS = _phrases("vocal chops", "vocal chop", "vocal samples", "vocal sample")
_SAMPLED_BEFORE = _set("chopped sampled pitched chipmunk")


def _norms(tokens: list[Token], m: _Mention) -> tuple[str, ...]:
    return tuple(t.norm for t in tokens[m.start : m.end])


def parse_roles(text: str) -> RoleHints:
    """What `text` says about its stems (see the module docstring for the rules)."""
    reader = _Reader(text)
    instrumental: list[str] = []
    for i, tok in enumerate(reader.tokens):
        if tok.norm in _INSTRUMENTAL:
            instrumental.append(tok.text)
        elif not reader.affixed(i):
            reader.negation(i)
            reader.restriction_before(i)
    for i in range(len(reader.tokens)):
        reader.restriction_after(i)
    reader.own()
    reader.drum_parts()

    positive: dict[str, list[_Mention]] = {}
    for m in reader.at.values():
        if m.start in reader.used or m.word.kind == "negative":
            continue
        positive.setdefault(m.role, []).append(m)
        reader.evidence.append(Evidence("roles", f"include {m.role}", (m.text,), "named stem"))
    for m in reader.restricted:
        positive.setdefault(m.role, []).append(m)
    # "with everything except vocals", "the full works": every stem the producer makes
    if not reader.restricted and (words := reader.everything_asked()):
        for role in _GENERATED:
            if role not in reader.excluded and role not in positive:
                positive[role] = []
                reader.evidence.append(Evidence("roles", f"include {role}", (words,), "everything"))
    # "instrumental" refuses vocals; sampled vocals fit in one ("an instrumental with vocal
    # chops"), sung or rapped ones do not ("instrumental with a hook sung by a girl": a conflict).
    vocals = positive.get("vocals", [])
    sampled = all(
        _norms(reader.tokens, m) in _SAMPLED_VOCALS
        or (m.start > 0 and reader.tokens[m.start - 1].norm in _SAMPLED_BEFORE)
        for m in vocals
    )
    if instrumental and not (vocals and sampled):
        for word in instrumental:
            reader.exclude("vocals", None, word, "instrumental")
    instruments, conflicts = _resolve(reader, positive)
    return RoleHints(
        included=frozenset(positive),
        excluded=frozenset(reader.excluded),
        only=bool(reader.restricted),
        instruments=instruments,
        conflicts=tuple(sorted(conflicts)),
        evidence=tuple(reader.evidence),
    )
