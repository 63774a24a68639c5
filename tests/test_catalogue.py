"""The catalogue of broken Paxos variants (specs/broken/, models/broken/,
counterexamples/): each fails the property its header names, with a shortest
trace of known length, in a known smallest configuration, and its committed
counterexample is reproduced exactly.

paxos_mixed_ballots needs about a minute per search (6.7 million states); its
full checks run only with PAXCHECK_SLOW=1. Without it, its committed trace is
still replayed (tests/test_paxos.py) and its cheap facts are checked here."""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from paxcheck.cli import main
from paxcheck.config.model import build_model, load_model
from paxcheck.errors import PaxError
from paxcheck.tools.minimize import minimize
from support.engines import Compiled, explore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _cwd(monkeypatch):
    monkeypatch.chdir(ROOT)


@dataclass(frozen=True)
class Entry:
    model: str        # models/broken/MODEL.toml, counterexamples/MODEL/
    spec: str         # specs/broken/SPEC.pax
    property: str     # the property that breaks (the first one the search meets)
    length: int       # shortest trace in the model as committed
    smallest: str     # smallest violating configuration (Instance.describe())
    smallest_length: int  # shortest trace there
    slow: bool = False

    def __str__(self) -> str:
        return self.model


# Why these numbers. "Agreement needs two values, and two ballots since a
# ballot has one 2a" rules out every configuration of 4 elements or fewer
# for the single-decree agreement entries below (except same_ballot), so
# node=1 value=2 ballot=2 (5) is the least they can fail in; there a
# 10-step trace is the least: 2 proposes + per ballot a prepare, a promise,
# a 2a and a 2b. With 3 nodes a quorum is 2, so 2 promises and 2 votes per
# ballot: 2 + 2 * 6 = 14.
CATALOGUE = [
    # Proposer ignores the reports. 3 nodes: 14 as above (ballot 1's quorum
    # includes node1, which voted value0, and the proposer ignores it).
    # Smallest: 1 node promises both ballots, votes value0 in 0 before
    # promising 1, and ballot 1 proposes value1 anyway: 10 steps.
    Entry("paxos_any_value", "paxos_any_value", "agreement", 14,
          "node=1 value=2 ballot=2 quorum=1", 10),
    # Votes below the promise. 3 nodes: node0, node1 promise both ballots,
    # then vote in 0 (value0) and in 1 (value1): 14. Smallest: the same with
    # one node (correct Paxos with one node is safe: its promise of 1 blocks
    # its vote in 0): 10.
    Entry("paxos_accept_below_promise", "paxos_accept_below_promise", "agreement", 14,
          "node=1 value=2 ballot=2 quorum=1", 10),
    # Promise not recorded: max_bal stays none, so the same 14-step
    # interleaving as accept_below_promise; smallest likewise 10.
    Entry("paxos_promise_not_recorded", "paxos_promise_not_recorded", "agreement", 14,
          "node=1 value=2 ballot=2 quorum=1", 10),
    # Crash-restart (model ballot=2): node0, node1 promise 0 and 1, value1 is
    # chosen in 1 by node0, node1; node2 votes value0 in 0; node0 crashes
    # (forgets its promise) and votes value0 in 0: 14 + crash = 15.
    # Smallest: one node promises both ballots, votes value1 in 1, crashes
    # (forgetting its promise of 1) and votes value0 in 0: 10 + crash = 11.
    Entry("paxos_crash_restart", "paxos_crash_restart", "agreement", 15,
          "node=1 value=2 ballot=2 quorum=1", 11),
    # 1b reports nothing: behaves as any_value (same trace shapes): 14, 10.
    Entry("paxos_promise_no_value", "paxos_promise_no_value", "agreement", 14,
          "node=1 value=2 ballot=2 quorum=1", 10),
    # Two 2a's in one ballot: 2 proposes, 1 prepare, 2 promises, 2 accepts,
    # 2 x 2 votes = 11. Smallest: one ballot suffices now, so node=1 value=2
    # ballot=1 (4 elements; with 3, value=1 and agreement cannot fail):
    # 2 + 1 + 1 + 2 + 2 = 8.
    Entry("paxos_same_ballot", "paxos_same_ballot", "agreement", 11,
          "node=1 value=2 ballot=1 quorum=1", 8),
    # Lowest report adopted: value0 voted once in 0 (node2), value1 chosen in
    # 1 (node0, node1), ballot 2's quorum {node0, node2} reports (1, value1)
    # and (0, value0), picks value0, node0 and node1 vote it: 19 steps. The
    # given 3/2/3 is the smallest: with 2 ballots a 2a sees reports of one
    # ballot only (lowest = highest: Paxos); with 1 or 2 nodes every quorum
    # is all nodes, votes then happen in ballot order and the first voted
    # value is the only one ever reported; value=1 cannot disagree.
    Entry("paxos_lowest_promise", "paxos_lowest_promise", "agreement", 19,
          "node=3 value=2 ballot=3 quorum=3", 19),
    # Mixed ballots: value0 "chosen" from node2@0 + node1@2, value1 from
    # node2@1 + node0@3: 22 steps. The given 3/2/4 is the smallest: the
    # spec's header argues that 3 ballots or 2 nodes cannot fail (Paxos'
    # own invariants still hold, only `chosen` is wider).
    Entry("paxos_mixed_ballots", "paxos_mixed_ballots", "agreement", 22,
          "node=3 value=2 ballot=4 quorum=3", 22, slow=True),
    # Quorums {node0}, {node1}, {node2}: both ballots hear only node0's
    # promise, value1 is chosen in 1 by node0 and value0 in 0 by node1:
    # 2 + 2 x 4 = 10. Smallest node=2 (two
    # disjoint single-node quorums; with node=1 the one quorum intersects
    # itself and this is Paxos), value=2, ballot=2 as above: still 10.
    Entry("paxos_no_intersection_1of3", "paxos_no_intersection", "agreement", 10,
          "node=2 value=2 ballot=2 quorum=2", 10),
    # Quorums: the pairs of 4 nodes; node0, node1 promise both ballots and
    # choose value1 in 1, node2, node3 choose value0 in 0: 14. The given node=4 is the smallest: pairs
    # of 3 nodes always intersect, and node < 2 has no pairs (skipped).
    Entry("paxos_no_intersection_2of4", "paxos_no_intersection", "agreement", 14,
          "node=4 value=2 ballot=2 quorum=6", 14),
    # Invented value: prepare, 2 promises, 2a of an unproposed value, 2
    # votes: 6. Smallest: node=1 value=1 ballot=1 (every sort at 1, the least
    # possible): prepare, promise, 2a, 2b = 4.
    Entry("paxos_unproposed_value", "paxos_unproposed_value", "validity", 6,
          "node=1 value=1 ballot=1 quorum=1", 4),
    # Votes withdrawn: value0 chosen in 0 by node1, node2; node1 votes value0
    # again in 1, withdrawing its 0 vote: 12 steps (1 propose, 2 prepares,
    # 4 promises, 2 accepts, 3 votes). Smallest node=2 value=1 ballot=2: one
    # value does (the re-vote is for the same value), a second ballot is
    # needed (a re-vote in the same ballot withdraws and re-adds the same
    # message), and one node is not enough (its new vote alone is a quorum in
    # the new ballot, so the value stays chosen). With 2 nodes the quorum is
    # both: 1 + 2 + 2 x 2 promises + 2 accepts + 3 votes = 12 again.
    Entry("paxos_vote_overwrites", "paxos_vote_overwrites", "stability", 12,
          "node=2 value=1 ballot=2 quorum=1", 12),
    # Multi-Paxos, leaders without phase 1: 2 proposes, 2 become_leader, 2
    # phase2a at slot 0 (with no 1b's every slot is new), 2 x 2 phase2b: 10.
    # Smallest acceptor=1 (one vote is a quorum): 8. It needs value=3: the
    # no-op plus two client commands (the no-op is never proposed, and
    # without 1b's there are no gaps to fill), and ballot=2 (one 2a per
    # ballot and slot); slot=1, learner=1 minimal.
    Entry("multi_paxos_skip_phase1", "multi_paxos_skip_phase1", "agreement", 10,
          "acceptor=1 learner=1 value=3 ballot=2 slot=1 quorum=1", 8),
    # Multi-Paxos, only the highest reported slot recovered (model: 2
    # acceptors): 2 proposes; ballot 0: 1a, 2 1b's, become_leader, 2a's of v1
    # at slots 0 and 1, v1 chosen at slot 0 (2 votes), one vote at slot 1 so
    # that slot 1 is reported: 11; ballot 1: 1a, 2 1b's, become_leader, and
    # for its leader slot 1 is the tail, slot 0 "new": 2a of v2 at slot 0,
    # 2 votes: 7; 18 in all.
    # Smallest acceptor=1: 14. It needs slot=2 (a forgotten slot below the
    # recovered one), ballot=2 and two client commands (a forgotten slot was
    # reported, so it never gets the no-op).
    Entry("multi_paxos_partial_recovery", "multi_paxos_partial_recovery", "agreement", 18,
          "acceptor=1 learner=1 value=3 ballot=2 slot=2 quorum=1", 14),
]

