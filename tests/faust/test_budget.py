"""The resource budget: hostile scripts that pass every range are refused with the line and the
limit; every script the product writes, and realistic hand-written ones, pass well inside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from producer.errors import FaustValidationError
from producer.faust import budget
from producer.faust.ast import Call
from producer.faust.budget import (
    MAX_COMPILE_SECONDS,
    MAX_DELAY_BYTES,
    MAX_GAIN_DB,
    assess,
    call_delay_bytes,
    compile_seconds,
)
from producer.faust.docs import mix_language_markdown
from producer.faust.parser import parse
from producer.faust.validate import channels, validate
from producer.faust.writer import random_script
from producer.mixing.reference import style_targets
from producer.mixing.teacher import template_script
from tests.mixing import synthetic

H = 'import("stdfaust.lib");\n\n'
SEED = Path(__file__).parents[1] / "fixtures" / "seed_mix.dsp"
ROLES = ["drums", "bass", "melody", "harmony", "vocals", "fx"]

#: The writer language's most expensive stem chain: every slot filled, the largest filter orders
#: and EQ boosts, the loudest fader and reverb send (see producer/faust/writer.py).
WORST_WRITER_CHAIN = (
    "ef.gate_mono(-50, 0.001, 0.01, 0.1) : fi.highpass(4, 400) : fi.lowpass(4, 2000) : "
    "fi.low_shelf(12, 300) : fi.peak_eq_cq(12, 2000, 6) : fi.high_shelf(12, 2000) : "
    "co.compressor_mono(8, -36, 0.001, 0.05) : ef.cubicnl(0.5, 0) : *(2) : "
    "(_ <: _, (re.mono_freeverb(0.92, 0.5, 0.2, 23) : *(0.2)) :> _) : sp.panner(0.5)"
)


def _chain(block: str, n: int) -> str:
    """A one-stem script whose stem process chains `block` n times, on line 3."""
    return H + f"drums_process = {' : '.join([block] * n)};\n\nprocess = drums_process;\n"


def _budget(text: str) -> budget.Budget:
    """What a (parsed, not validated) script uses of each limit."""
    script = parse(text)
    return assess(script, lambda e: channels(e, script))


def _refused(text: str) -> FaustValidationError:
    with pytest.raises(FaustValidationError) as info:
        validate(text)
    return info.value


# --- the hostile cases of issue 16 -----------------------------------------------------------


def test_two_hundred_ten_second_echoes_are_refused_for_their_memory():
    err = _refused(_chain("ef.echo(10, 10, 0.95)", 200))
    assert err.line == 3
    assert "delay lines need 1600 MB, over the 64 MB limit" in err.reason
    # The line where the total passes the limit: the 9th echo (8 MB each at 192 kHz).
    assert err.column == 1 + len("drums_process = ") + 8 * len("ef.echo(10, 10, 0.95) : ")


def test_three_hundred_echoes_are_refused_before_libfaust_fails_late():
    err = _refused(_chain("ef.echo(10, 10, 0.95)", 300))
    assert "over the 64 MB limit" in err.reason and err.line == 3


def test_eighty_reverbs_in_a_chain_are_refused_for_their_compile_time():
    err = _refused(_chain("re.mono_freeverb(0.9, 0.5, 0.2, 23)", 80))
    assert err.line == 3
    assert "compile (80 re.mono_freeverb), over the 5 s limit" in err.reason
    # Measured: 76 s (the issue); estimated ~87 s.
    assert "about 87 s" in err.reason


def test_compile_time_grows_with_the_square_of_the_chain():
    times = [
        _budget(_chain("re.mono_freeverb(0.9, 0.5, 0.2, 23)", n)).compile_seconds for n in (5, 10)
    ]
    # Measured cold on 2 vCPUs: 0.54 s and 1.63 s (benchmarks/RESULTS.md); the estimate is above.
    assert 0.54 <= times[0] < 0.8 and 1.63 <= times[1] < 2.2
    assert _refused(_chain("re.mono_freeverb(0.9, 0.5, 0.2, 23)", 25)).line == 3


def test_fifty_offsets_are_refused_for_their_dc():
    err = _refused(_chain("+(1)", 50))
    assert (err.line, err.column) == (3, 17)  # the first offset: every one adds as much
    assert "DC of up to 50, over the limit of 10" in err.reason
    assert "fi.dcblocker" in err.reason


def test_thirty_two_gains_of_16_are_refused_where_they_pass_the_limit():
    err = _refused(_chain("*(16)", 32))
    assert err.line == 3
    # The 5th *(16) reaches 16^5 = +120 dB.
    assert err.column == 1 + len("drums_process = ") + 4 * len("*(16) : ")
    assert f"static gain reaches +120 dB here, over the +{MAX_GAIN_DB:.0f} dB limit" in err.reason


def test_refusals_name_the_line_of_the_block_on_a_later_line():
    text = (
        H
        + "drums_process = fi.highpass(2, 30);\n"
        + "bass_process = "
        + " : ".join(["de.delay(480000, 100)"] * 40)
        + ";\n\nprocess = drums_process, bass_process :> _;\n"
    )
    err = _refused(text)
    assert err.line == 4 and "over the 64 MB limit" in err.reason


# --- what is counted ---------------------------------------------------------------------------


def test_delay_memory_is_what_libfaust_allocates_at_192_khz():
    # ma.SR's interval tops out at 192 kHz, and lines are rounded up to powers of two.
    assert call_delay_bytes(Call("ef.echo", (1.0, 0.5, 0.5))) == 262144 * 4
    assert call_delay_bytes(Call("ef.echo", (10.0, 10.0, 0.5))) == 2097152 * 4
    assert call_delay_bytes(Call("de.delay", (480000.0, 100.0))) == 524288 * 4
    assert call_delay_bytes(Call("re.mono_freeverb", (0.9, 0.5, 0.2, 23.0))) == 73728 * 4
    assert call_delay_bytes(Call("fi.highpass", (2.0, 30.0))) == 0


def test_a_dc_blocker_or_high_pass_clears_an_offset():
    assert _budget(_chain("+(1)", 1)).dc == 1.0  # as large as the signal: still accepted
    validate(_chain("+(1)", 1))
    assert "DC of up to 11" in _refused(_chain("+(1)", 11)).reason
    for cleared in ("+(1) : +(1) : fi.dcblocker", "+(0.5) : +(0.5) : fi.highpass(2, 20)"):
        text = H + f"drums_process = {cleared};\n\nprocess = drums_process;\n"
        assert _budget(text).dc == 0.0


def test_a_split_into_many_copies_of_one_input_counts_as_gain():
    # `_ <: si.bus(64) :> _` is 64 × the input: routing is gain too.
    block = "(_ <: si.bus(64) :> _)"
    assert _budget(_chain(block, 2)).gain_db == pytest.approx(72.2, abs=0.1)
    assert "static gain" in _refused(_chain(block, 5)).reason  # +181 dB


def test_summing_stems_is_not_gain():
    # Six stems at unity into one bus: each still reaches the master at unity.
    defs = "".join(f"{r}_process = _;\n" for r in ROLES)
    text = H + defs + "\nprocess = " + ", ".join(f"{r}_process" for r in ROLES) + " :> _;\n"
    assert _budget(text).gain_db == pytest.approx(0.0)


def test_a_saturator_bounds_what_it_gives():
    # Five *(16) in a row pass the limit; a saturator after the fourth clips the level back.
    assert "static gain" in _refused(_chain("*(16)", 5)).reason
    validate(_chain(" : ".join(["*(16)"] * 4) + " : ef.cubicnl(0.5, 0) : *(16)", 1))


# --- nothing legitimate is refused -------------------------------------------------------------


def test_the_seed_script_and_the_docs_example_pass():
    for text in (SEED.read_text(), _docs_example()):
        validate(text)
        b = _budget(text)
        assert b.compile_seconds < 1 and b.gain_db < 30 and b.delay_bytes < 4 * 2**20


def _docs_example() -> str:
    doc = mix_language_markdown()
    return doc.split("```faust\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("sample_rate", [22050, 44100, 48000])
def test_three_hundred_writer_scripts_pass_well_inside_the_budget(sample_rate):
    worst = {"seconds": 0.0, "gain": -1e9, "memory": 0}
    for seed in range(300):
        text = random_script(ROLES, np.random.default_rng(seed), sample_rate)
        script = validate(text, roles=ROLES, sample_rate=sample_rate).script
        b = assess(script, lambda e, s=script: channels(e, s))
        worst = {
            "seconds": max(worst["seconds"], b.compile_seconds),
            "gain": max(worst["gain"], b.gain_db),
            "memory": max(worst["memory"], b.delay_bytes),
        }
    # Measured over these seeds: ≤ 0.7 s, ≤ +30 dB, ≤ 3.5 MB.
    assert worst["seconds"] < MAX_COMPILE_SECONDS / 4
    assert worst["gain"] < MAX_GAIN_DB - 40
    assert worst["memory"] < MAX_DELAY_BYTES / 8


def test_the_writers_most_expensive_mix_passes_for_every_role():
    defs = "".join(f"{r}_process = {WORST_WRITER_CHAIN};\n" for r in ROLES)
    master = "co.compressor_stereo(8, -36, 0.001, 0.05) : co.limiter_1176_R4_stereo"
    stems = ", ".join(f"{r}_process" for r in ROLES)
    text = H + defs + f"master_process = {master};\n\nprocess = {stems} :> master_process;\n"
    b = _budget(text)
    # Measured whole: 1.5 s for 6 stems, 2.1 s for 8 (benchmarks/RESULTS.md).
    assert b.compile_seconds < MAX_COMPILE_SECONDS
    assert b.gain_db < MAX_GAIN_DB - 30


def test_the_teachers_template_passes():
    sr = 22050
    stems = synthetic.stems(seconds=2.0, sr=sr)
    text = template_script(stems, sr, style_targets("trap"))
    validate(text, roles=list(stems), sample_rate=sr)


def test_budget_figures_are_consistent():
    assert compile_seconds(0.0, 0.0) == 0.0
    # 17 reverbs in a chain are the most the estimate lets through (their gain is refused first).
    rev = "re.mono_freeverb(0.9, 0.5, 0.2, 23)"
    assert _budget(_chain(rev, 17)).compile_seconds <= MAX_COMPILE_SECONDS
    assert _budget(_chain(rev, 18)).compile_seconds > MAX_COMPILE_SECONDS
