"""The greatest inductive subset of a set of candidate invariants, for
every instance size (Houdini), and a small subset of it that still proves
the goals.

Houdini drops every candidate that fails initiation, then repeatedly every
candidate some action breaks from a state satisfying all the survivors,
until none breaks: the survivors are then inductive together. It is
exact for the candidates given: a candidate that is part of any inductive
subset survives (each dropped one has a counterexample to induction whose
pre-state satisfies a superset of that subset). A counterexample's
post-state is read from Z3's model and every candidate it violates goes
at once, so one query usually removes many. Each query is bounded by Z3
resource units, never by the clock; a query that runs out of units drops
its candidate (it cannot be shown preserved), which keeps the result
sound, since whatever survives is proved again by `prove` at the end.

`support` then finds which survivors a proof of the goals needs (unsat
cores from the goals outwards), and `shrink` drops any of those the rest
can do without."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from paxcheck.lang import ir
from paxcheck.semantics.evaluate import Evaluator
from paxcheck.smt.finite import b_not, z3val
from paxcheck.smt.prove import CTI, _BoundedStep, _FOBackend, _read_cti, _reads, _writes
from paxcheck.smt.resources import Meter, isolated


@dataclass
class Houdini:
    """The fixpoint: what survived, why the rest went, and what it cost."""
    kept: list[ir.Property]
    dropped: dict[str, str] = field(default_factory=dict)   # name -> why
    ctis: dict[str, CTI] = field(default_factory=dict)      # name -> the CTI that dropped it
    queries: int = 0
    units: int = 0
    seconds: float = 0.0
    rounds: int = 0


class _Step:
    """One action's step on a fresh pre-state, with every candidate
    assumed in the pre-state behind a literal of its own (so the
    candidates assumed are chosen per query)."""

    def __init__(self, backend: _FOBackend, bg: list, action: ir.Action,
                 cands: list[ir.Property]) -> None:
        enc = backend.enc
        self.backend, self.action = backend, action
        self.pre, cons = backend.fresh("pre")
        self.env, pcons = backend.params(action, "arg")
        self.ex = enc.execute(action.body, self.env, self.pre)
        self.solver = z3.Solver()
        self.solver.add(*[f for f in bg + cons + pcons + self.ex.constraints if f is not True])
        self.lits: dict[str, z3.BoolRef] = {}
        for c in cands:
            lit = z3.Bool(f"assume!{c.name}")
            self.solver.add(z3.Implies(lit, z3val(enc.ev(c.formula, {}, self.pre))))
            self.lits[c.name] = lit

    def goal(self, prop: ir.Property) -> Any:
        return z3val(b_not(self.backend.enc.ev(prop.formula, {}, self.ex.state, pre=self.pre)))


def houdini(spec: ir.Spec, cands: list[ir.Property], rlimit: int,
            deadline: float | None = None, sizes: dict[str, int] | None = None,
            say: Callable[[str], None] = lambda _: None) -> Houdini:
    """The greatest subset of `cands` that holds initially and is preserved
    by every action, for every instance size. With `sizes`, rounds on the
    instances of those sort sizes come first (immutables open, bound by
    the axioms: quantifier-free queries, fast): a counterexample there is
    one for every size too, and most candidates go before the first
    quantified query."""
    with isolated():
        out = Houdini([])
        if sizes is not None:
            t0 = time.monotonic()
            _bounded_rounds(spec, cands, sizes, rlimit, deadline, out, say)
            say(f"houdini on sizes {sizes}: {len(cands) - len(out.dropped):,} of "
                f"{len(cands):,} left ({out.queries:,} queries, {time.monotonic() - t0:.1f} s)")
        return _houdini(spec, cands, rlimit, deadline, out, say)


class _Ticker:
    """A progress line at most every `every` seconds."""

    def __init__(self, say: Callable[[str], None], every: float = 10.0) -> None:
        self.say, self.every, self.last = say, every, time.monotonic()

    def __call__(self, fmt: str, *args: object) -> None:
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.say(fmt.format(*args))


def _bounded_rounds(spec: ir.Spec, cands: list[ir.Property], sizes: dict[str, int],
                    rlimit: int, deadline: float | None, out: Houdini,
                    say: Callable[[str], None]) -> None:
    tick = _Ticker(say)
    alive = {c.name: c for c in cands}
    reads = {c.name: _reads(spec, c.formula) for c in cands}
    step = _BoundedStep(spec, sizes, cands, True)
    lits = dict(zip((c.name for c in cands), step.lits))
    changed = True
    while changed and not _late(deadline):
        changed = False
        out.rounds += 1
        for action in spec.actions:
            writes = _writes(action.body)
            step.act(action)
            for c in [c for c in alive.values() if reads[c.name] & writes]:
                if c.name not in alive or _late(deadline):
                    continue
                tick("houdini round {} on sizes, {}: {:,} left, {:,} queries", out.rounds,
                     action.name, len(alive), out.queries)
                step.solver.push()
                step.solver.add(step.goal(c))
                meter = Meter(rlimit, deadline)
                res = meter.check(step.solver, *[lits[n] for n in alive])
                out.queries += 1
                out.units += meter.used
                if res == z3.sat:
                    cti = step.read(c)
                    ev = Evaluator(cti.instance)
                    gone = [d for d in alive.values()
                            if d is c or not ev.eval(d.formula, {}, cti.post, pre=cti.pre)]
                    for d in gone:
                        del alive[d.name]
                        out.dropped[d.name] = (f"not preserved by {action.name} (sizes "
                                               + ", ".join(f"{k}={v}" for k, v in sizes.items())
                                               + ")")
                        out.ctis[d.name] = cti
                    changed = True
                step.solver.pop()


def _houdini(spec: ir.Spec, cands: list[ir.Property], rlimit: int,
             deadline: float | None, out: Houdini,
             say: Callable[[str], None] = lambda _: None) -> Houdini:
    t0 = time.monotonic()
    tick = _Ticker(say)
    cands = [c for c in cands if c.name not in out.dropped]
    backend = _FOBackend(spec)
    enc = backend.enc
    bg = [f for f in backend.background() if f is not True]
    alive = {c.name: c for c in cands}

    def query(solver: z3.Solver, *assume: z3.BoolRef) -> z3.CheckSatResult:
        meter = Meter(rlimit, deadline)
        res = meter.check(solver, *assume)
        out.queries += 1
        out.units += meter.used
        return res

    start, cons = backend.fresh("init")
    ex = enc.execute(spec.init, {}, start)
    solver = z3.Solver()
    solver.add(*[f for f in bg + cons + ex.constraints if f is not True])
    for c in cands:
        solver.push()
        solver.add(z3val(b_not(enc.ev(c.formula, {}, ex.state))))
        res = query(solver)
        solver.pop()
        if res != z3.unsat:
            del alive[c.name]
            out.dropped[c.name] = "initiation" if res == z3.sat else "initiation: unknown"
    reads = {c.name: _reads(spec, c.formula) for c in cands}
    changed = True
    while changed and not _late(deadline):
        changed = False
        out.rounds += 1
        for action in spec.actions:
            writes = _writes(action.body)
            todo = [c for c in alive.values() if reads[c.name] & writes]
            if not todo:
                continue
            step = _Step(backend, bg, action, list(alive.values()))
            for c in todo:
                if c.name not in alive or _late(deadline):
                    continue
                tick("houdini round {} for every size, {}: {:,} left, {:,} queries",
                     out.rounds, action.name, len(alive), out.queries)
                step.solver.push()
                step.solver.add(step.goal(c))
                res = query(step.solver, *[step.lits[n] for n in alive])
                if res == z3.sat:
                    broken = _broken(backend, step, c, list(alive.values()))
                    for name, cti in broken.items():
                        del alive[name]
                        out.dropped[name] = f"not preserved by {action.name}"
                        out.ctis[name] = cti
                    changed = True
                elif res == z3.unknown:
                    del alive[c.name]
                    out.dropped[c.name] = f"{action.name}: unknown within the Z3 budget"
                    changed = True
                step.solver.pop()
    if _late(deadline):
        for name in list(alive):
            out.dropped[name] = "not checked: timeout"
            del alive[name]
    out.kept = [c for c in cands if c.name in alive]
    out.seconds = time.monotonic() - t0
    return out


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _broken(backend: _FOBackend, step: _Step, cand: ir.Property,
            alive: list[ir.Property]) -> dict[str, CTI]:
    """The candidates a counterexample to `cand`'s induction breaks: those
    false in its post-state (`cand` always among them). The model is read
    into an explicit state and every candidate evaluated there by the
    reference evaluator; if the reading does not reproduce the model (its
    pre-state breaks a candidate Z3 assumed), only `cand` goes."""
    cti = _read_cti(backend, "consecution", cand.name, step.solver.model(), step.pre,
                    step.ex.state, step.env, step.action)
    ev = Evaluator(cti.instance)
    if cti.pre is None or not all(ev.eval(c.formula, {}, cti.pre) for c in alive):
        return {cand.name: cti}
    out = {c.name: cti for c in alive if not ev.eval(c.formula, {}, cti.post, pre=cti.pre)}
    out[cand.name] = cti
    return out


def support(spec: ir.Spec, kept: list[ir.Property], goals: list[str], rlimit: int,
            deadline: float | None = None) -> tuple[list[str], int]:
    """The survivors a proof of `goals` draws on: the goals, and, per
    action, the unsat core of each needed one's preservation, until no new
    name comes in. Then one by one (larger formulas first), each that is
    not a goal is left out if what remains is still inductive. Returns the
    names kept and the queries made."""
    with isolated():
        return _support(spec, kept, goals, rlimit, deadline)


def _support(spec: ir.Spec, kept: list[ir.Property], goals: list[str], rlimit: int,
             deadline: float | None) -> tuple[list[str], int]:
    backend = _FOBackend(spec)
    bg = [f for f in backend.background() if f is not True]
    by_name = {c.name: c for c in kept}
    steps = {a.name: _Step(backend, bg, a, kept) for a in spec.actions}
    reads = {c.name: _reads(spec, c.formula) for c in kept}
    writes = {a.name: _writes(a.body) for a in spec.actions}
    queries = 0

    def core(name: str, assume: set[str]) -> set[str] | None:
        """What `name`'s preservation needs among `assume`; None if it does
        not follow from them."""
        nonlocal queries
        need: set[str] = set()
        for a in spec.actions:
            if not reads[name] & writes[a.name]:
                continue
            st = steps[a.name]
            st.solver.push()
            st.solver.add(st.goal(by_name[name]))
            lits = [st.lits[n] for n in sorted(assume)]
            res = Meter(rlimit, deadline).check(st.solver, *lits)
            queries += 1
            if res == z3.unsat:
                need |= {str(x).split("!", 1)[1] for x in st.solver.unsat_core()}
            st.solver.pop()
            if res != z3.unsat:
                return None
        return need

    def closure(start: set[str], pool: set[str]) -> set[str] | None:
        needed, work = set(start), list(sorted(start))
        while work:
            name = work.pop()
            got = core(name, pool)
            if got is None:
                return None
            for n in sorted(got - needed):
                needed.add(n)
                work.append(n)
        return needed

    everything = set(by_name)
    needed = closure(set(goals), everything)
    if needed is None:
        return [], queries
    for name in sorted(needed - set(goals), key=lambda n: -_size(by_name[n].formula)):
        if name not in needed or _late(deadline):
            continue
        trial = closure(set(goals) | (needed - {name}), needed - {name})
        if trial is not None:
            needed = trial
    return [c.name for c in kept if c.name in needed], queries


def _size(e: ir.Expr) -> int:
    from paxcheck.lang.walk import subexprs
    return sum(1 for _ in subexprs(e))
