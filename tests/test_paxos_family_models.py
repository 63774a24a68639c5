"""Lamport's TLA+ Paxos, Multi-Paxos and Flexible Paxos.

Exact state-space figures for every model the suite can afford (TLA+ Paxos
must match TLC's distinct-state counts), the compiled engine against the
reference engine on instances small enough for it, and the broken Flexible
Paxos variant at its shortest counterexample."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.errors import PaxError
from paxcheck.traces.replay import replay
from support.engines import Compiled, Mode, explore, explore_reference

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@pytest.fixture(autouse=True)
def _cwd(monkeypatch):
    monkeypatch.chdir(ROOT)


def _run(path, properties=None, limits: Mode = Mode()):
    m = load_model(path)
    assert len(m.instances) == 1
    res = explore(Compiled(m.instances[0], properties or m.config.properties), limits)
    return m, res


# ---- exact figures, every property of the spec checked (the default) -------
# model: (instance, distinct states, transitions, depth)
HOLDING = {
    # TLC: 3,921 distinct states (Ballot = 0..1)
    "models/paxos_tla_b1.toml": ("acceptor=3 value=2 ballot=2 quorum=3", 3_921, 22_994, 16),
    # TLC: 185,369 distinct states (Ballot = 0..2)
    "models/paxos_tla_b2.toml": ("acceptor=3 value=2 ballot=3 quorum=3", 185_369, 1_316_583, 24),
    "models/flexible_paxos.toml": ("acceptor=4 value=2 ballot=2 quorum1=4 quorum2=6",
                                   20_609, 140_472, 20),
    "models/multi_paxos_small.toml": ("acceptor=3 learner=1 value=2 ballot=2 slot=2 quorum=3",
                                      330_578, 3_494_750, 29),
}


@pytest.mark.parametrize("path", sorted(HOLDING), ids=lambda p: Path(p).stem)
def test_model_holds_with_exact_counts(path):
    describe, distinct, transitions, depth = HOLDING[path]
    m, res = _run(path)
    assert m.instances[0].describe() == describe
    # every property of the spec, auxiliary invariants included, is checked
    assert m.config.properties == tuple(p.name for p in m.spec.properties)
    assert res.status == "holds", [(v.property, v.length) for v in res.violations]
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == \
        (distinct, transitions, depth)


# the same with the fast engine (the CLI's default), for models too big for
# the Python engine in the suite
FAST_HOLDING = {
    "models/multi_paxos_medium.toml": ("acceptor=3 learner=1 value=3 ballot=2 slot=2 quorum=3",
                                       2_346_948, 25_638_346, 30),
}


@pytest.mark.parametrize("path", sorted(FAST_HOLDING), ids=lambda p: Path(p).stem)
def test_model_holds_with_exact_counts_fast_engine(path, capsys):
    describe, distinct, transitions, depth = FAST_HOLDING[path]
    m = load_model(path)
    assert m.instances[0].describe() == describe
    assert m.config.properties == tuple(p.name for p in m.spec.properties)
    assert main(["check", path, "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "holds"
    (inst,) = out["instances"]
    assert (inst["distinct_states"], inst["transitions"], inst["depth"]) == \
        (distinct, transitions, depth)


def test_tla_paxos_matches_tlc_distinct_counts(capsys):
    # TLC on tlaplus/Examples Paxos.tla, 3 acceptors, 2 values, majority quorums
    for path, tlc in (("models/paxos_tla_b1.toml", 3_921), ("models/paxos_tla_b2.toml", 185_369)):
        assert main(["check", path, "--json", "--no-progress",
                     "--invariant", "agreement"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["instances"][0]["distinct_states"] == tlc, path


def test_tla_paxos_properties():
    spec = load_model("models/paxos_tla_b1.toml").spec
    kinds = {p.name: p.kind for p in spec.properties}
    assert kinds["agreement"] == "safety" and kinds["validity"] == "safety"
    assert kinds["stability"] == "transition"
    assert kinds["two_a_safe"] == "invariant"
    assert [a.name for a in spec.actions] == ["phase1a", "phase1b", "phase2a", "phase2b"]
    assert [s.name for s in spec.symbols if s.message] == ["one_a", "one_b", "two_a", "two_b"]


@pytest.mark.parametrize("path, describe", [
    ("models/paxos_tla_b3.toml", "acceptor=3 value=2 ballot=4 quorum=3"),
    ("models/paxos_tla_b4.toml", "acceptor=3 value=2 ballot=5 quorum=3"),
    ("models/multi_paxos.toml", "acceptor=3 learner=1 value=3 ballot=3 slot=2 quorum=3"),
    ("models/multi_paxos_b2.toml", "acceptor=3 learner=2 value=3 ballot=2 slot=2 quorum=3"),
])
def test_benchmark_models_load_and_start_clean(path, describe):
    # too big for the suite (paxos_tla_b3: TLC 8,220,065 states; multi_paxos_b2:
    # 7,543,684): only a bounded prefix, which must be violation-free
    m, res = _run(path, limits=Mode(max_states=3_000))
    assert m.instances[0].describe() == describe
    assert not res.violations
    assert res.status == "incomplete" and res.stats.distinct == 3_000


# ---- Flexible Paxos: the broken variant ---------------------------------------
def test_flexible_paxos_rejects_non_intersecting_quorums(tmp_path):
    model = tmp_path / "fp.toml"
    model.write_text(f'spec = "{SPECS / "flexible_paxos.pax"}"\n[sorts]\nacceptor = 4\n'
                     'value = 2\nballot = 2\n[immutable]\nmember1 = { subsets = 2 }\n'
                     'member2 = { subsets = 2 }\n')
    with pytest.raises(PaxError, match="quorums_intersect"):
        load_model(model)


def test_flexible_paxos_q2_q2_fails_agreement_at_shortest_depth(capsys, tmp_path):
    trace_file = tmp_path / "trace.json"
    assert main(["check", "models/broken/flexible_paxos_q2_q2.toml", "--json", "--no-progress",
                 "--trace-out", str(trace_file)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "violated"
    inst = out["instances"][0]
    assert (inst["distinct_states"], inst["transitions"], inst["depth"]) == (28_912, 135_667, 12)
    (v,) = out["violations"]
    why = v["violation"].pop("explanation")
    assert v["violation"] == {"kind": "invariant", "property": "agreement", "length": 12}
    assert why[0] == {"in": "", "values": {"v1": "value0", "v2": "value1"}}
    steps = v["steps"]
    assert Counter(s["action"] for s in steps) == \
        {"phase1a": 2, "phase1b": 4, "phase2a": 2, "phase2b": 4}
    proposals = {s["args"]["b"]: s["args"]["v"] for s in steps if s["action"] == "phase2a"}
    assert len(proposals) == 2 and len(set(proposals.values())) == 2
    # the acceptors that voted in one ballot never promised the other one:
    # a phase-2 quorum of one ballot misses the phase-1 quorum of the other
    voters = {b: {s["args"]["a"] for s in steps if s["action"] == "phase2b" and s["args"]["b"] == b}
              for b in proposals}
    promised = {b: {s["args"]["a"] for s in steps if s["action"] == "phase1b" and s["args"]["b"] == b}
                for b in proposals}
    assert all(len(voters[b]) == 2 and len(promised[b]) == 2 for b in proposals)
    assert any(not voters[b1] & promised[b2] for b1 in proposals for b2 in proposals if b1 < b2)
    res = replay(trace_file)
    assert res.ok, res.message


# ---- the compiled engine against the reference engine ----------------------
def _model(tmp_path: Path, name: str, spec: str, sorts: dict, immutable: dict,
           properties: list[str] | None = None) -> Path:
    lines = [f'spec = "{SPECS / spec}"', "[sorts]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in sorts.items()]
    lines += ["[immutable]"] + [f"{k} = {v}" for k, v in immutable.items()]
    if properties is not None:
        lines += ["[check]", f"properties = {json.dumps(properties)}"]
    p = tmp_path / f"{name}.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


SAFETY = ["agreement", "validity", "stability"]
# name: (spec, sorts, immutable, properties or None for all, (distinct, transitions, depth))
CROSS = {
    "paxos_tla_b1": None,  # the model file itself
    # write-one/read-all: phase-1 quorum = every acceptor, phase-2 quorum = any one
    "flexible_q3_q1": ("flexible_paxos.pax", {"acceptor": 3, "value": 2, "ballot": 2},
                       {"member1": "{ subsets = 3 }", "member2": "{ subsets = 1 }"}, None,
                       (513, 2_576, 16)),
    "multi_paxos_2acc": ("multi_paxos.pax", {"acceptor": 2, "learner": 1, "value": ["noop", "v1"],
                                             "ballot": 2, "slot": 2},
                         {"member": '"majority"', "noop": '"noop"'}, None, (1_577, 10_800, 23)),
    "multi_paxos_1slot": ("multi_paxos.pax", {"acceptor": 3, "learner": 1,
                                              "value": ["noop", "v1"], "ballot": 2, "slot": 1},
                          {"member": '"majority"', "noop": '"noop"'},
                          SAFETY + ["log_consistency"], (3_378, 22_504, 20)),
}


@pytest.mark.parametrize("name", sorted(CROSS))
def test_compiled_and_reference_engines_agree(name, tmp_path):
    if CROSS[name] is None:
        path, expected = ROOT / "models" / f"{name}.toml", HOLDING[f"models/{name}.toml"][1:]
    else:
        spec, sorts, immutable, props, expected = CROSS[name]
        path = _model(tmp_path, name, spec, sorts, immutable, props)
    m, res = _run(path)
    assert res.status == "holds"
    ref = explore_reference(m.instances[0], m.config.properties)
    assert ref.violations == {}
    assert (ref.distinct, ref.transitions, ref.depth) == expected
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == expected


def test_engines_agree_on_broken_flexible_paxos(tmp_path):
    # 2 acceptors, every single acceptor a phase-1 and a phase-2 quorum: the
    # smallest disjoint quorums; the compiled engine keeps going to the end
    path = _model(tmp_path, "fp_broken", "broken/flexible_paxos_no_intersection.pax",
                  {"acceptor": 2, "value": 2, "ballot": 2},
                  {"member1": "{ subsets = 1 }", "member2": "{ subsets = 1 }"})
    m, res = _run(path, limits=Mode(keep_going=True))
    ref = explore_reference(m.instances[0], m.config.properties)
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (721, 3_576, 12)
    assert (ref.distinct, ref.transitions, ref.depth) == (721, 3_576, 12)
    # 2 x (1a, 1b, 2a, 2b): one acceptor per quorum
    assert {v.property: v.length for v in res.violations} == ref.violations == {"agreement": 8}
