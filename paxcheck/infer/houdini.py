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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import z3

from paxcheck.config.instance import Instance
from paxcheck.infer.samples import sample_of
from paxcheck.infer.vector import Unsupported, holds
from paxcheck.lang import ir
from paxcheck.semantics.evaluate import Evaluator, RefState
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


class _Frame:
    """One action's step, with every candidate assumed in the pre-state
    behind a literal of its own (so each query chooses which are assumed),
    and the candidates a model of the step breaks."""
    solver: z3.Solver
    lits: dict[str, z3.BoolRef]
    action: ir.Action
    gens: dict[int, z3.BoolRef]     # size of the alive set -> its literal

    def goal(self, prop: ir.Property) -> Any:
        """The step breaks `prop`: it is false in the post-state."""
        raise NotImplementedError

    def assume(self, alive: dict[str, ir.Property]) -> list[z3.BoolRef]:
        """One literal that assumes every candidate in `alive`: passing
        thousands of assumptions to each check costs more in Python than
        the SAT solver spends on the query. `alive` only ever shrinks, so
        its size names it. Call it outside any pushed scope of the query, or
        the literal's definition goes with the pop."""
        lit = self.gens.get(len(alive))
        if lit is None:
            lit = self.gens[len(alive)] = z3.Bool(f"alive!{len(alive)}")
            self.solver.add(z3.Implies(lit, z3.And([self.lits[n] for n in alive])))
        return [lit]

    def broken(self, cand: ir.Property, alive: list[ir.Property], model: z3.ModelRef
               ) -> dict[str, CTI]:
        """The candidates among `alive` that `model` (of this step, with
        every one of them assumed) breaks, each with the CTI; `cand`, whose
        goal the model satisfies, always among them."""
        raise NotImplementedError

    def encoding(self) -> Any:
        """The encoding of the step: its backend, pre- and post-state, and
        the action's arguments."""
        raise NotImplementedError

    def cti(self, cand: ir.Property, model: z3.ModelRef) -> CTI:
        """`model` read as the counterexample to induction of `cand`."""
        st = self.encoding()
        return _read_cti(st.backend, "consecution", cand.name, model, st.pre, st.ex.state,
                         st.env, self.action)


class _Step(_Frame):
    """For every size: the action on a fresh pre-state of the first-order
    encoding (quantified)."""

    def __init__(self, backend: _FOBackend, bg: list, action: ir.Action,
                 cands: list[ir.Property]) -> None:
        enc = backend.enc
        self.backend, self.action = backend, action
        self.pre, cons = backend.fresh("pre")
        self.env, pcons = backend.params(action, "arg")
        self.ex = enc.execute(action.body, self.env, self.pre)
        self.solver = z3.Solver()
        self.solver.add(*[f for f in bg + cons + pcons + self.ex.constraints if f is not True])
        self.lits, self.gens = {}, {}
        for c in cands:
            lit = z3.Bool(f"assume!{c.name}")
            self.solver.add(z3.Implies(lit, z3val(enc.ev(c.formula, {}, self.pre))))
            self.lits[c.name] = lit

    def goal(self, prop: ir.Property) -> Any:
        return z3val(b_not(self.backend.enc.ev(prop.formula, {}, self.ex.state, pre=self.pre)))

    def encoding(self) -> _Step:
        return self

    def broken(self, cand: ir.Property, alive: list[ir.Property], model: z3.ModelRef
               ) -> dict[str, CTI]:
        """The model is read into an explicit state and every candidate
        evaluated there (vectorized: `vector.holds`); if the reading does not
        reproduce the model (its pre-state breaks a candidate Z3 assumed),
        only `cand` goes."""
        cti = self.cti(cand, model)
        if cti.pre is None:
            return {cand.name: cti}
        truth = _truth(cti, alive)
        if not all(pre for pre, _ in truth.values()):
            return {cand.name: cti}
        out = {name: cti for name, (_, post) in truth.items() if not post}
        out[cand.name] = cti
        return out


def _truth(cti: CTI, cands: list[ir.Property]) -> dict[str, tuple[bool, bool]]:
    """Each candidate's truth in the CTI's pre- and post-state, by numpy
    over both at once; the reference evaluator for one that `holds` does
    not vectorize."""
    assert cti.pre is not None and cti.post is not None
    return {c.name: (r[0], r[1]) for c, r in _evaluated(cti.instance, [cti.pre, cti.post], cands)}


def violated(cti: CTI, cands: Iterable[ir.Property]) -> Iterator[ir.Property]:
    """The candidates the CTI's pre-state violates, in their order, each
    evaluated only once the ones before it were taken: a blocker is mostly
    among the first of tens of thousands of candidates, and evaluating
    them all on each CTI was most of strengthening's time (a profile of
    Flexible Paxos' strengthening; benchmarks/bench_infer.py times whole
    runs)."""
    assert cti.pre is not None
    return (c for c, r in _evaluated(cti.instance, [cti.pre], cands) if not r[0])


