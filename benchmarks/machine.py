"""What the benchmarks ran on: recorded beside every result so numbers are read in context."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine(**extra: object) -> dict:
    """nproc, CPU model, Python version and 1-minute load, plus any `extra` fields."""
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "load_1min": load,
        **extra,
    }
