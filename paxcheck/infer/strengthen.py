"""A small inductive invariant chosen from many candidates, goal first.

Houdini assumes every candidate at once; for every size that is
thousands of quantified formulas in each Z3 query, and the queries do
not come back. Strengthening assumes only what a proof has needed so far:
it starts from the safety properties and, for each counterexample to
induction (CTI), adds the simplest candidate that the CTI's pre-state
violates (one that "blocks" it: the pre-state is then known unreachable,
since every candidate holds in every sampled reachable state). A member
whose CTI no candidate blocks cannot be proved from the candidates and
goes (a safety property that goes ends the search: undecided, with that
CTI). Each step adds a candidate or removes one, so it ends; whatever it
returns is proved by `prove` before it is reported.

CTIs are looked for on the smallest universes first: the first-order
encoding with every sort closed to at most 1, then 2 elements. Models
there are small, the queries decidable and quick, and a small CTI's
blockers are few and to the point (a large CTI violates hundreds of
candidates, most of them beside the point). Then `prove` itself, for
every size: its bounded hint and lazy assumptions find the CTIs that
only larger universes have, and its verdict is the stage's.

Which blocker: universal candidates before existential ones (each
existential assumption takes a query out of the decidable fragment),
then the smallest formula, then the order mined. Among existentials, the
one with the most conjuncts under its existential comes first: `A |
exists n. member(n, q) & L1 & L2` says more than the same with `L1`
alone, and the smallest existential that blocks one CTI is the weakest,
which the next CTI replaces with a sibling as weak (on Paxos they were
variants of `proposals_safe` that need their own support, each costing
an undecided query before it went)."""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import z3

from paxcheck.infer.houdini import _size, _Step, violated
from paxcheck.infer.samples import Sample
from paxcheck.infer.vector import everywhere
from paxcheck.lang import ir
from paxcheck.lang.show import show
from paxcheck.lang.walk import subexprs
from paxcheck.semantics.evaluate import Evaluator
from paxcheck.smt.finite import b_not, z3val
from paxcheck.smt.prove import (
    CTI,
    Obligation,
    ProofResult,
    _bounded_hint,
    _BoundedStep,
    _FOBackend,
    _reads,
    _writes,
    prove,
)
from paxcheck.smt.resources import Meter, isolated

# the universe bounds tried before every size, per sort: at most this many
# elements each
LEVELS = (1, 2)
# the sort sizes of the ground instances asked of an obligation that
# `prove` leaves undecided for every size: this many elements of each sort,
# and then, one sort at a time (ordered sorts first), one element more of
# that sort: a CTI that needs four ballots seldom needs four of
# everything, and is found sooner where the other sorts stay small
# (benchmarks/bench_bounds.py)
DEEPER = 3
# each of those queries (and its CTI's minimization) gets this fraction of
# an obligation's budget: they are asked only where `prove` spent the
# whole budget already, and a CTI within a few elements per sort that
# exists is found with a small part of it
DEEPER_SHARE = 8


@dataclass
class Strengthening:
    """What was chosen, what went and why, and what it cost."""
    kept: list[ir.Property]                                 # the goals first
    dropped: dict[str, str] = field(default_factory=dict)   # name -> why
    cti: CTI | None = None          # the CTI of a goal nothing blocks
    failed: str = ""                # why no invariant was found ("" if one was)
    proof: ProofResult | None = None
    queries: int = 0
    rounds: int = 0                 # `prove` runs
    seconds: float = 0.0


def strengthen(spec: ir.Spec, goals: list[ir.Property], pool: list[ir.Property],
               rlimit: int, deadline: float | None = None,
               say: Callable[[str], None] = lambda _: None,
               filters: tuple[Sample, ...] = ()) -> Strengthening:
    """Goals and candidates from `pool` that `prove` proves inductive for
    every size, or why none were found. A candidate is chosen only if it
    holds on every state of `filters` too (reachable states that mining
    did not read)."""
    t0 = time.monotonic()
    with isolated():
        out = _Search(spec, goals, pool, rlimit, deadline, say, tuple(filters)).run()
    out.seconds = time.monotonic() - t0
    return out


