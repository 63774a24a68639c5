"""The vocabulary of candidate invariants: for a template (a few variables
of each sort), every atom over the spec's symbols and those variables, as
a typed IR formula and as a vectorized evaluation over a `Sample`.

Atoms are relation applications, and comparisons of terms of one sort
(`=`, and `<` both ways for an ordered sort), where a term is a template
variable, `none`, an immutable individual, or a function applied to
variables (or `none` at an option parameter). Nested applications are
left out: the specs' invariants compare functions of variables, and every
level of nesting multiplies the atoms.

A *projection* is a mutable relation with some arguments left free,
`exists mv: value?. one_b(n, b, mb, mv)` ("n promised b reporting mb"):
as a premise it is a universally quantified variable that occurs once,
which a template would otherwise have to spend a variable on. Paxos'
"a promise reports the acceptor's last vote" is
`one_b(n, b, mb, _) & two_b(n, b2, _) & b2 < b -> !(mb < b2)`: four
variables with projections, six without."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from paxcheck.infer.samples import Sample
from paxcheck.lang import ir


@dataclass(frozen=True)
class TVar:
    """A template variable: its name and (base) sort."""
    name: str
    sort: str


@dataclass(frozen=True)
class Template:
    """Variables by sort, each sort's in order (`b1, b2, ...`)."""
    vars: tuple[TVar, ...]

    @staticmethod
    def of(spec: ir.Spec, counts: dict[str, int]) -> Template:
        out = []
        stems = stems_unique(spec)
        for s in spec.sorts:
            n = counts.get(s.name, 0)
            stem = stems[s.name]
            out += [TVar(stem if n == 1 else f"{stem}{i + 1}", s.name) for i in range(n)]
        return Template(tuple(out))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.vars:
            out[v.sort] = out.get(v.sort, 0) + 1
        return out

    def binders(self) -> tuple[ir.Binder, ...]:
        return tuple(ir.Binder(v.name, ir.SortT(v.sort)) for v in self.vars)


def stems_unique(spec: ir.Spec) -> dict[str, str]:
    """Per sort, the stem of its variables' names: its first letter (`b`,
    `n`, `v`), or its whole name when another sort starts with the same."""
    firsts = [s.name[0] for s in spec.sorts]
    return {s.name: s.name[0] if firsts.count(s.name[0]) == 1 else s.name for s in spec.sorts}


@dataclass(frozen=True)
class Atom:
    """One atom: its formula, and which template variables it reads (a
    bit per variable, in template order)."""
    formula: ir.Expr
    uses: int
    key: str          # a stable text: the atom's identity in a template


Term = ir.Expr


def _var(v: TVar) -> ir.Var:
    return ir.Var(v.name, ir.SortT(v.sort))


def _arg_choices(tmpl: Template, param: ir.SortT) -> list[ir.Expr]:
    out: list[ir.Expr] = [_var(v) for v in tmpl.vars if v.sort == param.name]
    if param.option:
        out.append(ir.NoneLit(param))
    return out


def _apps(spec: ir.Spec, tmpl: Template, sym: ir.Symbol) -> list[ir.App]:
    choices = [_arg_choices(tmpl, p) for p in sym.params]
    return [ir.App(sym.name, tuple(args), sym.result)
            for args in itertools.product(*choices)]


def _uses(tmpl: Template, e: ir.Expr) -> int:
    from paxcheck.lang.walk import subexprs
    names = {x.name for x in subexprs(e) if isinstance(x, ir.Var)}
    return sum(1 << i for i, v in enumerate(tmpl.vars) if v.name in names)


def text(e: ir.Expr) -> str:
    from paxcheck.lang.show import show
    return show(e)


