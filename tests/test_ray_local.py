"""The one private Ray import (`producer.ray_local.ray_constants`) still means what we rely on."""

from __future__ import annotations

import os
import re
from pathlib import Path

from producer.ray_local import _single_node_ray, ray_constants

ROOT = Path(__file__).resolve().parents[1]


def test_the_switches_ray_reads_at_import_are_still_where_we_flip_them():
    constants = ray_constants()
    # Both are read from the environment once, at import, into these module attributes; a Ray
    # that renames or moves them would silently ignore our flips.
    assert isinstance(constants.ENABLE_RAY_CLUSTER, bool)
    assert isinstance(constants.RAY_ENABLE_UV_RUN_RUNTIME_ENV, bool)
    from ray._private import services

    # `services.get_node_ip_address` is what reads the cluster switch while ray.init runs.
    assert "ENABLE_RAY_CLUSTER" in Path(services.__file__).read_text()


def test_the_single_node_switch_is_restored():
    constants = ray_constants()
    before = constants.ENABLE_RAY_CLUSTER, os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    with _single_node_ray():
        assert constants.ENABLE_RAY_CLUSTER is False
    after = constants.ENABLE_RAY_CLUSTER, os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    assert after == before


def test_it_is_the_only_private_ray_import_in_the_project():
    private = re.compile(r"^\s*(from|import)\s+ray\.(_private|serve\._private)", re.M)
    hits = [
        str(path.relative_to(ROOT))
        for folder in ("producer", "ray_jobs", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        for _ in private.finditer(path.read_text())
    ]
    assert hits == ["producer/ray_local.py"]
