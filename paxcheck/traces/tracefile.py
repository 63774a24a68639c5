"""The trace file format, read back: the one reader of paxcheck's JSON
traces (the writer is traces/trace.py's to_json), used by replay, the
message-sequence chart command and the tests."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from paxcheck.config.instance import Instance
from paxcheck.config.model import Model, load_model
from paxcheck.errors import PaxError, read_input
from paxcheck.semantics.evaluate import RefState
from paxcheck.traces import trace as T
from paxcheck.traces.trace import Trace, from_steps


def _parse_row(inst: Instance, sorts, row, where: str) -> tuple[int, ...]:
    if not isinstance(row, list) or len(row) != len(sorts):
        raise PaxError(f"{where}: expected a row of {len(sorts)} elements, got {row!r}")
    try:
        return tuple(inst.value_of(s, str(x)) for s, x in zip(sorts, row))
    except KeyError as exc:
        raise PaxError(f"{where}: unknown element {exc}") from None


def _parse_key(inst: Instance, sym, key: str, where: str) -> tuple[int, ...]:
    """A function point from its key "a,b": element names joined by commas.
    A name may itself hold a comma (a quorum from "majority" is named
    {n0,n1}), so the key is split where the pieces are names of the
    parameters' sorts; a key that splits two ways is refused."""
    if not sym.params:
        return ()
    if not isinstance(key, str):
        raise PaxError(f"{where}: expected a key of element names, got {key!r}")
    found = _splits(inst, sym.params, key)
    if len(found) != 1:
        what = "no" if not found else "more than one"
        raise PaxError(f"{where}: key {key!r} has {what} reading as "
                       f"{', '.join(str(p) for p in sym.params)} elements")
    return found[0]


def _splits(inst: Instance, sorts: tuple, key: str) -> list[tuple[int, ...]]:
    """Every way to read `key` as names of `sorts`, joined by commas (at most
    two are collected: one is the answer, two an ambiguity)."""
    out: list[tuple[int, ...]] = []
    stack: list[tuple[int, int, tuple[int, ...]]] = [(0, 0, ())]
    while stack and len(out) < 2:
        pos, k, vals = stack.pop()
        if k == len(sorts):
            if pos == len(key) + 1 or (pos == len(key) and not sorts):
                out.append(vals)
            continue
        last = k == len(sorts) - 1
        ends = [len(key)] if last else [i for i in range(pos, len(key)) if key[i] == ","]
        for end in ends:
            try:
                v = inst.value_of(sorts[k], key[pos:end])
            except KeyError:
                continue
            stack.append((end + 1, k + 1, vals + (v,)))
    return out


def state_from_json(inst: Instance, data: Any, where: str = "initial") -> RefState:
    """A state from the trace JSON's full-state form."""
    if not isinstance(data, dict):
        raise PaxError(f"{where}: expected an object with one entry per mutable symbol")
    out: list[Any] = []
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
    """A state after applying one step's `changes` object."""
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
    """A trace file's JSON, checked for format and version."""
    text = read_input(path, "trace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PaxError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != T.FORMAT:
        raise PaxError(f"{path}: not a paxcheck trace (format must be '{T.FORMAT}')")
    if data.get("version") not in T.VERSIONS:
        raise PaxError(f"{path}: unsupported trace version {data.get('version')!r}")
    return data


def _resolve(base: Path, name: str) -> Path:
    """A trace's model path, found from the trace file's folder (`base`) and
    its parents first, so a trace means the same from any working folder
    (a trace stores the path as `check` was given it: from the repo root for
    the committed counterexamples); the working folder only as a last try."""
    p = Path(name)
    if p.is_absolute():
        return p
    for parent in [base, *base.parents]:
        if (parent / name).exists():
            return parent / name
    return p


def trace_model(path: str | Path) -> tuple[dict[str, Any], Model, Instance | None]:
    """A trace file's data, its model, and the instance of the model it was
    found in (None if the model has no such instance)."""
    data = load_trace(path)
    model = load_model(_resolve(Path(path).resolve().parent, str(data.get("model", ""))))
    want = data.get("instance", {})
    inst = next((i for i in model.instances
                 if {k: list(v) for k, v in i.elements.items()} == want.get("sorts")
                 and i.label == want.get("label", "")), None)
    return data, model, inst


def trace_instance(path: str | Path) -> tuple[dict[str, Any], Instance | None]:
    """A trace file's data and the instance of its model it was found in
    (None if the model has no such instance)."""
    data, _, inst = trace_model(path)
    return data, inst



def read_trace(path: str | Path) -> Trace:
    """A paxcheck trace JSON file back as a Trace (its model is loaded to get the
    spec and instance). Raises PaxError on a bad file."""
    data, inst = trace_instance(path)
    if inst is None:
        raise PaxError(f"{path}: the trace's instance is not an instance of its model")
    state = state_from_json(inst, data.get("initial"))
    initial = state
    steps = []
    for i, st in enumerate(data.get("steps", []), 1):
        action = inst.spec.action_map.get(st.get("action"))
        if action is None:
            raise PaxError(f"{path}: step {i}: unknown action {st.get('action')!r}")
        try:
            args = tuple(inst.value_of(p.sort, str(st["args"][p.name])) for p in action.params)
        except (KeyError, TypeError) as exc:
            raise PaxError(f"{path}: step {i}: bad or missing argument {exc}") from None
        state = apply_changes(inst, state, st.get("changes", {}), f"step {i}")
        steps.append((action.name, args, state))
    v = data.get("violation", {})
    loop = v.get("loop")
    if loop is not None and (not isinstance(loop, int) or not 0 <= loop <= len(steps)):
        raise PaxError(f"{path}: violation.loop must be a state index 0..{len(steps)}")
    binding = v.get("binding") or {}
    if not isinstance(binding, dict):
        raise PaxError(f"{path}: violation.binding must be an object")
    return from_steps(inst, v.get("kind"), v.get("property"), initial, steps, loop,
                      tuple((str(k), str(x)) for k, x in binding.items()))