def _slow(e: Entry):
    return pytest.param(e, marks=[pytest.mark.slow] if e.slow else [])


def test_catalogue_is_complete():
    specs = {e.spec for e in CATALOGUE}
    assert len(specs) >= 10
    mine = {p.stem for p in (ROOT / "specs/broken").glob("*.pax")
            if p.stem.startswith(("paxos_", "multi_paxos_"))}
    assert mine == specs
    for e in CATALOGUE:
        model = ROOT / "models/broken" / f"{e.model}.toml"
        data = tomllib.loads(model.read_text())
        assert data["spec"] == f"../../specs/broken/{e.spec}.pax", e
        assert (ROOT / "counterexamples" / e.model / "trace.json").exists(), e


@pytest.mark.parametrize("e", CATALOGUE, ids=str)
def test_header_names_change_reason_and_property(e):
    text = (ROOT / "specs/broken" / f"{e.spec}.pax").read_text()
    header = text[:text.index("\n\n")]
    assert header.startswith("# BROKEN on purpose: ")
    assert "# Changed (from specs/" in header and "# Why it is wrong: " in header
    m = re.search(r"^# Breaks: (\w+)", header, re.M)
    assert m and m.group(1) == e.property


@pytest.mark.parametrize("e", [_slow(e) for e in CATALOGUE], ids=str)
def test_counterexample_is_reproduced_exactly(e, tmp_path, capsys):
    out = tmp_path / e.model
    code = main(["check", f"models/broken/{e.model}.toml", "--emit", str(out), "--no-progress"])
    assert code == 1
    trace = json.loads((out / "trace.json").read_text())
    assert trace["violation"]["property"] == e.property
    assert trace["violation"]["length"] == e.length
    assert trace["model"] == f"models/broken/{e.model}.toml"
    committed = ROOT / "counterexamples" / e.model
    names = sorted(p.name for p in committed.iterdir())
    assert {"trace.json", "trace.txt"} <= set(names)
    for name in names:
        assert (out / name).read_text() == (committed / name).read_text(), name


