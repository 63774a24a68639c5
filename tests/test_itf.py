"""ITF (Informal Trace Format) export: the format's grammar, and that the
states decode back to exactly the trace's states."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.traces import itf
from paxcheck.traces.trace import Trace, from_violation
from paxcheck.traces.tracefile import read_trace
from support.engines import Compiled, Mode, explore

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "counterexamples" / "paxos_any_value" / "trace.json"


# ---- a validator for the ITF grammar (Apalache ADR-015) --------------------------
def _value_errors(v, where: str) -> list[str]:
    if isinstance(v, bool) or isinstance(v, str):
        return []
    if isinstance(v, list):  # a sequence
        return [e for i, x in enumerate(v) for e in _value_errors(x, f"{where}[{i}]")]
    if isinstance(v, (int, float)):
        return [f"{where}: a bare number (integers must be {{'#bigint': '...'}})"]
    if not isinstance(v, dict):
        return [f"{where}: not an ITF value: {v!r}"]
    special = [k for k in v if k.startswith("#")]
    if special:
        if len(v) != 1:
            return [f"{where}: {special[0]} must be the only key"]
        (key, body), = v.items()
        if key == "#bigint":
            return [] if isinstance(body, str) and re.fullmatch(r"-?[0-9]+", body) else \
                [f"{where}: bad #bigint"]
        if key in ("#tup", "#set"):
            if not isinstance(body, list):
                return [f"{where}: {key} needs a list"]
            return [e for i, x in enumerate(body) for e in _value_errors(x, f"{where}{key}[{i}]")]
        if key == "#map":
            if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2
                                                     for p in body):
                return [f"{where}: #map needs a list of [key, value] pairs"]
            return [e for i, (k, x) in enumerate(body)
                    for e in _value_errors(k, f"{where}#map[{i}].key")
                    + _value_errors(x, f"{where}#map[{i}].value")]
        if key == "#unserializable":
            return [] if isinstance(body, str) else [f"{where}: bad #unserializable"]
        return [f"{where}: unknown {key}"]
    return [e for k, x in v.items() for e in _value_errors(x, f"{where}.{k}")]  # a record


def itf_errors(doc) -> list[str]:
    errs: list[str] = []
    if not isinstance(doc, dict):
        return ["not an object"]
    extra = set(doc) - {"#meta", "params", "vars", "states", "loop"}
    if extra:
        errs.append(f"unknown top-level keys {sorted(extra)}")
    if "#meta" in doc and not isinstance(doc["#meta"], dict):
        errs.append("#meta must be an object")
    if not isinstance(doc.get("vars"), list) or not all(isinstance(x, str) for x in doc["vars"]):
        return errs + ["vars must be a list of names"]
    if len(set(doc["vars"])) != len(doc["vars"]):
        errs.append("duplicate vars")
    states = doc.get("states")
    if not isinstance(states, list) or not states:
        return errs + ["states must be a non-empty list"]
    for i, st in enumerate(states):
        if not isinstance(st, dict):
            errs.append(f"state {i} is not an object")
            continue
        meta = st.get("#meta", {})
        if not isinstance(meta, dict) or meta.get("index", i) != i:
            errs.append(f"state {i}: #meta.index must be {i}")
        keys = set(st) - {"#meta"}
        if keys != set(doc["vars"]):
            errs.append(f"state {i}: keys {sorted(keys)} are not the vars")
        for k in keys & set(doc["vars"]):
            errs += _value_errors(st[k], f"states[{i}].{k}")
    if "loop" in doc and not (isinstance(doc["loop"], int) and 0 <= doc["loop"] < len(states)):
        errs.append("loop must index a state")
    return errs


def test_validator_rejects_bad_documents():
    good = {"vars": ["x"], "states": [{"#meta": {"index": 0}, "x": {"#set": ["a"]}}]}
    assert itf_errors(good) == []
    assert itf_errors({"vars": ["x"], "states": [{"x": 3}]})  # bare number
    assert itf_errors({"vars": ["x"], "states": [{"y": True}]})  # wrong var
    assert itf_errors({"vars": ["x"], "states": [{"x": {"#map": [["a"]]}}]})
    assert itf_errors({"vars": ["x"], "states": [{"#meta": {"index": 4}, "x": True}]})


# ---- decoding back, for the round trip ----------------------------------------------
def decode_state(trace: Trace, st: dict) -> tuple:
    inst = trace.instance
    out = []

    def elem(sort, s):
        assert isinstance(s, str)
        return inst.value_of(sort, s)

    def tup(sorts, x):
        if len(sorts) == 1:
            return (elem(sorts[0], x),)
        assert set(x) == {"#tup"}
        return tuple(elem(s, y) for s, y in zip(sorts, x["#tup"], strict=True))

    for sym in trace.spec.mutable_symbols:
        v = st[sym.name]
        if sym.is_relation and not sym.params:
            out.append(frozenset({()}) if v else frozenset())
        elif sym.is_relation:
            rows = [tup(sym.params, x) for x in v["#set"]]
            assert len(rows) == len(set(rows))
            out.append(frozenset(rows))
        elif sym.kind == "individual":
            out.append((elem(sym.result, v),))
        else:
            table = {tup(sym.params, k): elem(sym.result, x) for k, x in v["#map"]}
            out.append(tuple(table[p] for p in inst.points(sym)))
    return tuple(out)


def test_committed_paxos_trace_as_itf():
    trace = read_trace(COMMITTED)
    doc = json.loads(itf.dumps(itf.to_itf(trace, "specs/x.pax", "models/x.toml")))
    assert itf_errors(doc) == []
    meta = doc["#meta"]
    assert meta["format"] == "ITF" and meta["source"] == "specs/x.pax"
    assert meta["violation"] == {"kind": "invariant", "property": "agreement", "length": 14}
    assert doc["vars"] == ["proposed", "one_a", "one_b", "two_a", "two_b", "max_bal", "max_vbal",
                           "max_val", "mbt::actionTaken", "mbt::nondetPicks"]
    states = doc["states"]
    assert len(states) == 15
    assert [decode_state(trace, s) for s in states] == \
        [trace.initial] + [st.state for st in trace.steps]
    s0 = states[0]
    assert s0["mbt::actionTaken"] == "init"
    none = {"tag": "None", "value": {"#tup": []}}
    assert s0["mbt::nondetPicks"] == {"b": none, "n": none, "v": none}
    assert s0["proposed"] == {"#set": []}
    assert s0["max_bal"] == {"#map": [["node0", "none"], ["node1", "none"], ["node2", "none"]]}
    s5 = states[5]  # promise(n=node0, b=0)
    assert s5["mbt::actionTaken"] == "promise"
    assert s5["mbt::nondetPicks"] == {"b": {"tag": "Some", "value": "0"},
                                      "n": {"tag": "Some", "value": "node0"}, "v": none}
    assert s5["one_a"] == {"#set": ["0", "1"]}  # unary: a set of elements
    assert s5["one_b"] == {"#set": [{"#tup": ["node0", "0", "none", "none"]}]}
    assert s5["max_bal"]["#map"][0] == ["node0", "0"]
    last = states[14]
    assert last["two_b"] == {"#set": [{"#tup": ["node0", "1", "value1"]},
                                      {"#tup": ["node1", "0", "value0"]},
                                      {"#tup": ["node1", "1", "value1"]},
                                      {"#tup": ["node2", "0", "value0"]}]}


SMALL = """\
ordered sort t
sort k
mutable relation flag()
mutable individual x: t?
mutable function f(a: k, b: t?): t?
init {
  flag := false
  x := none
  f(A, B) := none
}
action go(v: t, w: k) by w {
  require x < v
  flag := true
  x := v
  f(w, v) := v
}
safety small: !flag
"""


def test_nullary_relation_individual_and_binary_function(tmp_path):
    (tmp_path / "s.pax").write_text(SMALL)
    (tmp_path / "s.toml").write_text('spec = "s.pax"\n[sorts]\nt = 2\nk = ["p", "q"]\n')
    m = load_model(tmp_path / "s.toml")
    compiled = Compiled(m.instances[0], m.config.properties)
    res = explore(compiled, Mode())
    trace = from_violation(compiled.ground, res.violations[0])
    doc = itf.to_itf(trace, "s.pax", "s.toml")
    assert itf_errors(doc) == []
    s0, s1 = doc["states"][0], doc["states"][-1]
    assert s0["flag"] is False and s1["flag"] is True
    assert s0["x"] == "none" and s1["x"] == "0"
    assert s1["f"]["#map"][0] == [{"#tup": ["p", "none"]}, "none"]
    assert s1["f"]["#map"][1] == [{"#tup": ["p", "0"]}, "0"]
    assert s1["mbt::actionTaken"] == "go"
    assert s1["mbt::nondetPicks"] == {"v": {"tag": "Some", "value": "0"},
                                      "w": {"tag": "Some", "value": "p"}}
    assert [decode_state(trace, s) for s in doc["states"]] == \
        [trace.initial] + [st.state for st in trace.steps]


def test_emit_writes_itf_and_chart(tmp_path, capsys):
    (tmp_path / "s.pax").write_text(SMALL)
    (tmp_path / "s.toml").write_text('spec = "s.pax"\n[sorts]\nt = 2\nk = ["p", "q"]\n')
    assert main(["check", str(tmp_path / "s.toml"), "--emit", str(tmp_path / "out")]) == 1
    capsys.readouterr()
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["msc.svg", "trace.itf.json", "trace.json", "trace.txt"]
    doc = json.loads((tmp_path / "out" / "trace.itf.json").read_text())
    assert itf_errors(doc) == []
    assert len(doc["states"]) == json.loads((tmp_path / "out" / "trace.json").read_text()
                                            )["violation"]["length"] + 1


@pytest.mark.parametrize("trace", sorted((ROOT / "counterexamples").glob("*/trace.json")),
                         ids=lambda p: p.parent.name)
def test_every_committed_trace_converts(trace):
    t = read_trace(trace)
    doc = itf.to_itf(t, "s", "m")
    assert itf_errors(doc) == []
    assert [decode_state(t, s) for s in doc["states"]] == [t.initial] + [s.state for s in t.steps]
