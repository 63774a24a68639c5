"""Counterexample traces: from engine results (packed states) to a readable
form, text and JSON. JSON schema (version 1; version 2 for a lasso, which
adds its loop) is documented in README.md."""
from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paxcheck.config.instance import Instance
from paxcheck.lang import ir
from paxcheck.semantics.evaluate import RefState
from paxcheck.semantics.explain import Binding, explain
from paxcheck.semantics.state import state_view, views_json

if TYPE_CHECKING:  # annotations only: a CTI's trace needs neither engine
    from paxcheck.ground.ground import GroundInstance
    from paxcheck.search.api import Violation
    from paxcheck.smt.prove import CTI

FORMAT = "paxcheck-trace"
VERSION = 1
LASSO_VERSION = 2   # a trace with a loop: readers of version 1 cannot follow it
VERSIONS = (VERSION, LASSO_VERSION)


@dataclass(frozen=True)
class Step:
    """One step of a trace: the ground action (named) and the state after it."""
    action: str
    args: tuple[tuple[str, str], ...]   # (parameter, element)
    actor: str | None
    state: RefState                      # the state after the step


@dataclass(frozen=True)
class Trace:
    """A counterexample: an initial state, steps, and the property it violates."""
    spec: ir.Spec
    instance: Instance
    kind: str               # 'invariant' | 'transition' | 'deadlock' | 'liveness'
    property: str | None
    initial: RefState
    steps: tuple[Step, ...]
    # a lasso: after the last state the behaviour goes on as from state
    # `loop` (the last state equals it; with no step after state `loop`, it
    # stutters there forever)
    loop: int | None = None
    binding: tuple[tuple[str, str], ...] = ()   # the liveness obligation's forall values

    @builtins.property
    def cycle(self) -> tuple[Step, ...]:
        return self.steps[self.loop:] if self.loop is not None else ()

    @builtins.property   # the field 'property' shadows the decorator here
    def length(self) -> int:
        return len(self.steps)


def from_steps(inst: Instance, kind: str, prop: str | None, initial: RefState,
               steps: list[tuple[str, tuple[int, ...], RefState]] | tuple = (),
               loop: int | None = None, binding: tuple[tuple[str, str], ...] = ()) -> Trace:
    """The one Trace constructor: (action name, argument values, state
    after) per step, as engines, BMC and counterexamples to induction have
    them; a lasso also gives its loop index and obligation binding."""
    out = []
    for name, args, post in steps:
        action = inst.spec.action_map[name]
        named = tuple((p.name, inst.name_of(p.sort, a)) for p, a in zip(action.params, args))
        actor = named[action.actor][1] if action.actor is not None else None
        out.append(Step(action.name, named, actor, post))
    return Trace(inst.spec, inst, kind, prop, initial, tuple(out), loop, binding)


def from_violation(ground: GroundInstance, v: Violation) -> Trace:
    """An engine's violation path as a Trace (packed states are decoded;
    the reference engine's states are already RefStates)."""
    def decode(s: object) -> RefState:
        return ground.decode(s) if isinstance(s, int) else s  # type: ignore[return-value]
    steps = [(ground.ground_actions[g].action.name, ground.ground_actions[g].args, decode(s))
             for g, s in zip(v.steps, v.states[1:])]
    return from_steps(ground.inst, v.kind, v.property, decode(v.states[0]), steps, v.loop,
                      v.binding)


def explanation(trace: Trace) -> tuple[Binding, ...]:
    """The quantifier values that make the trace's property false in its
    last state (true, for a witness): semantics/explain.py."""
    if trace.property is None or trace.kind not in ("invariant", "transition", "witness") \
            or trace.property not in trace.spec.property_map:
        return ()
    from paxcheck.semantics.evaluate import Evaluator
    states = [trace.initial] + [st.state for st in trace.steps]
    prop = trace.spec.property_map[trace.property]
    pre = states[-2] if prop.two_state and len(states) > 1 else None
    ev = Evaluator(trace.instance)
    want = trace.kind == "witness"
    if bool(ev.eval(prop.formula, {}, states[-1], pre)) != want:
        return ()   # a trace that does not end where it says: replay reports it
    return explain(ev, prop.formula, states[-1], want, pre)


def from_cti(cti: CTI) -> Trace:
    """A counterexample to induction as a one-step (or initial) Trace."""
    kind = "transition" if cti.kind == "transition" else "invariant"
    if cti.kind == "initiation":
        return from_steps(cti.instance, kind, cti.property, cti.post)
    assert cti.pre is not None and cti.action is not None
    return from_steps(cti.instance, kind, cti.property, cti.pre,
                      [(cti.action, cti.args, cti.post)])


# ---- state rendering --------------------------------------------------------
def state_json(inst: Instance, state: RefState) -> dict[str, Any]:
    return views_json(state_view(inst, state))


def diff_json(inst: Instance, before: RefState, after: RefState) -> dict[str, Any]:
    """What a step changed: a relation's added and removed rows, an
    individual's new value, a function's changed points."""
    out: dict[str, Any] = {}
    for a, b, va, vb in zip(before, after, state_view(inst, before), state_view(inst, after)):
        if a == b:
            continue
        name = va.symbol.name
        if va.symbol.is_relation:
            out[name] = {"added": sorted(list(r) for r in set(vb.rows) - set(va.rows)),
                         "removed": sorted(list(r) for r in set(va.rows) - set(vb.rows))}
        elif va.symbol.kind == "individual":
            out[name] = vb.points[0][1]
        else:
            out[name] = {",".join(k): y for (k, x), (_, y) in zip(va.points, vb.points) if x != y}
    return out


