"""parse / to_faust: trees, precedence, positions, round trips."""

from __future__ import annotations

import pytest

from producer.errors import FaustValidationError
from producer.faust.ast import Call, Chain, Db2Linear, Ref, Route, Section, Wire, format_number
from producer.faust.parser import parse

H = 'import("stdfaust.lib");\n'


def test_seed_script_round_trips_to_identical_text(seed_script):
    script = parse(seed_script)
    assert [d.name for d in script.definitions] == [
        "bass_process",
        "drums_process",
        "melody_process",
        "harmony_process",
    ]
    assert script.to_faust() == seed_script
    assert parse(script.to_faust()) == script


def test_precedence_follows_faust():
    # ',' binds tighter than ':', which binds tighter than '<:' and ':>'.
    script = parse(H + "process = _, _ : +, _ <: _, _ :> _;")
    proc = script.process
    assert isinstance(proc, Route)
    assert [op for op, _ in proc.steps] == ["<:", ":>"]
    first = proc.first
    assert isinstance(first, Chain) and first.op == ":"
    assert all(isinstance(item, Chain) and item.op == "," for item in first.items)


def test_parentheses_are_kept_where_they_change_meaning():
    a = parse(H + "process = _ <: (_, _ :> _);")
    b = parse(H + "process = _ <: _, _ :> _;")
    assert a != b
    assert parse(a.to_faust()) == a
    assert "(" in a.process.to_faust()


def test_whitespace_and_comments_are_insignificant():
    messy = H + "/* master */\nprocess=_:*(  ba.db2linear(-6) )  // gain\n:fi.highpass( 2,80 ) ;"
    tidy = H + "process = _ : *(ba.db2linear(-6)) : fi.highpass(2, 80);"
    assert parse(messy) == parse(tidy)


def test_values_and_calls_are_typed():
    proc = parse(H + "process = *(0.5) : *(ba.db2linear(-3)) : co.limiter_1176_R4_mono;").process
    assert isinstance(proc, Chain)
    first, second, third = proc.items
    assert isinstance(first, Section) and first.value.linear == 0.5
    assert isinstance(second, Section) and isinstance(second.value, Db2Linear)
    assert second.value.linear == pytest.approx(10 ** (-3 / 20))
    assert third == Call("co.limiter_1176_R4_mono", ())


def test_positions_point_at_the_source():
    script = parse(H + "\nbass_process = _;\nprocess = bass_process;")
    assert script.definitions[0].pos == (3, 1)
    ref = script.process
    assert isinstance(ref, Ref) and ref.pos == (4, 11)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (H + "process = _ : : _;", (2, 15)),
        (H + "process = fi.highpass(2 80);", (2, 25)),
        (H + "process = _ ? _;", (2, 13)),
        ("process = _;", (1, 1)),
    ],
)
def test_syntax_errors_name_line_and_column(text, where):
    with pytest.raises(FaustValidationError) as info:
        parse(text)
    assert (info.value.line, info.value.column) == where
    assert "syntax error" in str(info.value)


def test_numbers_print_without_exponents():
    assert format_number(1e-5) == "0.00001"
    assert format_number(-0.0) == "0"
    assert format_number(2.0) == "2"
    assert format_number(3.0, integer=True) == "3"


def test_long_chains_do_not_recurse_deeply():
    body = " : ".join(["_"] * 3000)
    script = parse(H + f"process = {body};")
    assert isinstance(script.process, Chain) and len(script.process.items) == 3000
    assert all(isinstance(item, Wire) for item in script.process.items)
