"""Inductive-invariant proofs: every one-state property of the spec (its
`safety` and `invariant` declarations together) is checked to hold
initially and to be preserved by every action, and every `transition`
property to hold on every step from a state satisfying them. Unbounded
(every instance size, first-order encoding) or for one bounded instance
(finite encoding). `proved` only on `unsat` of every obligation."""
from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import z3

from paxcheck.config.instance import NONE, Instance
from paxcheck.lang import ir
from paxcheck.outcome import Verdict
from paxcheck.semantics.evaluate import Evaluator, RefState
from paxcheck.smt.epr import EprChecker
from paxcheck.smt.finite import GroundEncoder, b_not, z3val
from paxcheck.smt.first_order import OV, FOEncoder
from paxcheck.smt.resources import DEFAULT_RLIMIT, Meter, isolated


@dataclass(frozen=True)
class CTI:
    """A counterexample to induction, in the explicit engine's state form."""
    instance: Instance
    kind: str                   # 'initiation' | 'consecution' | 'transition'
    property: str
    pre: RefState | None        # None for initiation
    action: str | None
    args: tuple[int, ...]
    post: RefState              # the initial state, for initiation


@dataclass
class Obligation:
    """One proof obligation (initiation, consecution or transition) and its verdict."""
    name: str
    kind: str
    property: str
    action: str | None
    epr: bool = True
    epr_reason: str = ""
    verdict: str = "pending"    # 'proved' | 'cti' | 'unknown'
    reason: str = ""
    seconds: float = 0.0
    # Z3 units the verdict took, the hint's included; a CTI found is then
    # minimized on a budget of its own
    units: int = 0
    cti: CTI | None = None


@dataclass
class ProofResult:
    """Every obligation of a proof, and whether the axioms are consistent."""
    spec: ir.Spec
    mode: str                   # 'unbounded' | 'instance'
    invariants: tuple[str, ...]
    obligations: list[Obligation] = field(default_factory=list)
    consistent: bool = True
    consistency_reason: str = ""
    consistency_unknown: bool = False   # the solver gave up on the axioms: undecided

    @property
    def status(self) -> str:
        if not self.consistent:
            return "unknown" if self.consistency_unknown else "inconsistent"
        if any(o.verdict == "cti" for o in self.obligations):
            return "cti"
        if any(o.verdict != "proved" for o in self.obligations):
            return "unknown"
        return "proved"

    @property
    def verdict(self) -> Verdict:
        return Verdict(self.status)


class _Backend:
    """What an obligation needs from an encoding."""

    def background(self) -> list: ...
    def fresh(self, tag: str) -> tuple[Any, list]: ...
    def params(self, action: ir.Action, tag: str) -> tuple[dict[str, Any], list]: ...
    def read(self, model, pre, post, env,
             action) -> tuple[Instance, RefState | None, RefState | None, tuple[int, ...]]: ...
    def minimize(self, solver: z3.Solver, pre, meter: Meter) -> bool: ...


def _fewest_facts(solver: z3.Solver, atoms: list, meter: Meter) -> bool:
    """Binary search for the fewest true atoms in a model, then leave the
    solver at a model with that many. False if the budget ran out before
    the solver was back at a model (a bound it could not settle counts as
    unreachable: the result is smaller, perhaps not smallest)."""
    if atoms:
        model = solver.model()
        hi = sum(1 for a in atoms if z3.is_true(model.eval(a, model_completion=True)))
        lo = 0
        while lo < hi:
            mid = (lo + hi) // 2
            solver.push()
            solver.add(z3.PbLe([(a, 1) for a in atoms], mid))
            ok = meter.check(solver) == z3.sat
            solver.pop()
            if ok:
                hi = mid
            else:
                lo = mid + 1
        solver.add(z3.PbLe([(a, 1) for a in atoms], hi))
    return meter.check(solver) == z3.sat


