"""Planning targets from metadata and stems; the Faust target from the song's own script."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from producer.data.layout import SongEntry
from producer.data.meta import SongMeta
from producer.data.targets import faust_target, planning_targets
from producer.errors import ProducerError
from producer.faust.parser import parse
from producer.plan import ROLES
from tests.conftest import SR, synth_stem

SCRIPT = """import("stdfaust.lib");
drums_process = fi.highpass(2, 30) : sp.panner(0.5);
bass_process = *(0.8) : sp.panner(0.5);
master_process = co.limiter_1176_R4_stereo;
process = drums_process, bass_process :> master_process;
"""


def roles_of(targets):
    return [r for r, on in zip(ROLES, targets.roles, strict=True) if on]


def test_roles_are_the_audible_stems_and_labels_are_indices():
    stems = {
        "drums": synth_stem("drums"),
        "bass": synth_stem("bass"),
        "melody": synth_stem("melody") * 1e-3,  # -60 dB: silent for the planner
    }
    meta = SongMeta(style="drill", mode="minor", key="Eb", bpm=141)
    t = planning_targets(meta, stems, SR)
    assert t.roles.dtype == np.float32 and t.roles.shape == (len(ROLES),)
    assert roles_of(t) == ["drums", "bass"] and t.roles_known
    assert (t.style, t.mode, t.key, t.bpm) == (3, 1, 3, 141.0)


def test_metadata_roles_are_used_without_stems():
    t = planning_targets(SongMeta(roles=["vocals", "drums"]), None, SR)
    assert roles_of(t) == ["drums", "vocals"] and t.roles_known


def test_unknown_everything_is_marked_unknown():
    t = planning_targets(SongMeta(), None, SR)
    assert not t.roles_known and not t.roles.any()
    assert (t.style, t.mode, t.key) == (-1, -1, -1) and math.isnan(t.bpm)


def entry(tmp_path: Path, script: str | None) -> SongEntry:
    path = None
    if script is not None:
        path = tmp_path / "s.dsp"
        path.write_text(script)
    return SongEntry("a", "s", tmp_path, tmp_path / "s.wav", None, {}, path)


def test_the_songs_own_valid_script_is_the_target_in_canonical_form(tmp_path):
    stems = {"drums": synth_stem("drums"), "bass": synth_stem("bass")}
    out = faust_target(entry(tmp_path, SCRIPT), stems, stems["drums"], SR)
    assert out == parse(SCRIPT).to_faust() and out != SCRIPT


def test_a_script_for_other_stems_is_replaced_by_a_fitted_one(tmp_path):
    from producer.faust.validate import validate

    stems = {"drums": synth_stem("drums"), "melody": synth_stem("melody")}
    mix = stems["drums"] + 0.5 * stems["melody"]
    with pytest.warns(UserWarning, match="s.dsp: mix script not used"):
        out = faust_target(entry(tmp_path, SCRIPT), stems, mix, SR)
    assert validate(out, roles=["drums", "melody"]).stem_roles == ("drums", "melody")


def test_no_stems_no_script(tmp_path):
    with pytest.raises(ProducerError, match="no stems"):
        faust_target(entry(tmp_path, SCRIPT), {}, synth_stem("drums"), SR)
