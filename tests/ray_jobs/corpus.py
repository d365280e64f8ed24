"""The ray_jobs tests' song folder: synthetic songs, some stripped of their stems, some broken,
and a tiny random-weight Demucs saved beside it to separate the stemless ones."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

SR = 32000  # the drum generator needs > 24 kHz
GARBAGE_WAV = b"RIFF\x00\x00garbage" * 50


def make_corpus(
    root: Path,
    songs: int,
    *,
    seed: int,
    stemless: Iterable[str] = (),
    garbage_mix: Iterable[str] = (),
    bad_json: Iterable[str] = (),
) -> dict[str, Path]:
    """`songs` 1.5 s songs under `root/data` and the tiny Demucs in `root/demucs`.

    Returns each song's folder by name (`song_00000` …). Songs in `stemless` lose their stems
    (and their fitted script), those in `garbage_mix` get a mix that is no audio, those in
    `bad_json` a metadata file that is no JSON.
    """
    from producer.audio.separation import save_local_demucs
    from producer.data.synth import synthesize_corpus
    from tests.audio.tiny_demucs import tiny_htdemucs

    data = root / "data"
    synthesize_corpus(
        data, songs, seed=seed, duration=1.5, sample_rate=SR, progress=False, workers=1
    )
    found = {p.name: p for p in data.glob("*/song_*")}
    assert len(found) == songs
    for name in stemless:
        shutil.rmtree(found[name] / "stems")
        (found[name] / f"{name}.dsp").unlink(missing_ok=True)
    for name in garbage_mix:
        (found[name] / f"{name}.wav").write_bytes(GARBAGE_WAV)
    for name in bad_json:
        (found[name] / f"{name}.json").write_text("{not json")
    save_local_demucs(tiny_htdemucs(), None, root / "demucs")
    return found
