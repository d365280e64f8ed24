"""Random, valid mix scripts drawn from the grammar's building blocks.

Used by the property tests (every drawn script must print, parse back to the same tree, compile
and render) and by benchmarks. Draws are channel-correct by construction: mono chains are made of
1→1 blocks, stereo chains of 2→2 blocks or pairs of mono chains, and `process` routes the stems
the way the renderer feeds them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from producer.faust.allowlist import FUNCTIONS, SECTION_RANGES, Arg
from producer.faust.ast import (
    BinOp,
    Call,
    Chain,
    Db2Linear,
    Definition,
    Expr,
    MixScript,
    Number,
    Ref,
    Route,
    Section,
    Wire,
)

MONO_FUNCTIONS = tuple(n for n, f in FUNCTIONS.items() if (f.inputs, f.outputs) == (1, 1))
STEREO_FUNCTIONS = tuple(n for n, f in FUNCTIONS.items() if (f.inputs, f.outputs) == (2, 2))
#: Longest delay line drawn (samples / seconds): the full range is legal, but allocating a
#: 10 s line for every drawn script makes property tests slow for no extra coverage.
_SAMPLING_DELAY_CAP = 4800


def draw_value(rng: random.Random, arg: Arg) -> float:
    """A value inside the argument's range; integers stay integers, others get 4 decimals."""
    lo, hi = arg.lo, arg.hi
    if arg.name in ("max_delay", "delay"):
        hi = min(hi, _SAMPLING_DELAY_CAP)
    if arg.name in ("max_duration", "duration"):
        hi = min(hi, 0.1)
    if arg.integer:
        return float(rng.randint(int(lo), int(hi)))
    if rng.random() < 0.1:
        return float(rng.choice([lo, hi]))  # the bounds themselves are legal and must work
    return round(rng.uniform(lo, hi), 4)


def draw_call(rng: random.Random, name: str) -> Call:
    fn = FUNCTIONS[name]
    args = [draw_value(rng, a) for a in fn.args]
    if name in ("ef.echo", "de.delay"):
        args[1] = min(args[1], args[0])  # the delay used must fit the allocated line
    return Call(name, tuple(args))


def mono_block(rng: random.Random, depth: int = 0) -> Expr:
    """One 1→1 block: a function, a gain, or a dry/wet blend around another block."""
    roll = rng.random()
    if roll < 0.65 or depth > 1:
        return draw_call(rng, rng.choice(MONO_FUNCTIONS))
    if roll < 0.85:
        op = rng.choice(list(SECTION_RANGES))
        if op == "*" and rng.random() < 0.5:
            return Section(op, Db2Linear(round(rng.uniform(-24, 6), 2)))
        # Sane operands (|gain| ≤ 2, |offset| ≤ 0.1): drawn chains stack several blocks, and the
        # full legal ranges compound into runaway levels that the engine rightly refuses.
        limit = 2.0 if op == "*" else 0.1
        return Section(op, Number(round(rng.uniform(-limit, limit), 4)))
    # _ <: _, (wet) :> _  — a parallel blend, as for reverbs and echoes.
    return Route(Wire(), (("<:", Chain(",", (Wire(), mono_chain(rng, depth + 1)))), (":>", Wire())))


def mono_chain(rng: random.Random, depth: int = 0) -> Expr:
    items = [mono_block(rng, depth) for _ in range(rng.randint(1, 3))]
    return items[0] if len(items) == 1 else Chain(":", tuple(items))


def stereo_block(rng: random.Random) -> Expr:
    roll = rng.random()
    if roll < 0.45:
        return draw_call(rng, rng.choice(STEREO_FUNCTIONS))
    if roll < 0.85:
        return Chain(",", (mono_chain(rng), mono_chain(rng)))
    # Sum to mono and pan: + : *(0.5) : sp.panner(p)
    return Chain(":", (BinOp("+"), Section("*", Number(0.5)), draw_call(rng, "sp.panner")))


def stereo_chain(rng: random.Random) -> Expr:
    items = [stereo_block(rng) for _ in range(rng.randint(1, 3))]
    return items[0] if len(items) == 1 else Chain(":", tuple(items))


def random_script(
    rng: random.Random, roles: Sequence[str], stereo: bool = True, with_master: bool = True
) -> MixScript:
    """A valid mix script for `roles`, stems fed stereo (2 channels each) or mono."""
    chain = stereo_chain if stereo else mono_chain
    defs = [Definition(f"{role}_process", chain(rng)) for role in roles]
    refs: Expr = (
        Chain(",", tuple(Ref(d.name) for d in defs)) if len(defs) > 1 else Ref(defs[0].name)
    )
    width = 2 if stereo else 1
    n_inputs = width * len(roles)
    if rng.random() < 0.5:
        # An explicit input stage, as in the seed's `_, _, _, _ : ...`, or its si.bus form.
        if rng.random() < 0.5:
            feed: Expr = Call("si.bus", (float(n_inputs),))
        else:
            feed = Chain(",", (Wire(),) * n_inputs) if n_inputs > 1 else Wire()
        refs = Chain(":", (feed, refs))
    if with_master:
        defs.append(Definition("master_process", chain(rng)))
        out: Expr = Ref("master_process")
    else:
        out = Chain(",", (Wire(), Wire())) if stereo else Wire()
    return MixScript(definitions=tuple(defs), process=Route(refs, ((":>", out),)))
