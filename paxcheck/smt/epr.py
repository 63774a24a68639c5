"""Is a query in EPR (effectively propositional)? Build the graph with an
edge A -> B for every function from sort A to sort B, and for every
existential of sort B under a universal of sort A (after pushing negations
through); the fragment is decidable when that graph is acyclic.

The graph has a node per sort, so the standard library's `graphlib` finds
a cycle; networkx, used elsewhere, would cost every proof a third of a
second of import."""
from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

import z3

_BOTH = 0


Edge = tuple[str, str]


def formula_edges(f) -> frozenset[Edge]:
    """The edges one formula contributes. The graph of a query is the union
    of its formulas' graphs, so a prover that asks about many queries
    sharing formulas (the background, the assumed invariants) walks each
    formula once: see `EprChecker`."""
    g: set[Edge] = set()
    seen: set[tuple[int, int, tuple[str, ...]]] = set()
    funcs: dict[str, z3.FuncDeclRef] = {}

    def uninterpreted(s: z3.SortRef) -> bool:
        return s.kind() == z3.Z3_UNINTERPRETED_SORT

    def walk(e, pol: int, univ: tuple[str, ...]) -> None:
        key = (e.get_id(), pol, univ)
        if key in seen:
            return
        seen.add(key)
        if z3.is_quantifier(e):
            sorts = [e.var_sort(i) for i in range(e.num_vars())]
            names = tuple(s.name() for s in sorts if uninterpreted(s))
            universal = (e.is_forall() and pol >= 0) or (e.is_exists() and pol <= 0)
            existential = (e.is_exists() and pol >= 0) or (e.is_forall() and pol <= 0)
            if existential:
                g.update((a, b) for a in univ for b in names)
            walk(e.body(), pol, univ + names if universal else univ)
            return
        if not z3.is_app(e):
            return
        d = e.decl()
        k = d.kind()
        if k == z3.Z3_OP_UNINTERPRETED and d.arity() > 0:
            funcs[d.name()] = d
        kids = e.children()
        if k == z3.Z3_OP_NOT:
            walk(kids[0], -pol, univ)
        elif k == z3.Z3_OP_IMPLIES:
            walk(kids[0], -pol, univ)
            walk(kids[1], pol, univ)
        elif k in (z3.Z3_OP_AND, z3.Z3_OP_OR):
            for c in kids:
                walk(c, pol, univ)
        else:  # iff, ite, equality, applications: a quantifier below may act either way
            for c in kids:
                walk(c, _BOTH, univ)

    if not isinstance(f, bool):
        walk(f, 1, ())
    for d in funcs.values():
        rng = d.range()
        if not uninterpreted(rng):
            continue
        for i in range(d.arity()):
            if uninterpreted(d.domain(i)):
                g.add((d.domain(i).name(), rng.name()))
    return frozenset(g)


def _verdict(edges: set[Edge]) -> tuple[bool, str]:
    g: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        g.setdefault(a, []).append(b)
    # graphlib reads the mapping as predecessors: its cycle runs backwards
    try:
        TopologicalSorter(g).prepare()
    except CycleError as exc:
        cycle = list(reversed(exc.args[1]))
        return False, "cycle " + " -> ".join(cycle)
    return True, "stratified"


class EprChecker:
    """`is_epr` with each formula's edges computed once. Formulas are kept
    alive by the memo, so their Z3 ids are not reused by other terms."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[object, frozenset[Edge]]] = {}

    def edges(self, f) -> frozenset[Edge]:
        if isinstance(f, bool):
            return frozenset()
        key = f.get_id()
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = (f, formula_edges(f))
        return hit[1]

    def is_epr(self, formulas: list) -> tuple[bool, str]:
        edges: set[Edge] = set()
        for f in formulas:
            edges |= self.edges(f)
        return _verdict(edges)


def is_epr(formulas: list) -> tuple[bool, str]:
    """Whether a query's quantifier alternations stay in EPR (decidable), and why not."""
    return EprChecker().is_epr(formulas)
