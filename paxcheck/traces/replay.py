"""Re-validate a JSON trace step by step with the reference evaluator: an
engine independent of the compiled one that produced the trace."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from paxcheck.config.instance import Instance
from paxcheck.config.model import FairnessSetting
from paxcheck.ground.ground import ground
from paxcheck.ground.temporal import live_set
from paxcheck.semantics import temporal
from paxcheck.semantics.evaluate import Evaluator, RefState, successors
from paxcheck.traces import trace as T
from paxcheck.traces.tracefile import apply_changes, state_from_json, trace_model


@dataclass(frozen=True)
class ReplayResult:
    ok: bool
    message: str
    step: int | None = None  # the step that diverges (0 = the initial state)


def replay(path: str | Path) -> ReplayResult:
    """Re-validate a trace file step by step with the reference evaluator."""
    data, model, inst = trace_model(path)
    if inst is None:
        return ReplayResult(False, "the trace's instance is not an instance of the model", 0)
    ev = Evaluator(inst)
    state = state_from_json(inst, data.get("initial"))
    if not ev.is_initial(state):
        return ReplayResult(False, "state 0 is not an initial state of the model", 0)
    steps = data.get("steps", [])
    prev = state  # the state before the last step, for a two-state property
    states: list[RefState] = [state]
    moves: list[tuple[str, tuple[int, ...]]] = []
    for i, step in enumerate(steps, 1):
        action = inst.spec.action_map.get(step.get("action"))
        if action is None:
            return ReplayResult(False, f"step {i}: unknown action {step.get('action')!r}", i)
        given = step.get("args", {})
        try:
            args = tuple(inst.value_of(p.sort, str(given[p.name])) for p in action.params)
        except KeyError as exc:
            return ReplayResult(False, f"step {i}: bad or missing argument {exc}", i)
        expected = apply_changes(inst, state, step.get("changes", {}), f"step {i}")
        posts = ev.execute(action.body, {p.name: a for p, a in zip(action.params, args)}, state)
        label = f"{action.name}({', '.join(f'{p.name}={given[p.name]}' for p in action.params)})"
        if not posts:
            return ReplayResult(False, f"step {i}: {label} is not enabled", i)
        if expected not in posts:
            return ReplayResult(False, f"step {i}: {label} does not lead to the recorded state", i)
        prev, state = state, expected
        states.append(state)
        moves.append((action.name, args))
    viol = data.get("violation", {})
    kind, prop = viol.get("kind"), viol.get("property")
    if kind == "liveness":
        loop, binding = viol.get("loop"), viol.get("binding") or {}
        if not isinstance(loop, int) or not 0 <= loop <= len(steps) or not isinstance(binding, dict):
            return ReplayResult(False, "a liveness trace needs violation.loop (a state index) "
                                       "and violation.binding", len(steps))
        return check_lasso(inst, dict(model.config.fairness), states, moves, loop, prop,
                           tuple((str(k), str(v)) for k, v in binding.items()))
    if kind == "deadlock":
        ok = not successors(ev, state)
    elif prop not in inst.spec.property_map:
        return ReplayResult(False, f"unknown property {prop!r}", len(steps))
    elif (kind == "witness") != inst.spec.property_map[prop].reach:
        return ReplayResult(False, f"a {kind} trace cannot be one of the "
                                   f"{inst.spec.property_map[prop].kind} property {prop!r}",
                            len(steps))
    elif kind == "transition":
        ok = bool(steps) and not ev.eval(inst.spec.property_map[prop].checked, {}, state, pre=prev)
    else:
        ok = not ev.eval(inst.spec.property_map[prop].checked, {}, state)
    if not ok:
        missed = "satisfy" if kind == "witness" else "violate"
        return ReplayResult(False, f"the last state does not {missed} "
                                   f"{prop or 'deadlock freedom'}", len(steps))
    return ReplayResult(True, f"trace valid: {len(steps)} steps, "
                              f"{T.describe_violation(kind, prop, inst.spec)} "
                              f"{'reached' if kind == 'witness' else 'violated'}")


def check_lasso(inst: Instance, fairness: Mapping[str, FairnessSetting], states: list[RefState],
                moves: list[tuple[str, tuple[int, ...]]], loop: int, prop: str | None,
                binding: tuple[tuple[str, str], ...]) -> ReplayResult:
    """A lasso whose steps are valid: does it close, violate the liveness
    property `prop` (its obligation for `binding`), and meet every fairness
    assumption on its cycle? By the evaluator alone."""
    spec = inst.spec
    if prop not in spec.liveness_map:
        return ReplayResult(False, f"unknown liveness property {prop!r}", len(moves))
    if states[-1] != states[loop]:
        return ReplayResult(False, f"the cycle does not close: the last state is not state {loop}",
                            len(moves))
    g = ground(inst)
    live = live_set(g, [prop], fairness)
    ev = Evaluator(inst)
    atoms = [[bool(ev.eval(e, dict(env), st)) for st in states] for e, env in live.atoms]
    mine = [ob for ob in live.obligations if ob.binding == binding]
    if not mine:
        return ReplayResult(False, f"'{prop}' has no obligation for {dict(binding)}", len(moves))
    if not any(temporal.violates(ob.kind, atoms[ob.p], atoms[ob.q if ob.q is not None else ob.p],
                                 loop) for ob in mine):
        return ReplayResult(False, f"the lasso does not violate '{prop}'", len(moves))
    gid = {(ga.action.name, ga.args): i for i, ga in enumerate(g.ground_actions)}
    _, cycle = temporal.positions(len(states), loop)
    # the cycle's steps that change the state, and each cycle state's moves
    taken = {gid[moves[i]] for i in cycle if i < len(moves) and states[i + 1] != states[i]}
    moving = [{gid[(name, args)] for name, args, t in successors(ev, states[i]) if t != states[i]}
              for i in cycle]
    for cond in live.conditions:
        mine_gids = set(cond.gids)
        if not temporal.fair(cond.kind, bool(taken & mine_gids),
                             [bool(m & mine_gids) for m in moving]):
            return ReplayResult(False, f"the cycle is not fair to {cond.kind} fairness "
                                       f"'{cond.label}'", len(moves))
    what = T.describe_violation("liveness", prop, spec, binding)
    cyc = len(moves) - loop
    shape = f"a cycle of {cyc} steps" if cyc else "stuttering forever"
    return ReplayResult(True, f"trace valid: a lasso of {loop} steps then {shape}, fair to "
                              f"every assumption; {what} violated")


def validate_lasso(trace: T.Trace, fairness: Mapping[str, FairnessSetting]) -> ReplayResult:
    """A lasso Trace (before it is shown) re-validated by the evaluator:
    an initial state, steps that are the evaluator's successors, then
    check_lasso."""
    inst = trace.instance
    ev = Evaluator(inst)
    if not ev.is_initial(trace.initial):
        return ReplayResult(False, "state 0 is not an initial state", 0)
    states = [trace.initial]
    moves: list[tuple[str, tuple[int, ...]]] = []
    for i, st in enumerate(trace.steps, 1):
        action = inst.spec.action_map[st.action]
        given = dict(st.args)
        args = tuple(inst.value_of(p.sort, given[p.name]) for p in action.params)
        posts = ev.execute(action.body, {p.name: a for p, a in zip(action.params, args)},
                           states[-1])
        if st.state not in posts:
            return ReplayResult(False, f"step {i} is not a step of {st.action}", i)
        states.append(st.state)
        moves.append((st.action, args))
    assert trace.loop is not None
    return check_lasso(inst, fairness, states, moves, trace.loop, trace.property, trace.binding)
