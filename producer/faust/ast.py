"""The syntax tree of a mix script, and its canonical printer.

Nodes are frozen dataclasses; positions (line, column) ride along for error messages but are not
part of equality, so `parse(script.to_faust()) == script` holds for every tree (round-trip
stability). Sequential (`:`) and parallel (`,`) compositions are n-ary and the routing operators
(`<:`, `:>`) are a left-to-right chain, so long scripts do not make deep trees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from producer.faust.allowlist import DB2LINEAR, FUNCTIONS

Pos = tuple[int, int] | None


def format_number(value: float, integer: bool = False) -> str:
    """Shortest exact decimal text for a number, never in exponent form (Faust-safe)."""
    if integer:
        return str(int(value))
    text = np.format_float_positional(float(value), trim="-")
    return "0" if text == "-0" else text


@dataclass(frozen=True)
class Number:
    """A numeric literal argument."""

    value: float

    def to_faust(self) -> str:
        return format_number(self.value)

    @property
    def linear(self) -> float:
        return self.value


@dataclass(frozen=True)
class Db2Linear:
    """`ba.db2linear(x)`: a level in dB used as a linear gain."""

    db: float

    def to_faust(self) -> str:
        return f"{DB2LINEAR}({format_number(self.db)})"

    @property
    def linear(self) -> float:
        return float(10.0 ** (self.db / 20.0))


Value = Number | Db2Linear


@dataclass(frozen=True)
class Wire:
    """`_`: one channel passed through."""

    pos: Pos = field(default=None, compare=False, repr=False)

    def to_faust(self) -> str:
        return "_"


@dataclass(frozen=True)
class Cut:
    """`!`: one channel terminated."""

    pos: Pos = field(default=None, compare=False, repr=False)

    def to_faust(self) -> str:
        return "!"


@dataclass(frozen=True)
class BinOp:
    """`+`, `-` or `*` as a two-in, one-out block (sums, differences, ring products)."""

    op: str
    pos: Pos = field(default=None, compare=False, repr=False)

    def to_faust(self) -> str:
        return self.op


@dataclass(frozen=True)
class Section:
    """`*(x)`, `+(x)`, `-(x)`: one channel times, plus or minus a constant."""

    op: str
    value: Value
    pos: Pos = field(default=None, compare=False, repr=False)

    def to_faust(self) -> str:
        return f"{self.op}({self.value.to_faust()})"


@dataclass(frozen=True)
class Call:
    """An allowlisted library function applied to numeric arguments."""

    name: str
    args: tuple[float, ...]
    pos: Pos = field(default=None, compare=False, repr=False)

    def to_faust(self) -> str:
        fn = FUNCTIONS[self.name]
        if not fn.args:
            return self.name
        args = ", ".join(
            format_number(v, a.integer) for v, a in zip(self.args, fn.args, strict=True)
        )
        return f"{self.name}({args})"


@dataclass(frozen=True)
class Ref:
    """A reference to a `<role>_process` or `master_process` definition."""

    name: str
    pos: Pos = field(default=None, compare=False, repr=False)

    def to_faust(self) -> str:
        return self.name


@dataclass(frozen=True)
class Chain:
    """`a : b : c` (op ':') or `a, b, c` (op ',')."""

    op: str
    items: tuple[Expr, ...]
    pos: Pos = field(default=None, compare=False, repr=False)

    def to_faust(self) -> str:
        sep = " : " if self.op == ":" else ", "
        return sep.join(_child(item, self) for item in self.items)


@dataclass(frozen=True)
class Route:
    """`a <: b :> c`: split and merge steps applied left to right."""

    first: Expr
    steps: tuple[tuple[str, Expr], ...]
    pos: Pos = field(default=None, compare=False, repr=False)

    def to_faust(self) -> str:
        text = _child(self.first, self)
        for op, item in self.steps:
            text += f" {op} {_child(item, self)}"
        return text


Expr = Wire | Cut | BinOp | Section | Call | Ref | Chain | Route


def precedence(node: Expr) -> int:
    """Faust's binding strength: routing 1, sequential 2, parallel 3, atoms 4."""
    if isinstance(node, Route):
        return 1
    if isinstance(node, Chain):
        return 2 if node.op == ":" else 3
    return 4


def _child(node: Expr, parent: Expr) -> str:
    text = node.to_faust()
    return f"({text})" if precedence(node) <= precedence(parent) else text


@dataclass(frozen=True)
class Definition:
    """`<name> = <expr>;`"""

    name: str
    expr: Expr
    pos: Pos = field(default=None, compare=False, repr=False)

    @property
    def role(self) -> str:
        """The stem role (`drums` for `drums_process`); `master` for the master bus."""
        return self.name.removesuffix("_process")


@dataclass(frozen=True)
class MixScript:
    """A whole mix script: definitions and the `process` expression."""

    definitions: tuple[Definition, ...]
    process: Expr

    def definition(self, name: str) -> Definition | None:
        return next((d for d in self.definitions if d.name == name), None)

    def to_faust(self) -> str:
        """The canonical text: exactly the form the grammar (`grammar.EBNF`) describes."""
        lines = ['import("stdfaust.lib");', ""]
        lines += [f"{d.name} = {d.expr.to_faust()};" for d in self.definitions]
        lines += ["", f"process = {self.process.to_faust()};"]
        return "\n".join(lines) + "\n"


def walk(node: Expr):
    """Every node of an expression, parents before children (iterative: no recursion limit)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Chain):
            stack.extend(reversed(current.items))
        elif isinstance(current, Route):
            stack.extend(reversed([current.first, *(item for _, item in current.steps)]))
