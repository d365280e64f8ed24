"""Text → `MixScript`, with a parser generated from the one grammar (`grammar.EBNF`).

`parse` only checks syntax. `validate.validate` runs the hostile-input scan before it and the
semantic checks (ranges, channel counts, routing) after it; use that on anything a user or a
model wrote.
"""

from __future__ import annotations

from functools import cache

import lark

from producer.errors import FaustValidationError
from producer.faust.ast import (
    BinOp,
    Call,
    Chain,
    Cut,
    Db2Linear,
    Definition,
    Expr,
    MixScript,
    Number,
    Ref,
    Route,
    Section,
    Value,
    Wire,
)
from producer.faust.grammar import to_lark


@cache
def _parser() -> lark.Lark:
    # LALR keeps parsing linear-time and non-recursive; keep_all_tokens so operators survive.
    return lark.Lark(
        to_lark(),
        start="root",
        parser="lalr",
        keep_all_tokens=True,
        propagate_positions=True,
    )


def parse(text: str) -> MixScript:
    """Parse a mix script. Raises `FaustValidationError` with line and column on bad syntax."""
    try:
        tree = _parser().parse(text)
    except lark.UnexpectedInput as err:
        raise _syntax_error(err, text) from None
    definitions = tuple(
        _definition(c) for c in tree.children if isinstance(c, lark.Tree) and c.data == "definition"
    )
    process_def = _first_tree(tree, "process_def")
    return MixScript(definitions=definitions, process=_expr(_first_tree(process_def, "expr")))


def _syntax_error(err: lark.UnexpectedInput, text: str) -> FaustValidationError:
    line, column = getattr(err, "line", None), getattr(err, "column", None)
    if isinstance(err, lark.UnexpectedToken) and err.token.type == "$END":
        return FaustValidationError("syntax error: the script ends too early", line, column)
    if isinstance(err, lark.UnexpectedToken):
        found = repr(str(err.token))
    elif isinstance(err, lark.UnexpectedCharacters):
        found = repr(text[err.pos_in_stream]) if err.pos_in_stream < len(text) else "end"
    else:
        found = "end of script"
        line = line if line and line > 0 else text.count("\n") + 1
        column = column if column and column > 0 else 1
    expected = _readable_expected(getattr(err, "expected", None) or getattr(err, "allowed", None))
    hint = f" (expected {expected})" if expected else ""
    return FaustValidationError(f"syntax error: unexpected {found}{hint}", line, column)


def _readable_expected(names) -> str:
    if not names:
        return ""
    parser = _parser()
    shown = []
    for name in sorted(names):
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            continue
        shown.append(repr(pattern.value) if pattern.type == "str" else name.lower())
    shown = sorted(set(shown))
    return ", ".join(shown[:8]) + (" …" if len(shown) > 8 else "")


def _first_tree(node: lark.Tree, data: str) -> lark.Tree:
    return next(
        child for child in node.children if isinstance(child, lark.Tree) and child.data == data
    )


def _pos(node) -> tuple[int, int] | None:
    if isinstance(node, lark.Token):
        return (node.line, node.column)
    meta = node.meta
    return (meta.line, meta.column) if not meta.empty else None


def _definition(node: lark.Tree) -> Definition:
    name = node.children[0]
    return Definition(name=str(name), expr=_expr(_first_tree(node, "expr")), pos=_pos(name))


def _expr(node: lark.Tree) -> Expr:
    """expr ::= seq (route_op seq)*"""
    items = [c for c in node.children if isinstance(c, lark.Tree) and c.data == "seq"]
    ops = [
        str(c.children[0])
        for c in node.children
        if isinstance(c, lark.Tree) and c.data == "route_op"
    ]
    first = _chain(items[0], ":")
    if not ops:
        return first
    steps = tuple((op, _chain(item, ":")) for op, item in zip(ops, items[1:], strict=True))
    return Route(first=first, steps=steps, pos=_pos(node))


def _chain(node: lark.Tree, op: str) -> Expr:
    """seq ::= par (" : " par)*  and  par ::= term (", " term)*"""
    sub = "par" if op == ":" else "term"
    children = [c for c in node.children if isinstance(c, lark.Tree) and c.data == sub]
    items = [_chain(c, ",") if op == ":" else _term(c) for c in children]
    if len(items) == 1:
        return items[0]
    return Chain(op=op, items=tuple(items), pos=_pos(node))


def _term(node: lark.Tree) -> Expr:
    child = node.children[0]
    if isinstance(child, lark.Token):
        if child.type == "NAME":
            return Ref(name=str(child), pos=_pos(child))
        # "(" expr ")"
        return _expr(_first_tree(node, "expr"))
    pos = _pos(child)
    kind = child.data
    if kind == "wire":
        return Wire(pos=pos)
    if kind == "cut":
        return Cut(pos=pos)
    if kind == "binop":
        return BinOp(op=str(child.children[0]), pos=pos)
    if kind == "section":
        return Section(
            op=str(child.children[0]), value=_value(_first_tree(child, "value")), pos=pos
        )
    if kind == "call":
        fn = child.children[0]
        tokens = [t for t in fn.children if isinstance(t, lark.Token)]
        args = tuple(float(t) for t in tokens if t.type in ("NUMBER", "INT"))
        return Call(name=str(tokens[0]), args=args, pos=pos)
    raise AssertionError(f"grammar rule without a tree builder: {kind}")


def _value(node: lark.Tree) -> Value:
    child = node.children[0]
    if isinstance(child, lark.Token):
        return Number(float(child))
    assert child.data == "db2linear", child.data
    number = next(t for t in child.children if isinstance(t, lark.Token) and t.type == "NUMBER")
    return Db2Linear(float(number))
