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


def sort_graph(formulas: list) -> dict[str, set[str]]:
    """Each sort's successors: an edge A -> B as above."""
    g: dict[str, set[str]] = {}
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
                for a in univ:
                    for b in names:
                        g.setdefault(a, set()).add(b)
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

    for f in formulas:
        if isinstance(f, bool):
            continue
        walk(f, 1, ())
    for d in funcs.values():
        rng = d.range()
        if not uninterpreted(rng):
            continue
        for i in range(d.arity()):
            if uninterpreted(d.domain(i)):
                g.setdefault(d.domain(i).name(), set()).add(rng.name())
    return g


def is_epr(formulas: list) -> tuple[bool, str]:
    """Whether a query's quantifier alternations stay in EPR (decidable), and why not."""
    g = sort_graph(formulas)
    # graphlib reads the mapping as predecessors: its cycle runs backwards
    ordered = {a: sorted(bs) for a, bs in sorted(g.items())}
    try:
        TopologicalSorter(ordered).prepare()
    except CycleError as exc:
        cycle = list(reversed(exc.args[1]))
        return False, "cycle " + " -> ".join(cycle)
    return True, "stratified"
