"""One Trace, one StateView, one reader: a trace built with from_steps
renders through the state views, writes to JSON and reads back equal."""
from __future__ import annotations

import json
from pathlib import Path

from paxcheck.config.model import load_model
from paxcheck.semantics.state import immutable_view, state_view, views_json
from paxcheck.traces import trace as T
from paxcheck.traces.itf import state_value
from paxcheck.traces.tracefile import read_trace

SPEC = """\
sort node
sort val
immutable relation peer(a: node, b: node)
mutable relation up(n: node)
mutable function vote(n: node): val?
mutable individual leader: node?
init {
  up(N) := false
  vote(N) := none
  leader := none
}
action start(n: node, v: val) {
  require !up(n)
  up(n) := true
  vote(n) := v
  leader := n
}
invariant one_up: forall a, b: node. up(a) & up(b) -> a = b
"""

MODEL = """\
spec = "s.pax"
[sorts]
node = ["n1", "n2"]
val = 2
[immutable]
peer = { table = [["n1", "n2"]] }
"""


def _model(tmp_path: Path):
    (tmp_path / "s.pax").write_text(SPEC)
    (tmp_path / "m.toml").write_text(MODEL)
    return load_model(tmp_path / "m.toml")


def test_state_views_name_every_kind(tmp_path: Path) -> None:
    inst = _model(tmp_path).instances[0]
    # up = {n2}, vote(n1) = none, vote(n2) = val1, leader = n2
    state = (frozenset({(1,)}), (-1, 1), (1,))
    views = state_view(inst, state)
    assert [v.kind for v in views] == ["relation", "function", "individual"]
    assert views_json(views) == {"up": [["n2"]], "vote": {"n1": "none", "n2": "val1"},
                                 "leader": "n2"}
    assert state_value(inst, state) == {
        "up": {"#set": ["n2"]}, "vote": {"#map": [["n1", "none"], ["n2", "val1"]]},
        "leader": "n2"}
    assert views_json(immutable_view(inst)) == {"peer": [["n1", "n2"]]}


def test_a_trace_round_trips_through_its_file(tmp_path: Path) -> None:
    m = _model(tmp_path)
    inst = m.instances[0]
    s0 = (frozenset(), (-1, -1), (-1,))
    s1 = (frozenset({(0,)}), (0, -1), (0,))
    s2 = (frozenset({(0,), (1,)}), (0, 1), (1,))
    tr = T.from_steps(inst, "invariant", "one_up", s0,
                      [("start", (0, 0), s1), ("start", (1, 1), s2)])
    assert [st.args for st in tr.steps] == [(("n", "n1"), ("v", "val0")),
                                            (("n", "n2"), ("v", "val1"))]
    data = T.to_json(tr, "s.pax", "m.toml")
    assert data["steps"][1]["changes"] == {"up": {"added": [["n2"]], "removed": []},
                                           "vote": {"n2": "val1"}, "leader": "n2"}
    path = tmp_path / "trace.json"
    path.write_text(T.dumps(data))
    back = read_trace(path)
    assert (back.initial, [s.state for s in back.steps]) == (s0, [s1, s2])
    assert back.steps == tr.steps and back.property == "one_up"
    assert "State 2 violates 'one_up'." in T.to_text(back)
    # n1 and n2 are both up in the last state: the values that break one_up
    assert json.loads(path.read_text())["violation"] == {
        "kind": "invariant", "property": "one_up", "length": 2,
        "explanation": [{"in": "", "values": {"a": "n1", "b": "n2"}}]}
