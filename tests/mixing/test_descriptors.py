"""Tests for producer.mixing.descriptors: prompt words that move the mix targets."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from producer.mixing.descriptors import (
    BANDS,
    DESCRIPTORS,
    MAX_TONAL_OFFSET_DB,
    QUANTITIES,
    ROLE_FROM_WORDS,
    Descriptor,
    DescriptorMatch,
    apply_descriptors,
    descriptor_pairs,
    descriptor_table_markdown,
    find_descriptors,
    side_level_db,
    target_value,
)
from producer.mixing.targets import MixTargets

DOC = Path(__file__).resolve().parents[2] / "docs" / "mix_descriptors.md"
BY_NAME = {d.name: d for d in DESCRIPTORS}


def targets() -> MixTargets:
    return MixTargets(
        balance_lu={
            "drums": (-4, 0),
            "bass": (-5, -1),
            "melody": (-10, -4),
            "harmony": (-12, -5),
            "vocals": (-6, -1),
            "other": (-20, -10),
        }
    )


def applied(prompt: str, base: MixTargets | None = None) -> tuple[MixTargets, list[str]]:
    moved, matches = apply_descriptors(base or targets(), prompt)
    return moved, [m.name for m in matches if m.applied]


def statuses(prompt: str) -> dict[str, str]:
    return {m.name: m.status for m in find_descriptors(prompt)}


def assert_moved_by(d: Descriptor, role: str | None, before: MixTargets, after: MixTargets):
    """`after` is `before` moved by exactly `d.move` (no clamp reached with the test targets)."""
    move = d.move
    if move.balance_lu:
        assert role is not None
        shift = target_value(after, "balance_lu", role) - target_value(before, "balance_lu", role)
        assert shift == pytest.approx(move.balance_lu)
    else:
        assert after.balance_lu == before.balance_lu
    for band in BANDS:
        assert after.tonal_offset_db.get(band, 0.0) == pytest.approx(move.tonal_db.get(band, 0.0))
    assert target_value(after, "width") - target_value(before, "width") == pytest.approx(
        move.width_db
    )
    assert after.plr_db[0] - before.plr_db[0] == pytest.approx(move.plr_db[0])
    assert after.plr_db[1] - before.plr_db[1] == pytest.approx(move.plr_db[1])
    assert after.master_lufs - before.master_lufs == pytest.approx(move.master_lu)
    lo = max(0.0, before.drive[0] + move.drive[0])
    hi = min(1.0, max(lo, before.drive[1] + move.drive[1]))
    assert after.drive == pytest.approx((lo, hi))


# --------------------------------------------------------------------------- the table


def test_bands_are_the_quality_meters_bands():
    from producer.audio.quality import BANDS as QUALITY_BANDS

    assert tuple(name for name, _, _ in QUALITY_BANDS) == BANDS


def test_table_is_well_formed():
    names = [d.name for d in DESCRIPTORS]
    assert len(names) == len(set(names))
    for d in DESCRIPTORS:
        assert d.side in (-1, 1)
        assert len(d.examples) >= 2, d.name
        assert d.why
        opposite = BY_NAME[d.opposite]
        assert opposite.axis == d.axis and opposite.side == -d.side, d.name
        assert set(d.move.tonal_db) <= set(BANDS)
        assert d.move.describe() != "no change"


@pytest.mark.parametrize("d", DESCRIPTORS, ids=lambda d: d.name)
def test_every_move_is_measurable(d: Descriptor):
    """At least 1.5 LU or dB, so that a mix meeting the moved target measures differently."""
    move = d.move
    values = [move.balance_lu, move.width_db, move.master_lu, *move.tonal_db.values()]
    values += list(move.plr_db)
    for value in values:
        assert value == 0 or abs(value) >= 1.5, (d.name, value)
    for value in move.drive:
        assert value == 0 or abs(value) >= 0.15, (d.name, value)


def test_opposites_move_opposite_ways():
    for d in DESCRIPTORS:
        o = BY_NAME[d.opposite]
        a, b = d.move, o.move
        fields = [
            (a.balance_lu, b.balance_lu),
            (a.width_db, b.width_db),
            (a.master_lu, b.master_lu),
            *zip(a.plr_db, b.plr_db, strict=True),
            *zip(a.drive, b.drive, strict=True),
            *((a.tonal_db.get(k, 0.0), b.tonal_db.get(k, 0.0)) for k in BANDS),
        ]
        assert all(x * y <= 0 for x, y in fields), (d.name, o.name)
        assert any(x * y < 0 for x, y in fields), (d.name, o.name)


# --------------------------------------------------------------------------- phrasings


EXAMPLES = [(d, ex) for d in DESCRIPTORS for ex in d.examples]


@pytest.mark.parametrize(("d", "words"), EXAMPLES, ids=[f"{d.name}:{w}" for d, w in EXAMPLES])
def test_each_phrasing_is_found_and_moves_by_the_table(d: Descriptor, words: str):
    for prompt in (words, f"make a trap beat, {words}, 140 bpm", words.upper()):
        before = targets()
        after, matches = apply_descriptors(before, prompt)
        assert [(m.name, m.status) for m in matches] == [(d.name, "applied")], prompt
        assert_moved_by(d, matches[0].role, before, after)


@pytest.mark.parametrize(
    ("prompt", "name", "role"),
    [
        ("trap beat with heavy 808s", "heavy_bass", "bass"),
        ("a booming 808 and a big sub", "heavy_bass", "bass"),
        ("808-heavy drill", "heavy_bass", "bass"),
        ("bass heavy boom bap", "heavy_bass", "bass"),
        ("the 808 up front", "heavy_bass", "bass"),
        ("light on the 808s", "light_bass", "bass"),
        ("subtle bass, thin low end", "light_bass", "bass"),
        ("kick up front", "forward", "drums"),
        ("drums forward", "forward", "drums"),
        ("snare loud", "forward", "drums"),
        ("vox up front", "forward", "vocals"),
        ("hook up front", "forward", "vocals"),
        ("lead vocals up front", "forward", "vocals"),
        ("chords forward", "forward", "harmony"),
        ("pads up front", "forward", "harmony"),
        ("melody up front", "forward", "melody"),
        ("synth lead loud", "forward", "melody"),
        ("the lead tucked", "back", "melody"),
        ("keys buried", "back", "harmony"),
        ("vocals sitting back in the mix", "back", "vocals"),
        ("punchy kicks", "punchy_drums", "drums"),
        ("a beat that knocks", "punchy_drums", "drums"),
        ("soft kick", "soft_drums", "drums"),
    ],
)
def test_role_words(prompt: str, name: str, role: str):
    before = targets()
    after, matches = apply_descriptors(before, prompt)
    assert {(m.name, m.role) for m in matches if m.applied} == {(name, role)}
    assert_moved_by(BY_NAME[name], role, before, after)


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("loud vocals", "forward"),  # the vocals, not a loud master
        ("soft kick", "soft_drums"),  # the drums, not a quiet master
        ("soft piano", "back"),
        ("crisp hats", "crisp_hats"),  # the hats, not the whole mix bright
        ("bright hats", "crisp_hats"),
        ("dark hats", "soft_hats"),  # not the mood word
        ("loud 808s", "heavy_bass"),
        ("tape warmth", "dusty"),
        ("vocals in your face", "forward"),
        ("dark-sounding mix", "dark_tone"),
    ],
)
def test_specific_phrases_win_over_general_words(prompt: str, name: str):
    assert applied(prompt)[1] == [name]


@pytest.mark.parametrize(
    "prompt",
    [
        "trap beat at 140 bpm in F minor",
        "lofi hip hop beat",  # the style, not the dusty sound
        "lo-fi beat with piano",
        "bring the vocals back",  # return, not tuck
        "keep the low end in mono",  # every mix does (targets.MONO_BELOW_HZ)
        "mono bass",
        "a tight groove",  # timing, not width
        "background vocals",  # a part, not a level
        "export a stereo file",
        "clean version please",
        "boom bap with a clean bass guitar",  # an undistorted instrument, not a polished mix
        "clean electric guitar riff",
        "a rough mix",
        "808 mafia type beat",
        "",
    ],
)
def test_prompts_without_descriptors_leave_targets_unchanged(prompt: str):
    base = targets()
    moved, matches = apply_descriptors(base, prompt)
    assert matches == []
    assert moved is base


@pytest.mark.parametrize(
    ("prompt", "name", "role"),
    [
        # From the evaluation prompts (producer/data/eval_prompts*.jsonl).
        ("yo cook up sum hard for me, ATL type, 808s gotta knock", "heavy_bass", "bass"),
        ("boom bap beat, no drums, and make the drums really loud", "forward", "drums"),
        ("boom-bap beat, leave out the bass, keep the kicks punchy", "punchy_drums", "drums"),
        ("SP-1200 crunchy drums and a filtered bassline", "raw", None),
        ("lofi beat minus the vinyl crackle, i hate that sound", None, None),
        ("drill with a brooding sub and nothing but hats on top", None, None),
        ("pluggnb-ish trap with a dreamy synth lead and soft 808s", "light_bass", "bass"),
        ("study beat, soft piano, vinyl crackle, rain", "back", "harmony"),
    ],
)
def test_real_prompts(prompt: str, name: str | None, role: str | None):
    matches = [m for m in find_descriptors(prompt) if m.applied]
    if name is None:
        assert matches == []
    else:
        assert (matches[0].name, matches[0].role) == (name, role)


def test_lofi_colours_another_style():
    assert applied("lo-fi boom bap")[1] == ["dusty"]
    assert applied("a lofi trap beat")[1] == ["dusty"]
    assert applied("lo-fi'd drums")[1] == ["dusty"]


# --------------------------------------------------------------------------- negation


@pytest.mark.parametrize(
    ("prompt", "negated"),
    [
        ("not too bright", {"bright"}),
        ("no distortion", {"raw"}),
        ("without distortion or grit", {"raw"}),
        ("nothing too loud", {"loud"}),
        ("don't make it too wide", {"wide"}),
        ("not bright or loud", {"bright", "loud"}),
        ("neither bright nor loud", {"bright", "loud"}),
        ("not too dark", {"dark"}),
        ("anything but dusty", {"dusty"}),
        ("no heavy 808s", {"heavy_bass"}),
        ("less bright", {"bright"}),
    ],
)
def test_negated_descriptors_change_nothing(prompt: str, negated: set[str]):
    base = targets()
    moved, matches = apply_descriptors(base, prompt)
    assert {m.name for m in matches} == negated
    assert all(m.status == "negated" and not m.applied for m in matches)
    assert all("negated" in m.change for m in matches)
    assert moved == base  # and the opposite is not applied either


def test_negation_stays_in_its_clause():
    assert statuses("no vocals, heavy 808s") == {"heavy_bass": "applied"}
    assert statuses("no vocals just heavy 808s") == {"heavy_bass": "applied"}
    moved, matches = apply_descriptors(targets(), "loud but not slammed")
    assert [(m.name, m.status) for m in matches] == [("loud", "applied"), ("loud", "negated")]
    assert moved.master_lufs == pytest.approx(targets().master_lufs + 4.5)


# --------------------------------------------------------------------------- cancellation


@pytest.mark.parametrize(
    ("prompt", "cancelled"),
    [
        ("bright but muffled", {"bright", "dark_tone"}),
        ("heavy 808s, light bass", {"heavy_bass", "light_bass"}),
        ("vocals up front, vocals buried", {"forward", "back"}),
        ("wide and mono", {"wide", "narrow"}),
        ("loud and dynamic", {"loud", "dynamic"}),
        ("dusty but clean", {"dusty", "clean"}),
        ("punchy kick, soft drums", {"punchy_drums", "soft_drums"}),
        ("crisp hats, soft hats", {"crisp_hats", "soft_hats"}),
    ],
)
def test_opposites_cancel_and_are_reported(prompt: str, cancelled: set[str]):
    base = targets()
    moved, matches = apply_descriptors(base, prompt)
    assert {m.name for m in matches} == cancelled
    assert all(m.status == "cancelled" and "cancelled by" in m.change for m in matches)
    assert moved == base


def test_role_axes_cancel_per_role():
    before = targets()
    after, matches = apply_descriptors(before, "vocals up front, keys tucked back")
    assert {(m.name, m.role, m.status) for m in matches} == {
        ("forward", "vocals", "applied"),
        ("back", "harmony", "applied"),
    }
    assert target_value(after, "balance_lu", "vocals") == pytest.approx(-3.5 + 2.5)
    assert target_value(after, "balance_lu", "harmony") == pytest.approx(-8.5 - 2.5)


def test_synonyms_do_not_stack_but_axes_add():
    one, _ = applied("muffled")
    three, names = applied("dark, muffled and dull")
    assert names == ["dark_tone"]  # the mood word gives way; "muffled", "dull" are one descriptor
    assert three == one
    # Same side of one axis, different descriptors: the larger move per quantity.
    both, names = applied("muffled and warm")
    assert set(names) == {"dark_tone", "warm"}
    assert both.tonal_offset_db == {"high_mid": -2.0, "high": -3.0, "low_mid": 1.5}
    # Different axes add.
    bright_hats, names = applied("bright mix with crisp hats")
    assert set(names) == {"bright", "crisp_hats"}
    assert bright_hats.tonal_offset_db["high"] == pytest.approx(3.0 + 2.0)


def test_totals_are_capped():
    moved, names = applied("bright and clean with crisp hats")  # high +3 +1.5 +2
    assert set(names) == {"bright", "clean", "crisp_hats"}
    assert moved.tonal_offset_db["high"] == pytest.approx(MAX_TONAL_OFFSET_DB)
    loud_base = replace(targets(), master_lufs=-9.0, plr_db=(5.0, 9.0))
    moved, _ = applied("slammed", loud_base)
    assert moved.master_lufs == pytest.approx(-7.0)
    assert moved.plr_db[0] >= 4.0 and moved.plr_db[1] >= moved.plr_db[0] + 2.0
    moved, _ = applied("clean")
    assert moved.drive == pytest.approx((0.0, 0.1))
    moved, _ = applied("wide", replace(targets(), width=(0.3, 0.55)))
    assert moved.width[1] == pytest.approx(0.6)


def test_missing_role_leaves_targets_unchanged_and_says_so():
    base = MixTargets(balance_lu={"drums": (-4, 0), "bass": (-5, -1)})
    moved, matches = apply_descriptors(base, "vocals up front")
    assert moved == base
    assert matches[0].applied and "no vocals range" in matches[0].change


# --------------------------------------------------------------------------- "dark"


def test_dark_as_a_mood_is_a_small_tilt():
    moved, names = applied("dark trap beat with heavy 808s")
    assert set(names) == {"dark", "heavy_bass"}
    assert moved.tonal_offset_db["high"] == pytest.approx(-1.5)
    assert "high_mid" not in moved.tonal_offset_db
    full, _ = applied("dark-sounding trap beat")
    assert full.tonal_offset_db["high"] < moved.tonal_offset_db["high"]


@pytest.mark.parametrize(
    ("prompt", "winner", "alone"),
    [
        ("dark trap beat, bright mix", "bright", "bright"),
        ("dark and muffled", "dark_tone", "muffled"),
        ("dark, warm keys", "warm", "warm"),
    ],
)
def test_dark_mood_gives_way_to_tonal_words(prompt: str, winner: str, alone: str):
    found = statuses(prompt)
    assert found["dark"] == "overruled" and found[winner] == "applied"
    assert applied(prompt)[0] == applied(alone)[0]


def test_dark_mood_does_not_cancel_a_tilt_on_another_axis():
    moved, names = applied("dark trap beat with crisp hats")
    assert set(names) == {"dark", "crisp_hats"}
    assert moved.tonal_offset_db["high"] == pytest.approx(-1.5 + 2.0)


# --------------------------------------------------------------------------- reporting


def test_matches_report_words_and_change():
    _, matches = apply_descriptors(targets(), "Heavy 808s, bass heavy, vocals tucked back")
    heavy = matches[0]
    assert heavy.name == "heavy_bass" and heavy.words == ("Heavy 808s", "bass heavy")
    assert heavy.change == "bass +3 LU; sub +3 dB, bass band +2 dB"
    assert str(matches[1]) == 'back ("vocals tucked back"): vocals -2.5 LU'
    record = json.loads(json.dumps([m.to_dict() for m in matches]))
    assert record[1] == {
        "name": "back",
        "words": ["vocals tucked back"],
        "change": "vocals -2.5 LU",
        "status": "applied",
        "role": "vocals",
    }
    assert isinstance(heavy, DescriptorMatch)


# --------------------------------------------------------------------------- pairs


def test_descriptor_pairs_cover_styles_and_quantities():
    from producer.plan import STYLES

    pairs = descriptor_pairs()
    assert len(pairs) >= 24
    assert {p.style for p in pairs} == set(STYLES)
    assert {p.quantity for p in pairs} == set(QUANTITIES)
    assert len({(p.prompt_up, p.prompt_down) for p in pairs}) == len(pairs)
    for p in pairs:
        if p.quantity == "balance_lu":
            assert p.role_or_band in targets().balance_lu
        elif p.quantity == "band_db":
            assert p.role_or_band in BANDS
        else:
            assert p.role_or_band is None


@pytest.mark.parametrize("pair", descriptor_pairs(), ids=lambda p: p.prompt_up)
def test_each_pair_moves_its_quantity_the_stated_way(pair):
    up, up_matches = apply_descriptors(targets(), pair.prompt_up)
    down, down_matches = apply_descriptors(targets(), pair.prompt_down)
    # One descriptor each, and the prompts differ only in its words.
    assert [m.status for m in up_matches] == ["applied"]
    assert [m.status for m in down_matches] == ["applied"]
    assert up_matches[0].name != down_matches[0].name
    (up_words,), (down_words,) = up_matches[0].words, down_matches[0].words
    assert pair.prompt_up.replace(up_words, "") == pair.prompt_down.replace(down_words, "")
    delta = target_value(up, pair.quantity, pair.role_or_band) - target_value(
        down, pair.quantity, pair.role_or_band
    )
    assert delta >= 1.5


def test_width_is_measured_in_side_level_db():
    assert side_level_db(0.5) == pytest.approx(0.0)
    assert side_level_db(0.2) == pytest.approx(10 * math.log10(0.25))
    before = targets()
    after, _ = applied("wide")
    for b, a in zip(before.width, after.width, strict=True):
        assert side_level_db(a) - side_level_db(b) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="quantity must be one of"):
        target_value(before, "loudness")


# --------------------------------------------------------------------------- docs


def test_doc_holds_the_generated_table():
    table = descriptor_table_markdown()
    assert table in DOC.read_text(encoding="utf-8")
    rows = [line for line in table.splitlines()[2:]]
    assert len(rows) == len(DESCRIPTORS)
    for d, row in zip(DESCRIPTORS, rows, strict=True):
        assert row.startswith(f"| `{d.name}`")
    assert ROLE_FROM_WORDS not in table
