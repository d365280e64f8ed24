"""Song metadata: what a song.json may say, and the errors for what it may not."""

from __future__ import annotations

import json

import pytest

from producer.data.meta import SongMeta, load_meta, save_meta
from producer.errors import ProducerError


def write(path, data):
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_full_metadata_loads_with_flats_normalised(tmp_path):
    meta = load_meta(
        write(
            tmp_path / "song.json",
            {
                "bpm": 142,
                "key": "Eb",
                "mode": "Minor",
                "style": "Boom Bap",
                "segments": [{"start": 0, "end": 8.5, "label": "intro"}],
                "prompt": "a dark beat",
                "tags": ["dark"],
                "quality": 0.8,
                "roles": ["Drums", "bass"],
            },
        )
    )
    assert (meta.bpm, meta.key, meta.mode, meta.style) == (142.0, "D#", "minor", "boom-bap")
    assert meta.segments[0].end == 8.5 and meta.roles == ["drums", "bass"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [("F#m", ("F#", "minor")), ("Bb major", ("A#", "major")), ("a min", ("A", "minor"))],
)
def test_key_written_with_its_mode_is_split(tmp_path, key, expected):
    meta = load_meta(write(tmp_path / "s.json", {"key": key}))
    assert (meta.key, meta.mode) == expected


def test_an_explicit_mode_wins_over_the_one_in_the_key(tmp_path):
    meta = load_meta(write(tmp_path / "s.json", {"key": "Am", "mode": "major"}))
    assert (meta.key, meta.mode) == ("A", "major")


def test_every_field_is_optional(tmp_path):
    meta = load_meta(write(tmp_path / "s.json", {}))
    assert meta == SongMeta()


def test_save_then_load_round_trips(tmp_path):
    meta = SongMeta(bpm=90, key="C#", mode="major", style="lo-fi", tags=["chill"], roles=["drums"])
    path = save_meta(tmp_path / "a" / "s.json", meta)
    assert load_meta(path) == meta
    assert "prompt" not in json.loads(path.read_text())  # unset fields are not written


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"bpm": 90,', "invalid JSON at line 1"),
        ("[1, 2]", "must be a JSON object"),
        ({"bpm": 500}, "bpm"),
        ({"tempo": 90}, "tempo"),
        ({"key": "H"}, "key"),
        ({"quality": 1.5}, "quality"),
        ({"roles": ["drums", "drums"]}, "roles"),
        ({"segments": [{"start": 5, "end": 1}]}, "segments"),
        ({"style": "polka"}, "style"),
    ],
)
def test_bad_metadata_names_the_file_and_the_problem(tmp_path, content, words):
    path = write(tmp_path / "bad.json", content)
    with pytest.raises(ProducerError) as err:
        load_meta(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_missing_file_is_a_producer_error(tmp_path):
    with pytest.raises(ProducerError, match="cannot read"):
        load_meta(tmp_path / "nope.json")