class _FOBackend(_Backend):
    def __init__(self, spec: ir.Spec) -> None:
        self.spec = spec
        self.enc = FOEncoder(spec)

    def background(self) -> list:
        return self.enc.background()

    def fresh(self, tag: str):
        state, cons, _ = self.enc.fresh_state(tag)
        return state, cons

    def params(self, action, tag):
        return {p.name: self.enc.param(p, tag) for p in action.params}, []

    def shrink(self, solver: z3.Solver, meter: Meter) -> dict[str, list]:
        """Fewest elements per sort (up to 8; a sort that needs more keeps
        its size), each step keeping the query satisfiable. The closure
        axioms found stay asserted in the caller's scope (tried in scopes of
        their own, which are popped: a scope left pushed would outlive the
        caller's pop and restrict its next query), so the caller checks
        again for the model."""
        # the portfolio may have found the model by E-matching alone, which
        # cannot settle the closed-world quantifiers added here
        solver.set("smt.mbqi", True)
        consts: dict[str, list] = {}
        for s in self.spec.sorts:
            S = self.enc.sorts[s.name]
            for n in range(1, 9):
                cs = [z3.Const(f"min!{s.name}!{i}", S) for i in range(n)]
                x = z3.Const(f"min!{s.name}!x", S)
                closure = z3.ForAll([x], z3.Or([x == c for c in cs]))
                solver.push()
                solver.add(closure)
                fits = meter.check(solver) == z3.sat
                solver.pop()
                if fits:
                    solver.add(closure)
                    consts[s.name] = cs
                    break
            else:
                consts[s.name] = []
        return consts

    def minimize(self, solver: z3.Solver, pre, meter: Meter) -> bool:
        """Fewest elements per sort, then fewest true facts in the pre-state."""
        consts = self.shrink(solver, meter)
        if meter.check(solver) != z3.sat:
            return False
        if pre is None or any(not c for c in consts.values()):
            return True
        atoms = []
        for sym in self.spec.mutable_symbols:
            if not sym.is_relation:
                continue
            choices = [[OV(False, c) for c in consts[p.name]] + ([OV(True, None)] if p.option else [])
                       for p in sym.params]
            for args in itertools.product(*choices):
                a = pre[sym.name](list(args))
                if not isinstance(a, bool):
                    atoms.append(a)
        return _fewest_facts(solver, atoms, meter)

    def read(self, model, pre, post, env, action):
        enc = self.enc
        universe: dict[str, list] = {}
        for s in self.spec.sorts:
            S = enc.sorts[s.name]
            u = list(model.get_universe(S) or [])
            if not u:
                u = [model.eval(z3.Const(f"any!{s.name}", S), model_completion=True)]
            if s.ordered:
                rank = enc.rank[s.name]
                u.sort(key=lambda x: model.eval(rank(x), model_completion=True).as_long())
            universe[s.name] = u
        index = {name: {x.sexpr(): i for i, x in enumerate(u)} for name, u in universe.items()}
        elements = {s.name: tuple(str(i) if s.ordered else f"{s.name}{i}"
                                  for i in range(len(universe[s.name]))) for s in self.spec.sorts}

        def ov(sort: ir.SortT, i: int) -> OV:
            return OV(True, None) if i == NONE else OV(False, universe[sort.name][i])

        def value(sort: ir.SortT, v: OV) -> int:
            if v.none is not False and (v.none is True or z3.is_true(
                    model.eval(v.none, model_completion=True))):
                return NONE
            return index[sort.name][model.eval(v.val, model_completion=True).sexpr()]

        base = Instance(self.spec, elements)

        def table(sym: ir.Symbol, acc):
            pts = base.points(sym)
            if sym.is_relation:
                return frozenset(p for p in pts if z3.is_true(model.eval(
                    z3val(acc([ov(s, i) for s, i in zip(sym.params, p)])), model_completion=True)))
            vals = {p: value(sym.value_sort, acc([ov(s, i) for s, i in zip(sym.params, p)]))
                    for p in pts}
            return vals

        interp: dict[str, Any] = {}
        for sym in self.spec.immutable_symbols:
            t = table(sym, enc.immutable[sym.name])
            interp[sym.name] = t if sym.kind != "individual" else t[()]
        inst = Instance(self.spec, elements, interp, label="counterexample to induction")

        def state(st) -> RefState:
            out = []
            for sym in self.spec.mutable_symbols:
                t = table(sym, st[sym.name])
                out.append(t if sym.is_relation else tuple(t[p] for p in base.points(sym)))
            return tuple(out)

        args = tuple(value(p.sort, env[p.name]) for p in action.params) if action else ()
        return (inst, state(pre) if pre is not None else None,
                state(post) if post is not None else None, args)