def _evaluated(inst: Instance, states: list[RefState], cands: Iterable[ir.Property]
               ) -> Iterator[tuple[ir.Property, tuple[bool, ...]]]:
    """Each candidate with its truth in each state (a state after the first
    is the first's successor, for `old`)."""
    smp = sample_of(inst, states)
    ev: Evaluator | None = None
    for c in cands:
        try:
            yield c, tuple(bool(x) for x in holds(c.formula, smp))
        except Unsupported:
            ev = ev or Evaluator(inst)
            yield c, tuple(bool(ev.eval(c.formula, {}, s, pre=states[0] if i else None))
                           for i, s in enumerate(states))


class _Bounded(_Frame):
    """On the instances of given sort sizes (immutables open): the
    pre-state and the candidates are encoded once, each action's step is a
    solver frame swapped in by `act`, and its goals are ground, so a
    model decides each exactly.

    The queries are propositional over bounded integers, so they go to
    Z3's SAT-based finite-domain solver (QF_FD), which answers them several
    times faster than the default SMT solver (benchmarks/bench_infer.py).
    A candidate's goal is its pre-state encoding with the action's
    post-state substituted in, one Z3 call, instead of a new encoding
    of its formula per action."""

    def __init__(self, spec: ir.Spec, sizes: dict[str, int], cands: list[ir.Property]) -> None:
        self.step = _BoundedStep(spec, sizes, cands, True, z3.SolverFor("QF_FD"))
        self.solver = self.step.solver
        self.lits = dict(zip((c.name for c in cands), self.step.lits))
        self.pre_f = {c.name: f for c, f in zip(cands, self.step.formulas)}
        self.goals: dict[str, Any] = {}
        self.gens = {}
        self.subst: list[tuple[Any, Any]] = []

    def act(self, action: ir.Action) -> _Bounded:
        if self.step.action is not action:
            st = self.step.act(action)
            self.action, self.goals, self.gens = action, {}, {}
            self.subst = [(z3val(v), z3val(st.ex.state[sym][pt]))
                          for sym in _writes(action.body) for pt, v in st.pre[sym].items()
                          if not z3val(v).eq(z3val(st.ex.state[sym][pt]))]
        return self

    def goal(self, prop: ir.Property) -> Any:
        g = self.goals.get(prop.name)
        if g is None:
            if prop.two_state or prop.name not in self.pre_f:
                g = self.step.goal(prop)
            else:
                f = self.pre_f[prop.name]
                g = z3.Not(z3.substitute(z3val(f), *self.subst)) if self.subst else \
                    z3val(b_not(f))
            self.goals[prop.name] = g
        return g

    def encoding(self) -> _BoundedStep:
        return self.step

    def broken(self, cand: ir.Property, alive: list[ir.Property], model: z3.ModelRef
               ) -> dict[str, CTI]:
        cti = self.cti(cand, model)
        out = {c.name: cti for c in alive
               if z3.is_true(model.eval(self.goal(c), model_completion=True))}
        out[cand.name] = cti
        return out


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
        t0 = time.monotonic()
        out = Houdini([])
        fix = _Fixpoint(spec, rlimit, deadline, out, say)
        if sizes is not None:
            where = "sizes " + ", ".join(f"{k}={v}" for k, v in sizes.items())
            bounded = _Bounded(spec, sizes, cands)
            fix.run({c.name: c for c in cands}, lambda a, _: bounded.act(a), f"on {where}",
                    f" ({where})")
            say(f"houdini on {where}: {len(cands) - len(out.dropped):,} of "
                f"{len(cands):,} left ({out.queries:,} queries, {time.monotonic() - t0:.1f} s)")
        cands = [c for c in cands if c.name not in out.dropped]
        backend = _FOBackend(spec)
        bg = [f for f in backend.background() if f is not True]
        alive = fix.initiation(backend, bg, cands)
        fix.run(alive, lambda a, live: _Step(backend, bg, a, live), "for every size", "")
        if _late(deadline):
            for name in list(alive):
                out.dropped[name] = "not checked: timeout"
                del alive[name]
        out.kept = [c for c in cands if c.name in alive]
        out.seconds = time.monotonic() - t0
        return out


class _Ticker:
    """A progress line at most every `every` seconds."""

    def __init__(self, say: Callable[[str], None], every: float = 10.0) -> None:
        self.say, self.every, self.last = say, every, time.monotonic()

    def __call__(self, fmt: str, *args: object) -> None:
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.say(fmt.format(*args))


