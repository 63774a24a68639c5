"""The first-order (unbounded) encoding into Z3: for every instance size.

Sorts become uninterpreted Z3 sorts; an ordered sort gets a relation `le`
with the axioms of a total order. Option sorts are eliminated: a term of
sort S? is a pair (is-none flag, S value), a relation with option parameters
is split into one Z3 relation per pattern of none/some arguments, and a
function with an option result into an is-none relation and a value
function. Everything stays first-order over the declared sorts, with no
datatypes, so the quantifier-alternation (EPR) analysis applies to it."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3

from paxcheck.lang import ir
from paxcheck.smt.finite import Encoding, Exec, b_and, b_not, b_or, z3val

# a state maps each mutable symbol to an accessor: list[OV] -> Bool | OV
Accessor = Callable[[list], Any]
FOState = dict[str, Accessor]


@dataclass(frozen=True)
class OV:
    """A value of sort S or S?: `none` is a Python bool or a Z3 Bool; `val`
    is a Z3 term of sort S (None only when the value is known to be none)."""
    none: Any
    val: Any


def ov_ite(c, a: OV, b: OV) -> OV:
    if c is True:
        return a
    if c is False:
        return b
    none = _bite(c, a.none, b.none)
    if a.val is None:
        val = b.val
    elif b.val is None:
        val = a.val
    else:
        val = a.val if a.val.eq(b.val) else z3.If(c, a.val, b.val)
    return OV(none, val)


def _bite(c, a, b):
    if isinstance(a, bool) and isinstance(b, bool) and a == b:
        return a
    if not isinstance(a, bool) and not isinstance(b, bool) and a.eq(b):
        return a
    return z3.If(c, z3val(a), z3val(b))


def any_ite(c, a, b):
    if isinstance(a, OV):
        return ov_ite(c, a, b)
    if c is True:
        return a
    if c is False:
        return b
    return _bite(c, a, b)


@dataclass
class SymbolDecls:
    symbol: ir.Symbol
    # pattern (True = that option parameter is none) -> Z3 declarations
    rel: dict[tuple[bool, ...], z3.FuncDeclRef]
    val: dict[tuple[bool, ...], z3.FuncDeclRef]
    isnone: dict[tuple[bool, ...], z3.FuncDeclRef]


class FOEncoder(Encoding):
    """The IR for every instance size: sorts as Z3 sorts, symbols as functions."""
    def __init__(self, spec: ir.Spec) -> None:
        self.spec = spec
        self.sorts = {s.name: z3.DeclareSort(s.name) for s in spec.sorts}
        # an ordered sort is embedded in the integers by an injective rank:
        # every finite total order embeds so, and the order reasoning is left
        # to Z3's arithmetic instead of quantified order axioms
        self.rank = {s.name: z3.Function(f"rank_{s.name}", self.sorts[s.name], z3.IntSort())
                     for s in spec.sorts if s.ordered}
        self.counter = itertools.count()
        self.immutable: FOState = {}
        self.decls: dict[str, SymbolDecls] = {}
        for sym in spec.immutable_symbols:
            d = self.declare(sym, "")
            self.decls[sym.name] = d
            self.immutable[sym.name] = self.accessor(d)

    # ---- background theory
    def order_axioms(self) -> list:
        out = []
        for name, rank in self.rank.items():
            S = self.sorts[name]
            x, y = z3.Const(f"x!{name}", S), z3.Const(f"y!{name}", S)
            out.append(z3.ForAll([x, y], z3.Implies(rank(x) == rank(y), x == y)))
        return out

    def axioms(self) -> list[tuple[str, Any]]:
        return [(ax.name, self.ev(ax.formula, {}, {})) for ax in self.spec.axioms]

    def background(self) -> list:
        return self.order_axioms() + [f for _, f in self.axioms()]

    # ---- declarations and accessors
    def declare(self, sym: ir.Symbol, tag: str) -> SymbolDecls:
        opt = [i for i, p in enumerate(sym.params) if p.option]
        rel, val, isnone = {}, {}, {}
        for pattern in itertools.product([False, True], repeat=len(opt)):
            args = [self.sorts[p.name] for i, p in enumerate(sym.params)
                    if not (i in opt and pattern[opt.index(i)])]
            suffix = "".join("N" if x else "S" for x in pattern)
            base = f"{sym.name}{tag}{'_' + suffix if suffix else ''}"
            if sym.is_relation:
                rel[pattern] = z3.Function(base, *args, z3.BoolSort())
            else:
                val[pattern] = z3.Function(base, *args, self.sorts[sym.value_sort.name])
                if sym.value_sort.option:
                    isnone[pattern] = z3.Function(f"{base}_isnone", *args, z3.BoolSort())
        return SymbolDecls(sym, rel, val, isnone)

    def accessor(self, d: SymbolDecls) -> Accessor:
        sym = d.symbol
        opt = [i for i, p in enumerate(sym.params) if p.option]

        def leaf(args: list[OV], pattern: tuple[bool, ...]):
            vals = [a.val for i, a in enumerate(args) if not (i in opt and pattern[opt.index(i)])]
            if sym.is_relation:
                return d.rel[pattern](*vals)
            v = d.val[pattern](*vals)
            return OV(d.isnone[pattern](*vals) if sym.value_sort.option else False, v)

        def access(args: list[OV], k: int = 0, pattern: tuple[bool, ...] = ()):
            if k == len(opt):
                return leaf(args, pattern)
            n = args[opt[k]].none
            if n is True or n is False:
                return access(args, k + 1, pattern + (n,))
            return any_ite(n, access(args, k + 1, pattern + (True,)),
                           access(args, k + 1, pattern + (False,)))
        return access

    def fresh_state(self, tag: str) -> tuple[FOState, list, dict[str, SymbolDecls]]:
        decls = {s.name: self.declare(s, f"!{tag}") for s in self.spec.mutable_symbols}
        return {n: self.accessor(d) for n, d in decls.items()}, [], decls

    def param(self, b: ir.Binder, tag: str) -> OV:
        base = z3.Const(f"{b.name}!{tag}", self.sorts[b.sort.name])
        if b.sort.option:
            return OV(z3.Bool(f"{b.name}!{tag}!isnone"), base)
        return OV(False, base)

    # ---- expressions
    def eq(self, a: OV, b: OV):
        if a.none is True:
            return b.none if not isinstance(b.none, bool) else b.none
        if b.none is True:
            return a.none
        same = a.val == b.val
        if a.none is False and b.none is False:
            return same
        return b_or([b_and([a.none, b.none]), b_and([b_not(a.none), b_not(b.none), same])])

    def lt(self, sort: str, a: OV, b: OV):
        if b.none is True:
            return False
        if a.none is True:
            return b_not(b.none)
        rank = self.rank[sort]
        return b_and([b_not(b.none), b_or([a.none, rank(a.val) < rank(b.val)])])

    def le_(self, sort: str, a: OV, b: OV):
        if a.none is True:
            return True
        if b.none is True:
            return a.none
        rank = self.rank[sort]
        return b_or([a.none, b_and([b_not(b.none), rank(a.val) <= rank(b.val)])])

    def ev_atom(self, e: ir.Expr, env: dict[str, OV], state: FOState, pre: FOState | None):
        if isinstance(e, ir.App):
            acc = self.immutable.get(e.symbol) or state[e.symbol]
            return acc([self.ev(a, env, state, pre) for a in e.args])
        if isinstance(e, ir.NoneLit):
            return OV(True, None)
        if isinstance(e, ir.Cmp):
            a, b = self.ev(e.left, env, state, pre), self.ev(e.right, env, state, pre)
            sort = e.left.sort.name
            if e.op == "=":
                return self.eq(a, b)
            if e.op == "!=":
                return b_not(self.eq(a, b))
            if e.op == "<":
                return self.lt(sort, a, b)
            return self.le_(sort, a, b)
        if isinstance(e, ir.Quant):
            return self._quant(e.kind, list(e.binders), e.body, env, state, pre)
        raise AssertionError(f"unhandled expression {e!r}")

    def call(self, d: ir.Definition, args: list, state: FOState, pre: FOState | None):
        return self.ev(d.body, {p.name: a for p, a in zip(d.params, args)}, state, pre)

    def _quant(self, kind: str, binders: list[ir.Binder], body: ir.Expr, env, state, pre):
        if not binders:
            return self.ev(body, env, state, pre)
        b, rest = binders[0], binders[1:]
        x = z3.Const(f"{b.name}!{next(self.counter)}", self.sorts[b.sort.name])
        inner = self._quant(kind, rest, body, {**env, b.name: OV(False, x)}, state, pre)
        if not isinstance(inner, bool):
            inner = z3.ForAll([x], inner) if kind == "forall" else z3.Exists([x], inner)
        if not b.sort.option:
            return inner
        none_case = self._quant(kind, rest, body, {**env, b.name: OV(True, None)}, state, pre)
        return b_and([inner, none_case]) if kind == "forall" else b_or([inner, none_case])

    # ---- statements
    def execute(self, stmts: tuple[ir.Stmt, ...], env: dict[str, OV], state: FOState,
                pc: Any = True) -> Exec:
        out = Exec(dict(state))
        for st in stmts:
            self._step(st, env, out, pc)
        return out

    def _step(self, st: ir.Stmt, env: dict[str, OV], out: Exec, pc: Any) -> None:
        state = out.state
        if isinstance(st, ir.Require):
            out.constraints.append(b_or([b_not(pc), self.ev(st.cond, env, state)]))
            return
        if isinstance(st, ir.If):
            c = self.ev(st.cond, env, state)
            a = self.execute(st.then, env, state, b_and([pc, c]))
            b = self.execute(st.els, env, state, b_and([pc, b_not(c)]))
            merged = {}
            for name in state:
                fa, fb = a.state[name], b.state[name]
                merged[name] = fa if fa is fb else (
                    lambda ys, fa=fa, fb=fb: any_ite(c, fa(ys), fb(ys)))
            out.state = merged
            out.constraints += a.constraints + b.constraints
            out.fresh += a.fresh + b.fresh
            return
        sym = self.spec.symbol_map[st.symbol]
        old = state[sym.name]
        bound = {b.name for b in st.bound}
        if isinstance(st, ir.Havoc):
            d = self.declare(sym, f"!havoc{next(self.counter)}")
            out.fresh.extend(list(d.rel.values()) + list(d.val.values()) + list(d.isnone.values()))
            fresh = self.accessor(d)
        snapshot = dict(state)

        def new(ys: list[OV]):
            local = dict(env)
            conds = []
            for a, y in zip(st.args, ys):
                if isinstance(a, ir.Var) and a.name in bound:
                    if a.name in local and a.name not in env:
                        conds.append(self.eq(local[a.name], y))
                    else:
                        local[a.name] = y
                else:
                    conds.append(self.eq(self.ev(a, env, snapshot), y))
            value = self.ev(st.rhs, local, snapshot) if isinstance(st, ir.Assign) else fresh(ys)
            return any_ite(b_and(conds), value, old(ys))
        out.state = {**state, sym.name: new}

    def initial(self, tag: str):
        start, cons, _ = self.fresh_state(tag)
        ex = self.execute(self.spec.init, {}, start)
        return ex.state, cons + ex.constraints, ex.fresh
