"""Counterexample traces: from engine results (packed states) to a readable
form, text and JSON. JSON schema (version 1) is documented in README.md."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from paxcheck.lang import ir
from paxcheck.ground.grounder import CompiledInstance
from paxcheck.semantics.evaluate import RefState
from paxcheck.search.python import Violation
from paxcheck.config.instance import Instance

FORMAT = "paxcheck-trace"
VERSION = 1


@dataclass(frozen=True)
class Step:
    action: str
    args: tuple[tuple[str, str], ...]   # (parameter, element)
    actor: str | None
    state: RefState                      # the state after the step


@dataclass(frozen=True)
class Trace:
    spec: ir.Spec
    instance: Instance
    kind: str               # 'invariant' | 'transition' | 'deadlock'
    property: str | None
    initial: RefState
    steps: tuple[Step, ...]

    @property
    def length(self) -> int:
        return len(self.steps)


def from_violation(compiled: CompiledInstance, v: Violation) -> Trace:
    inst = compiled.inst
    decode = compiled.layout.decode
    steps = []
    for gid, s in zip(v.steps, v.states[1:]):
        ga = compiled.ground_actions[gid]
        args = tuple((p.name, inst.name_of(p.sort, a)) for p, a in zip(ga.action.params, ga.args))
        actor = args[ga.action.actor][1] if ga.action.actor is not None else None
        steps.append(Step(ga.action.name, args, actor, decode(s)))
    return Trace(inst.spec, inst, v.kind, v.property, decode(v.states[0]), tuple(steps))


# ---- state rendering --------------------------------------------------------
def _row(inst: Instance, sorts, tup) -> list[str]:
    return [inst.name_of(s, x) for s, x in zip(sorts, tup)]


def state_json(inst: Instance, state: RefState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sym, entry in zip(inst.spec.mutable_symbols, state):
        if sym.is_relation:
            out[sym.name] = sorted(_row(inst, sym.params, t) for t in entry)
        elif sym.kind == "individual":
            out[sym.name] = inst.name_of(sym.result, entry[0])
        else:
            out[sym.name] = {",".join(_row(inst, sym.params, p)): inst.name_of(sym.result, v)
                             for p, v in zip(inst.points(sym), entry)}
    return out


def diff_json(inst: Instance, before: RefState, after: RefState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sym, a, b in zip(inst.spec.mutable_symbols, before, after):
        if a == b:
            continue
        if sym.is_relation:
            out[sym.name] = {"added": sorted(_row(inst, sym.params, t) for t in b - a),
                             "removed": sorted(_row(inst, sym.params, t) for t in a - b)}
        elif sym.kind == "individual":
            out[sym.name] = inst.name_of(sym.result, b[0])
        else:
            out[sym.name] = {",".join(_row(inst, sym.params, p)): inst.name_of(sym.result, y)
                             for p, x, y in zip(inst.points(sym), a, b) if x != y}
    return out


def to_json(trace: Trace, spec_path: str, model_path: str) -> dict[str, Any]:
    inst = trace.instance
    steps = []
    prev = trace.initial
    for i, st in enumerate(trace.steps, 1):
        steps.append({"index": i, "action": st.action, "args": dict(st.args), "actor": st.actor,
                      "changes": diff_json(inst, prev, st.state)})
        prev = st.state
    return {
        "format": FORMAT,
        "version": VERSION,
        "spec": spec_path,
        "model": model_path,
        "instance": {"sorts": {k: list(v) for k, v in inst.elements.items()},
                     "label": inst.label},
        "violation": {"kind": trace.kind, "property": trace.property, "length": trace.length},
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


def describe_violation(kind: str, prop: str | None, spec: ir.Spec) -> str:
    if kind == "deadlock":
        return "deadlock (a state with no successor)"
    p = spec.property_map[prop]
    what = "two-state property" if p.two_state else f"{p.kind} property"
    return f"{what} '{prop}'"


def to_text(trace: Trace) -> str:
    inst = trace.instance
    head = (f"Counterexample: {describe_violation(trace.kind, trace.property, trace.spec)} "
            f"violated after {trace.length} step{'s' if trace.length != 1 else ''}")
    lines = [head, "  State 0 (initial):"]
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
    if trace.kind == "deadlock":
        lines.append(f"  State {trace.length} has no successor.")
    elif trace.kind == "transition":
        lines.append(f"  Step {trace.length} breaks '{trace.property}'.")
    else:
        lines.append(f"  State {trace.length} violates '{trace.property}'.")
    return "\n".join(lines) + "\n"