@pytest.mark.parametrize("e", [_slow(e) for e in CATALOGUE], ids=str)
def test_smallest_configuration(e):
    res = minimize(load_model(f"models/broken/{e.model}.toml"))
    assert res.status == "violated"
    assert res.properties == (e.property,)
    assert res.given.length == e.length
    assert res.smallest.instance == e.smallest
    assert res.smallest.length == res.trace.length == e.smallest_length
    assert res.trace.property == e.property
    assert res.undecided == ()


def _resized(model: str, **sizes) -> dict:
    path = ROOT / "models/broken" / f"{model}.toml"
    data = tomllib.loads(path.read_text())
    data["sorts"] = {**data["sorts"], **sizes}
    return data


def test_mixed_ballots_neighbours_hold():
    """The cheap half of paxos_mixed_ballots' minimality: one ballot or one
    node fewer holds (value=1 cannot disagree)."""
    path = str(ROOT / "models/broken/paxos_mixed_ballots.toml")
    for sizes, states in (({"node": 2}, 28_628), ({"ballot": 3}, 323_940)):
        m = build_model(_resized("paxos_mixed_ballots", **sizes), path)
        res = explore(Compiled(m.instances[0], ("agreement",)))
        assert res.status == "holds" and res.stats.distinct == states, sizes


@pytest.mark.parametrize("subsets, nodes", [(1, 3), (2, 4)])
def test_non_intersecting_quorums_are_rejected_by_paxos(subsets, nodes):
    data = {"spec": "specs/paxos.pax", "sorts": {"node": nodes, "value": 2, "ballot": 2},
            "immutable": {"member": {"subsets": subsets}}}
    with pytest.raises(PaxError, match="breaks axiom 'quorums_intersect'"):
        build_model(data, str(ROOT / "model.toml"))
