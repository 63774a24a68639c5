"""Bounded model checking: the transition relation unrolled step by step on
the finite encoding; the first depth with a violation is the shortest one."""
from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from paxcheck.config.instance import Instance
from paxcheck.smt.finite import GroundEncoder, SymState, b_and, b_not, b_or, z3val
from paxcheck.smt.resources import isolated
from paxcheck.traces.trace import Trace, from_steps


@dataclass(frozen=True)
class BmcResult:
    """How deep BMC searched, and a shortest violation if it found one."""
    instance: Instance
    depth_checked: int          # every depth 0..depth_checked was searched
    trace: Trace | None         # a shortest violation, if any
    elapsed: float
    unknown: str | None = None  # a Z3 'unknown' reason: the search is inconclusive


def bmc(inst: Instance, properties: tuple[str, ...], max_depth: int,
        deadlock: bool = False, timeout: float | None = None) -> BmcResult:
    """Search depth 0, 1, ..., max_depth for a violation; the first found is
    a shortest one. In a Z3 context of its own, so the trace Z3 picks does
    not depend on what ran before in the process."""
    with isolated():
        return _bmc(inst, properties, max_depth, deadlock, timeout)


def _bmc(inst: Instance, properties: tuple[str, ...], max_depth: int, deadlock: bool,
         timeout: float | None) -> BmcResult:
    start = time.monotonic()
    enc = GroundEncoder(inst)
    spec = inst.spec
    # a `sometimes` is not violated at any depth (unreached only in an
    # exhaustive search): BMC leaves it to `check`
    props = [spec.property_map[p] for p in properties if not spec.property_map[p].reach]
    solver = z3.Solver()
    if timeout:
        solver.set("timeout", int(timeout * 1000))
    s0, cons, _ = enc.initial("init")
    solver.add(*[c for c in cons if c is not True])
    states: list[SymState] = [s0]
    selectors: list[z3.ArithRef] = []
    gas = enc.ground_actions()

    def found(kind: str, prop: str | None, model: z3.ModelRef, k: int) -> BmcResult:
        ref = [enc.read_state(model, s) for s in states[:k + 1]]
        steps = []
        for i in range(k):
            action, args = gas[model.eval(selectors[i], model_completion=True).as_long()]
            steps.append((action.name, tuple(args), ref[i + 1]))
        tr = from_steps(inst, kind, prop, ref[0], steps)
        return BmcResult(inst, k, tr, time.monotonic() - start)

    def query(goal) -> z3.CheckSatResult:
        solver.push()
        solver.add(goal)
        res = solver.check()
        return res

    for k in range(max_depth + 1):
        cur = states[k]
        checks: list[tuple[str, str | None, object]] = []
        for p in props:
            if not p.two_state:
                checks.append(("invariant", p.name, b_not(enc.ev(p.formula, {}, cur))))
            elif k > 0:
                checks.append(("transition", p.name,
                               b_not(enc.ev(p.formula, {}, cur, pre=states[k - 1]))))
        if deadlock:
            enabled = []
            for action, args in gas:
                ex = enc.execute(action.body, {p.name: a for p, a in zip(action.params, args)}, cur)
                g = b_and(ex.constraints)
                enabled.append(z3.Exists(ex.fresh, g) if ex.fresh and g is not True
                               and g is not False else g)
            checks.append(("deadlock", None, b_not(b_or(enabled))))
        for kind, name, goal in checks:
            if goal is False:
                continue
            res = query(goal)
            if res == z3.sat:
                out = found(kind, name, solver.model(), k)
                solver.pop()
                return out
            solver.pop()
            if res == z3.unknown:
                return BmcResult(inst, k - 1, None, time.monotonic() - start,
                                 solver.reason_unknown())
        if k == max_depth:
            break
        nxt, ranges = enc.fresh_state(f"s{k + 1}")
        solver.add(*ranges)
        sel = z3.Int(f"step{k}")
        selectors.append(sel)
        solver.add(sel >= 0, sel < len(gas))
        # next-state values as one if-then-else chain per point over the
        # actions that change it: far fewer constraints than a frame per action
        changes: dict[tuple[str, tuple[int, ...]], list] = {}
        for g, (action, args) in enumerate(gas):
            ex = enc.execute(action.body, {p.name: a for p, a in zip(action.params, args)}, cur)
            guard = b_and(ex.constraints)
            if guard is False:
                solver.add(sel != g)
                continue
            if guard is not True:
                solver.add(z3.Implies(sel == g, guard))
            for name, pts in ex.state.items():
                if pts is cur[name]:
                    continue
                for pt, v in pts.items():
                    if v is not cur[name][pt]:
                        changes.setdefault((name, pt), []).append((g, v))
        for name, pts in cur.items():
            for pt, v in pts.items():
                value = z3val(v)
                for g, w in changes.get((name, pt), []):
                    value = z3.If(sel == g, z3val(w), value)
                solver.add(nxt[name][pt] == value)
        states.append(nxt)
    return BmcResult(inst, max_depth, None, time.monotonic() - start)
