"""The library never imports its command line or its Ray jobs (issue 17): `producer.cli` and
`ray_jobs` sit on top of it, as thin entry points. Function-level imports count too: they are
how the old cycles hid."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = ("producer.cli", "ray_jobs")


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_the_library_never_imports_the_cli_or_the_jobs():
    library = [
        p
        for p in (ROOT / "producer").rglob("*.py")
        if p.relative_to(ROOT / "producer").parts[0] != "cli" and "weights" not in p.parts
    ]
    assert len(library) > 50
    bad = [
        f"{p.relative_to(ROOT)}:{line} imports {name}"
        for p in library
        for line, name in _imports(p)
        if name.startswith(ENTRY_POINTS)
    ]
    assert bad == []
