"""Style patterns as pure functions: drums, bass, chords and melody as `NoteEvent` lists.

    from producer.generators.patterns import DEFAULT_INSTRUMENTS, drum_pattern, bassline
    from producer.generators.theory import progression

    rng = np.random.default_rng(7)
    chords = progression("trap", "F", "minor", 8, rng)
    drums = drum_pattern("trap", 8, rng)
    bass = bassline("trap", chords, 8, rng, {"glide": 0.6})

Every function is deterministic for the state of the `np.random.Generator` it is given and
returns events in beats that start in [0, 4·bars) and end by 4·bars, so the part loops on its
last bar line. No audio here: the instruments render these events.
"""

from __future__ import annotations

from producer.generators.patterns.bass import DEFAULT_BASS, BassParams, bassline
from producer.generators.patterns.drums import DRUM_INSTRUMENTS, DrumParams, drum_pattern
from producer.generators.patterns.harmony import (
    DEFAULT_HARMONY,
    HarmonyParams,
    chord_part,
    voice_lead,
)
from producer.generators.patterns.melody import DEFAULT_MELODY, MelodyParams, melody

#: The instrument each style plays a role on, when a plan does not name one:
#: `DEFAULT_INSTRUMENTS["trap"]["bass"] == "808"`. Roles: bass, harmony, melody.
DEFAULT_INSTRUMENTS: dict[str, dict[str, str]] = {
    style: {
        "bass": DEFAULT_BASS[style],
        "harmony": DEFAULT_HARMONY[style],
        "melody": DEFAULT_MELODY[style],
    }
    for style in DEFAULT_BASS
}

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "DRUM_INSTRUMENTS",
    "BassParams",
    "DrumParams",
    "HarmonyParams",
    "MelodyParams",
    "bassline",
    "chord_part",
    "drum_pattern",
    "melody",
    "voice_lead",
]
