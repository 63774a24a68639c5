"""Reachable states of small instances as arrays: the data candidate
invariants are filtered by.

Every reachable state of an instance (the fast engine, exhaustive) is
decoded from its packed form into one numpy array per symbol, indexed
[state, arg index, ...] with an option sort's `none` at index 0 and its
elements shifted up by one (the packed layout's own convention, so
decoding is a reshape). A function's array holds raw values the same way
(`none` = 0 for an option result), so the int order of raw values is the
sort's order with `none` below every element, as the language has it.
Immutable symbols get the same arrays with a leading axis of length 1, so
one indexing rule serves both."""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from paxcheck.budget import Limits
from paxcheck.config.instance import Instance
from paxcheck.ground.ground import GroundInstance, ground
from paxcheck.ground.layout import Layout
from paxcheck.lang import ir
from paxcheck.search.api import Checks, RunResult, run
from paxcheck.semantics.evaluate import RefState


@dataclass(frozen=True, eq=False)
class Sample:
    """The reachable states of one instance, as arrays."""
    inst: Instance
    count: int                        # states in the arrays
    arrays: dict[str, np.ndarray]     # symbol -> [state (1 for immutables), *args]
    sizes: dict[str, int]             # sort -> number of elements

    def dims(self, sort: ir.SortT) -> int:
        return self.sizes[sort.name] + int(sort.option)


@dataclass(frozen=True, eq=False)
class Exploration:
    """One instance explored: its states, or the violation that stopped it."""
    sample: Sample | None
    result: RunResult


class _Collect:
    def __init__(self, keep: int | None = None) -> None:
        self.states: deque[int] = deque(maxlen=keep)

    def state(self, index: int, state: Any, parent: int, gid: int) -> None:
        self.states.append(state)

    def transition(self, src: int, gid: int, dst: int) -> None:
        pass


def explore(inst: Instance, properties: tuple[str, ...], limits: Limits,
            engine: str = "fast", keep: int | None = None) -> Exploration:
    """Every reachable state of `inst`, checking `properties` on the way: a
    violated property stops the run (its sample is then None), as does any
    limit (an incomplete run's states are still a sample: each is
    reachable). With `keep`, the sample holds only the last `keep` states
    found: breadth first, the deepest ones."""
    g = ground(inst)
    collect = _Collect(keep)
    res = run(g, limits, Checks(properties=properties), engine=engine, visitor=collect)
    if res.violations:
        return Exploration(None, res)
    return Exploration(decode(g, collect.states), res)


def decode(g: GroundInstance, states: Sequence[int]) -> Sample:
    """Packed states as one array per symbol."""
    return _decode(g.inst, g.layout, states)


def sample_of(inst: Instance, states: list[RefState]) -> Sample:
    """A few states of the reference semantics (a CTI's) as a sample."""
    layout = Layout(inst)
    return _decode(inst, layout, [layout.encode(s) for s in states])


def _decode(inst: Instance, layout: Layout, states: Sequence[int]) -> Sample:
    nbytes = max(1, (layout.bits + 7) // 8)
    raw = np.frombuffer(b"".join(s.to_bytes(nbytes, "little") for s in states),
                        np.uint8).reshape(len(states), nbytes)
    bits = np.unpackbits(raw, axis=1, bitorder="little")
    arrays: dict[str, np.ndarray] = {}
    for sym in inst.spec.mutable_symbols:
        slot = layout.slots[sym.name]
        block = bits[:, slot.base:slot.base + slot.width * slot.npoints]
        block = block.reshape(len(states), slot.npoints, slot.width)
        weights = (1 << np.arange(slot.width, dtype=np.int64))
        vals = (block.astype(np.int64) * weights).sum(axis=2)
        shape = (len(states),) + tuple(len(inst.domain(p)) for p in sym.params)
        arrays[sym.name] = (vals.astype(bool) if sym.is_relation
                            else vals.astype(np.int16)).reshape(shape)
    for sym in inst.spec.immutable_symbols:
        arrays[sym.name] = immutable_array(inst, sym)
    sizes = {s.name: inst.size(s.name) for s in inst.spec.sorts}
    return Sample(inst, len(states), arrays, sizes)


def immutable_array(inst: Instance, sym: ir.Symbol) -> np.ndarray:
    """An immutable symbol's interpretation as a sample array (one 'state')."""
    shape = (1,) + tuple(len(inst.domain(p)) for p in sym.params)
    val = inst.interp[sym.name]
    opts = [int(p.option) for p in sym.params]
    if sym.is_relation:
        out = np.zeros(shape, bool)
        for pt in val:
            out[(0,) + tuple(a + o for a, o in zip(pt, opts))] = True
        return out
    bias = int(sym.value_sort.option)
    if sym.kind == "individual":
        return np.full((1,), val + bias, np.int16)
    out16 = np.zeros(shape, np.int16)
    for pt, v in val.items():
        out16[(0,) + tuple(a + o for a, o in zip(pt, opts))] = v + bias
    return out16


def widened(path: str, inst: Instance, sorts: list[str], by: int = 2) -> Instance | None:
    """`inst` with `by` more elements of each of `sorts`, its immutables
    given as the model at `path` gives them (a "majority" quorum system
    grows with its nodes, and `{ subsets = K }` over a widened sort gets
    K + by // 2: two families of K1- and K2-subsets of N elements that
    meet, K1 + K2 > N, still meet); None if the model's immutables do not
    fit the new sizes (a table written out for the old ones)."""
    from paxcheck.config.model import build_model, read_toml
    from paxcheck.errors import PaxError
    try:
        data, text = read_toml(path, "model")
        data = dict(data)
        # the sorts the model sizes (a built-in immutable sizes the others)
        data["sorts"] = {name: inst.size(name) + (by if name in sorts else 0)
                         for name in data.get("sorts", {})}
        immutable = dict(data.get("immutable", {}))
        for name, val in immutable.items():
            sym = inst.spec.symbol_map.get(name)
            if (isinstance(val, dict) and isinstance(val.get("subsets"), int) and sym is not None
                    and sym.params and sym.params[0].name in sorts):
                immutable[name] = {**val, "subsets": val["subsets"] + by // 2}
        if immutable:
            data["immutable"] = immutable
        model = build_model(data, path, text)
    except PaxError:
        return None
    return model.instances[0] if len(model.instances) == 1 else None