class _GroundBackend(_Backend):
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.spec = inst.spec
        self.enc = GroundEncoder(inst)

    def background(self) -> list:
        return list(self.enc.side)

    def fresh(self, tag: str):
        return self.enc.fresh_state(tag)

    def params(self, action, tag):
        env, cons = {}, []
        for p in action.params:
            v = z3.Int(f"{p.name}!{tag}")
            dom = self.inst.domain(p.sort)
            cons.append(z3.And(v >= dom.start, v < dom.stop))
            env[p.name] = v
        return env, cons

    def minimize(self, solver: z3.Solver, pre, meter: Meter) -> bool:
        if pre is None:
            return meter.check(solver) == z3.sat
        atoms = [v for sym in self.spec.mutable_symbols if sym.is_relation
                 for v in pre[sym.name].values()]
        return _fewest_facts(solver, atoms, meter)

    def read(self, model, pre, post, env, action):
        args = tuple(model.eval(z3val(env[p.name]), model_completion=True).as_long()
                     for p in action.params) if action else ()
        pre_s = self.enc.read_state(model, pre) if pre is not None else None
        inst = self.inst
        if self.enc.open_immutables:
            inst = Instance(self.spec, inst.elements, self.enc.read_immutables(model),
                            label="counterexample to induction")
        return inst, pre_s, self.enc.read_state(model, post) if post is not None else None, args


# The portfolio's unit of work, in Z3 units: the runs' slices are this times
# Luby's sequence (1 1 2 1 1 2 4 ...). About a quarter of a second of Z3 on
# these queries (benchmarks/prove_analysis.md).
_SLICE = 1_000_000
# the first try of an EPR obligation, on its action's shared solver
_FRAME_SLICE = _SLICE // 2


def _luby(i: int) -> int:
    """The i-th term (from 1) of Luby's sequence 1 1 2 1 1 2 4 1 1 2 1 1 2 4 8 ..."""
    k = i.bit_length()
    while i != (1 << k) - 1:       # i is not at the end of a block 2^k - 1
        i -= (1 << (k - 1)) - 1    # the same position in the previous block
        k = i.bit_length()
    return 1 << (k - 1)


def _check(formulas: list, meter: Meter, units: int) -> tuple[z3.CheckSatResult, z3.Solver | None]:
    """A portfolio of restarts within `units` of the meter. Outside EPR,
    what Z3 spends on one query is heavy-tailed in its random seed: on
    Paxos' hardest obligation half the seeds settle it within 2M units and
    a third not within 20M. Runs with new seeds whose slices follow Luby's
    sequence are within a logarithmic factor of the best fixed slice for
    any such distribution, without knowing it; doubling slices bet on the
    tail instead. Runs alternate E-matching alone and model-based
    instantiation (which only it can answer sat). Slices are Z3 units, not
    seconds, so the run that answers is the same on any machine."""
    start = meter.used
    last: z3.Solver | None = None
    for i in itertools.count():
        left = units - (meter.used - start)
        if left <= 0 or meter.exhausted():
            return z3.unknown, last
        solver = z3.Solver()
        solver.set("smt.mbqi", i % 2 == 1)
        solver.set("random_seed", i)
        solver.add(*formulas)
        res = meter.check(solver, units=min(_SLICE * _luby(i + 1), left))
        last = solver
        if res != z3.unknown:
            return res, solver
    raise AssertionError("unreachable")


class _Frame:
    """What several obligations' queries share (the background, an action's
    step, the assumed invariants), asserted once in one solver: each
    obligation pushes its goal, checks and pops, as mypyvy does, and Z3
    internalizes the shared part once instead of once per obligation."""

    def __init__(self, formulas: list) -> None:
        self.formulas = [f for f in formulas if f is not True]
        self._solver: z3.Solver | None = None

    def solver(self) -> z3.Solver:
        if self._solver is None:
            self._solver = z3.Solver()
            self._solver.add(*self.formulas)
        return self._solver


def _read_cti(backend: _Backend, kind: str, prop: str, model, pre, post, env, action) -> CTI:
    """The CTI in a model. A deterministic step's post-state is computed by
    the reference semantics from the pre-state read from the model: reading
    it from the model instead evaluates the encoded update at every point,
    a Z3 term per point, which on a model with a large universe costs far
    more than the query did. A step with several successors (a havoc) is
    read from the model. Either way `validate_cti` checks the result."""
    if pre is not None and action is not None:
        inst, pre_s, _, args = backend.read(model, pre, None, env, action)
        assert pre_s is not None
        succ = Evaluator(inst).execute(action.body, {p.name: a for p, a in zip(action.params, args)},
                                       pre_s)
        if len(set(succ)) == 1:
            return CTI(inst, kind, prop, pre_s, action.name, args, succ[0])
    inst, pre_s, post_s, args = backend.read(model, pre, post, env, action)
    assert post_s is not None
    return CTI(inst, kind, prop, pre_s, action.name if action else None, args, post_s)


