"""validate(): the allowlisted subset, hostile scripts, channel counts, stem routing."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from producer.errors import FaustValidationError
from producer.faust.validate import MAX_SCRIPT_CHARS, validate

H = 'import("stdfaust.lib");\n'

#: One script per hostile category of the issue, with a word the reason must contain.
HOSTILE = {
    "ffunction": (
        H + 'a_process = ffunction(float sinf(float), <math.h>, "");\nprocess = a_process;',
        "foreign",
    ),
    "fconstant": (
        H + "a_process = *(fconstant(int fSamplingFreq, <math.h>));\nprocess = a_process;",
        "foreign",
    ),
    "fvariable": (
        H + "a_process = *(fvariable(int count, <x.h>));\nprocess = a_process;",
        "foreign",
    ),
    "soundfile": (
        H + "a_process = soundfile(\"snd[url:{'/etc/passwd'}]\", 1);\nprocess = a_process;",
        "soundfile",
    ),
    "other import": ('import("/etc/passwd");\na_process = _;\nprocess = a_process;', "import"),
    "second import": (H + 'import("music.lib");\na_process = _;\nprocess = a_process;', "import"),
    "library": (H + 'a_process = library("/tmp/x.lib").f;\nprocess = a_process;', "library"),
    "component": (H + 'a_process = component("/tmp/x.dsp");\nprocess = a_process;', "component"),
    "rdtable": (H + "a_process = rdtable(65536, _, _);\nprocess = a_process;", "table"),
    "rwtable": (H + "a_process = rwtable(65536, 0, _, _, _);\nprocess = a_process;", "table"),
    "long delay": (H + "a_process = de.delay(100000000, 10);\nprocess = a_process;", "max_delay"),
    "long echo": (H + "a_process = ef.echo(60, 30, 0.5);\nprocess = a_process;", "max_duration"),
    "delay operator": (H + "a_process = _ @ 1000000000;\nprocess = a_process;", "delay"),
    "recursion": (H + "a_process = + ~ _;\nprocess = a_process;", "recursion"),
    "self reference": (H + "a_process = a_process;\nprocess = a_process;", "reference"),
    "expansion": (H + "a_process = par(i, 1000000, _);\nprocess = a_process;", "iteration"),
    "with": (H + "a_process = f with { f = _; };\nprocess = a_process;", "local"),
    "syntax": (H + "a_process = _ : ;\nprocess = a_process;", "syntax"),
    "arity": (H + "a_process = fi.highpass(2);\nprocess = a_process;", "syntax"),
    "channels": (
        H + "a_process = _ : co.compressor_stereo(4, -20, 0.01, 0.1);\nprocess = a_process;",
        "channels",
    ),
    "unknown function": (H + "a_process = os.osc(440);\nprocess = a_process;", "allowlisted"),
    "ui element": (
        H + 'a_process = *(hslider("g", 1, 0, 2, 0.1));\nprocess = a_process;',
        "hslider",
    ),
    "huge": (
        H + "a_process = _" + " : _" * (MAX_SCRIPT_CHARS // 4) + ";\nprocess = a_process;",
        "too long",
    ),
    "nesting": (
        H + "a_process = " + "(" * 200 + "_" + ")" * 200 + ";\nprocess = a_process;",
        "nesting",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_scripts_are_refused_quickly_with_a_reason(name):
    text, word = HOSTILE[name]
    start = time.perf_counter()
    with pytest.raises(FaustValidationError) as info:
        validate(text)
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert word in message.lower(), message
    assert "\n" not in message


def test_seed_script_validates_as_four_mono_stems(seed_script):
    v = validate(seed_script, n_stems=4)
    assert v.stem_roles == ("bass", "drums", "melody", "harmony")
    assert (v.inputs, v.outputs, v.channels_per_stem) == (4, 1, 1)


def test_stereo_layout_with_master():
    text = (
        H
        + "drums_process = co.compressor_stereo(4, -18, 0.003, 0.1);\n"
        + "bass_process = fi.lowpass(2, 300), fi.lowpass(2, 300);\n"
        + "master_process = co.limiter_1176_R4_stereo;\n"
        + "process = drums_process, bass_process :> master_process;\n"
    )
    v = validate(text, roles=["bass", "drums"])
    assert (v.inputs, v.outputs, v.channels_per_stem) == (4, 2, 2)
    assert v.stem_roles == ("drums", "bass")


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("a_process = fi.highpass(9, 100);", "order"),
        ("a_process = fi.highpass(2.5, 100);", "syntax"),  # INT in the grammar
        ("a_process = co.compressor_mono(0.5, -20, 0.01, 0.1);", "ratio"),
        ("a_process = re.mono_freeverb(1.2, 0.5, 0.5, 1);", "room_feedback"),
        ("a_process = ef.echo(1, 2, 0.5);", "exceeds"),
        ("a_process = *(100);", "gain"),
        ("a_process = *(ba.db2linear(60));", "level"),
    ],
)
def test_argument_ranges(body, word):
    with pytest.raises(FaustValidationError) as info:
        validate(H + body + "\nprocess = a_process;")
    assert word in str(info.value)


def test_frequencies_are_checked_against_nyquist():
    text = H + "a_process = fi.lowpass(2, 15000);\nprocess = a_process;"
    validate(text, sample_rate=44100)
    with pytest.raises(FaustValidationError, match="Nyquist"):
        validate(text, sample_rate=22050)


@pytest.mark.parametrize(
    ("text", "word", "kwargs"),
    [
        ("a_process = _;\na_process = _;\nprocess = a_process;", "defined twice", {}),
        ("a_process = _;\nb_process = _;\nprocess = a_process;", "not used", {}),
        ("process = b_process;", "not defined", {}),
        ("a_process = _;\nprocess = a_process, a_process;", "more than once", {}),
        (
            "a_process = _;\nb_process = _;\nprocess = a_process, b_process :> _;",
            "3 were given",
            {"n_stems": 3},
        ),
        (
            "a_process = _;\nprocess = a_process;",
            "no <role>_process for stems b",
            {"roles": ["a", "b"]},
        ),
        ("a_process = _;\nprocess = _, _, _ : a_process, _, _ :> _;", "input channels", {}),
        ("a_process = _ <: _, _, _;\nprocess = a_process;", "1 or 2", {}),
        ("master_process = _;\nprocess = master_process;", "no stems", {}),
        ("a_process = _, _;\nb_process = _;\nprocess = a_process, b_process :> _;", "stereo", {}),
        ("a_process = _;\nprocess = a_process <: _, _, _;", "mono or stereo", {}),
        ("a_process = _, _ :> _, _, _;\nprocess = a_process;", ":>", {}),
    ],
)
def test_routing_and_definitions(text, word, kwargs):
    with pytest.raises(FaustValidationError) as info:
        validate(H + text, **kwargs)
    assert word in str(info.value)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list('_!+-*,:<>();=.0123456789 \nabfiporcesdmulhq"~@')),
        max_size=200,
    )
)
def test_arbitrary_text_gets_a_validation_error_or_passes(tail):
    # Whatever a user (or a broken model) types, the only failure is a FaustValidationError.
    try:
        validate(H + tail)
    except FaustValidationError as err:
        assert str(err)
