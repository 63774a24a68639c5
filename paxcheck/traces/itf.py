"""Counterexample traces in the Informal Trace Format (ITF), the JSON trace
format of Apalache and Quint (Apalache ADR-015).

Layout of the output (see README.md, "ITF traces"):

* top-level `#meta`: `format: "ITF"`, `format-description`, `source` (the
  spec), `description`, plus paxcheck's own `model`, `instance` and
  `violation` (extra `#meta` fields are allowed by the format);
* `vars`: every mutable symbol of the spec in declaration order, then
  `mbt::actionTaken` and `mbt::nondetPicks`;
* `states[i]`: `#meta: {"index": i}` and a value for every var.

Values: an element is its name as a JSON string (as in paxcheck's own trace
JSON, e.g. `"node0"`, `"value1"`, and `"0"` for ballot 0); `none` is the
string `"none"` (a model may not name an element `none`, so the string is
unambiguous). A relation is a `#set` of `#tup` rows (a unary relation: a
`#set` of elements; a nullary one: a boolean); a function a `#map` from its
argument (an element, or a `#tup` of elements) to its value; an individual
its value. Sets are listed in the order of the elements (ballot 0 before 1).

The action that led to each state is recorded the way Quint's `--mbt` mode
and Apalache's model-based-testing traces do it: `mbt::actionTaken` is the
action's name (`"init"` in state 0) and `mbt::nondetPicks` a record with one
field per action parameter name in the spec, `{"tag": "Some", "value": v}`
for the arguments of the action taken and `{"tag": "None", "value":
{"#tup": []}}` for the others."""
from __future__ import annotations

import json
from typing import Any

from paxcheck.config.instance import Instance
from paxcheck.lang import ir
from paxcheck.semantics.evaluate import RefState
from paxcheck.semantics.state import SymbolView, state_view
from paxcheck.traces.trace import Trace, describe_violation

FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"
ACTION_VAR = "mbt::actionTaken"
PICKS_VAR = "mbt::nondetPicks"
INIT_ACTION = "init"
NONE_VALUE = "none"


def _key(args: tuple[str, ...]) -> Any:
    return args[0] if len(args) == 1 else {"#tup": list(args)}


def symbol_value(view: SymbolView) -> Any:
    """The ITF value of one mutable symbol in a state."""
    sym = view.symbol
    if sym.is_relation:
        if not sym.params:
            return bool(view.rows)
        return {"#set": [_key(r) for r in view.rows]}
    if sym.kind == "individual":
        return view.points[0][1]
    return {"#map": [[_key(args), value] for args, value in view.points]}


def state_value(inst: Instance, state: RefState) -> dict[str, Any]:
    return {v.symbol.name: symbol_value(v) for v in state_view(inst, state)}


def pick_names(spec: ir.Spec) -> list[str]:
    """Every action parameter name of the spec, sorted: the fields of `mbt::nondetPicks`."""
    return sorted({p.name for a in spec.actions for p in a.params})


def _some(value: Any) -> dict[str, Any]:
    return {"tag": "Some", "value": value}


_NONE_PICK = {"tag": "None", "value": {"#tup": []}}


def to_itf(trace: Trace, spec_path: str, model_path: str) -> dict[str, Any]:
    """A Trace in the Informal Trace Format (Apalache's ITF JSON)."""
    inst = trace.instance
    spec = trace.spec
    names = pick_names(spec)
    mutable = [s.name for s in spec.mutable_symbols]

    def state(i: int, st: RefState, action: str, args: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"#meta": {"index": i}}
        out.update(state_value(inst, st))
        out[ACTION_VAR] = action
        out[PICKS_VAR] = {n: (_some(args[n]) if n in args else _NONE_PICK) for n in names}
        return out

    states = [state(0, trace.initial, INIT_ACTION, {})]
    # a lasso: ITF's `loop` says the last state is followed by states[loop],
    # so the closing state (equal to states[loop]) is not written again
    steps = trace.steps[:-1] if trace.loop is not None and trace.cycle else trace.steps
    for i, step in enumerate(steps, 1):
        states.append(state(i, step.state, step.action, dict(step.args)))
    what = describe_violation(trace.kind, trace.property, spec, trace.binding)
    lasso = {"loop": trace.loop} if trace.loop is not None else {}
    return {
        "#meta": {
            "format": "ITF",
            "format-description": FORMAT_DESCRIPTION,
            "source": spec_path,
            "description": f"paxcheck counterexample: {what} violated "
                           + (f"by a lasso looping back to state {trace.loop}"
                              if trace.loop is not None else
                              f"after {trace.length} step{'s' if trace.length != 1 else ''}"),
            "model": model_path,
            "instance": {"sorts": {k: list(v) for k, v in inst.elements.items()},
                         "label": inst.label},
            "violation": {"kind": trace.kind, "property": trace.property,
                          "length": trace.length},
        },
        "vars": mutable + [ACTION_VAR, PICKS_VAR],
        "states": states,
        **lasso,
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"