def _minimized(backend: _Backend, ob: Obligation, solver: z3.Solver, cti: CTI, pre, post, env,
               action, assumptions: list[tuple[ir.Property, Any]], meter: Meter) -> CTI:
    """A smaller CTI from the solver at `cti`'s model, or `cti` itself if
    minimizing runs out or the smaller one breaks an assumed invariant."""
    if not backend.minimize(solver, pre, meter):
        return cti
    small = _read_cti(backend, ob.kind, ob.property, solver.model(), pre, post, env, action)
    ev = Evaluator(small.instance)
    return small if all(ev.eval(p.formula, {}, small.pre) for p, _ in assumptions) else cti


_HINT_SIZE = 3


def _open_instance(spec: ir.Spec, sizes: dict[str, int]) -> Instance:
    elements = {s.name: tuple(str(i) if s.ordered else f"{s.name}{i}" for i in range(sizes[s.name]))
                for s in spec.sorts}
    return Instance(spec, elements)


class _BoundedStep:
    """Actions on every instance with these sort sizes (immutable symbols
    left open, constrained by the axioms), with the invariants assumed in
    the pre-state: decidable, quantifier-free. The pre-state and the
    invariants are encoded once per proof; `act` swaps in an action's step
    (a solver frame of its own), and each hint pushes its goal on top.
    `track`: each invariant behind a literal, for unsat cores."""

    def __init__(self, spec: ir.Spec, sizes: dict[str, int], invs: list[ir.Property],
                 track: bool, solver: z3.Solver | None = None) -> None:
        self.sizes = dict(sizes)
        self.backend = _GroundBackend(_open_instance(spec, sizes))
        enc = self.backend.enc
        self.pre, cons = self.backend.fresh("pre")
        self.solver = z3.Solver() if solver is None else solver
        self.solver.add(*[f for f in enc.side + cons if f is not True])
        self.lits: list[z3.BoolRef] = []
        self.formulas: list[Any] = []    # each invariant on the pre-state
        for q in invs:
            f = enc.ev(q.formula, {}, self.pre)
            self.formulas.append(f)
            if track:
                lit = z3.Bool(f"assume!{q.name}")
                self.solver.add(z3.Implies(lit, z3val(f)))
                self.lits.append(lit)
            elif f is not True:
                self.solver.add(f)
        self.action: ir.Action | None = None

    def act(self, action: ir.Action) -> _BoundedStep:
        if self.action is not action:
            if self.action is not None:
                self.solver.pop()
            self.solver.push()
            enc = self.backend.enc
            self.env, pcons = self.backend.params(action, "arg")
            self.ex = enc.execute(action.body, self.env, self.pre)
            self.solver.add(*[f for f in pcons + self.ex.constraints if f is not True])
            self.action = action
        return self

    def goal(self, prop: ir.Property):
        return z3val(b_not(self.backend.enc.ev(prop.formula, {}, self.ex.state, pre=self.pre)))

    def read(self, prop: ir.Property) -> CTI:
        kind = "transition" if prop.two_state else "consecution"
        return _read_cti(self.backend, kind, prop.name, self.solver.model(), self.pre,
                         self.ex.state, self.env, self.action)


def _bounded_hint(spec: ir.Spec, step: _BoundedStep, prop: ir.Property, invs: list[ir.Property],
                  meter: Meter, minimize: bool) -> tuple[str, Any] | None:
    """On a small instance size (`step`): a counterexample to induction
    there is one for the unbounded spec too; an unsat core names the
    invariants the proof is likely to need, which spares Z3 the irrelevant
    quantifiers. `meter` is the hint's own share of the obligation's budget."""
    solver = step.solver
    solver.push()
    try:
        solver.add(step.goal(prop))
        res = meter.check(solver, *step.lits)
        if res == z3.unsat:
            return "core", _shrunk(solver, list(solver.unsat_core()), f"assume!{prop.name}",
                                   meter)
        if res != z3.sat:
            return None
        found = step
        if minimize:  # fewest elements per sort, greedily
            sizes = dict(step.sizes)
            for s in spec.sorts:
                while sizes[s.name] > 1:
                    trial_sizes = {**sizes, s.name: sizes[s.name] - 1}
                    assert step.action is not None
                    smaller = _BoundedStep(spec, trial_sizes, invs, False).act(step.action)
                    smaller.solver.add(smaller.goal(prop))
                    if meter.check(smaller.solver) != z3.sat:
                        break
                    sizes, found = trial_sizes, smaller
            if not found.backend.minimize(found.solver, found.pre, meter):
                return None
        return "cti", found.read(prop)
    finally:
        solver.pop()


