"""Re-validate a JSON trace step by step with the reference evaluator: an
engine independent of the compiled one that produced the trace."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paxcheck.semantics.evaluate import Evaluator, successors
from paxcheck.traces import trace as T
from paxcheck.traces.tracefile import apply_changes, state_from_json, trace_instance


@dataclass(frozen=True)
class ReplayResult:
    ok: bool
    message: str
    step: int | None = None  # the step that diverges (0 = the initial state)


def replay(path: str | Path) -> ReplayResult:
    """Re-validate a trace file step by step with the reference evaluator."""
    data, inst = trace_instance(path)
    if inst is None:
        return ReplayResult(False, "the trace's instance is not an instance of the model", 0)
    ev = Evaluator(inst)
    state = state_from_json(inst, data.get("initial"))
    if not ev.is_initial(state):
        return ReplayResult(False, "state 0 is not an initial state of the model", 0)
    steps = data.get("steps", [])
    prev = state  # the state before the last step, for a two-state property
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
    viol = data.get("violation", {})
    kind, prop = viol.get("kind"), viol.get("property")
    if kind == "deadlock":
        ok = not successors(ev, state)
    elif prop not in inst.spec.property_map:
        return ReplayResult(False, f"unknown property {prop!r}", len(steps))
    elif kind == "transition":
        ok = bool(steps) and not ev.eval(inst.spec.property_map[prop].formula, {}, state, pre=prev)
    else:
        ok = not ev.eval(inst.spec.property_map[prop].formula, {}, state)
    if not ok:
        return ReplayResult(False, f"the last state does not violate {prop or 'deadlock freedom'}",
                            len(steps))
    return ReplayResult(True, f"trace valid: {len(steps)} steps, "
                              f"{T.describe_violation(kind, prop, inst.spec)} violated")
