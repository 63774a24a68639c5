"""Packing states into one Python int.

Every mutable symbol gets a block of bits: a relation one bit per point, a
function or individual `width` bits per point holding raw = value + bias
(bias 1 for option sorts, so raw 0 is `none`). A point's index is the mixed
radix number of its argument indices (argument value + 1 at an option sort)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paxcheck.config.instance import Instance
from paxcheck.lang import ir
from paxcheck.semantics.evaluate import RefState


@dataclass(frozen=True)
class Slot:
    """Where one mutable symbol lives in the packed state."""
    symbol: ir.Symbol
    base: int           # first bit
    width: int          # bits per point
    bias: int           # raw = value + bias (functions); 0 for relations
    strides: tuple[int, ...]  # point index = sum(stride * arg index)
    opts: tuple[int, ...]     # 1 where the parameter sort is an option sort
    npoints: int
    nvalues: int        # number of raw values (functions); 2 for relations

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    def offset(self, args: tuple[int, ...]) -> int:
        return self.base + self.width * sum(s * (a + o) for s, a, o in
                                            zip(self.strides, args, self.opts))


def point_strides(inst: Instance, sym: ir.Symbol) -> tuple[int, ...]:
    """Mixed-radix weights of a symbol's parameters, the last varying fastest
    (the order of Instance.points)."""
    out, acc = [], 1
    for p in reversed(sym.params):
        out.append(acc)
        acc *= len(inst.domain(p))
    return tuple(reversed(out))


class Layout:
    """The packed state of an instance: a bit per relation point, a field per function point."""
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.slots: dict[str, Slot] = {}
        self.points: dict[str, list[tuple[int, ...]]] = {}
        base = 0
        for sym in inst.spec.mutable_symbols:
            strides = point_strides(inst, sym)
            acc = len(inst.points(sym))
            if sym.is_relation:
                width, bias, nvalues = 1, 0, 2
            else:
                nvalues = len(inst.domain(sym.value_sort))
                width, bias = max(1, (nvalues - 1).bit_length()), int(sym.value_sort.option)
            slot = Slot(sym, base, width, bias, strides,
                        tuple(int(p.option) for p in sym.params), acc, nvalues)
            self.slots[sym.name] = slot
            self.points[sym.name] = inst.points(sym)
            base += width * acc
        self.bits = base

    def encode(self, state: RefState) -> int:
        s = 0
        for entry, (name, slot) in zip(state, self.slots.items()):
            if slot.symbol.is_relation:
                for p in entry:
                    s |= 1 << slot.offset(p)
            else:
                for p, v in zip(self.points[name], entry):
                    s |= (v + slot.bias) << slot.offset(p)
        return s

    def decode(self, s: int) -> RefState:
        out: list[Any] = []
        for name, slot in self.slots.items():
            pts = self.points[name]
            if slot.symbol.is_relation:
                out.append(frozenset(p for p in pts if (s >> slot.offset(p)) & 1))
            else:
                out.append(tuple(((s >> slot.offset(p)) & slot.mask) - slot.bias for p in pts))
        return tuple(out)
