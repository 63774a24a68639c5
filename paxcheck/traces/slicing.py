"""Which steps of a counterexample are not needed for the violation.

A step is *not needed* when the trace without it (and without nothing else)
is still a valid execution from the same initial state, every remaining
step enabled with the same arguments, and still ends in a violation of the
same property. The shortened trace is re-executed with the reference
evaluator (`evaluate.py`), as `replay` does: the states after the removed
step may differ from the recorded ones, only the actions and arguments are
kept. A nondeterministic action (`:= *`) may lead to several states; the
shortened trace counts as valid and violating if some choice makes it so.

Note: a shortest trace, as `check` and `minimize` find by breadth-first
search, never has an unneeded step (removing one would give a shorter
violating execution, which the search would have found first). The marks
matter for longer traces, e.g. hand-written or from other engines."""
from __future__ import annotations

import re

from paxcheck.semantics.evaluate import Evaluator, RefState, successors
from paxcheck.traces import trace as T

MARK = "   (not needed)"


def unneeded_steps(trace: T.Trace) -> tuple[int, ...]:
    """The 1-based indices of the steps the violation does not need."""
    ev = Evaluator(trace.instance)
    calls = [_call(trace, st) for st in trace.steps]
    return tuple(i for i in range(1, len(calls) + 1)
                 if _violates(ev, trace, calls[:i - 1] + calls[i:]))


def _call(trace: T.Trace, st: T.Step):
    action = trace.spec.action_map[st.action]
    given = dict(st.args)
    env = {p.name: trace.instance.value_of(p.sort, given[p.name]) for p in action.params}
    return action, env


def _violates(ev: Evaluator, trace: T.Trace, calls) -> bool:
    """Does executing `calls` from the trace's initial state violate its property?"""
    # every (state before the last step, current state) the calls can lead to
    frontier: set[tuple[RefState | None, RefState]] = {(None, trace.initial)}
    for action, env in calls:
        nxt = set()
        for _, s in frontier:
            for t in ev.execute(action.body, env, s):
                nxt.add((s, t))
        if not nxt:
            return False  # a remaining step is not enabled: the trace is invalid
        frontier = nxt
    if trace.kind == "deadlock":
        return any(not successors(ev, s) for _, s in frontier)
    assert trace.property is not None
    formula = trace.spec.property_map[trace.property].checked
    if trace.kind == "transition":
        return bool(calls) and any(not ev.eval(formula, {}, s, pre=p) for p, s in frontier)
    return any(not ev.eval(formula, {}, s) for _, s in frontier)


def mark_text(text: str, unneeded) -> str:
    """Add '(not needed)' to the 'Step i:' lines of a text trace (`trace.to_text`)."""
    marks = set(unneeded)
    if not marks:
        return text
    out = []
    for line in text.split("\n"):
        m = re.match(r"  Step (\d+): ", line)
        if m and int(m.group(1)) in marks:
            line += MARK
        out.append(line)
    return "\n".join(out)


def to_text(trace: T.Trace, unneeded=None) -> str:
    """The text trace with unneeded steps marked (computed when not given)."""
    return mark_text(T.to_text(trace), unneeded_steps(trace) if unneeded is None else unneeded)
