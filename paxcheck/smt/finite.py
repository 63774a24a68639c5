"""The finite (bounded-instance) encoding into Z3.

Each point of each mutable symbol is one Z3 variable: a Bool for a relation
point, an Int in the sort's range for a function point (-1 is `none`, as in
the explicit engine). Quantifiers expand over the finite sorts, so every
query is quantifier-free. Values are Python bools/ints where they are known,
Z3 terms otherwise, so that constant parts fold away."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import z3

from paxcheck.config.instance import Instance
from paxcheck.lang import ir
from paxcheck.semantics.evaluate import RefState

SymState = dict[str, dict[tuple[int, ...], Any]]


def b_and(xs) -> Any:
    out = []
    for x in xs:
        if x is False:
            return False
        if x is not True:
            out.append(x)
    if not out:
        return True
    return out[0] if len(out) == 1 else z3.And(out)


def b_or(xs) -> Any:
    out = []
    for x in xs:
        if x is True:
            return True
        if x is not False:
            out.append(x)
    if not out:
        return False
    return out[0] if len(out) == 1 else z3.Or(out)


def b_not(x) -> Any:
    return (not x) if isinstance(x, bool) else z3.Not(x)


def ite(c, a, b) -> Any:
    if c is True:
        return a
    if c is False:
        return b
    if _same(a, b):
        return a
    return z3.If(c, a, b)


def _same(a, b) -> bool:
    if isinstance(a, (bool, int)) or isinstance(b, (bool, int)):
        return type(a) is type(b) and a == b
    return a.eq(b)


def eq(a, b) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    return a == b  # z3 builds the term


def z3val(x) -> Any:
    if isinstance(x, bool):
        return z3.BoolVal(x)
    if isinstance(x, int):
        return z3.IntVal(x)
    return x


@dataclass
class Exec:
    """The result of running a block symbolically."""
    state: SymState
    constraints: list = field(default_factory=list)  # requires, under their path condition
    fresh: list = field(default_factory=list)        # havoc variables introduced


class Encoding:
    """What the finite and the first-order encodings evaluate alike: the
    connectives, definitions and `old`. Values are Python bools where known."""

    spec: ir.Spec

    def ev(self, e: ir.Expr, env: dict[str, Any], state: Any, pre: Any = None) -> Any:
        if isinstance(e, ir.Var):
            return env[e.name]
        if isinstance(e, ir.BoolLit):
            return e.value
        if isinstance(e, ir.Not):
            return b_not(self.ev(e.arg, env, state, pre))
        if isinstance(e, ir.And):
            return b_and(self.ev(a, env, state, pre) for a in e.args)
        if isinstance(e, ir.Or):
            return b_or(self.ev(a, env, state, pre) for a in e.args)
        if isinstance(e, ir.Implies):
            return b_or([b_not(self.ev(e.left, env, state, pre)), self.ev(e.right, env, state, pre)])
        if isinstance(e, ir.Iff):
            a, b = self.ev(e.left, env, state, pre), self.ev(e.right, env, state, pre)
            if isinstance(a, bool) and isinstance(b, bool):
                return a == b
            return z3val(a) == z3val(b)
        if isinstance(e, ir.Call):
            d = self.spec.definition_map[e.definition]
            return self.call(d, [self.ev(a, env, state, pre) for a in e.args], state, pre)
        if isinstance(e, ir.Old):
            return self.ev(e.arg, env, pre, None)
        return self.ev_atom(e, env, state, pre)

    def ev_atom(self, e: ir.Expr, env: dict[str, Any], state: Any, pre: Any) -> Any:
        raise NotImplementedError

    def call(self, d: ir.Definition, args: list, state: Any, pre: Any) -> Any:
        raise NotImplementedError


class GroundEncoder(Encoding):
    """The IR over one finite instance, as Z3 terms per ground point."""
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.spec = inst.spec
        self.counter = itertools.count()
        # immutable symbols the instance leaves uninterpreted become variables
        # too (constrained by the axioms): one query then covers every
        # interpretation of that size
        self.open_immutables: SymState = {}
        self.side: list = []
        for sym in self.spec.immutable_symbols:
            if sym.name in inst.interp:
                continue
            pts: dict[tuple[int, ...], Any] = {}
            for p in inst.points(sym):
                name = f"imm!{sym.name}!{','.join(map(str, p))}"
                if sym.is_relation:
                    pts[p] = z3.Bool(name)
                else:
                    pts[p] = z3.Int(name)
                    dom = inst.domain(sym.value_sort)
                    self.side.append(z3.And(pts[p] >= dom.start, pts[p] < dom.stop))
            self.open_immutables[sym.name] = pts
        if self.open_immutables:
            self.side += [f for ax in self.spec.axioms
                          if (f := self.ev(ax.formula, {}, {})) is not True]

    def read_immutables(self, model: z3.ModelRef) -> dict[str, Any]:
        out = dict(self.inst.interp)
        for name, pts in self.open_immutables.items():
            sym = self.spec.symbol_map[name]
            if sym.is_relation:
                out[name] = frozenset(p for p, v in pts.items()
                                      if z3.is_true(model.eval(v, model_completion=True)))
            else:
                vals = {p: model.eval(v, model_completion=True).as_long() for p, v in pts.items()}
                out[name] = vals[()] if sym.kind == "individual" else vals
        return out

    # ---- states
    def fresh_state(self, tag: str) -> tuple[SymState, list]:
        state: SymState = {}
        ranges: list = []
        for sym in self.spec.mutable_symbols:
            pts: dict[tuple[int, ...], Any] = {}
            for p in self.inst.points(sym):
                name = f"{tag}!{sym.name}!{','.join(map(str, p))}"
                if sym.is_relation:
                    pts[p] = z3.Bool(name)
                else:
                    v = z3.Int(name)
                    dom = self.inst.domain(sym.value_sort)
                    ranges.append(z3.And(v >= dom.start, v < dom.stop))
                    pts[p] = v
            state[sym.name] = pts
        return state, ranges

    def state_eq(self, a: SymState, b: SymState) -> Any:
        return b_and(eq(z3val(a[s][p]), z3val(b[s][p])) for s in a for p in a[s])

    def read_state(self, model: z3.ModelRef, state: SymState) -> RefState:
        out: list[Any] = []
        for sym in self.spec.mutable_symbols:
            pts = state[sym.name]
            if sym.is_relation:
                out.append(frozenset(p for p, v in pts.items()
                                     if z3.is_true(model.eval(z3val(v), model_completion=True))))
            else:
                out.append(tuple(model.eval(z3val(pts[p]), model_completion=True).as_long()
                                 for p in self.inst.points(sym)))
        return tuple(out)

    # ---- expressions
    def lookup(self, state: SymState | None, sym: ir.Symbol, args: list) -> Any:
        for i, a in enumerate(args):
            if not isinstance(a, int):
                dom = list(self.inst.domain(sym.params[i]))
                out = self.lookup(state, sym, args[:i] + [dom[-1]] + args[i + 1:])
                for d in reversed(dom[:-1]):
                    out = ite(a == d, self.lookup(state, sym, args[:i] + [d] + args[i + 1:]), out)
                return out
        key = tuple(args)
        if self.open_immutables is not None and sym.name in self.open_immutables:
            return self.open_immutables[sym.name][key]
        if not sym.mutable:
            val = self.inst.interp[sym.name]
            if isinstance(val, frozenset):
                return key in val
            return val[key] if isinstance(val, dict) else val
        return state[sym.name][key]

    def ev_atom(self, e: ir.Expr, env: dict[str, Any], state: SymState, pre) -> Any:
        if isinstance(e, ir.App):
            sym = self.spec.symbol_map[e.symbol]
            return self.lookup(state, sym, [self.ev(a, env, state, pre) for a in e.args])
        if isinstance(e, ir.NoneLit):
            return -1
        if isinstance(e, ir.Cmp):
            a, b = self.ev(e.left, env, state, pre), self.ev(e.right, env, state, pre)
            if isinstance(a, int) and isinstance(b, int):
                return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b}[e.op]
            a, b = z3val(a), z3val(b)
            return {"=": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b,
                    "<=": lambda: a <= b}[e.op]()
        if isinstance(e, ir.Quant):
            names = [b.name for b in e.binders]
            parts = (self.ev(e.body, {**env, **dict(zip(names, vals))}, state, pre)
                     for vals in itertools.product(*(self.inst.domain(b.sort) for b in e.binders)))
            return b_and(parts) if e.kind == "forall" else b_or(parts)
        raise AssertionError(f"unhandled expression {e!r}")

    def call(self, d: ir.Definition, args: list, state, pre) -> Any:
        return self._call(d, args, {}, state, pre)

    def _call(self, d: ir.Definition, args: list, bound: dict, state, pre) -> Any:
        i = len(bound)
        if i == len(args):
            return self.ev(d.body, bound, state, pre)
        p = d.params[i]
        a = args[i]
        if isinstance(a, int):
            return self._call(d, args, {**bound, p.name: a}, state, pre)
        return b_or(b_and([a == v, self._call(d, args, {**bound, p.name: v}, state, pre)])
                    for v in self.inst.domain(p.sort))

    # ---- statements
    def execute(self, stmts: tuple[ir.Stmt, ...], env: dict[str, Any], state: SymState,
                pc: Any = True) -> Exec:
        out = Exec(state)
        for st in stmts:
            self._step(st, env, out, pc)
        return out

    def _step(self, st: ir.Stmt, env: dict[str, Any], out: Exec, pc: Any) -> None:
        state = out.state
        if isinstance(st, ir.Require):
            c = self.ev(st.cond, env, state)
            out.constraints.append(b_or([b_not(pc), c]))
            return
        if isinstance(st, ir.If):
            c = self.ev(st.cond, env, state)
            a = self.execute(st.then, env, state, b_and([pc, c]))
            b = self.execute(st.els, env, state, b_and([pc, b_not(c)]))
            merged: SymState = {}
            for name in state:
                pa, pb = a.state[name], b.state[name]
                merged[name] = pa if pa is pb else {p: ite(c, pa[p], pb[p]) for p in pa}
            out.state = merged
            out.constraints += a.constraints + b.constraints
            out.fresh += a.fresh + b.fresh
            return
        sym = self.spec.symbol_map[st.symbol]
        names = [b.name for b in st.bound]
        new = dict(state[sym.name])
        for vals in itertools.product(*(self.inst.domain(b.sort) for b in st.bound)):
            local = {**env, **dict(zip(names, vals))}
            args = [self.ev(a, local, state) for a in st.args]
            if isinstance(st, ir.Assign):
                value = self.ev(st.rhs, local, state)
            else:
                value = self._fresh(sym, out)
            if all(isinstance(a, int) for a in args):
                new[tuple(args)] = value
            else:
                for p in new:
                    match = b_and(eq(z3val(a), x) if not isinstance(a, int) else a == x
                                  for a, x in zip(args, p))
                    new[p] = ite(match, value, new[p])
        out.state = {**state, sym.name: new}

    def _fresh(self, sym: ir.Symbol, out: Exec) -> Any:
        name = f"havoc!{sym.name}!{next(self.counter)}"
        if sym.is_relation:
            v = z3.Bool(name)
        else:
            v = z3.Int(name)
            dom = self.inst.domain(sym.value_sort)
            out.constraints.append(z3.And(v >= dom.start, v < dom.stop))
        out.fresh.append(v)
        return v

    def initial(self, tag: str) -> tuple[SymState, list, list]:
        """(state, constraints, fresh vars) of the states `init` can produce,
        starting from a state where every symbol has any value."""
        start, ranges = self.fresh_state(tag + "0")
        ex = self.execute(self.spec.init, {}, start)
        return ex.state, ranges + ex.constraints, ex.fresh

    def ground_actions(self) -> list[tuple[ir.Action, tuple[int, ...]]]:
        return [(a, args) for a in self.spec.actions
                for args in itertools.product(*(self.inst.domain(p.sort) for p in a.params))]