# the first try of an obligation outside EPR, from its own invariant alone
_OWN_SLICE = 300_000


def _from_own(query: list, meter: Meter) -> bool:
    """Whether the query (the step, the goal and the goal's own invariant)
    is unsat within one short E-matching slice. Most obligations outside
    EPR need no other invariant, and proving them so spares their bounded
    hint, which costs more than such a proof; what this does not settle
    goes on to the hint and the rounds."""
    if any(f is False for f in query):
        return True
    if meter.out_of_time():
        return False
    solver = z3.Solver()
    solver.set("smt.mbqi", False)
    solver.add(*[f for f in query if f is not True])
    return meter.check(solver, units=_OWN_SLICE) == z3.unsat


# what a trial drop of an assumption from the hint's core may spend, as
# fractions of what the first check of the hint spent: the first pass
# settles the assumptions the proof needs (a model shows it, and models of
# the small instance are cheap), the second tries the others once more
_DROP_PASSES = (0.05, 1.0)


def _shrunk(solver: z3.Solver, core: list, own: str, meter: Meter) -> set[str]:
    """The invariants of an unsat core worth assuming in the unbounded
    query: each one dropped is one quantified formula fewer there. A drop
    is kept when the rest is still unsat, and the rest's own core then
    replaces it (often several at once). The goal's own invariant is never
    dropped: the unbounded query assumes it anyway. Proving the rest unsat
    on the small instance can cost many times the first check (fewer
    assumptions prune less), so each trial has a cap: a trial out of units
    keeps its assumption, which costs the unbounded query little, where
    finishing every trial cost more than the proof."""
    first = max(meter.used, 100_000)
    pending = [c for c in core if str(c) != own]
    for fraction in _DROP_PASSES:
        later = []
        for lit in pending:
            if not any(c.eq(lit) for c in core):
                continue   # gone with an earlier drop's core
            trial = [c for c in core if not c.eq(lit)]
            res = meter.check(solver, *trial, units=max(10_000, int(first * fraction)))
            if res == z3.unsat:
                sub = solver.unsat_core()
                core = [c for c in trial if any(c.eq(x) for x in sub) or str(c) == own]
            elif res == z3.unknown:
                later.append(lit)
        pending = later
    return {str(c).split("!", 1)[1] for c in core}


_MAX_CASES = 8


def _cases(action: ir.Action) -> list[ir.Action]:
    """The action as cases whose union is its behaviours: a guard that is a
    disjunction (under conjunctions and existentials) becomes one case per
    disjunct, up to _MAX_CASES cases. Each case's steps are steps of the
    action (its guard implies the action's), so a CTI of a case is one of
    the action, and the action is proved when every case is."""
    for i, st in enumerate(action.body):
        if isinstance(st, ir.Require):
            alts = _disjuncts(st.cond)
            if len(alts) > 1:
                out: list[ir.Action] = []
                for alt in alts:
                    body = action.body[:i] + (ir.Require(alt, st.span),) + action.body[i + 1:]
                    out += _cases(dataclasses.replace(action, body=body))
                return out if len(out) <= _MAX_CASES else [action]
    return [action]


def _disjuncts(e: ir.Expr) -> list[ir.Expr]:
    """e as a disjunction, pushed out through conjunctions and existentials
    ((exists x. A | B) is (exists x. A) | (exists x. B)); [e] if it is none."""
    if isinstance(e, ir.Or):
        return [d for a in e.args for d in _disjuncts(a)]
    if isinstance(e, ir.Quant) and e.kind == "exists":
        return [dataclasses.replace(e, body=d) for d in _disjuncts(e.body)]
    if isinstance(e, ir.And):
        for i, a in enumerate(e.args):
            alts = _disjuncts(a)
            if len(alts) > 1:
                return [dataclasses.replace(e, args=e.args[:i] + (d,) + e.args[i + 1:])
                        for d in alts]
    return [e]


