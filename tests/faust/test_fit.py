"""fit_script: a writer-language script that reproduces a mix from its stems."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xgrammar as xgr

from producer.errors import AudioInputError, ProducerError
from producer.faust.fit import fit_script
from producer.faust.parser import parse
from producer.faust.render import render
from producer.faust.validate import validate
from producer.faust.writer import writer_ebnf
from tests.conftest import SR, synth_stem

ROLES = ("drums", "bass", "melody", "harmony")


def _in_writer_language(text: str, roles, sample_rate: int = SR) -> bool:
    grammar = xgr.Grammar.from_ebnf(writer_ebnf(roles, sample_rate), root_rule_name="root")
    return xgr.testing._is_grammar_accept_string(grammar, text)


def _panned(stems, gains, pans) -> np.ndarray:
    """The writer's signal path by hand: mono downmix × gain, linear pan, summed."""
    mix = np.zeros((2, next(iter(stems.values())).shape[1]))
    for role, stem in stems.items():
        mono = stem.mean(axis=0)
        mix[0] += gains[role] * (1 - pans[role]) * mono
        mix[1] += gains[role] * pans[role] * mono
    return mix


def _chains(text: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+)_process = (.*);$", text, flags=re.M))


def _gain(chain: str) -> float:
    """The fader gain of a fitted chain (no fader means unity)."""
    m = re.search(r"\*\(([\d.]+)\)", chain)
    return float(m.group(1)) if m else 1.0


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def stems():
    return {role: synth_stem(role, seconds=1.5) for role in ROLES}


def test_recovers_known_gains_and_pans(stems):
    gains = {"drums": 1.2, "bass": 0.5, "melody": 0.8, "harmony": 0.3}
    pans = {"drums": 0.5, "bass": 0.45, "melody": 0.3, "harmony": 0.75}
    mix = _panned(stems, gains, pans)
    text = fit_script(stems, mix, SR)
    chains = _chains(text)
    assert list(chains) == [*ROLES, "master"]
    for role in ROLES:
        assert chains[role] == f"*({gains[role]:g}) : sp.panner({pans[role]:g})", text
    assert chains["master"] == "_, _"
    out = render(text, stems, SR, target_lufs=None)
    assert _corr(out, mix) > 0.99


def test_fitted_script_reproduces_a_mastered_mix(stems):
    # A mix rendered by a script with gains and pans, then mastered to -14 LUFS (loudness gain
    # plus a true-peak limiter): relative gains survive, so the fit still sounds the same.
    truth = (
        'import("stdfaust.lib");\n\n'
        "drums_process = *(0.9) : sp.panner(0.5);\n"
        "bass_process = *(1.4) : sp.panner(0.5);\n"
        "melody_process = *(0.35) : sp.panner(0.25);\n"
        "harmony_process = *(0.6) : sp.panner(0.7);\n"
        "master_process = _, _;\n\n"
        "process = drums_process, bass_process, melody_process, harmony_process :> master_process;\n"
    )
    mix = render(truth, stems, SR, target_lufs=-14)
    text = fit_script(stems, mix, SR)
    out = render(text, stems, SR, target_lufs=-14)
    assert _corr(out, mix) > 0.95
    ratio = _gain(_chains(text)["bass"]) / _gain(_chains(text)["melody"])
    assert 3.0 < ratio < 5.0  # truth: 1.4 / 0.35 = 4


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pink-ish broadband noise, so every band carries energy (EQ is then observable)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    x = np.fft.irfft(spectrum, n)
    x = 0.2 * x / x.std()
    return np.stack([x, x]).astype(np.float32)


def test_recovers_shelves_through_their_phase_shift():
    rng = np.random.default_rng(0)
    stems = {role: _noise(rng, SR) for role in ("drums", "bass", "melody")}
    truth = (
        'import("stdfaust.lib");\n\n'
        "drums_process = fi.high_shelf(-6, 5000) : *(0.9) : sp.panner(0.5);\n"
        "bass_process = fi.low_shelf(6, 200) : *(0.5) : sp.panner(0.4);\n"
        "melody_process = *(0.7) : sp.panner(0.2);\n"
        "master_process = _, _;\n\n"
        "process = drums_process, bass_process, melody_process :> master_process;\n"
    )
    mix = render(truth, stems, SR, target_lufs=None)
    text = fit_script(stems, mix, SR)
    chains = _chains(text)
    high = re.fullmatch(
        r"fi\.high_shelf\(([-\d.]+), 5000\) : \*\(0.9\) : sp\.panner\(0.5\)", chains["drums"]
    )
    low = re.fullmatch(
        r"fi\.low_shelf\(([-\d.]+), 200\) : \*\(0.5\) : sp\.panner\(0.4\)", chains["bass"]
    )
    assert high and -7.5 <= float(high.group(1)) <= -4.5, text
    assert low and 4.5 <= float(low.group(1)) <= 7.5, text
    assert chains["melody"] == "*(0.7) : sp.panner(0.2)", text
    assert _corr(render(text, stems, SR, target_lufs=None), mix) > 0.99