def atoms(spec: ir.Spec, tmpl: Template, projections: bool = False) -> list[Atom]:
    """Every atom of the template, in a fixed order; with `projections`,
    the projections (after every other atom)."""
    formulas: list[ir.Expr] = []
    terms: dict[str, list[ir.Expr]] = {s.name: [] for s in spec.sorts}
    for v in tmpl.vars:
        terms[v.sort].append(_var(v))
    for sym in spec.symbols:
        if sym.is_relation:
            formulas += _apps(spec, tmpl, sym)
        else:
            terms[sym.value_sort.name] += _apps(spec, tmpl, sym)
    for s in spec.sorts:
        ts = terms[s.name]
        for t in ts:
            if t.sort is not None and t.sort.option:
                formulas.append(equal(t, ir.NoneLit(t.sort)))
        for t1, t2 in itertools.combinations(ts, 2):
            if isinstance(t1, ir.App) and not t1.args and isinstance(t2, ir.App) and not t2.args:
                continue    # two immutable individuals: a fact of the instance
            formulas.append(equal(t1, t2))
            if s.ordered:
                formulas += [ir.Cmp("<", t1, t2), ir.Cmp("<", t2, t1)]
    out = []
    for f in formulas:
        u = _uses(tmpl, f)
        if tmpl.vars and u == 0 and not _mutable(spec, f):
            continue    # about immutables alone, with no variable: a fact of the instance
        out.append(Atom(f, u, text(f)))
    if projections:
        out += [Atom(f, _uses(tmpl, f), text(f)) for f in _projections(spec, tmpl)]
    return out


def _projections(spec: ir.Spec, tmpl: Template) -> list[ir.Quant]:
    """`exists x. R(..., x, ...)` for each mutable relation and proper
    subset of its positions left free, the others as in `_apps`; only
    those that read a template variable (without one, it is a fact about
    the state as a whole, which the full application has too)."""
    out = []
    for sym in spec.symbols:
        if not (sym.is_relation and sym.mutable and len(sym.params) >= 2):
            continue
        k = len(sym.params)
        for free in itertools.chain.from_iterable(
                itertools.combinations(range(k), r) for r in range(1, k)):
            binders = tuple(ir.Binder(f"{sym.name}_{i}", p) for i, p in enumerate(sym.params)
                            if i in free)
            choices = [[ir.Var(f"{sym.name}_{i}", p)] if i in free else _arg_choices(tmpl, p)
                       for i, p in enumerate(sym.params)]
            for args in itertools.product(*choices):
                app = ir.App(sym.name, tuple(args), sym.result)
                if _uses(tmpl, app):
                    out.append(ir.Quant("exists", binders, app))
    return out


def is_projection(f: ir.Expr) -> bool:
    return isinstance(f, ir.Quant) and f.kind == "exists" and isinstance(f.body, ir.App)


def equal(t1: ir.Expr, t2: ir.Expr) -> ir.Cmp:
    """`t1 = t2` with its sides in text order: one atom for both orders."""
    return ir.Cmp("=", t1, t2) if text(t1) <= text(t2) else ir.Cmp("=", t2, t1)


def _mutable(spec: ir.Spec, e: ir.Expr) -> bool:
    from paxcheck.lang.walk import subexprs
    return any(isinstance(x, ir.App) and spec.symbol_map[x.symbol].mutable for x in subexprs(e))


class Grid:
    """Every assignment of a template's variables in one instance: a flat
    index per variable, the first variable varying slowest."""

    def __init__(self, tmpl: Template, sizes: dict[str, int]) -> None:
        self.tmpl = tmpl
        dims = [sizes[v.sort] for v in tmpl.vars]
        self.size = int(np.prod(dims)) if dims else 1
        grids = np.indices(dims).reshape(len(dims), -1) if dims else np.zeros((0, 1), np.int64)
        self.index = {v.name: grids[i] for i, v in enumerate(tmpl.vars)}


def evaluate(atom: Atom, sample: Sample, grid: Grid, states: slice | None = None) -> np.ndarray:
    """The atom's truth in each state of the sample and each assignment:
    bool [states, assignments]."""
    return _formula(atom.formula, sample, grid, states or slice(None))


def _formula(f: ir.Expr, sample: Sample, grid: Grid, states: slice) -> np.ndarray:
    n = sample.count if states == slice(None) else len(range(*states.indices(sample.count)))
    if isinstance(f, ir.App):
        return np.broadcast_to(_lookup(f, sample, grid, states).astype(bool), (n, grid.size))
    if is_projection(f):
        assert isinstance(f, ir.Quant) and isinstance(f.body, ir.App)
        out: np.ndarray | None = None
        for vals in itertools.product(*(range(sample.dims(b.sort)) for b in f.binders)):
            r = _lookup(f.body, sample, grid, states,
                        {b.name: v for b, v in zip(f.binders, vals)}).astype(bool)
            out = r if out is None else out | r
        assert out is not None
        return np.broadcast_to(out, (n, grid.size))
    assert isinstance(f, ir.Cmp)
    option = _option(f.left) or _option(f.right)
    a = _term(f.left, sample, grid, states, option)
    b = _term(f.right, sample, grid, states, option)
    res = (a == b) if f.op == "=" else (a < b)
    return np.broadcast_to(res, (n, grid.size))