class _Fixpoint:
    """Houdini's rounds, the same for both encodings. Per action, each
    query asks for a step that breaks any of a few (`_CHUNK`) surviving
    candidates it can affect (those reading what it writes); a model drops
    every candidate it breaks, and the few left are asked again until the
    query is unsat: they are then preserved by that action. A query that runs out of
    units is split into one query per candidate, and a candidate whose
    own query runs out is dropped (it cannot be shown preserved)."""

    def __init__(self, spec: ir.Spec, rlimit: int, deadline: float | None, out: Houdini,
                 say: Callable[[str], None]) -> None:
        self.spec, self.rlimit, self.deadline, self.out = spec, rlimit, deadline, out
        self.tick = _Ticker(say)
        self.reads: dict[str, frozenset[str]] = {}

    def query(self, solver: z3.Solver, *assume: z3.BoolRef) -> z3.CheckSatResult:
        meter = Meter(self.rlimit, self.deadline)
        res = meter.check(solver, *assume)
        self.out.queries += 1
        self.out.units += meter.used
        return res

    def initiation(self, backend: _FOBackend, bg: list,
                   cands: list[ir.Property]) -> dict[str, ir.Property]:
        """The candidates that hold in every initial state."""
        enc = backend.enc
        alive = {c.name: c for c in cands}
        start, cons = backend.fresh("init")
        ex = enc.execute(self.spec.init, {}, start)
        solver = z3.Solver()
        solver.add(*[f for f in bg + cons + ex.constraints if f is not True])
        for c in cands:
            solver.push()
            solver.add(z3val(b_not(enc.ev(c.formula, {}, ex.state))))
            res = self.query(solver)
            solver.pop()
            if res != z3.unsat:
                del alive[c.name]
                self.out.dropped[c.name] = ("initiation" if res == z3.sat
                                            else "initiation: unknown")
        return alive

    def run(self, alive: dict[str, ir.Property],
            frame: Callable[[ir.Action, list[ir.Property]], _Frame], stage: str,
            where: str) -> None:
        """Rounds until no action breaks a survivor; `alive` shrinks in place."""
        for c in alive.values():
            if c.name not in self.reads:
                self.reads[c.name] = frozenset(_reads(self.spec, c.formula))
        changed = True
        while changed and not _late(self.deadline):
            changed = False
            self.out.rounds += 1
            for action in self.spec.actions:
                writes = _writes(action.body)
                if not any(self.reads[n] & writes for n in alive):
                    continue
                fr = frame(action, list(alive.values()))
                todo = [c for c in alive.values() if self.reads[c.name] & writes]
                i = 0
                while i < len(todo) and not _late(self.deadline):
                    chunk = [c for c in todo[i:i + _CHUNK] if c.name in alive]
                    if not chunk:
                        i += _CHUNK
                        continue
                    self.tick("houdini round {} {}, {}: {:,} left, {:,} queries",
                              self.out.rounds, stage, action.name, len(alive), self.out.queries)
                    res = self._ask(fr, chunk, todo, alive, where)
                    if res == z3.sat:
                        changed = True      # the rest of the chunk is asked again
                        continue
                    if res == z3.unknown:
                        changed |= self._one_by_one(fr, chunk, todo, alive, where)
                    i += _CHUNK

    def _ask(self, fr: _Frame, chunk: list[ir.Property], todo: list[ir.Property],
             alive: dict[str, ir.Property], where: str) -> z3.CheckSatResult:
        """Is there a step that breaks one of `chunk`? If so, drop every
        candidate of `todo` it breaks."""
        assume = fr.assume(alive)
        fr.solver.push()
        try:
            fr.solver.add(z3.Or([fr.goal(c) for c in chunk]))
            res = self.query(fr.solver, *assume)
            if res == z3.sat:
                model = fr.solver.model()
                cand = chunk[0] if len(chunk) == 1 else next(
                    (c for c in chunk
                     if z3.is_true(model.eval(fr.goal(c), model_completion=True))), None)
                if cand is None:   # the model does not decide the goals
                    return z3.unknown
                broken = fr.broken(cand, [c for c in todo if c.name in alive], model)
                for name, cti in broken.items():
                    del alive[name]
                    self.out.dropped[name] = f"not preserved by {fr.action.name}{where}"
                    self.out.ctis[name] = cti
            return res
        finally:
            fr.solver.pop()

    def _one_by_one(self, fr: _Frame, chunk: list[ir.Property], todo: list[ir.Property],
                    alive: dict[str, ir.Property], where: str) -> bool:
        """Each of `chunk` on its own; one whose query runs out of units is
        dropped. Whether any was."""
        before = len(alive)
        for c in chunk:
            if c.name in alive and not _late(self.deadline) and \
                    self._ask(fr, [c], todo, alive, where) == z3.unknown:
                del alive[c.name]
                self.out.dropped[c.name] = f"{fr.action.name}: unknown within the Z3 budget"
        return len(alive) < before


# Goals per query. One query over all of an action's candidates is what
# Houdini needs in principle, but a disjunction of hundreds of goals is
# far harder for the SAT solver than the same goals asked one by one,
# while a few at a time cost about what one does (benchmarks/bench_infer.py).
_CHUNK = 8


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


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
