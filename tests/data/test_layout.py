"""Finding songs in a data folder: entries for good folders, problems for bad ones."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from producer.data.layout import scan_songs
from producer.errors import ProducerError


def wav(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros((441, 2), np.float32), 44100)
    return path


def test_a_complete_song_folder(tmp_path):
    song = tmp_path / "mc" / "tune"
    mix = wav(song / "tune.wav")
    (song / "tune.json").write_text("{}")
    (song / "tune.dsp").write_text("process = _;")
    wav(song / "stems" / "Drums.wav")
    wav(song / "stems" / "808.wav")
    wav(song / "stems" / "vocals.flac")
    entries, problems = scan_songs(tmp_path)
    assert problems == []
    (entry,) = entries
    assert (entry.artist, entry.name, entry.id) == ("mc", "tune", "mc/tune")
    assert entry.mix_path == mix and entry.meta_path == song / "tune.json"
    assert entry.script_path == song / "tune.dsp"
    # Stems by role, in plan.ROLES order; "808" is the bass.
    assert list(entry.stem_paths) == ["drums", "bass", "vocals"]


def test_bare_song_has_no_metadata_stems_or_script(tmp_path):
    wav(tmp_path / "a" / "s" / "s.wav")
    (entry,), problems = scan_songs(tmp_path)
    assert problems == []
    assert entry.meta_path is None and entry.stem_paths == {} and entry.script_path is None


def test_the_only_audio_file_is_the_mix_even_if_named_otherwise(tmp_path):
    mix = wav(tmp_path / "a" / "s" / "master.flac")
    (entry,), _ = scan_songs(tmp_path)
    assert entry.mix_path == mix


def test_bad_folders_are_problems_and_good_ones_still_load(tmp_path):
    wav(tmp_path / "a" / "good" / "good.wav")
    (tmp_path / "a" / "empty").mkdir()
    wav(tmp_path / "a" / "two" / "x.wav")
    wav(tmp_path / "a" / "two" / "y.wav")
    wav(tmp_path / "b" / "odd" / "odd.wav")
    wav(tmp_path / "b" / "odd" / "stems" / "kazoo.wav")
    wav(tmp_path / "b" / "odd" / "stems" / "bass.wav")
    wav(tmp_path / "b" / "odd" / "stems" / "808s.wav")
    entries, problems = scan_songs(tmp_path)
    assert [e.id for e in entries] == ["a/good", "b/odd"]
    assert entries[1].stem_paths == {"bass": tmp_path / "b" / "odd" / "stems" / "808s.wav"}
    reasons = {p.name: r for p, r in problems}
    assert set(reasons) == {"empty", "two", "kazoo.wav", "bass.wav"}
    assert "no mix" in reasons["empty"] and "several audio files" in reasons["two"]
    assert "unknown stem name 'kazoo'" in reasons["kazoo.wav"]
    assert "second stem for role 'bass'" in reasons["bass.wav"]


def test_hidden_folders_from_interrupted_writes_are_ignored(tmp_path):
    wav(tmp_path / "a" / ".s.1234.tmp" / "s.wav")
    wav(tmp_path / ".cache" / "s" / "s.wav")
    assert scan_songs(tmp_path) == ([], [])


def test_missing_or_non_folder_data_dir_raises(tmp_path):
    with pytest.raises(ProducerError, match="no such data folder"):
        scan_songs(tmp_path / "missing")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ProducerError, match="not a folder"):
        scan_songs(tmp_path / "f.txt")
