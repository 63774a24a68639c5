"""Reachability properties (`sometimes NAME: F`), action coverage and the
explanation of a violation, on every engine.

The counter of specs/examples/counter.pax over 0..3 starts at 0 and ticks
by one: its top, 3, is reached after 3 ticks, so `at_top` has a shortest
witness of 3 steps and `reset_from_top` (last = 3, a reset from the top)
one of 4; `last_not_bottom` is an invariant of the spec, so `impossible`
(last is the bottom) is never reached."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.ground.ground import ground
from paxcheck.search.api import Checks, Limits, run
from paxcheck.smt.prove import prove
from paxcheck.traces import trace as T
from paxcheck.traces.replay import replay

ROOT = Path(__file__).resolve().parent.parent
REACH = """
sometimes at_top: exists n: num. top(n) & c = n
sometimes reset_from_top: exists n: num. top(n) & last = n
sometimes impossible: exists n: num. bottom(n) & last = n
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    spec = (ROOT / "specs/examples/counter.pax").read_text() + REACH
    (tmp_path / "counter.pax").write_text(spec)
    (tmp_path / "counter.toml").write_text('spec = "counter.pax"\n[sorts]\nnum = 4\n')
    return tmp_path / "counter.toml"


@pytest.mark.parametrize("engine", ["python", "fast", "reference"])
def test_witnesses_and_unreached_on_every_engine(model, engine):
    m = load_model(model)
    (inst,) = m.instances
    g = ground(inst)
    res = run(g, Limits(), Checks(m.config.properties), engine=engine)
    # the search does not stop at a witness: the counts are the counter's
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (16, 28, 7)
    assert [(w.kind, w.property, w.length) for w in res.witnesses] == [
        ("witness", "at_top", 3), ("witness", "reset_from_top", 4)]
    assert res.violations == [] and res.unreached == ("impossible",)
    assert res.verdict.value == "violated"
    tr = T.from_violation(g, res.witnesses[1])
    assert [s.action for s in tr.steps] == ["tick", "tick", "tick", "reset"]
    # a run stopped early knows nothing of what it did not reach
    stopped = run(g, Limits(max_states=3), Checks(m.config.properties), engine=engine)
    assert stopped.unreached == () and stopped.verdict.value == "incomplete"


def test_witness_trace_is_shown_and_replays(model, tmp_path, capsys):
    assert main(["check", str(model), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["unreached"] == ["impossible"]
    w = {x["violation"]["property"]: x for x in out["witnesses"]}
    assert w["at_top"]["violation"]["explanation"] == [{"in": "", "values": {"n": "3"}}]
    path = tmp_path / "w.json"
    path.write_text(json.dumps(w["reset_from_top"]))
    assert replay(path).ok
    assert "sometimes property 'reset_from_top' reached" in replay(path).message
    # a witness passed off as a violation is refused
    fake = dict(w["reset_from_top"], violation={**w["reset_from_top"]["violation"],
                                                "kind": "invariant"})
    path.write_text(json.dumps(fake))
    assert not replay(path).ok
    assert main(["check", str(model)]) == 1
    text = capsys.readouterr().out
    assert "  reached          at_top (3 steps), reset_from_top (4 steps)" in text
    assert "Result: VIOLATED: impossible (never reached)" in text


def test_prove_leaves_sometimes_out(model):
    res = prove(load_model(model).spec, None, 20_000_000)
    assert not {"at_top", "reset_from_top", "impossible"} & set(res.invariants)
    assert not any(o.property in ("at_top", "impossible") for o in res.obligations)


def test_coverage_counts_every_transition_once():
    m = load_model(ROOT / "models/paxos.toml")
    g = ground(m.instances[0])
    res = run(g, Limits(), Checks(m.config.properties), engine="fast")
    assert sum(res.fired) == res.stats.transitions == 1_475_464
    # propose(v) for each of 2 values, prepare(b) for 3 ballots, promise(n, b)
    # 3 x 3, accept(b, v) 3 x 2, accepted(n, b, v) 3 x 3 x 2: all fire
    from paxcheck.tools.coverage import action_coverage
    assert [(c.action, c.ground, c.fired) for c in action_coverage([res])] == [
        ("propose", 2, 2), ("prepare", 3, 3), ("promise", 9, 9), ("accept", 6, 6),
        ("accepted", 18, 18)]
