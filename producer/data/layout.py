"""The song folder on disk: find every song, its mix, metadata, stems and mix script.

    <data>/<artist>/<song>/<song>.wav        the mix (any libsndfile format: .flac, .ogg, …)
    <data>/<artist>/<song>/<song>.json       metadata (optional; see meta.py)
    <data>/<artist>/<song>/<song>.dsp        the mix script that made the mix (optional)
    <data>/<artist>/<song>/stems/<role>.wav  stems named by role (optional)

`scan_songs` only looks at names; reading audio and JSON is the dataset's job, which reports
a file that turns out unreadable and moves on. A folder that cannot be a song (no mix, two
candidate mixes, unknown or duplicate stem names) is returned as a problem, never raised, so
one bad folder does not stop a corpus of thousands. Hidden entries (".x") are skipped: they
are temporary files of an interrupted write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from producer.audio.stems import AUDIO_SUFFIXES
from producer.errors import ProducerError
from producer.plan import ROLES

__all__ = ["STEM_ALIASES", "Problem", "SongEntry", "scan_songs", "stem_role"]

#: (path, reason) of something that was skipped.
Problem = tuple[Path, str]

#: Stem file names other tools write, mapped to our roles (Demucs writes vocals, drums, bass
#: and other, which are roles already).
STEM_ALIASES = {
    "vocal": "vocals",
    "voice": "vocals",
    "drum": "drums",
    "808": "bass",
    "808s": "bass",
    "lead": "melody",
    "chords": "harmony",
    "keys": "harmony",
    "pads": "harmony",
}


def stem_role(name: str) -> str | None:
    """The role of a stem file stem name ('Drums' → drums, '808' → bass), or None."""
    key = name.strip().lower()
    key = STEM_ALIASES.get(key, key)
    return key if key in ROLES else None


@dataclass
class SongEntry:
    """One song folder's files (existence checked when scanned, content not read)."""

    artist: str
    name: str
    dir: Path
    mix_path: Path
    # The song's JSON; None when the folder has none (all metadata then unknown).
    meta_path: Path | None
    # Stems by role, in plan.ROLES order.
    stem_paths: dict[str, Path] = field(default_factory=dict)
    # <song>.dsp beside the mix, when there is one.
    script_path: Path | None = None

    @property
    def id(self) -> str:
        """'artist/song': unique within a data folder."""
        return f"{self.artist}/{self.name}"


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _find_mix(song_dir: Path) -> tuple[Path | None, str]:
    """The mix: <song>.<audio suffix>, else the only audio file in the folder."""
    audio = sorted(
        p
        for p in song_dir.iterdir()
        if p.is_file() and _visible(p) and p.suffix.lower() in AUDIO_SUFFIXES
    )
    named = [p for p in audio if p.stem == song_dir.name]
    if len(named) == 1:
        return named[0], ""
    if len(named) > 1:
        return None, f"several mixes named '{song_dir.name}': {', '.join(p.name for p in named)}"
    if len(audio) == 1:
        return audio[0], ""
    if not audio:
        return None, f"no mix: expected {song_dir.name}.wav (or .flac/.ogg/.aiff)"
    names = ", ".join(p.name for p in audio)
    return None, f"no mix named {song_dir.name}.wav and several audio files ({names})"


def _find_stems(stems_dir: Path, problems: list[Problem]) -> dict[str, Path]:
    """Role → stem file; unknown names and duplicate roles are reported and left out.

    Names follow producer.audio.stems (`<role>.<suffix>`), plus the aliases above.
    """
    files = sorted(
        p
        for p in stems_dir.iterdir()
        if p.is_file() and _visible(p) and p.suffix.lower() in AUDIO_SUFFIXES
    )
    by_role: dict[str, Path] = {}
    for f in files:
        role = stem_role(f.stem)
        if role is None:
            problems.append(
                (f, f"unknown stem name '{f.stem}' (expected one of {', '.join(ROLES)})")
            )
        elif role in by_role:
            problems.append((f, f"second stem for role '{role}' (also {by_role[role].name})"))
        else:
            by_role[role] = f
    return {r: by_role[r] for r in ROLES if r in by_role}


def scan_song(song_dir: Path, artist: str, problems: list[Problem]) -> SongEntry | None:
    """The entry of one song folder, or None (with the reason appended to `problems`)."""
    try:
        mix, reason = _find_mix(song_dir)
    except OSError as err:
        problems.append((song_dir, f"cannot list folder: {err}"))
        return None
    if mix is None:
        problems.append((song_dir, reason))
        return None
    meta = song_dir / f"{song_dir.name}.json"
    if not meta.is_file():
        jsons = sorted(p for p in song_dir.glob("*.json") if _visible(p))
        meta = jsons[0] if len(jsons) == 1 else None
    script = mix.with_suffix(".dsp")
    stems_dir = song_dir / "stems"
    stems: dict[str, Path] = {}
    if stems_dir.is_dir():
        try:
            stems = _find_stems(stems_dir, problems)
        except OSError as err:
            problems.append((stems_dir, f"cannot list folder: {err}"))
    return SongEntry(
        artist=artist,
        name=song_dir.name,
        dir=song_dir,
        mix_path=mix,
        meta_path=meta,
        stem_paths=stems,
        script_path=script if script.is_file() else None,
    )


def scan_songs(data_dir: str | Path) -> tuple[list[SongEntry], list[Problem]]:
    """Every song under `data_dir/<artist>/<song>/`, sorted by artist then song.

    Returns the entries and a list of (path, reason) for folders and files that were skipped.

    Raises:
        ProducerError: when `data_dir` does not exist or is not a folder.
    """
    root = Path(data_dir)
    if not root.exists():
        raise ProducerError(f"{root}: no such data folder")
    if not root.is_dir():
        raise ProducerError(f"{root}: not a folder (expected <data>/<artist>/<song>/<song>.wav)")
    entries: list[SongEntry] = []
    problems: list[Problem] = []
    for artist_dir in sorted(p for p in root.iterdir() if p.is_dir() and _visible(p)):
        try:
            song_dirs = sorted(p for p in artist_dir.iterdir() if p.is_dir() and _visible(p))
        except OSError as err:
            problems.append((artist_dir, f"cannot list folder: {err}"))
            continue
        for song_dir in song_dirs:
            if song_dir.name == "stems":
                problems.append((song_dir, "stems folder directly under an artist: not a song"))
                continue
            entry = scan_song(song_dir, artist_dir.name, problems)
            if entry is not None:
                entries.append(entry)
    return entries, problems
