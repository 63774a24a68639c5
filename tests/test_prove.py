"""Z3 proofs: Paxos is proved for every size; dropping any auxiliary
invariant, or adding a false one, gives a counterexample to induction that
the reference evaluator confirms; inconsistent axioms are reported."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.model import load_model
from paxcheck.smt.prove import prove, validate_cti
from paxcheck.typecheck import load_spec, load_spec_text

ROOT = Path(__file__).resolve().parent.parent
PAXOS = load_spec(ROOT / "specs" / "paxos.pax")
AUX = [p.name for p in PAXOS.properties if p.kind == "invariant"]
TIMEOUT = 120.0  # generous: a slow CI machine must not turn a proof into 'unknown'


def _ctis_are_real(res) -> list:
    ctis = [o for o in res.obligations if o.verdict == "cti"]
    for o in ctis:
        assert validate_cti(res.spec, o.cti, res.invariants) is None, o.name
    return ctis


def test_paxos_proved_for_every_size():
    res = prove(PAXOS, timeout=TIMEOUT)
    assert res.status == "proved"
    # 13 one-state properties: 13 initiation obligations, and for each of the
    # 5 actions 13 consecution + 1 two-state (stability) obligation
    assert len(AUX) == 11
    assert len(res.obligations) == 13 + 5 * 14
    assert {o.verdict for o in res.obligations} == {"proved"}
    kinds = [o.kind for o in res.obligations]
    assert kinds.count("initiation") == 13 and kinds.count("transition") == 5


def test_paxos_proved_on_the_bounded_instance():
    model = load_model(ROOT / "models" / "paxos.toml")
    res = prove(PAXOS, model.instances[0], timeout=TIMEOUT)
    assert res.status == "proved" and res.mode == "instance"
    assert len(res.obligations) == 83


@pytest.mark.parametrize("name", AUX)
def test_dropping_an_auxiliary_invariant_gives_a_real_cti(name):
    res = prove(PAXOS, timeout=TIMEOUT, without=(name,))
    assert res.status == "cti"
    assert name not in res.invariants
    ctis = _ctis_are_real(res)
    assert ctis


def _with(extra: str):
    text = (ROOT / "specs" / "paxos.pax").read_text() + "\n" + extra + "\n"
    return load_spec_text(text, "paxos_plus.pax")


def test_false_invariant_fails_consecution_with_a_real_cti():
    spec = _with("invariant no_promises: forall n: node. max_bal(n) = none")
    res = prove(spec, timeout=TIMEOUT)
    assert res.status == "cti"
    bad = {o.name for o in res.obligations if o.verdict == "cti"}
    # promise and accepted set max_bal; nothing else does
    assert {"promise -> no_promises", "accepted -> no_promises"} <= bad
    for o in _ctis_are_real(res):
        if o.property == "no_promises":
            ev_inst = o.cti.instance
            assert o.cti.kind == "consecution"
            assert ev_inst.size("node") == 1  # minimized: one node suffices


def test_false_invariant_fails_initiation():
    spec = _with("invariant something_proposed: exists v: value. proposed(v)")
    res = prove(spec, timeout=TIMEOUT)
    init = [o for o in res.obligations if o.name == "init -> something_proposed"]
    assert [o.verdict for o in init] == ["cti"]
    assert init[0].cti.kind == "initiation" and init[0].cti.pre is None
    assert validate_cti(spec, init[0].cti, res.invariants) is None


def test_inconsistent_axioms_are_reported():
    spec = load_spec_text("""\
sort node
immutable relation r(n: node)
axiom some: exists n: node. r(n)
axiom none_: forall n: node. !r(n)
mutable relation x(n: node)
action a(n: node) { x(n) := true }
safety s: forall n: node. x(n) -> r(n)
""", "bad.pax")
    res = prove(spec, timeout=10)
    assert res.status == "inconsistent"
    assert res.obligations == []
    assert "inconsistent" in res.consistency_reason


def test_broken_variant_is_not_proved(capsys):
    code = main(["prove", str(ROOT / "specs/broken/paxos_any_value.pax"), "--timeout", "60",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["status"] == "cti"
    cti = [o for o in out["obligations"] if o["verdict"] == "cti"]
    assert cti and all(o["cti"]["step"] is not None for o in cti if o["kind"] != "initiation")


def test_prove_cli_table_and_exit_0(capsys):
    assert main(["prove", str(ROOT / "specs/paxos.pax"), "--timeout", str(TIMEOUT)]) == 0
    out = capsys.readouterr().out
    assert "Result: PROVED" in out
    assert "accept -> proposals_safe" in out
    assert "outside EPR" in out  # max_bal: node -> ballot, with exists-node under forall-ballot


def test_prove_cli_cti_exit_1(capsys):
    assert main(["prove", str(ROOT / "specs/paxos.pax"), "--without", "proposals_safe",
                 "--timeout", str(TIMEOUT)]) == 1
    out = capsys.readouterr().out
    assert "Counterexample to induction: accepted breaks invariant 'agreement'" in out
    assert "Result: NOT PROVED" in out


def test_flexible_paxos_proved_for_every_size():
    spec = load_spec(ROOT / "specs" / "flexible_paxos.pax")
    res = prove(spec, timeout=TIMEOUT)
    assert res.status == "proved"
    assert {o.verdict for o in res.obligations} == {"proved"}


def test_flexible_paxos_without_intersection_gives_a_real_cti():
    spec = load_spec(ROOT / "specs" / "broken" / "flexible_paxos_no_intersection.pax")
    res = prove(spec, timeout=TIMEOUT)
    assert res.status == "cti"
    assert _ctis_are_real(res)


def test_timeouts_are_unknown_never_proved(capsys):
    res = prove(PAXOS, timeout=0.01, minimize=False)
    assert res.status == "unknown"
    unknown = [o for o in res.obligations if o.verdict == "unknown"]
    assert unknown and all(o.reason for o in unknown)
    assert main(["prove", str(ROOT / "specs/paxos.pax"), "--timeout", "0.01"]) == 3
    assert "Result: UNKNOWN" in capsys.readouterr().out
