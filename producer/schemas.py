"""Pydantic models at the system's edges, in one place: what goes over HTTP, into JSON files
and out of the CLI.

Each model validates what comes in and serialises to plain JSON, and every field carries a
description, which is also what the HTTP API's JSON schema shows. Each is defined beside what
produces it (so the library's lower layers never import this edge module) and re-exported here;
add a new edge model the same way.
"""

from __future__ import annotations

# The edge models live with what produces them and are importable from here: the quality
# report with the meters (`audio.report`), the production plan with its music constants
# (`producer.plan`; CLI `--plan` files, HTTP bodies), `<song>.json` of the training song folder
# with the data layout it describes (`data.meta`).
from producer.audio.report import BandEnergy, QualityReport
from producer.data.meta import Segment, SongMeta
from producer.plan import ProductionPlan, StemSpec

__all__ = ["BandEnergy", "ProductionPlan", "QualityReport", "Segment", "SongMeta", "StemSpec"]
