"""Training data: the song-folder layout, song metadata, prompts, targets, synthetic corpora.

    data/<artist>/<song>/<song>.wav       the mix
    data/<artist>/<song>/<song>.json      SongMeta: bpm, key, mode, segments, prompt, tags, …
    data/<artist>/<song>/<song>.dsp       optional: the mix script that made the mix
    data/<artist>/<song>/stems/<role>.wav optional: drums, bass, melody, harmony, vocals, other

`scan_songs` finds the songs, `UnifiedProducerDataset` turns them into training examples, and
`synthesize_corpus` writes a synthetic corpus in the same layout.
"""

from __future__ import annotations

from producer.data.layout import SongEntry, scan_songs
from producer.data.meta import Segment, SongMeta, load_meta, save_meta

__all__ = ["Segment", "SongEntry", "SongMeta", "load_meta", "save_meta", "scan_songs"]
