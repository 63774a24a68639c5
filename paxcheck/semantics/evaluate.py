"""The reference semantics of the IR: a direct, unoptimised tree walk.

States here are `RefState`s: one entry per mutable symbol (in spec order) —
a frozenset of true tuples for a relation, a tuple of values over
`Instance.points` for a function or individual. Used to check axioms, by the
reference engine that cross-checks the compiled one, and by trace replay."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from paxcheck.config.instance import Instance
from paxcheck.lang import ir

RefState = tuple[Any, ...]


class Evaluator:
    """Formulas and statements evaluated directly on RefStates of one instance."""
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.spec = inst.spec
        self.mutables = [s.name for s in self.spec.mutable_symbols]
        self.index = {n: i for i, n in enumerate(self.mutables)}
        self.point_index = {s.name: {p: i for i, p in enumerate(inst.points(s))}
                            for s in self.spec.symbols if s.mutable and not s.is_relation}

    # ---- state access
    def lookup(self, state: RefState, sym: str, args: tuple[int, ...]):
        if sym not in self.index:
            val = self.inst.interp[sym]
            if isinstance(val, frozenset):
                return args in val
            if isinstance(val, dict):
                return val[args]
            return val
        entry = state[self.index[sym]]
        if isinstance(entry, frozenset):
            return args in entry
        return entry[self.point_index[sym][args]]

    # ---- expressions
    def eval(self, e: ir.Expr, env: dict[str, int], state: RefState,
             pre: RefState | None = None):
        if isinstance(e, ir.Var):
            return env[e.name]
        if isinstance(e, ir.App):
            args = tuple(self.eval(a, env, state, pre) for a in e.args)
            return self.lookup(state, e.symbol, args)
        if isinstance(e, ir.BoolLit):
            return e.value
        if isinstance(e, ir.NoneLit):
            return -1
        if isinstance(e, ir.Not):
            return not self.eval(e.arg, env, state, pre)
        if isinstance(e, ir.And):
            return all(self.eval(a, env, state, pre) for a in e.args)
        if isinstance(e, ir.Or):
            return any(self.eval(a, env, state, pre) for a in e.args)
        if isinstance(e, ir.Implies):
            return (not self.eval(e.left, env, state, pre)) or self.eval(e.right, env, state, pre)
        if isinstance(e, ir.Iff):
            return self.eval(e.left, env, state, pre) == self.eval(e.right, env, state, pre)
        if isinstance(e, ir.Cmp):
            a = self.eval(e.left, env, state, pre)
            b = self.eval(e.right, env, state, pre)
            if e.op == "=":
                return a == b
            if e.op == "!=":
                return a != b
            if e.op == "<":
                return a < b
            return a <= b
        if isinstance(e, ir.Quant):
            test = all if e.kind == "forall" else any
            return test(self.eval(e.body, {**env, **dict(zip(names, vals))}, state, pre)
                        for names in [[b.name for b in e.binders]]
                        for vals in self.valuations(e.binders))
        if isinstance(e, ir.Call):
            d = self.spec.definition_map[e.definition]
            vals = [self.eval(a, env, state, pre) for a in e.args]
            return self.eval(d.body, {p.name: v for p, v in zip(d.params, vals)}, state, pre)
        if isinstance(e, ir.Old):
            assert pre is not None, "old() outside a two-state property"
            return self.eval(e.arg, env, pre, None)
        raise AssertionError(f"unhandled expression {e!r}")

    def valuations(self, binders: tuple[ir.Binder, ...]) -> Iterator[tuple[int, ...]]:
        return itertools.product(*(self.inst.domain(b.sort) for b in binders))

    # ---- statements: each returns every state the block can end in
    def execute(self, stmts: tuple[ir.Stmt, ...], env: dict[str, int],
                state: RefState) -> list[RefState]:
        states = [state]
        for st in stmts:
            nxt: list[RefState] = []
            for s in states:
                nxt.extend(self.step(st, env, s))
            states = nxt
        return states

    def step(self, st: ir.Stmt, env: dict[str, int], state: RefState) -> list[RefState]:
        if isinstance(st, ir.Require):
            return [state] if self.eval(st.cond, env, state) else []
        if isinstance(st, ir.If):
            branch = st.then if self.eval(st.cond, env, state) else st.els
            return self.execute(branch, env, state)
        names = [b.name for b in st.bound]
        targets: list[tuple[tuple[int, ...], dict[str, int]]] = []
        for vals in self.valuations(st.bound):
            local = {**env, **dict(zip(names, vals))}
            targets.append((tuple(self.eval(a, local, state) for a in st.args), local))
        sym = self.spec.symbol_map[st.symbol]
        if isinstance(st, ir.Assign):
            updates = {p: self.eval(st.rhs, local, state) for p, local in targets}
            return [self.replace(state, sym, updates)]
        points = sorted({p for p, _ in targets})
        choices = [[False, True]] * len(points) if sym.is_relation else \
            [list(self.inst.domain(sym.value_sort))] * len(points)
        return [self.replace(state, sym, dict(zip(points, combo)))
                for combo in itertools.product(*choices)]

    def replace(self, state: RefState, sym: ir.Symbol, updates: dict) -> RefState:
        i = self.index[sym.name]
        entry = state[i]
        if isinstance(entry, frozenset):
            new = set(entry)
            for p, v in updates.items():
                if v:
                    new.add(p)
                else:
                    new.discard(p)
            value: Any = frozenset(new)
        else:
            lst = list(entry)
            for p, v in updates.items():
                lst[self.point_index[sym.name][p]] = v
            value = tuple(lst)
        return state[:i] + (value,) + state[i + 1:]

    # ---- initial states: unassigned symbols start with any value
    def initial_states(self) -> list[RefState]:
        from paxcheck.lang.walk import assigned_whole
        fixed = assigned_whole(self.spec, self.spec.init)
        start_choices: list[list[Any]] = []
        for sym in self.spec.mutable_symbols:
            pts = self.inst.points(sym)
            if sym.name in fixed:  # overwritten before any read: start from a default
                start_choices.append([frozenset() if sym.is_relation else tuple(0 for _ in pts)])
            elif sym.is_relation:
                start_choices.append([frozenset(p for p, bit in zip(pts, bits) if bit)
                                      for bits in itertools.product([False, True], repeat=len(pts))])
            else:
                start_choices.append(list(itertools.product(self.inst.domain(sym.value_sort),
                                                            repeat=len(pts))))
        out: list[RefState] = []
        seen = set()
        for start in itertools.product(*start_choices):
            for s in self.execute(self.spec.init, {}, tuple(start)):
                if s not in seen:
                    seen.add(s)
                    out.append(s)
        return out

    def is_initial(self, state: RefState) -> bool:
        """Whether init can end in `state`. First from `state` itself as the
        start (symbols init overwrites whole start from their default, as in
        initial_states): that decides almost every real trace at once; only
        when it fails is every start state tried."""
        from paxcheck.lang.walk import assigned_whole
        fixed = assigned_whole(self.spec, self.spec.init)
        start = tuple(
            (frozenset() if sym.is_relation else tuple(0 for _ in self.inst.points(sym)))
            if sym.name in fixed else entry
            for sym, entry in zip(self.spec.mutable_symbols, state))
        if state in self.execute(self.spec.init, {}, start):
            return True
        return state in set(self.initial_states())

    def axiom_holds(self, ax: ir.Axiom) -> bool:
        return bool(self.eval(ax.formula, {}, ()))


def successors(ev: Evaluator, state: RefState) -> list[tuple[str, tuple[int, ...], RefState]]:
    """Every (action, arguments, successor) step of a state, by the
    reference semantics: actions in spec order, arguments in product order
    (the order of the ground action ids), each distinct successor once."""
    out = []
    for action in ev.spec.actions:
        names = [p.name for p in action.params]
        for args in ev.valuations(action.params):
            posts = ev.execute(action.body, dict(zip(names, args)), state)
            for post in dict.fromkeys(posts):
                out.append((action.name, args, post))
    return out