def _option(t: ir.Expr) -> bool:
    return t.sort is not None and t.sort.option


def _term(t: ir.Expr, sample: Sample, grid: Grid, states: slice, option: bool) -> np.ndarray:
    """A term's raw value, in the option encoding (`none` 0, elements from 1)
    when either side of the comparison is of an option sort."""
    if isinstance(t, ir.Var):
        return (grid.index[t.name] + int(option))[None, :]
    if isinstance(t, ir.NoneLit):
        return np.zeros((1, 1), np.int64)
    assert isinstance(t, ir.App)
    raw = _lookup(t, sample, grid, states).astype(np.int64)
    if option and not _option(t):
        raw = raw + 1
    return raw


def _lookup(app: ir.App, sample: Sample, grid: Grid, states: slice,
            fixed: dict[str, int] | None = None) -> np.ndarray:
    """The symbol's array at the arguments; `fixed` gives the array index
    of a projection's free arguments."""
    arr = sample.arrays[app.symbol]
    sym = sample.inst.spec.symbol_map[app.symbol]
    idx: list[Any] = [states if sym.mutable else slice(None)]
    for a, p in zip(app.args, sym.params):
        if isinstance(a, ir.NoneLit):
            idx.append(np.zeros(grid.size, np.int64))
        elif fixed and isinstance(a, ir.Var) and a.name in fixed:
            idx.append(np.full(grid.size, fixed[a.name], np.int64))
        else:
            assert isinstance(a, ir.Var)
            idx.append(grid.index[a.name] + int(p.option))
    if not app.args:
        out = arr[idx[0]] if sym.mutable else arr
        return out.reshape(-1, 1)
    return arr[tuple(idx)]


@dataclass(frozen=True)
class Guard:
    """Where an existential candidate's variable comes from: an axiom that
    says every element of one sort has an element of another related to it
    (`forall q1, q2: quorum. exists n: node. member(n, q1) & member(n, q2)`
    gives `member(y, q)`: every quorum has a member such that ...). The
    protocols' existential invariants are of this shape, quorum
    intersection being what makes them true."""
    relation: str
    ypos: int       # the existential variable's position in the relation
    sort: str       # the existential variable's sort
    zsort: str      # the sort of the universally quantified one


def guards(spec: ir.Spec) -> list[Guard]:
    out: list[Guard] = []
    for ax in spec.axioms:
        f = ax.formula
        outer: set[str] = set()
        while isinstance(f, ir.Quant) and f.kind == "forall":
            outer |= {b.name for b in f.binders}
            f = f.body
        if not (isinstance(f, ir.Quant) and f.kind == "exists"):
            continue
        inner = {b.name: b.sort.name for b in f.binders}
        body = f.body.args if isinstance(f.body, ir.And) else (f.body,)
        for c in body:
            if not (isinstance(c, ir.App) and len(c.args) == 2
                    and not spec.symbol_map[c.symbol].mutable):
                continue
            for ypos in (0, 1):
                y, z = c.args[ypos], c.args[1 - ypos]
                if (isinstance(y, ir.Var) and y.name in inner and isinstance(z, ir.Var)
                        and z.name in outer):
                    g = Guard(c.symbol, ypos, inner[y.name], z.sort.name if z.sort else "")
                    if g not in out:
                        out.append(g)
    return out


def guard_atom(g: Guard, y: TVar, z: TVar) -> ir.App:
    args = [ir.Var(z.name, ir.SortT(z.sort))]
    args.insert(g.ypos, ir.Var(y.name, ir.SortT(y.sort)))
    return ir.App(g.relation, tuple(args), None)


def exists_atom(y: TVar, conjuncts: list[ir.Expr], tmpl: Template) -> Atom:
    """`exists y. c1 & c2 & ...`, conjuncts in text order (one atom for
    every order)."""
    cs = sorted(conjuncts, key=text)
    f = ir.Quant("exists", (ir.Binder(y.name, ir.SortT(y.sort)),),
                 cs[0] if len(cs) == 1 else ir.And(tuple(cs)))
    return Atom(f, _uses(tmpl, f), text(f))