def _merged(cases: list[Obligation]) -> Obligation:
    """One obligation from its cases': a CTI if one has one, unknown if one
    is, else proved; the seconds of all of them, and the units of their one
    meter (each case's count includes the cases before it)."""
    if len(cases) == 1:
        return cases[0]
    order = {"cti": 0, "unknown": 1, "proved": 2}
    worst = min(cases, key=lambda o: order.get(o.verdict, 1))
    not_epr = [o for o in cases if not o.epr]
    return dataclasses.replace(
        worst, epr=not not_epr,
        epr_reason=(not_epr[0] if not_epr else cases[0]).epr_reason,
        seconds=sum(o.seconds for o in cases), units=max(o.units for o in cases))


def _size(e: ir.Expr) -> int:
    from paxcheck.lang.walk import subexprs
    return sum(1 for _ in subexprs(e))


def _writes(stmts: tuple[ir.Stmt, ...]) -> set[str]:
    out: set[str] = set()
    for st in stmts:
        if isinstance(st, (ir.Assign, ir.Havoc)):
            out.add(st.symbol)
        elif isinstance(st, ir.If):
            out |= _writes(st.then) | _writes(st.els)
    return out


def _reads(spec: ir.Spec, e: ir.Expr) -> set[str]:
    from paxcheck.lang.walk import subexprs
    out: set[str] = set()
    for x in subexprs(e):
        if isinstance(x, ir.App):
            out.add(x.symbol)
        elif isinstance(x, ir.Call):
            out |= _reads(spec, spec.definition_map[x.definition].body)
    return out


def prove(spec: ir.Spec, instance: Instance | None = None, rlimit: int = DEFAULT_RLIMIT,
          timeout: float | None = None, without: tuple[str, ...] = (), minimize: bool = True,
          only: tuple[str, ...] | None = None) -> ProofResult:
    """Check every proof obligation, each within `rlimit` Z3 resource units
    (the verdict's only bound); `timeout` is the whole run's wall-clock
    safety net. `without` drops one-state properties from the candidate
    invariant; `only` restricts which obligations are run."""
    with isolated():
        return _prove(spec, instance, rlimit, timeout, without, minimize, only)


