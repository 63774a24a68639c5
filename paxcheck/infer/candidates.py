"""Candidate invariants of a spec: per template, the minimal clauses the
samples satisfy (`mine`), kept when they could be part of an invariant a
person would write, one per variable renaming.

What is dropped, and why it loses nothing:
- a clause that leaves a template variable out: a smaller template has it;
- a clause with `x != y` between two variables: it says the rest with y
  replaced by x, a clause of a smaller template;
- renamings of one clause (swapping two ballots' variables): one is kept."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from paxcheck.infer.atoms import (
    Atom,
    Guard,
    Template,
    TVar,
    atoms,
    equal,
    guard_atom,
    guards,
    is_projection,
    stems_unique,
    text,
)
from paxcheck.infer.mine import distinct_rows, exists_rows, minimal_clauses
from paxcheck.infer.samples import Sample
from paxcheck.lang import ir


@dataclass(frozen=True)
class Clause:
    """A universally quantified clause: its template and literals (atom,
    polarity)."""
    template: Template
    literals: tuple[tuple[Atom, bool], ...]

    @property
    def size(self) -> int:
        return len(self.literals)

    def formula(self) -> ir.Expr:
        """`forall vars. a & b -> c | d`: negative literals as the premise,
        a projection's free arguments among the variables (a premise
        `exists x. R(x)` is `forall x. !R(x) | ...`)."""
        binders = list(self.template.binders())
        taken = {b.name for b in binders}
        stems = {v.sort: v.name.rstrip("0123456789") for v in self.template.vars}
        neg: list[ir.Expr] = []
        for a, positive in self.literals:
            if positive:
                continue
            f = a.formula
            if is_projection(f):
                assert isinstance(f, ir.Quant) and isinstance(f.body, ir.App)
                names = {}
                for b in f.binders:
                    names[b.name] = _fresh(stems.get(b.sort.name, b.sort.name[0]), taken)
                    taken.add(names[b.name])
                    binders.append(ir.Binder(names[b.name], b.sort))
                f = _rename(f.body, names)
            neg.append(f)
        pos = [a.formula for a, p in self.literals if p]
        body: ir.Expr
        if not neg:
            body = _or(pos)
        elif not pos:
            body = ir.Not(_and(neg)) if len(neg) > 1 else ir.Not(neg[0])
        else:
            body = ir.Implies(_and(neg), _or(pos))
        return ir.Quant("forall", tuple(binders), body) if binders else body


def _fresh(stem: str, taken: set[str]) -> str:
    i = 1
    while f"{stem}{i}" in taken:
        i += 1
    return f"{stem}{i}"


def _and(xs: list[ir.Expr]) -> ir.Expr:
    return xs[0] if len(xs) == 1 else ir.And(tuple(xs))


def _or(xs: list[ir.Expr]) -> ir.Expr:
    return xs[0] if len(xs) == 1 else ir.Or(tuple(xs))


@dataclass(frozen=True)
class Mined:
    """What one template gave: its candidates and the figures behind them."""
    template: Template
    atoms: int
    rows: int
    clauses: int          # minimal clauses before the filters above
    kept: tuple[Clause, ...]
    complete: bool


def templates(spec: ir.Spec, max_vars: int, per_sort: dict[str, int]) -> list[Template]:
    """Every template with at most `per_sort[s]` variables of each sort and
    `max_vars` in all, smallest first."""
    sorts = [s.name for s in spec.sorts]
    out = []
    for counts in itertools.product(*(range(per_sort.get(s, 0) + 1) for s in sorts)):
        if sum(counts) <= max_vars:
            out.append(Template.of(spec, dict(zip(sorts, counts))))
    out.sort(key=lambda t: (len(t.vars), [v.sort for v in t.vars]))
    return out


def set_sorts(spec: ir.Spec) -> frozenset[str]:
    """The sorts no mutable symbol mentions (quorums): an element of one
    reaches a state only through an immutable relation, and so only
    through an existential over its members."""
    seen = {p.name for sym in spec.symbols if sym.mutable
            for p in sym.params + ((sym.result,) if sym.result is not None else ())}
    return frozenset(s.name for s in spec.sorts if s.name not in seen)


def runs(spec: ir.Spec, max_vars: int) -> list[tuple[Template, Guard | None]]:
    """The templates mined: universal ones, then per guard the existential
    ones with one variable of the guard's set sort ("every quorum has a
    member such that ...", about ballots and values) and none of the
    existential's sort.

    A variable of a set sort is there only as a guard's: a universal
    clause over a quorum's membership says how the instance's quorums lie
    (on 3 nodes, "of two nodes, one is in q"), as does a second set
    variable beside the guard's ("q1 has a member outside q2" where
    phase-1 quorums are larger than phase-2 ones). No other size keeps
    either, the wider instances refute them only after they were mined,
    and on Flexible Paxos their templates took most of the mining time and
    their existentials were chosen by strengthening, to be dropped one
    after the other."""
    sets = set_sorts(spec)
    every = templates(spec, max_vars, default_per_sort(spec))
    out: list[tuple[Template, Guard | None]] = [
        (t, None) for t in every if not sets & t.counts().keys()]
    for g in guards(spec):
        out += [(t, g) for t in every
                if t.counts().get(g.zsort) == 1 and g.sort not in t.counts()
                and not (sets - {g.zsort}) & t.counts().keys()]
    return out


def default_per_sort(spec: ir.Spec, cap: int = 3) -> dict[str, int]:
    """Variables per sort: one more than any symbol takes of that sort (a
    promise `one_b(n, b, mb, mv)` has two ballots, and an invariant about it
    a third between them), at most `cap`."""
    out = {s.name: 1 for s in spec.sorts}
    for sym in spec.symbols:
        per: dict[str, int] = {}
        for p in sym.params + ((sym.result,) if sym.result is not None else ()):
            per[p.name] = per.get(p.name, 0) + 1
        for s, n in per.items():
            out[s] = max(out[s], min(cap, n + 1))
    return out


def mine(spec: ir.Spec, samples: list[Sample], tmpl: Template, max_literals: int,
         max_states: int | None) -> Mined:
    ats = atoms(spec, tmpl, projections=True)
    rows = distinct_rows(samples, tmpl, ats, max_states)
    found, complete = minimal_clauses(rows, max_literals, _premise_only(ats))
    kept: dict[tuple[int, ...], Clause] = {}
    _keep(tmpl, ats, found, kept)
    return Mined(tmpl, len(ats), len(rows), len(found), tuple(kept.values()), complete)


def _premise_only(ats: list[Atom]) -> np.ndarray:
    """The cube literals the walk may take (a cube negates its clause): a
    projection only negated in the clause, as a premise (asserted, it
    would be an existential), so only true in the cube."""
    allowed = np.ones(2 * len(ats), bool)
    for i, a in enumerate(ats):
        if is_projection(a.formula):
            allowed[2 * i] = False
    return allowed


def _keep(tmpl: Template, ats: list[Atom], found: list[tuple[int, ...]],
          kept: dict[tuple[int, ...], Clause], first_derived: int | None = None) -> None:
    """Add to `kept` (by canonical key) the mined clauses that pass the
    filters of this module's docstring; with `first_derived`, only those
    with an atom from that index on (an existential one)."""
    full = (1 << len(tmpl.vars)) - 1
    canon = _Canon(tmpl, ats)
    for lits in found:
        if first_derived is not None and not any(lit >> 1 >= first_derived for lit in lits):
            continue    # universal: the universal mining has it
        uses = 0
        for lit in lits:
            uses |= ats[lit >> 1].uses
        if uses != full:
            continue
        if any(not (lit & 1) and _var_eq(ats[lit >> 1].formula) for lit in lits):
            continue
        key = canon.key(lits)
        if key is not None and key not in kept:
            kept[key] = Clause(tmpl, tuple((ats[lit >> 1], bool(lit & 1)) for lit in lits))


def _var_eq(f: ir.Expr) -> bool:
    return (isinstance(f, ir.Cmp) and f.op == "=" and isinstance(f.left, ir.Var)
            and isinstance(f.right, ir.Var))


class _Canon:
    """One representative of a clause under renamings of a template's
    variables within each sort."""

    def __init__(self, tmpl: Template, ats: list[Atom]) -> None:
        index = {a.key: i for i, a in enumerate(ats)}
        by_sort: dict[str, list[str]] = {}
        for v in tmpl.vars:
            by_sort.setdefault(v.sort, []).append(v.name)
        perms = [dict()]  # type: list[dict[str, str]]
        for names in by_sort.values():
            perms = [{**p, **dict(zip(names, q))} for p in perms
                     for q in itertools.permutations(names)]
        self.maps: list[list[int | None]] = []
        for p in perms:
            self.maps.append([index.get(text(_rename(a.formula, p))) for a in ats])

    def key(self, lits: tuple[int, ...]) -> tuple[int, ...] | None:
        best: tuple[int, ...] | None = None
        for m in self.maps:
            img = []
            for lit in lits:
                j = m[lit >> 1]
                if j is None:
                    break
                img.append(2 * j + (lit & 1))
            else:
                t = tuple(sorted(img))
                if best is None or t < best:
                    best = t
        return best


def mine_exists(spec: ir.Spec, samples: list[Sample], tmpl: Template, guard: Guard,
                max_literals: int, max_states: int | None) -> Mined:
    """Candidates `forall X. C | exists y. guard(y, z) & L1 & L2`: a clause
    of at most `max_literals` literals over the template and one derived
    atom, for each variable z of the template that the guard can relate."""
    stems = stems_unique(spec)
    names = {v.name for v in tmpl.vars}
    y = TVar(stems[guard.sort] if stems[guard.sort] not in names else stems[guard.sort] + "0",
             guard.sort)
    yt = Template(tmpl.vars + (y,))
    ybit = 1 << len(tmpl.vars)
    xatoms = atoms(spec, tmpl)
    full = (1 << len(tmpl.vars)) - 1
    kept: dict[tuple[int, ...], Clause] = {}
    total_rows = total_found = 0
    complete = True
    for z in [v for v in tmpl.vars if v.sort == guard.zsort]:
        g = guard_atom(guard, y, z)
        gkey = text(g)
        # each conjunct relates y to the template's variables
        yatoms = [a for a in atoms(spec, yt)
                  if a.uses & ybit and a.uses & full and a.key != gkey]
        rows, derived = exists_rows(samples, tmpl, xatoms, yt, y, g, yatoms, max_states)
        ats = xatoms + derived
        kx = len(xatoms)
        allowed = np.ones(2 * len(ats), bool)
        allowed[2 * kx + 1::2] = False       # a derived atom appears positively only
        single = np.zeros(2 * len(ats), bool)
        single[2 * kx:] = True
        found, done = minimal_clauses(rows, max_literals + 1, allowed, single=single)
        complete &= done
        total_rows += len(rows)
        total_found += len(found)
        _keep(tmpl, ats, found, kept, first_derived=kx)
    return Mined(tmpl, len(xatoms), total_rows, total_found, tuple(kept.values()), complete)


def _rename(e: ir.Expr, p: dict[str, str]) -> ir.Expr:
    if isinstance(e, ir.Var):
        return ir.Var(p.get(e.name, e.name), e.sort)
    if isinstance(e, ir.App):
        return ir.App(e.symbol, tuple(_rename(a, p) for a in e.args), e.sort)
    if isinstance(e, ir.Cmp):
        left, right = _rename(e.left, p), _rename(e.right, p)
        return equal(left, right) if e.op == "=" else ir.Cmp(e.op, left, right)
    if isinstance(e, ir.Not):
        return ir.Not(_rename(e.arg, p))
    if isinstance(e, ir.And):
        return ir.And(tuple(sorted((_rename(a, p) for a in e.args), key=text)))
    if isinstance(e, ir.Quant):
        return ir.Quant(e.kind, e.binders, _rename(e.body, p))
    return e
