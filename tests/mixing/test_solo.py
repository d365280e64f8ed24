"""render_with_solos: one render gives each stem's solo, the pre-master mix and `render`'s master."""

from __future__ import annotations

import numpy as np
import pytest

from producer.errors import ProducerError, RenderError
from producer.faust.render import render
from producer.faust.writer import random_script
from producer.mixing.solo import SoloRender, SoloRenderError, render_with_solos
from tests.mixing import synthetic

SR = 22050


@pytest.fixture(scope="module")
def stems() -> dict[str, np.ndarray]:
    return synthetic.stems(seconds=3.0, sr=SR)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_master_is_what_render_gives(stems, seed):
    script = random_script(list(stems), np.random.default_rng(seed), SR)
    expected = render(script, stems, SR)
    out = render_with_solos(script, stems, SR)
    assert isinstance(out, SoloRender)
    np.testing.assert_allclose(out.master, expected, rtol=0, atol=1e-6)
    assert out.roles == tuple(stems)
    assert out.sample_rate == SR
    for role, solo in out.solos.items():
        assert solo.shape == (2, 3 * SR) and solo.dtype == np.float32, role
    np.testing.assert_allclose(out.mix, sum(out.solos.values()), atol=1e-6)


def test_unmastered_and_mono_bus(stems, seed_script):
    # The seed's script feeds four stems into a mono master bus (`:> _`).
    four = {role: stems[role] for role in ("bass", "drums", "melody", "harmony")}
    out = render_with_solos(seed_script, four, SR, target_lufs=None)
    np.testing.assert_allclose(
        out.master, render(seed_script, four, SR, target_lufs=None), atol=1e-6
    )
    assert out.mix.shape == (2, 3 * SR)
    np.testing.assert_array_equal(out.mix[0], out.mix[1])
    assert set(out.solos) == set(four)


def test_a_solo_is_the_stem_through_its_own_chain(stems):
    # A chain that is only a fader and a pan: the solo is the stem's mono downmix, scaled.
    script = synthetic.script(
        chains={role: ["*(0.5)"] for role in stems}, pans={role: 0.5 for role in stems}
    )
    out = render_with_solos(script, stems, SR)
    mono = stems["bass"].mean(axis=0)
    np.testing.assert_allclose(out.solos["bass"][0], 0.25 * mono, atol=1e-6)
    np.testing.assert_allclose(out.solos["bass"][1], 0.25 * mono, atol=1e-6)


def test_shorter_stems_are_padded(stems):
    short = dict(stems)
    short["melody"] = stems["melody"][:, :SR]
    script = synthetic.script()
    out = render_with_solos(script, short, SR)
    assert out.solos["melody"].shape == (2, 3 * SR)
    np.testing.assert_allclose(out.master, render(script, short, SR), atol=1e-6)


def test_a_script_that_does_not_split_is_refused(stems):
    two = {role: stems[role] for role in ("drums", "bass")}
    script = (
        'import("stdfaust.lib");\n'
        "drums_process = _ : sp.panner(0.5);\n"
        "bass_process = _ : sp.panner(0.5);\n"
        "process = drums_process, bass_process : si.bus(4) :> _, _;\n"
    )
    assert render(script, two, SR).shape == (2, 3 * SR)  # it renders as one program...
    with pytest.raises(SoloRenderError, match="cannot be soloed"):  # ...but has no solos
        render_with_solos(script, two, SR)
    assert issubclass(SoloRenderError, RenderError) and issubclass(SoloRenderError, ProducerError)
