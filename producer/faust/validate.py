"""Validation of mix scripts against the allowlisted subset, before libfaust ever sees them.

Four passes, cheapest first, each raising `FaustValidationError(reason, line, column)`:

1. a token scan of the raw text for hostile constructs (foreign functions, file access, other
   imports, tables, recursion, iterations, unknown names), with a specific reason for each, and
   size and nesting bounds;
2. the parser generated from the grammar (syntax);
3. semantics: argument ranges, definitions and references, channel counts of every composition
   (Faust's own rules), and the routing of stems into `process`;
4. the resource budget (`budget.py`): delay memory, estimated compile time, static gain and DC,
   which every block's own ranges do not bound when a script chains many of them.

Definitions may not reference one another; only `process` references them. That rules out
recursion and exponential expansion by construction, so the size of the text bounds the size of
the compiled program. All passes are linear in the text; a 64 KiB script validates in
milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from producer.errors import FaustValidationError
from producer.faust.allowlist import (
    DB2LINEAR,
    DB2LINEAR_RANGE,
    FORBIDDEN,
    FUNCTIONS,
    MAX_CHANNELS,
    SECTION_RANGES,
    Arg,
)
from producer.faust.ast import (
    BinOp,
    Call,
    Chain,
    Cut,
    Db2Linear,
    Expr,
    MixScript,
    Ref,
    Route,
    Section,
    Wire,
    format_number,
    walk,
)
from producer.faust.budget import check_budget
from producer.faust.parser import parse

#: Longest script accepted, in characters.
MAX_SCRIPT_CHARS = 64 * 1024
#: Deepest parenthesis nesting accepted.
MAX_NESTING = 32
#: Highest fraction of the sample rate a filter frequency may take (just under Nyquist).
MAX_FREQ_FRACTION = 0.49

_NAME = re.compile(r"[a-z][a-z0-9]*_process")
_SCAN = re.compile(
    r"""(?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
      |(?P<string>"[^"\n]*"?)
      |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      |(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
      |(?P<open>\()|(?P<close>\))
      |(?P<char>[~@'\\{}\[\]$])""",
    re.VERBOSE | re.DOTALL,
)
_CHAR_REASONS = {
    "~": "recursion (~) is not allowed: feedback must come from allowlisted effects",
    "@": "the delay operator @ is not allowed: use de.delay(max, d) with a bounded maximum",
    "'": "the one-sample delay ' is not allowed: use de.delay(max, d)",
    "\\": "lambda abstractions are not allowed",
    "{": "local definitions and environments ({ }) are not allowed",
    "}": "local definitions and environments ({ }) are not allowed",
    "[": "metadata and labels ([ ]) are not allowed",
    "]": "metadata and labels ([ ]) are not allowed",
    "$": "'$' is not allowed",
}


@dataclass(frozen=True)
class ValidatedScript:
    """A script that passed every check, with what the renderer needs to route stems."""

    script: MixScript
    inputs: int  # channels `process` consumes
    outputs: int  # 1 (mono master, duplicated to both sides) or 2
    stem_roles: tuple[str, ...]  # role of each stem, in input order
    channels_per_stem: int  # 1: stems are fed as mono downmixes; 2: as stereo pairs

    @property
    def code(self) -> str:
        """Canonical Faust text: what is compiled is exactly what was validated."""
        return self.script.to_faust()


def validate(
    text: str,
    n_stems: int | None = None,
    roles: Sequence[str] | None = None,
    sample_rate: int | None = None,
) -> ValidatedScript:
    """Check a mix script against the allowlisted subset of Faust.

    `n_stems` / `roles` (either or both) say which stems will be fed; `sample_rate` adds the
    check that filter frequencies stay below Nyquist. Raises `FaustValidationError` naming the
    line, column and reason of the first problem.
    """
    scan(text)
    script = parse(text)
    check_semantics(script, sample_rate)
    validated = _route(script, n_stems, roles)
    check_budget(script, lambda expr: channels(expr, script))
    return validated


def scan(text: str) -> None:
    """Pass 1: size bounds and hostile constructs, on raw tokens (comments skipped).

    Hostile constructs are reported before mere unknown names, so `f with { f = ... }` is
    refused for its `with`, the reason that matters.
    """
    if len(text) > MAX_SCRIPT_CHARS:
        raise FaustValidationError(
            f"script too long: {len(text)} characters (limit {MAX_SCRIPT_CHARS})"
        )
    tokens = [m for m in _SCAN.finditer(text) if m.lastgroup != "comment"]
    depth = 0
    for k, m in enumerate(tokens):
        kind, token = m.lastgroup, m.group()
        if kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                raise _scan_error(f"nesting deeper than {MAX_NESTING} parentheses", text, m)
        elif kind == "close":
            depth -= 1
        elif kind == "char":
            raise _scan_error(_CHAR_REASONS[token], text, m)
        elif kind == "string" and _after_import(tokens, k):
            if token != '"stdfaust.lib"':
                raise _scan_error(
                    f'only import("stdfaust.lib") is allowed, not import({token})', text, m
                )
        elif kind == "ident":
            key = token if token in FORBIDDEN else token.rsplit(".", 1)[-1]
            if key in FORBIDDEN:
                raise _scan_error(f"'{token}': {FORBIDDEN[key]}", text, m)
    for k, m in enumerate(tokens):
        if m.lastgroup == "ident":
            is_call = k + 1 < len(tokens) and tokens[k + 1].lastgroup == "open"
            _check_identifier(m.group(), is_call, text, m)
        elif m.lastgroup == "string" and not _after_import(tokens, k):
            raise _scan_error("strings are only allowed in the import", text, m)


def _after_import(tokens: list[re.Match], k: int) -> bool:
    return [t.group() for t in tokens[max(0, k - 2) : k]] == ["import", "("]


def _scan_error(reason: str, text: str, m: re.Match) -> FaustValidationError:
    line = text.count("\n", 0, m.start()) + 1
    column = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    return FaustValidationError(reason, line, column)


def _check_identifier(token: str, is_call: bool, text: str, m: re.Match) -> None:
    if token in FUNCTIONS or token in (DB2LINEAR, "process", "import", "_"):
        return
    if _NAME.fullmatch(token):
        return
    if "." in token or is_call:
        raise _scan_error(
            f"'{token}' is not an allowlisted function (allowed: {', '.join(FUNCTIONS)}, "
            f"{DB2LINEAR})",
            text,
            m,
        )
    raise _scan_error(
        f"unknown name '{token}': definitions are named <role>_process (e.g. drums_process) "
        "or master_process",
        text,
        m,
    )


# --- pass 3: semantics ---------------------------------------------------------------------


def _err(reason: str, node) -> FaustValidationError:
    pos = getattr(node, "pos", None)
    return FaustValidationError(reason, *(pos if pos else (None, None)))


def check_semantics(script: MixScript, sample_rate: int | None = None) -> None:
    """Pass 3 without routing: names, references, argument ranges, channel counts."""
    seen: set[str] = set()
    for d in script.definitions:
        if d.name in seen:
            raise _err(f"{d.name} is defined twice", d)
        seen.add(d.name)
        for node in walk(d.expr):
            if isinstance(node, Ref):
                raise _err(
                    f"{d.name} references {node.name}: definitions may not reference other "
                    "definitions (only process does); write the chain out",
                    node,
                )
    for node in walk(script.process):
        if isinstance(node, Ref) and node.name not in seen:
            raise _err(f"{node.name} is used in process but not defined", node)
    for expr in [*(d.expr for d in script.definitions), script.process]:
        for node in walk(expr):
            _check_arguments(node, sample_rate)
    for d in script.definitions:
        ins, outs = channels(d.expr, script)
        if ins not in (1, 2) or outs not in (1, 2):
            raise _err(
                f"{d.name} must take 1 or 2 channels and give 1 or 2; it takes {ins} and "
                f"gives {outs}",
                d,
            )


def _check_range(arg: Arg, value: float, where: str, node, sample_rate: int | None) -> None:
    shown = format_number(value)
    if not arg.lo <= value <= arg.hi:
        unit = f" {arg.unit}" if arg.unit else ""
        bounds = f"[{format_number(arg.lo)}, {format_number(arg.hi)}]{unit}"
        raise _err(f"{where}: {arg.name} = {shown} is outside {bounds}", node)
    if arg.integer and not float(value).is_integer():
        raise _err(f"{where}: {arg.name} must be an integer, got {shown}", node)
    if arg.frequency and sample_rate is not None and value > MAX_FREQ_FRACTION * sample_rate:
        raise _err(
            f"{where}: {arg.name} = {shown} Hz is above the Nyquist limit for {sample_rate} Hz "
            f"(max {format_number(MAX_FREQ_FRACTION * sample_rate)} Hz)",
            node,
        )


def _check_arguments(node: Expr, sample_rate: int | None) -> None:
    if isinstance(node, Call):
        fn = FUNCTIONS[node.name]
        for arg, value in zip(fn.args, node.args, strict=True):
            _check_range(arg, value, node.name, node, sample_rate)
        # Cross-argument bounds: the delay actually used must fit the allocated line.
        if node.name in ("ef.echo", "de.delay") and node.args[1] > node.args[0]:
            raise _err(
                f"{node.name}: {fn.args[1].name} ({format_number(node.args[1])}) exceeds "
                f"{fn.args[0].name} ({format_number(node.args[0])})",
                node,
            )
    elif isinstance(node, Section):
        if isinstance(node.value, Db2Linear):
            _check_range(DB2LINEAR_RANGE, node.value.db, DB2LINEAR, node, None)
        else:
            _check_range(SECTION_RANGES[node.op], node.value.value, f"{node.op}(x)", node, None)


def channels(expr: Expr, script: MixScript) -> tuple[int, int]:
    """(inputs, outputs) of an expression, by Faust's composition rules.

    Raises `FaustValidationError` at the composition whose channel counts do not fit, so an
    arity mistake is reported where it is, not as a libfaust error.
    """
    if isinstance(expr, Wire):
        return 1, 1
    if isinstance(expr, Cut):
        return 1, 0
    if isinstance(expr, BinOp):
        return 2, 1
    if isinstance(expr, Section):
        return 1, 1
    if isinstance(expr, Call):
        return FUNCTIONS[expr.name].io(expr.args)
    if isinstance(expr, Ref):
        d = script.definition(expr.name)
        assert d is not None, expr.name  # check_semantics ran first
        return channels(d.expr, script)
    if isinstance(expr, Chain):
        ios = [channels(item, script) for item in expr.items]
        if expr.op == ",":
            io = (sum(i for i, _ in ios), sum(o for _, o in ios))
        else:
            for k in range(1, len(ios)):
                if ios[k - 1][1] != ios[k][0]:
                    raise _err(
                        f"':' needs matching channels: {_show(expr.items[k - 1])} gives "
                        f"{ios[k - 1][1]}, {_show(expr.items[k])} takes {ios[k][0]}",
                        expr.items[k],
                    )
            io = (ios[0][0], ios[-1][1])
        _check_width(io, expr)
        return io
    if isinstance(expr, Route):
        ins, outs = channels(expr.first, script)
        for op, item in expr.steps:
            item_ins, item_outs = channels(item, script)
            if op == "<:" and (outs == 0 or item_ins % outs):
                raise _err(
                    f"'<:' splits {outs} channels into {item_ins}: the inputs on the right must "
                    "be a multiple of the outputs on the left",
                    item,
                )
            if op == ":>" and (item_ins == 0 or outs % item_ins):
                raise _err(
                    f"':>' merges {outs} channels into {item_ins}: the outputs on the left must "
                    "be a multiple of the inputs on the right",
                    item,
                )
            outs = item_outs
        _check_width((ins, outs), expr)
        return ins, outs
    raise AssertionError(f"unknown node {expr!r}")


def _check_width(io: tuple[int, int], node) -> None:
    if max(io) > MAX_CHANNELS:
        raise _err(f"more than {MAX_CHANNELS} channels in one block", node)


def _show(expr: Expr) -> str:
    text = expr.to_faust()
    return text if len(text) <= 40 else text[:37] + "..."


def _route(script: MixScript, n_stems: int | None, roles: Sequence[str] | None) -> ValidatedScript:
    """Routing checks: which stems feed `process`, in which order, mono or stereo."""
    refs = [node for node in walk(script.process) if isinstance(node, Ref)]
    counts: dict[str, int] = {}
    for ref in refs:
        counts[ref.name] = counts.get(ref.name, 0) + 1
        if counts[ref.name] > 1:
            raise _err(f"{ref.name} is used more than once in process", ref)
    for d in script.definitions:
        if d.name not in counts:
            raise _err(f"{d.name} is defined but not used in process", d)
    stem_roles = tuple(
        ref.name.removesuffix("_process") for ref in refs if ref.name != "master_process"
    )
    if not stem_roles:
        raise _err(
            "process mixes no stems: define and use at least one <role>_process", script.process
        )
    ins, outs = channels(script.process, script)
    if outs not in (1, 2):
        raise _err(
            f"process must give a mono or stereo master, not {outs} channels", script.process
        )
    n = len(stem_roles)
    if ins not in (n, 2 * n):
        raise _err(
            f"process takes {ins} input channels for {n} stems: it must take {n} (mono stems) "
            f"or {2 * n} (stereo stems, two channels each)",
            script.process,
        )
    per_stem = ins // n
    for role in stem_roles:
        d = script.definition(f"{role}_process")
        assert d is not None
        d_ins, _ = channels(d.expr, script)
        if d_ins != per_stem:
            kind = "mono" if per_stem == 1 else "stereo"
            raise _err(
                f"{d.name} takes {d_ins} channel(s) but the stems are fed {kind} "
                f"({per_stem} channel(s) each)",
                d,
            )
    if n_stems is not None and n_stems != n:
        raise FaustValidationError(f"the script mixes {n} stems but {n_stems} were given")
    if roles is not None and sorted(roles) != sorted(stem_roles):
        missing = sorted(set(roles) - set(stem_roles))
        extra = sorted(set(stem_roles) - set(roles))
        parts = []
        if missing:
            parts.append(f"no <role>_process for stems {', '.join(missing)}")
        if extra:
            parts.append(f"no stem given for {', '.join(r + '_process' for r in extra)}")
        raise FaustValidationError("stems and script do not match: " + "; ".join(parts))
    return ValidatedScript(
        script=script, inputs=ins, outputs=outs, stem_roles=stem_roles, channels_per_stem=per_stem
    )
