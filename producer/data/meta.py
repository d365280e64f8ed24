"""Song metadata: the `<song>.json` beside each mix.

```json
{"bpm": 142, "key": "F", "mode": "minor", "style": "trap",
 "segments": [{"start": 0.0, "end": 16.9, "label": "intro"}],
 "prompt": "a dark trap beat with heavy 808s", "tags": ["dark"], "quality": 0.9,
 "roles": ["drums", "bass", "melody"]}
```

Every field is optional. Keys are stored with sharps: flats ("Eb") are normalised, and a key
written with its mode ("F#m", "A minor") is split into `key` and `mode`. Unknown fields are
refused, so a typo ("tempo" for "bpm") is reported instead of silently ignored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from producer.atomic import atomic_path
from producer.errors import ProducerError
from producer.plan import MAX_BPM, MIN_BPM, Key, Mode, Role, Style, normalize_key

__all__ = ["Segment", "SongMeta", "load_meta", "normalize_style", "save_meta"]

# Spellings of the styles found in the wild, mapped to the canonical names in plan.STYLES.
_STYLE_ALIASES = {
    "boom bap": "boom-bap",
    "boombap": "boom-bap",
    "boom_bap": "boom-bap",
    "lofi": "lo-fi",
    "lo fi": "lo-fi",
    "lo_fi": "lo-fi",
    "g funk": "g-funk",
    "gfunk": "g-funk",
    "g_funk": "g-funk",
}
# "F#m", "Ebmin", "A minor", "c major", "Bb maj": a tonic followed by a mode word.
_KEY_WITH_MODE = re.compile(r"^\s*([A-Ga-g][#b♯♭]?)\s*(m|min|minor|maj|major)\s*$", re.IGNORECASE)


def normalize_style(value: str) -> str:
    """'Boom Bap' → 'boom-bap', 'lofi' → 'lo-fi'; other text is returned lower-cased."""
    text = " ".join(value.strip().lower().split())
    return _STYLE_ALIASES.get(text, text)


class Segment(BaseModel):
    """A labelled stretch of the song, in seconds."""

    model_config = ConfigDict(extra="forbid")

    start: float = Field(ge=0, description="Start in seconds.")
    end: float = Field(description="End in seconds (after start).")
    label: str = Field("", description="What the segment is: intro, verse, hook, …")

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if self.end <= self.start:
            raise ValueError(f"segment '{self.label}' ends ({self.end}) before it starts")
        return self


class SongMeta(BaseModel):
    """What is known about one song; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    bpm: float | None = Field(None, ge=MIN_BPM, le=MAX_BPM, description="Tempo in BPM.")
    key: Key | None = Field(None, description="Tonic, with sharps (flats are normalised).")
    mode: Mode | None = Field(None, description="major or minor.")
    segments: list[Segment] = Field(default_factory=list, description="Labelled sections.")
    prompt: str | None = Field(None, description="A request this song answers, in words.")
    tags: list[str] = Field(default_factory=list, description="Free tags (moods, themes…).")
    style: Style | None = Field(None, description="One of plan.STYLES.")
    quality: float | None = Field(None, ge=0, le=1, description="Mix quality, 0 (bad)..1.")
    roles: list[Role] | None = Field(None, description="The roles the song has, when known.")

    @model_validator(mode="before")
    @classmethod
    def _split_key_mode(cls, data: Any) -> Any:
        # "key": "F#m" carries the mode too; take it unless the mode is given separately.
        if isinstance(data, dict) and isinstance(data.get("key"), str):
            m = _KEY_WITH_MODE.match(data["key"])
            if m:
                data = dict(data)
                data["key"] = m.group(1)
                word = m.group(2)
                mode = "minor" if word == "m" or word.lower().startswith("min") else "major"
                data.setdefault("mode", mode)
                if data["mode"] is None:
                    data["mode"] = mode
        return data

    @field_validator("key", mode="before")
    @classmethod
    def _sharp_key(cls, value: Any) -> Any:
        return normalize_key(value) if isinstance(value, str) else value

    @field_validator("mode", mode="before")
    @classmethod
    def _lower_mode(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("style", mode="before")
    @classmethod
    def _style(cls, value: Any) -> Any:
        return normalize_style(value) if isinstance(value, str) else value

    @field_validator("roles", mode="before")
    @classmethod
    def _lower_roles(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [v.strip().lower() if isinstance(v, str) else v for v in value]
        return value

    @field_validator("roles", mode="after")
    @classmethod
    def _unique_roles(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"roles must not repeat, got {value}")
        return value


def load_meta(path: str | Path) -> SongMeta:
    """Read and validate a song's JSON metadata.

    Raises:
        ProducerError: naming the file, for a missing or unreadable file, invalid JSON or a
            value the schema refuses (with the field and the reason).
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ProducerError(f"{path}: cannot read song metadata: {err}") from err
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ProducerError(
            f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from err
    if not isinstance(data, dict):
        raise ProducerError(
            f"{path}: song metadata must be a JSON object, got {type(data).__name__}"
        )
    try:
        return SongMeta.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'song'}: {e['msg']}" for e in err.errors()
        )
        raise ProducerError(f"{path}: invalid song metadata: {problems}") from err


def save_meta(path: str | Path, meta: SongMeta) -> Path:
    """Write metadata as indented JSON, atomically; fields left unset are not written."""
    path = Path(path)
    text = meta.model_dump_json(indent=2, exclude_none=True) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
