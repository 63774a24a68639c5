"""Re-validate a JSON trace step by step with the reference evaluator: an
engine independent of the compiled one that produced the trace."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paxcheck.traces import trace as T
from paxcheck.errors import PaxError
from paxcheck.semantics.evaluate import Evaluator, RefState
from paxcheck.config.instance import Instance
from paxcheck.config.model import load_model
from paxcheck.search.reference import successors


@dataclass(frozen=True)
class ReplayResult:
    ok: bool
    message: str
    step: int | None = None  # the step that diverges (0 = the initial state)


def _parse_row(inst: Instance, sorts, row, where: str) -> tuple[int, ...]:
    if not isinstance(row, list) or len(row) != len(sorts):
        raise PaxError(f"{where}: expected a row of {len(sorts)} elements, got {row!r}")
    try:
        return tuple(inst.value_of(s, str(x)) for s, x in zip(sorts, row))
    except KeyError as exc:
        raise PaxError(f"{where}: unknown element {exc}") from None


def _parse_key(inst: Instance, sym, key: str, where: str) -> tuple[int, ...]:
    parts = key.split(",") if sym.params else []
    return _parse_row(inst, sym.params, parts, where)


def state_from_json(inst: Instance, data: Any, where: str = "initial") -> RefState:
    if not isinstance(data, dict):
        raise PaxError(f"{where}: expected an object with one entry per mutable symbol")
    out = []
    for sym in inst.spec.mutable_symbols:
        if sym.name not in data:
            raise PaxError(f"{where}: missing symbol '{sym.name}'")
        val = data[sym.name]
        if sym.is_relation:
            out.append(frozenset(_parse_row(inst, sym.params, r, f"{where}.{sym.name}") for r in val))
        elif sym.kind == "individual":
            out.append((_parse_row(inst, [sym.result], [val], f"{where}.{sym.name}")[0],))
        else:
            pts = inst.points(sym)
            table = {_parse_key(inst, sym, k, f"{where}.{sym.name}"): v for k, v in val.items()}
            out.append(tuple(_parse_row(inst, [sym.result], [table[p]], f"{where}.{sym.name}")[0]
                             for p in pts))
    return tuple(out)


def apply_changes(inst: Instance, state: RefState, changes: Any, where: str) -> RefState:
    if not isinstance(changes, dict):
        raise PaxError(f"{where}: 'changes' must be an object")
    known = {s.name for s in inst.spec.mutable_symbols}
    for name in changes:
        if name not in known:
            raise PaxError(f"{where}: unknown symbol '{name}' in changes")
    out = []
    for sym, entry in zip(inst.spec.mutable_symbols, state):
        ch = changes.get(sym.name)
        if ch is None:
            out.append(entry)
        elif sym.is_relation:
            added = {_parse_row(inst, sym.params, r, where) for r in ch.get("added", [])}
            removed = {_parse_row(inst, sym.params, r, where) for r in ch.get("removed", [])}
            out.append(frozenset((entry - removed) | added))
        elif sym.kind == "individual":
            out.append((_parse_row(inst, [sym.result], [ch], where)[0],))
        else:
            pts = inst.points(sym)
            lst = list(entry)
            for k, v in ch.items():
                lst[pts.index(_parse_key(inst, sym, k, where))] = \
                    _parse_row(inst, [sym.result], [v], where)[0]
            out.append(tuple(lst))
    return tuple(out)


def load_trace(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PaxError(f"trace file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise PaxError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != T.FORMAT:
        raise PaxError(f"{path}: not a paxcheck trace (format must be '{T.FORMAT}')")
    if data.get("version") != T.VERSION:
        raise PaxError(f"{path}: unsupported trace version {data.get('version')!r}")
    return data


def _resolve(base: Path, name: str) -> Path:
    p = Path(name)
    if p.exists() or p.is_absolute():
        return p
    for parent in [base, *base.parents]:
        if (parent / name).exists():
            return parent / name
    return p


def trace_instance(path: str | Path) -> tuple[dict[str, Any], Instance | None]:
    """A trace file's data and the instance of its model it was found in
    (None if the model has no such instance)."""
    data = load_trace(path)
    model = load_model(_resolve(Path(path).resolve().parent, str(data.get("model", ""))))
    want = data.get("instance", {})
    inst = next((i for i in model.instances
                 if {k: list(v) for k, v in i.elements.items()} == want.get("sorts")
                 and i.label == want.get("label", "")), None)
    return data, inst


def replay(path: str | Path) -> ReplayResult:
    data, inst = trace_instance(path)
    if inst is None:
        return ReplayResult(False, "the trace's instance is not an instance of the model", 0)
    ev = Evaluator(inst)
    state = state_from_json(inst, data.get("initial"))
    if state not in set(ev.initial_states()):
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
