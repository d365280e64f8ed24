"""`lazy("package.module:function")`: a command handler that imports its module when it runs."""

from __future__ import annotations

import argparse
import importlib

__all__ = ["lazy"]


def lazy(target: str):
    """A command handler that imports its module ("package.module:function") only when the command
    runs: the command bodies import numpy, torch or Ray at their tops, and `producer --help` and
    the light commands must not pay for them. The one place the command line defers imports."""

    def handler(args: argparse.Namespace) -> int:
        module, name = target.split(":")
        return getattr(importlib.import_module(module), name)(args)

    handler.__qualname__ = handler.__name__ = f"lazy[{target}]"
    return handler