def to_json(trace: Trace, spec_path: str, model_path: str) -> dict[str, Any]:
    """A Trace in the trace-file JSON (format paxcheck-trace, version 1)."""
    inst = trace.instance
    steps = []
    prev = trace.initial
    for i, st in enumerate(trace.steps, 1):
        steps.append({"index": i, "action": st.action, "args": dict(st.args), "actor": st.actor,
                      "changes": diff_json(inst, prev, st.state)})
        prev = st.state
    violation: dict[str, Any] = {"kind": trace.kind, "property": trace.property,
                                 "length": trace.length}
    if trace.loop is not None:
        violation["loop"] = trace.loop
        violation["binding"] = dict(trace.binding)
    why = explanation(trace)
    if why:
        violation["explanation"] = [{"in": b.context, "values": dict(b.values)} for b in why]
    return {
        "format": FORMAT,
        "version": VERSION if trace.loop is None else LASSO_VERSION,
        "spec": spec_path,
        "model": model_path,
        "instance": {"sorts": {k: list(v) for k, v in inst.elements.items()},
                     "label": inst.label},
        "violation": violation,
        "initial": state_json(inst, trace.initial),
        "steps": steps,
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"


def _fmt_tuple(row: list[str]) -> str:
    return "(" + ", ".join(row) + ")" if row else ""


def _state_lines(inst: Instance, state: RefState, indent: str) -> list[str]:
    lines = []
    for name, val in state_json(inst, state).items():
        if isinstance(val, list):
            inner = ", ".join(_fmt_tuple(r) or "()" for r in val)
            lines.append(f"{indent}{name} = {{{inner}}}")
        elif isinstance(val, dict):
            inner = ", ".join(f"{k}: {v}" for k, v in val.items())
            lines.append(f"{indent}{name} = {{{inner}}}")
        else:
            lines.append(f"{indent}{name} = {val}")
    return lines


def describe_violation(kind: str, prop: str | None, spec: ir.Spec,
                       binding: tuple[tuple[str, str], ...] = ()) -> str:
    if kind == "deadlock":
        return "deadlock (a state with no successor)"
    assert prop is not None
    if kind == "liveness":
        args = ", ".join(f"{k}={v}" for k, v in binding)
        return f"liveness property '{prop}'" + (f" for {args}" if args else "")
    p = spec.property_map[prop]
    what = "two-state property" if p.two_state else f"{p.kind} property"
    return f"{what} '{prop}'"


def to_text(trace: Trace) -> str:
    """A Trace for people: the initial state, then each step's changes."""
    inst = trace.instance
    what = describe_violation(trace.kind, trace.property, trace.spec, trace.binding)
    if trace.loop is not None:
        cyc = len(trace.cycle)
        head = (f"Counterexample: {what} violated by a lasso: a stem of {trace.loop} "
                f"step{'s' if trace.loop != 1 else ''}, then "
                + (f"a cycle of {cyc} step{'s' if cyc != 1 else ''} forever" if cyc
                   else "stuttering forever"))
    elif trace.kind == "witness":
        head = (f"Witness: {what} reached after "
                f"{trace.length} step{'s' if trace.length != 1 else ''}")
    else:
        head = (f"Counterexample: {what} "
                f"violated after {trace.length} step{'s' if trace.length != 1 else ''}")
    lines = [head, "  State 0 (initial):"]
    if trace.loop == 0 and trace.cycle:
        lines[-1] = "  State 0 (initial)   <- the cycle starts here:"
    lines += _state_lines(inst, trace.initial, "    ")
    prev = trace.initial
    for i, st in enumerate(trace.steps, 1):
        args = ", ".join(f"{k}={v}" for k, v in st.args)
        by = f"   [by {st.actor}]" if st.actor is not None else ""
        lines.append(f"  Step {i}: {st.action}({args}){by}")
        changes = diff_json(inst, prev, st.state)
        if not changes:
            lines.append("    (no change)")
        for name, ch in changes.items():
            sym = trace.spec.symbol_map[name]
            if sym.is_relation:
                for r in ch["added"]:
                    lines.append(f"    + {name}{_fmt_tuple(r)}")
                for r in ch["removed"]:
                    lines.append(f"    - {name}{_fmt_tuple(r)}")
            elif isinstance(ch, dict):
                before = state_json(inst, prev)[name]
                for k, v in ch.items():
                    lines.append(f"    {name}({k}): {before[k]} -> {v}")
            else:
                lines.append(f"    {name}: {state_json(inst, prev)[name]} -> {ch}")
        prev = st.state
        if trace.loop == i and trace.cycle:
            lines.append(f"  -- the cycle starts here, at state {i} --")
    if trace.loop is not None:
        if trace.cycle:
            lines.append(f"  State {trace.length} is state {trace.loop} again: the cycle "
                         f"repeats forever, every fairness assumption holding on it.")
        else:
            lines.append(f"  State {trace.loop} stutters forever: no fair action is enabled "
                         f"there.")
    elif trace.kind == "deadlock":
        lines.append(f"  State {trace.length} has no successor.")
    elif trace.kind == "transition":
        lines.append(f"  Step {trace.length} breaks '{trace.property}'.")
    elif trace.kind == "witness":
        lines.append(f"  State {trace.length} satisfies '{trace.property}'.")
    else:
        lines.append(f"  State {trace.length} violates '{trace.property}'.")
    why = explanation(trace)
    if why:
        lines.append("  Because: " + "; ".join(b.show() for b in why) + ".")
    return "\n".join(lines) + "\n"
