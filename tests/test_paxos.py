"""Basic Paxos and its broken variant, end to end through the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.traces.replay import replay
from support.engines import Compiled, explore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _cwd(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_paxos_holds_with_exact_counts():
    m = load_model("models/paxos.toml")
    assert [i.describe() for i in m.instances] == ["node=3 value=2 ballot=3 quorum=3"]
    res = explore(Compiled(m.instances[0], m.config.properties))
    assert res.status == "holds"
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (323_940, 1_475_464, 26)


def test_paxos_cli_exit_0_and_json(capsys):
    assert main(["check", "models/paxos.toml", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "holds"
    # every property of the spec: the three safety properties, the three
    # reachability properties and the eleven auxiliary invariants, all
    # checked on every reachable state
    assert out["properties"][:6] == ["agreement", "validity", "stability", "can_choose",
                                     "votes_after_promise", "adopts_reported_vote"]
    assert len(out["properties"]) == 17
    # each reached, with a shortest witness. A vote after a promise: propose,
    # prepare, 2 promises (a quorum, for the 2a), accept, accepted: 6; a
    # choice takes a second vote: 7. Adopting a reported vote needs every
    # node's promise of b2 to report v in b1: propose, prepare b1, 2
    # promises, accept, 3 votes (the third node votes without promising),
    # then prepare b2, 3 promises, accept: 8 + 5 = 13.
    assert out["unreached"] == []
    assert {w["violation"]["property"]: w["violation"]["length"] for w in out["witnesses"]} \
        == {"votes_after_promise": 6, "can_choose": 7, "adopts_reported_vote": 13}
    inst = out["instances"][0]
    assert (inst["distinct_states"], inst["transitions"], inst["depth"]) == (323_940, 1_475_464, 26)
    assert out["violations"] == []


def test_broken_variant_fails_agreement_at_shortest_depth(capsys):
    assert main(["check", "models/broken/paxos_any_value.toml", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "violated"
    (v,) = out["violations"]
    why = v["violation"].pop("explanation")
    assert v["violation"] == {"kind": "invariant", "property": "agreement", "length": 14}
    # the explanation names the two values and, for each, the ballot and
    # quorum that chose it: each quorum member voted that value in that
    # ballot in the trace
    assert why[0] == {"in": "", "values": {"v1": "value0", "v2": "value1"}}
    votes = {(s["args"]["n"], s["args"]["b"], s["args"]["v"]) for s in v["steps"]
             if s["action"] == "accepted"}
    for part, value in zip(why[1:], ("value0", "value1")):
        assert part["in"] == f"chosen({value})"
        members = part["values"]["q"].strip("{}").split(",")
        assert len(members) == 2
        assert {(n, part["values"]["b"], value) for n in members} <= votes
    actions = [s["action"] for s in v["steps"]]
    # two ballots each get a 2a with a different value, and both values are
    # accepted by a quorum: 2 proposals, 2 prepares, 4 promises, 2 accepts, 4 accepted
    assert sorted(actions) == sorted(["propose"] * 2 + ["prepare"] * 2 + ["promise"] * 4
                                     + ["accept"] * 2 + ["accepted"] * 4)
    accepts = [s["args"] for s in v["steps"] if s["action"] == "accept"]
    assert {a["v"] for a in accepts} == {"value0", "value1"}
    assert len({a["b"] for a in accepts}) == 2


def test_committed_counterexample_is_reproduced(tmp_path):
    code = main(["check", "models/broken/paxos_any_value.toml", "--emit", str(tmp_path / "cx"),
                 "--no-progress"])
    assert code == 1
    for name in ("trace.json", "trace.txt", "trace.itf.json", "msc.svg"):
        committed = (ROOT / "counterexamples" / "paxos_any_value" / name).read_text()
        assert (tmp_path / "cx" / name).read_text() == committed, name


@pytest.mark.parametrize("trace", sorted((ROOT / "counterexamples").glob("*/trace.json")),
                         ids=lambda p: p.parent.name)
def test_every_committed_trace_replays(trace):
    res = replay(trace)
    assert res.ok, res.message


def test_corrupted_traces_are_rejected_at_the_right_step(tmp_path):
    data = json.loads((ROOT / "counterexamples/paxos_any_value/trace.json").read_text())
    # drop step 3 (prepare b=0): step 4 still fine, the first promise for ballot 0 is not enabled
    dropped = json.loads(json.dumps(data))
    del dropped["steps"][2]
    p = tmp_path / "dropped.json"
    p.write_text(json.dumps(dropped))
    res = replay(p)
    assert not res.ok and res.step == 4, res
    assert "promise(n=node0, b=0) is not enabled" in res.message
    # change the value accepted in step 9: the recorded post-state is wrong
    changed = json.loads(json.dumps(data))
    changed["steps"][8]["changes"]["max_val"]["node1"] = "value1"
    p.write_text(json.dumps(changed))
    res = replay(p)
    assert not res.ok and res.step == 9
    assert "does not lead to the recorded state" in res.message
    # cut the last step: the final state no longer violates agreement
    cut = json.loads(json.dumps(data))
    cut["steps"].pop()
    p.write_text(json.dumps(cut))
    res = replay(p)
    assert not res.ok and "does not violate agreement" in res.message
