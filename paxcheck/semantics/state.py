"""StateView: one symbol's value in one state, with element names.

A RefState stores each mutable symbol by kind (a relation as the frozenset
of its true rows, a function as one value per point, an individual as a
1-tuple) and an immutable symbol's interpretation is stored in yet another
shape (config/instance.py). This is the one place that switches on the kind
to name them; the trace writers (JSON, text, ITF), graph labels and
counterexamples to induction all render from these views."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paxcheck.config.instance import Instance
from paxcheck.lang import ir
from paxcheck.semantics.evaluate import RefState

Row = tuple[str, ...]


@dataclass(frozen=True)
class SymbolView:
    symbol: ir.Symbol
    rows: tuple[Row, ...]               # a relation: its true rows, in value order
    points: tuple[tuple[Row, str], ...]  # a function: (arguments, value) per point;
    #                                      an individual: one point with no arguments

    @property
    def kind(self) -> str:
        return self.symbol.kind

    def json(self) -> Any:
        """The trace-JSON form: a relation is its rows sorted by name, an
        individual its element, a function an object keyed "a,b"."""
        if self.symbol.is_relation:
            return sorted(list(r) for r in self.rows)
        if self.symbol.kind == "individual":
            return self.points[0][1]
        return {",".join(args): value for args, value in self.points}

    def facts(self) -> list[str]:
        """The interpretation as a person writes it: a relation as its true
        atoms (`le(round0, round1)`), a function as one equation per point
        (`maxr(votemap0, inst0) = round0`), an individual as `none = round1`.
        A relation true nowhere is `!r(...)` (for no arguments: `!r`)."""
        name = self.symbol.name
        if self.symbol.is_relation:
            if not self.rows:
                return [f"!{name}" + ("(...)" if self.symbol.params else "")]
            return [name + (f"({', '.join(r)})" if r else "") for r in self.rows]
        return [name + (f"({', '.join(args)})" if args else "") + f" = {value}"
                for args, value in self.points]


def _names(inst: Instance, sorts: tuple[ir.SortT, ...], values: tuple[int, ...]) -> Row:
    return tuple(inst.name_of(s, x) for s, x in zip(sorts, values))


def symbol_view(inst: Instance, sym: ir.Symbol, entry: Any) -> SymbolView:
    """The view of a symbol's RefState entry."""
    if sym.is_relation:
        return SymbolView(sym, tuple(_names(inst, sym.params, t) for t in sorted(entry)), ())
    assert sym.result is not None
    if sym.kind == "individual":
        return SymbolView(sym, (), (((), inst.name_of(sym.result, entry[0])),))
    return SymbolView(sym, (), tuple((_names(inst, sym.params, p), inst.name_of(sym.result, v))
                                     for p, v in zip(inst.points(sym), entry)))


def state_view(inst: Instance, state: RefState) -> list[SymbolView]:
    """Every mutable symbol of a state, in declaration order."""
    return [symbol_view(inst, sym, entry)
            for sym, entry in zip(inst.spec.mutable_symbols, state)]


def immutable_view(inst: Instance) -> list[SymbolView]:
    """Every immutable symbol's interpretation in this instance."""
    out = []
    for sym in inst.spec.immutable_symbols:
        val = inst.interp[sym.name]
        if sym.is_relation:
            entry: Any = val
        elif sym.kind == "individual":
            entry = (val,)
        else:
            assert isinstance(val, dict)
            entry = tuple(val[p] for p in inst.points(sym))
        out.append(symbol_view(inst, sym, entry))
    return out


def views_json(views: list[SymbolView]) -> dict[str, Any]:
    return {v.symbol.name: v.json() for v in views}