def _order(p: ir.Property) -> tuple[bool, int, int]:
    """Universal first, smallest first; among existentials, the most
    conjuncts under the existential first (see the module's docstring)."""
    inner = [x.body for x in subexprs(p.formula) if isinstance(x, ir.Quant) and x.kind == "exists"]
    if not inner:
        return (False, 0, _size(p.formula))
    body = inner[0]
    return (True, -(len(body.args) if isinstance(body, ir.And) else 1), _size(p.formula))


class _Search:
    def __init__(self, spec: ir.Spec, goals: list[ir.Property], pool: list[ir.Property],
                 rlimit: int, deadline: float | None, say: Callable[[str], None],
                 filters: tuple[Sample, ...]) -> None:
        self.spec, self.goals, self.rlimit, self.deadline, self.say = \
            spec, goals, rlimit, deadline, say
        # the wide samples, the one that refuted a candidate last first: a
        # candidate it refutes then costs a few of its states, not a whole
        # pass over another sample it holds on (the candidates a large CTI
        # violates are mostly false on the same one)
        self.filters = list(filters)
        self.backend = backend = _FOBackend(spec)
        self.bg = [f for f in backend.background() if f is not True]
        self.members: list[ir.Property] = list(goals)
        # the candidates not yet tried, in blocker order (a stable sort:
        # among equals, the order mined); by name, so that taking one out
        # does not scan tens of thousands
        self.rest = {p.name: p for p in sorted(pool, key=_order)}
        self.out = Strengthening([])
        self.steps = {a.name: _Step(backend, self.bg, a, goals) for a in spec.actions}
        self.writes = {a.name: _writes(a.body) for a in spec.actions}
        self.reads: dict[str, frozenset[str]] = {}
        self.bounds: dict[tuple[tuple[str, int], ...], z3.BoolRef] = {}
        start, cons = backend.fresh("init")
        self.init = backend.enc.execute(spec.init, {}, start)
        self.init_solver = z3.Solver()
        self.init_solver.add(*[f for f in self.bg + cons + self.init.constraints if f is not True])

    # ---- the frames ---------------------------------------------------------
    def _bound(self, sizes: dict[str, int]) -> z3.BoolRef:
        """A literal that closes each sort to at most its size in `sizes`,
        in each action's frame (made once per sizes)."""
        key = tuple(sorted(sizes.items()))
        if key in self.bounds:
            return self.bounds[key]
        tag = ",".join(f"{k}={v}" for k, v in key)
        lit = self.bounds[key] = z3.Bool(f"bound!{tag}")
        enc = self.backend.enc
        axioms = []
        for s in self.spec.sorts:
            S, n = enc.sorts[s.name], sizes[s.name]
            cs = [z3.Const(f"dom!{s.name}!{tag}!{i}", S) for i in range(n)]
            x = z3.Const(f"dom!{s.name}!x", S)
            axioms.append(z3.ForAll([x], z3.Or([x == c for c in cs])))
        for st in self.steps.values():
            st.solver.add(z3.Implies(lit, z3.And(axioms)))
        return lit

    def _assumable(self, c: ir.Property) -> None:
        for st in self.steps.values():
            if c.name not in st.lits:
                lit = z3.Bool(f"assume!{c.name}")
                st.solver.add(z3.Implies(lit, z3val(self.backend.enc.ev(c.formula, {}, st.pre))))
                st.lits[c.name] = lit

    def _relevant(self, c: ir.Property, action: ir.Action) -> bool:
        r = self.reads.get(c.name)
        if r is None:
            r = self.reads[c.name] = frozenset(_reads(self.spec, c.formula))
        return bool(r & self.writes[action.name])

    def _initiates(self, c: ir.Property) -> bool:
        s = self.init_solver
        s.push()
        s.add(z3val(b_not(self.backend.enc.ev(c.formula, {}, self.init.state))))
        res = Meter(self.rlimit, self.deadline).check(s)
        self.out.queries += 1
        s.pop()
        return res == z3.unsat

    # ---- the search ---------------------------------------------------------
    def run(self) -> Strengthening:
        out = self.out
        for n in LEVELS:
            if not self._level(n):
                break
        else:
            self._every_size()
        out.kept = list(self.members)
        return out

    def _late(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _level(self, n: int) -> bool:
        """Members until none has a CTI within `n` elements per sort; False
        if a goal went (or time ran out)."""
        done: set[tuple[str, str]] = set()
        while not self._late():
            todo = next(((c, a) for a in self.spec.actions for c in self.members
                         if (c.name, a.name) not in done and self._relevant(c, a)), None)
            if todo is None:
                self.say(f"strengthening within {n} per sort: {len(self.members)} inductive "
                         f"together ({self.out.queries:,} queries)")
                return True
            c, action = todo
            cti = self._cti(c, action, self._bound({s.name: n for s in self.spec.sorts}))
            if cti is None:       # preserved, or undecided within the budget: the
                done.add((c.name, action.name))   # next level asks again
                continue
            if not self._block(c, cti, f"not preserved by {action.name} within {n} per sort"):
                return False
            if c.name not in {m.name for m in self.members}:
                done.clear()      # what was proved with it must be asked again
        self.out.failed = "timeout"
        return False

    def _cti(self, c: ir.Property, action: ir.Action, bound: z3.BoolRef) -> CTI | None:
        """A CTI of `c` by `action` within `bound`, read and minimized; None
        if there is none (or Z3 could not say within the budget, or the
        model does not read back as a state)."""
        st = self.steps[action.name]
        for m in self.members:
            self._assumable(m)
        assume = [st.lits[m.name] for m in self.members] + [bound]
        st.solver.push()
        try:
            st.solver.add(st.goal(c))
            res = Meter(self.rlimit, self.deadline).check(st.solver, *assume)
            self.out.queries += 1
            if res != z3.sat:
                return None
            model = st.solver.model()
            st.solver.add(*assume)
            if self.backend.minimize(st.solver, st.pre, Meter(self.rlimit, self.deadline)):
                model = st.solver.model()
            cti = st.cti(c, model)
            return cti if cti.pre is not None else None
        finally:
            st.solver.pop()

    def _ground_cti(self, c: ir.Property, action: ir.Action, sizes: dict[str, int]
                    ) -> CTI | None:
        """A CTI of `c` by `action` on the instances of these sort sizes
        (immutables open), the members assumed, smallest first; None if
        there is none there (or Z3 could not say within its share of the
        budget). The ground encoding, which `prove`'s own hint uses too, is
        quantifier free and made afresh for each query: its cost does not
        depend on what a shared solver was asked before, as that of the
        first-order encoding with each sort closed by an axiom does
        (benchmarks/bench_bounds.py)."""
        step = _BoundedStep(self.spec, sizes, self.members, False).act(action)
        found = _bounded_hint(self.spec, step, c, self.members,
                              Meter(self.rlimit // DEEPER_SHARE, self.deadline), True)
        self.out.queries += 1
        return found[1] if found is not None and found[0] == "cti" else None

    def _block(self, c: ir.Property, cti: CTI, why: str) -> bool:
        """Add the first candidate `cti`'s pre-state violates, or drop `c`;
        False if `c` is a goal nothing blocks, or time ran out (a large CTI
        violates thousands of candidates, each asked of the wide samples)."""
        assert cti.pre is not None
        for cand in violated(cti, list(self.rest.values())):
            if self._late():
                self.out.failed = "timeout"
                return False
            del self.rest[cand.name]
            at = next((i for i, f in enumerate(self.filters)
                       if not everywhere(cand.formula, f)), None)
            if at is not None:
                false_on = self.filters.pop(at)
                self.filters.insert(0, false_on)
                where = false_on.inst.describe()
                self.out.dropped[cand.name] = f"false on a reachable state of {where}"
                self.say(f"strengthening: {cand.name} is false on a reachable state of {where}")
                continue
            if self._initiates(cand):
                self.members.append(cand)
                self.say(f"strengthening: {c.name} {why}; added {cand.name}: "
                         f"{show(cand.formula)}")
                return True
            self.out.dropped[cand.name] = "initiation"
        if c in self.goals or c.two_state:
            self.out.cti = cti
            self.out.failed = f"no candidate blocks a counterexample to induction of {c.name}"
            return False
        self.members.remove(c)
        self.out.dropped[c.name] = f"{why}; no candidate blocks it"
        self.say(f"strengthening: dropped {c.name} ({why})")
        return True

    def _every_size(self) -> None:
        """`prove` on the members until it proves, or finds no CTI a
        candidate blocks, or comes back undecided."""
        out = self.out
        # an obligation proved stays proved while members are only added (its
        # assumptions grow); a drop may take away what one of them used
        proved: dict[str, Obligation] = {}
        # undecided, with the members it was asked under: asked again only
        # once a round has no CTI, and only if the members have changed
        # since. Such an obligation spends its whole budget each time it is
        # asked, which made most of a round's time, while the members it
        # needs (if it is preserved at all) are still being added
        deferred: dict[str, tuple[Obligation, frozenset[str]]] = {}
        # obligation -> the members it was last asked under on the deeper
        # ground instances
        deep: dict[str, frozenset[str]] = {}
        while not self._late():
            out.rounds += 1
            before = {m.name for m in self.members}
            spec = dataclasses.replace(self.spec, properties=tuple(
                p for p in self.spec.properties if p.kind != "invariant") + tuple(
                dataclasses.replace(m, kind="invariant") for m in self.members
                if m not in self.goals))
            names = [f"init -> {m.name}" for m in self.members] + [
                f"{a.name} -> {p.name}" for a in spec.actions for p in spec.properties
                if p.kind in ("safety", "invariant", "transition")]
            new = prove(spec, rlimit=self.rlimit,
                        timeout=max(1.0, self.deadline - time.monotonic())
                        if self.deadline else None,
                        only=tuple(n for n in names if n not in proved and n not in deferred))
            proof = dataclasses.replace(new, obligations=[
                proved[n] for n in names if n in proved] + [
                deferred[n][0] for n in names if n in deferred] + new.obligations)
            out.proof = proof
            self.say(f"strengthening for every size: prove with {len(self.members)} "
                     f"invariants: {proof.status}"
                     + (f" ({len(deferred)} undecided asked later)" if deferred else ""))
            if proof.status == "proved":
                return
            proved.update((ob.name, ob) for ob in new.obligations if ob.verdict == "proved")
            ctis = [ob for ob in new.obligations if ob.verdict == "cti" and ob.cti is not None
                    and ob.cti.pre is not None]
            undecided_now = {ob.name: (ob, frozenset(before)) for ob in new.obligations
                             if ob.verdict not in ("proved", "cti")}
            if not ctis:
                stale = [n for n, (_, asked) in deferred.items() if asked != before]
                if stale:     # the members are what they will be: ask those again
                    for n in stale:
                        del deferred[n]
                    deferred.update(undecided_now)
                    continue
                undecided = [ob for ob in proof.obligations if ob.verdict != "proved"]
                found = self._deeper(undecided, deep)
                if found is None:
                    return
                if found:
                    if not before <= {m.name for m in self.members}:
                        proved.clear()
                    continue
                # a member that cannot be shown preserved within the budget
                # goes, as in Houdini; its CTIs, if any, come back for others
                # to block
                open_props = {ob.property for ob in undecided}
                gone = [m for m in self.members if m.name in open_props and m not in self.goals]
                for m in gone:
                    self.members.remove(m)
                    self.out.dropped[m.name] = "not shown preserved within the Z3 budget"
                    self.say(f"strengthening: dropped {m.name} (undecided within the budget)")
                if gone:
                    proved.clear()
                    deferred.clear()
                    continue
                out.failed = ("prove could not decide " + ", ".join(ob.name for ob in undecided[:3])
                              + (" ..." if len(undecided) > 3 else "")
                              if undecided else f"prove: {proof.status}")
                return
            deferred.update(undecided_now)
            for ob in ctis:
                # a member, or a transition property (proved, never dropped);
                # neither: a member that a CTI before this one dropped
                c = next((m for m in self.members if m.name == ob.property),
                         None) or self.spec.property_map.get(ob.property)
                if c is None:
                    continue
                assert ob.cti is not None
                if (c in self.members or c.two_state) and _still_cti(ob.cti, self.members) \
                        and not self._block(c, ob.cti, f"not preserved by {ob.action}"):
                    return
            if not before <= {m.name for m in self.members}:
                proved.clear()
                alive = {m.name for m in self.members}
                deferred = {n: d for n, d in deferred.items() if d[0].property in alive}
        out.failed = "timeout"


    def _deeper(self, undecided: list[Obligation], asked: dict[str, frozenset[str]]
                ) -> bool | None:
        """Block the first CTI of an undecided consecution found within the
        DEEPER bounds: True if that added or dropped a member, None if it
        was a goal's CTI that nothing blocks. For every size the query may
        lie beyond Z3's reach (an existential member takes it out of the
        decidable fragment) while a universe of a few elements per sort
        still has a CTI; without one, the member would be dropped as
        undecided and its CTIs would come back for another variant of it.
        An obligation is asked again only under other members."""
        now = frozenset(m.name for m in self.members)
        for ob in undecided:
            if ob.action is None or asked.get(ob.name) == now:
                continue
            asked[ob.name] = now
            c = next((m for m in self.members if m.name == ob.property),
                     None) or self.spec.property_map.get(ob.property)
            action = next((a for a in self.spec.actions if a.name == ob.action), None)
            if c is None or action is None:
                continue
            self.say(f"strengthening: {ob.name} is undecided for every size; looking for "
                     f"a CTI within {DEEPER} per sort, then one sort at a time at {DEEPER + 1}")
            for sizes in deeper_bounds(self.spec):
                if self._late():
                    return False
                cti = self._ground_cti(c, action, sizes)
                if cti is not None:
                    if not self._block(c, cti, f"not preserved by {action.name} within "
                                       + _within(sizes)):
                        return None
                    return True
        return False


def deeper_bounds(spec: ir.Spec) -> list[dict[str, int]]:
    """DEEPER elements of every sort, then each sort in turn (ordered sorts
    first) with one more."""
    base = {s.name: DEEPER for s in spec.sorts}
    return [base] + [{**base, s.name: DEEPER + 1}
                     for s in sorted(spec.sorts, key=lambda s: not s.ordered)]


def _within(sizes: dict[str, int]) -> str:
    """`{node: 3, ballot: 4}` as "ballot=4, 3 per other sort"; all equal as
    "3 per sort"."""
    low = min(sizes.values())
    more = [f"{k}={v}" for k, v in sizes.items() if v != low]
    return f"{low} per sort" if not more else ", ".join(more) + f", {low} per other sort"


def _still_cti(cti: CTI, members: list[ir.Property]) -> bool:
    """Whether the CTI's pre-state satisfies every member (one added for an
    earlier CTI of the same round may block it already)."""
    assert cti.pre is not None
    ev = Evaluator(cti.instance)
    return all(ev.eval(m.formula, {}, cti.pre) for m in members)
