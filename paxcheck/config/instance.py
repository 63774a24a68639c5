"""A bounded instance: finite sorts plus one interpretation of the immutable
symbols. Elements of a sort of size n are the ints 0..n-1; `none` is -1, so the
natural int order is the order of an ordered sort with `none` below all."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from paxcheck.lang import ir

NONE = -1

# value of an immutable symbol: relation -> frozenset of tuples,
# function -> dict tuple -> int, individual -> int
Interp = Any


@dataclass(frozen=True)
class Instance:
    """One bounded instance: element names per sort and the immutables' values."""
    spec: ir.Spec
    elements: dict[str, tuple[str, ...]]  # sort -> element names
    interp: dict[str, Interp] = field(default_factory=dict)
    label: str = ""  # describes the interpretation when a model has several

    def size(self, sort: str) -> int:
        return len(self.elements[sort])

    def domain(self, sort: ir.SortT) -> range:
        n = len(self.elements[sort.name])
        return range(-1, n) if sort.option else range(n)

    def points(self, sym: ir.Symbol) -> list[tuple[int, ...]]:
        """Every argument tuple of a symbol, in a fixed order."""
        return list(itertools.product(*(self.domain(p) for p in sym.params)))

    def name_of(self, sort: ir.SortT | str, value: int) -> str:
        name = sort if isinstance(sort, str) else sort.name
        return "none" if value == NONE else self.elements[name][value]

    def value_of(self, sort: ir.SortT, name: str) -> int:
        if name == "none" and sort.option:
            return NONE
        try:
            return self.elements[sort.name].index(name)
        except ValueError:
            raise KeyError(name) from None

    def describe(self) -> str:
        sizes = " ".join(f"{s}={len(e)}" for s, e in self.elements.items())
        return sizes + (f" [{self.label}]" if self.label else "")
