"""The producer end to end, and the edges it stands on.

    from producer.pipeline import Producer
    result = Producer().produce("Create a dark trap beat with heavy 808s", duration=20, seed=7)

    producer      `Producer`: plan → generate → write → render → score; `ProductionResult`, the
                  candidate search and its weights (ASKED_PENALTY, CRITIC_WEIGHT, …)
    input_song    an input song loaded, separated or kept, analysed
    alignment     generated stems moved onto the input song's beat grid
    result_files  result.wav/.dsp/.json/.png/.stems written as one set, atomically
    report_plot   the picture (result.png)

Every public name of `producer.pipeline.producer` is re-exported here. A test that replaces one
of its module-level names (`critique`, `teach`) patches `producer.pipeline.producer`, where the
stages read them.
"""

from __future__ import annotations

from producer.pipeline.producer import (
    ASKED_PENALTY,
    BASIC_FAILURE_PENALTY,
    CRITIC_WEIGHT,
    DEFAULT_DURATION,
    DEFAULT_PROMPT,
    FINDING_PENALTY,
    MAX_CANDIDATES,
    Candidate,
    Producer,
    ProductionResult,
    Selection,
    check_request,
    critic_targets,
    generate_stems_for,
    master_lufs,
    production_length,
    reference_of,
    render_and_critique,
    render_master,
    teach_mix,
    versions,
)

__all__ = [
    "ASKED_PENALTY",
    "BASIC_FAILURE_PENALTY",
    "CRITIC_WEIGHT",
    "DEFAULT_DURATION",
    "DEFAULT_PROMPT",
    "FINDING_PENALTY",
    "MAX_CANDIDATES",
    "Candidate",
    "Producer",
    "ProductionResult",
    "Selection",
    "check_request",
    "critic_targets",
    "generate_stems_for",
    "master_lufs",
    "production_length",
    "reference_of",
    "render_and_critique",
    "render_master",
    "teach_mix",
    "versions",
]
