"""Domain errors.

They are raised deep in the library and caught only at the edges (the CLI turns them into one
line on stderr and exit code 2; the HTTP layer into a 4xx JSON body). Each message is written
to be shown to a user as it is: it names the thing, the problem and, where it helps, the fix.
"""

from __future__ import annotations


class ProducerError(Exception):
    """Base class of every error a user can cause and fix."""


class AudioInputError(ProducerError):
    """An audio file or array the system cannot use (unreadable, empty, non-finite, too long…)."""


class FaustValidationError(ProducerError):
    """A Faust mix script outside the allowlisted subset, with the position of the problem."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None):
        self.reason = reason
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{where}{reason}")


class FaustCompileError(ProducerError):
    """libfaust refused a script; the message carries the compiler's own words."""


class RenderError(ProducerError):
    """Rendering produced unusable audio (non-finite or runaway output) or could not run."""


class PlanError(ProducerError):
    """A request the planner cannot honour: it leaves nothing to make or contradicts itself."""


class ModelNotFoundError(ProducerError):
    """A model name or path that is not on disk; says where it looked and what to do."""


class OutputError(ProducerError):
    """An output that cannot be written (read-only folder, full disk, a folder in the way…) or
    a folder the system will not write into (the result store: not the user's own, or open to
    others). Nothing new is left behind when it is raised."""