def _prove(spec: ir.Spec, instance: Instance | None, rlimit: int, timeout: float | None,
           without: tuple[str, ...], minimize: bool, only: tuple[str, ...] | None) -> ProofResult:
    deadline = time.monotonic() + timeout if timeout is not None else None
    backend: _Backend = _GroundBackend(instance) if instance else _FOBackend(spec)
    invs = [p for p in spec.properties
            if not p.two_state and p.inductive and p.name not in without]
    trans = [p for p in spec.properties if p.two_state and p.name not in without]
    result = ProofResult(spec, "instance" if instance else "unbounded", tuple(p.name for p in invs))
    bg = [f for f in backend.background() if f is not True]
    epr = EprChecker()
    # an inconsistent background proves anything: refuse before proving
    s = z3.Solver()
    s.add(*bg)
    axioms = Meter(rlimit, deadline)
    res = axioms.check(s)
    if res != z3.sat:
        result.consistent = False
        result.consistency_unknown = res != z3.unsat
        why = axioms.why() or s.reason_unknown()
        result.consistency_reason = ("the axioms are inconsistent (unsatisfiable)" if res == z3.unsat
                                     else f"could not show the axioms consistent: {why}")
        return result

    def run(ob: Obligation, step: list, goal, assumptions: list[tuple[ir.Property, Any]], pre,
            post, env, action, meter: Meter, frame: _Frame | None = None,
            hint: tuple[str, Any] | None = None, hint_seconds: float = 0.0) -> Obligation:
        if meter.out_of_time():  # the run's safety net: nothing more is encoded
            ob.verdict, ob.reason = "unknown", meter.why()
            return ob
        query = [q for q in step + [goal] if q is not True]
        if instance is not None:  # quantifiers expanded: a ground, decidable query
            ob.epr, ob.epr_reason = True, "finite instance"
        elif not ob.epr_reason:
            ob.epr, ob.epr_reason = epr.is_epr(bg + query + [f for _, f in assumptions])
        t0 = time.monotonic() - hint_seconds
        # Assumptions are added lazily: start from the goal's own invariant and
        # add whatever invariant a model breaks, until unsat (proved from a
        # subset, hence from all) or a model that satisfies every invariant
        # (a real counterexample to induction). Fewer quantifiers, faster Z3.
        chosen = [(p, f) for p, f in assumptions if p.name == ob.property]
        if ob.epr:
            # decidable: Z3's model-based instantiation settles the whole query
            # faster than rounds of subsets would
            chosen = list(assumptions)
        if ob.epr and frame is not None and not any(q is False for q in query):
            # decidable, and usually quick: one short check against the shared
            # frame; if Z3 has not settled it within the slice, the
            # obligation goes to the portfolio on solvers of its own (a
            # frame's learnt state can also lead Z3 astray: the portfolio's
            # fresh starts and seeds are the remedy for that too)
            solver = frame.solver()
            solver.push()
            solver.add(z3val(goal))
            res = meter.check(solver, units=_FRAME_SLICE)
            if res == z3.sat:
                ob.verdict, ob.cti = "cti", _read_cti(backend, ob.kind, ob.property, solver.model(),
                                                      pre, post, env, action)
                if minimize:
                    ob.cti = _minimized(backend, ob, solver, ob.cti, pre, post, env, action,
                                        assumptions, Meter(meter.limit, deadline))
            solver.pop()
            if res != z3.unknown:
                if res == z3.unsat:
                    ob.verdict = "proved"
                ob.seconds, ob.units = time.monotonic() - t0, meter.used
                return ob
        if hint is not None:
            verdict, found = hint
            if verdict == "cti":
                ob.verdict, ob.cti = "cti", found
                ob.reason = "found on a bounded instance"
                ob.seconds, ob.units = time.monotonic() - t0, meter.used
                return ob
            if verdict == "core":
                chosen += [(p, f) for p, f in assumptions if p.name in found and (p, f) not in chosen]
        while True:
            if any(q is False for q in query):
                res, solver = z3.unsat, None
            elif meter.exhausted():
                res, solver = z3.unknown, None
            else:
                partial = len(chosen) < len(assumptions)
                # a subset round gets a fifth of the budget: a model of a
                # subset that Z3 cannot find cheaply is no reason to stop there
                units = meter.limit // 5 if partial else meter.left
                res, solver = _check(bg + query + [f for _, f in chosen], meter, units)
                if res == z3.unknown and partial:
                    chosen = list(assumptions)
                    continue
            if res != z3.sat:
                break
            model = solver.model()
            if isinstance(backend, _FOBackend):
                # a model of a subset may be large, and reading it costs a
                # Z3 term per point: shrink its universe first (Z3 work,
                # counted against the budget, where reading would not be)
                backend.shrink(solver, meter)
                if meter.check(solver) == z3.sat:
                    model = solver.model()
            cti = _read_cti(backend, ob.kind, ob.property, model, pre, post, env, action)
            ev = Evaluator(cti.instance)
            broken = [(p, f) for p, f in assumptions if (p, f) not in chosen
                      and not ev.eval(p.formula, {}, cti.pre)]
            if not broken:
                if minimize:
                    cti = _minimized(backend, ob, solver, cti, pre, post, env, action,
                                     assumptions, Meter(meter.limit, deadline))
                ob.verdict, ob.cti = "cti", cti
                break
            # one at a time, the simplest first: every extra quantified
            # assumption makes the next model harder for Z3 to find
            chosen.append(min(broken, key=lambda pf: _size(pf[0].formula)))
        if res == z3.unsat:
            ob.verdict = "proved"
        elif res == z3.unknown:
            ob.verdict = "unknown"
            ob.reason = meter.why() or (solver.reason_unknown() if solver is not None else "")
        ob.seconds, ob.units = time.monotonic() - t0, meter.used
        return ob

    enc = backend.enc
    # initiation
    start, cons = backend.fresh("init")
    ex = enc.execute(spec.init, {}, start)
    frame = _Frame(bg + cons + ex.constraints)
    for p in invs:
        if only is not None and f"init -> {p.name}" not in only:
            continue
        goal = b_not(enc.ev(p.formula, {}, ex.state))
        result.obligations.append(run(
            Obligation(f"init -> {p.name}", "initiation", p.name, None), cons + ex.constraints,
            goal, [], None, ex.state, {}, None, Meter(rlimit, deadline), frame))
    bounded: _BoundedStep | None = None   # the hints' instance, built when first needed
    # consecution and two-state properties: per action, the pre-state, the
    # step and the assumed invariants are encoded once, and shared (as the
    # same Z3 terms) by its obligations
    for action in spec.actions:
        writes = _writes(action.body)
        found: dict[str, list[Obligation]] = {}
        todo = []
        for p in invs + trans:
            name = f"{action.name} -> {p.name}"
            if only is not None and name not in only:
                continue
            if not p.two_state and not (_reads(spec, p.formula) & writes):
                # the action changes nothing the invariant reads, and the
                # invariant is assumed in the pre-state: it holds after
                found[name] = [Obligation(
                    name, "consecution", p.name, action.name, True, "frame",
                    "proved", "unchanged: the action writes nothing it reads")]
            else:
                todo.append(p)
        if todo:
            def encoding(case: ir.Action):
                pre, cons = backend.fresh("pre")
                env, pcons = backend.params(case, "arg")
                assume = [(q, enc.ev(q.formula, {}, pre)) for q in invs]
                ex = enc.execute(case.body, env, pre)
                return pre, env, assume, ex, cons + pcons + ex.constraints

            whole = encoding(action)
            cases = [action]
            if instance is None:
                split = _cases(action)
                if len(split) > 1 and not epr.is_epr(bg + whole[4] + [f for _, f in whole[2]])[0]:
                    # outside EPR, Z3 proves each case of a disjunctive guard
                    # on its own far more cheaply than their union
                    cases = split
            meters: dict[str, Meter] = {}   # the cases of an obligation draw on one budget
            for case in cases:
                pre, env, assume, ex, step = whole if case is action else encoding(case)
                frame = _Frame(bg + step + [f for _, f in assume])
                for p in todo:
                    name = f"{action.name} -> {p.name}"
                    goal = b_not(enc.ev(p.formula, {}, ex.state, pre=pre))
                    ob = Obligation(name, "transition" if p.two_state else "consecution", p.name,
                                    action.name)
                    if instance is None:
                        ob.epr, ob.epr_reason = epr.is_epr(bg + step + [goal]
                                                           + [f for _, f in assume])
                    hint = None
                    h0 = time.monotonic()
                    meter = meters.setdefault(name, Meter(rlimit, deadline))
                    if instance is None and not ob.epr and _from_own(
                            bg + step + [goal] + [f for q, f in assume if q.name == p.name], meter):
                        ob.verdict, ob.seconds, ob.units = "proved", time.monotonic() - h0, meter.used
                        found.setdefault(name, []).append(ob)
                        continue
                    if instance is None and not ob.epr and not meter.out_of_time():
                        share = meter.share(0.25)
                        if bounded is None:
                            bounded = _BoundedStep(spec, {s.name: _HINT_SIZE for s in spec.sorts},
                                                   invs, True)
                        hint = _bounded_hint(spec, bounded.act(case), p, invs, share, minimize)
                        meter.absorb(share)
                    found.setdefault(name, []).append(run(
                        ob, step, goal, assume, pre, ex.state, env, case, meter, frame,
                        hint, time.monotonic() - h0))
        for p in invs + trans:
            name = f"{action.name} -> {p.name}"
            if name in found:
                result.obligations.append(_merged(found[name]))
    return result