@pytest.mark.parametrize("sample_rate", [SR, 16000])
def test_output_is_a_canonical_sentence_of_the_writer_language(sample_rate):
    rng = np.random.default_rng(1)
    roles = ("vocals", "drums", "other")  # the order of `stems` is the script's order
    stems = {r: _noise(rng, sample_rate // 2) for r in roles}
    stems["other"] = stems["other"][:, : sample_rate // 4]  # shorter: padded with silence
    eq = {"vocals": (1.0, 0.3), "drums": (0.6, 1.0), "other": (2.5, 0.1)}  # low, high gains
    mix = np.zeros((2, sample_rate // 2))
    for r, (lo, hi) in eq.items():
        spectrum = np.fft.rfft(stems[r].mean(0), sample_rate // 2)
        f = np.fft.rfftfreq(sample_rate // 2, 1 / sample_rate)
        spectrum *= np.where(f < 200, lo, np.where(f > 5000, hi, 1.0))
        mix += np.fft.irfft(spectrum, sample_rate // 2)[None] * 0.5
    text = fit_script(stems, mix, sample_rate)
    assert parse(text).to_faust() == text
    assert validate(text, roles=roles, sample_rate=sample_rate).stem_roles == roles
    assert _in_writer_language(text, roles, sample_rate), text
    assert "fi.low_shelf" in text  # the EQ was seen


def test_silent_stem_and_silent_mix_still_give_valid_scripts(stems):
    roles = ("drums", "bass")
    quiet = {"drums": stems["drums"], "bass": np.zeros_like(stems["bass"])}
    for mix in (
        _panned(quiet, {"drums": 1.0, "bass": 1.0}, {"drums": 0.5, "bass": 0.5}),
        np.zeros((2, stems["drums"].shape[1])),
    ):
        text = fit_script(quiet, mix, SR)
        validate(text, roles=roles, sample_rate=SR)
        assert _in_writer_language(text, roles)
        out = render(text, quiet, SR, target_lufs=None)
        assert np.isfinite(out).all()


def test_bad_inputs_raise_domain_errors(stems):
    mix = _panned(stems, dict.fromkeys(ROLES, 1.0), dict.fromkeys(ROLES, 0.5))
    with pytest.raises(ProducerError, match="role"):
        fit_script({"Drums": stems["drums"]}, mix, SR)
    with pytest.raises(AudioInputError, match="mix"):
        fit_script(stems, np.full_like(mix, np.nan), SR)


def test_wide_stereo_stems_get_no_spurious_shelves():
    # Independent left/right noise: the mono feed explains only half of each channel, and the
    # unexplained half must not be read as EQ, even in short clips with few bins per band.
    rng = np.random.default_rng(2)
    roles = ("drums", "bass", "melody")
    for sample_rate in (8000, SR, 8000, SR, 8000, SR):
        stems = {
            r: (0.1 * rng.standard_normal((2, sample_rate // 2))).astype(np.float32) for r in roles
        }
        mix = stems["drums"] + 0.5 * stems["bass"] + 0.25 * stems["melody"]
        text = fit_script(stems, mix, sample_rate)
        assert "shelf" not in text, text
        chains = _chains(text)
        gain = {r: _gain(chains[r]) for r in roles}
        assert gain["drums"] / gain["bass"] == pytest.approx(2, rel=0.1), text
        assert gain["bass"] / gain["melody"] == pytest.approx(2, rel=0.1), text
        pans = [float(re.search(r"sp\.panner\(([\d.]+)\)", chains[r]).group(1)) for r in roles]
        assert all(abs(p - 0.5) <= 0.05 for p in pans), text