def validate_cti(spec: ir.Spec, cti: CTI, invariants: tuple[str, ...]) -> str | None:
    """Re-check a CTI with the reference evaluator, independent of Z3: None if
    it is real, else what is wrong with it."""
    ev = Evaluator(cti.instance)
    prop = spec.property_map[cti.property]
    if cti.kind == "initiation":
        if cti.post not in set(ev.initial_states()):
            return "the state is not an initial state"
        return None if not ev.eval(prop.formula, {}, cti.post) else "the state satisfies the property"
    for name in invariants:
        if not ev.eval(spec.property_map[name].formula, {}, cti.pre):
            return f"the pre-state violates assumed invariant '{name}'"
    action = spec.action_map[cti.action]
    env = {p.name: a for p, a in zip(action.params, cti.args)}
    if cti.post not in ev.execute(action.body, env, cti.pre):
        return f"{cti.action} does not lead from the pre-state to the post-state"
    holds = ev.eval(prop.formula, {}, cti.post, pre=cti.pre)
    return None if not holds else "the post-state satisfies the property"


def validate_ctis(res: ProofResult) -> dict[str, str]:
    """Re-check every CTI of a proof with the reference evaluator; an
    obligation whose CTI it refutes becomes unknown (a CTI that is not one
    is never shown). Returns obligation name -> what was wrong."""
    problems = {}
    for ob in res.obligations:
        if ob.cti is not None:
            bad = validate_cti(res.spec, ob.cti, res.invariants)
            if bad:
                problems[ob.name] = bad
                ob.verdict, ob.reason = "unknown", f"spurious counterexample: {bad}"
    return problems
