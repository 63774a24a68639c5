"""Z3 proofs: Paxos is proved for every size; dropping any auxiliary
invariant, or adding a false one, gives a counterexample to induction that
the reference evaluator confirms; inconsistent axioms are reported."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.lang.typecheck import load_spec, load_spec_text
from paxcheck.smt.prove import prove, validate_cti

ROOT = Path(__file__).resolve().parent.parent
PAXOS = load_spec(ROOT / "specs" / "paxos.pax")
AUX = [p.name for p in PAXOS.properties if p.kind == "invariant"]
MULTI_PAXOS = ROOT / "specs" / "multi_paxos.pax"
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


def _tiered(names) -> list:
    """Every name, all but the first three in the `slow` tier: each case is a
    full proof attempt (tens of seconds), and the default run keeps a sample."""
    names = list(names)
    return names[:3] + [pytest.param(n, marks=pytest.mark.slow) for n in names[3:]]


@pytest.mark.parametrize("name", _tiered(AUX))
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


def test_multi_paxos_proved_for_every_size():
    # issue 5: every slot's recovery is its own step, with the highest report
    # as a witness (a "highest report per reported slot" does not exist in
    # infinite models, so a one-step recovery of the whole log was unknown)
    spec = load_spec(MULTI_PAXOS)
    res = prove(spec, timeout=TIMEOUT)
    assert res.status == "proved"
    assert {o.verdict for o in res.obligations} == {"proved"}
    # 3 safety properties + 13 auxiliary invariants; 9 actions, each with
    # 16 consecution obligations and stability
    one_state = [p for p in spec.properties if p.kind != "transition"]
    assert len(one_state) == 16 and len(spec.actions) == 9
    assert len(res.obligations) == 16 + 9 * 17 == 169
    kinds = [o.kind for o in res.obligations]
    assert kinds.count("initiation") == 16 and kinds.count("transition") == 9


def test_multi_paxos_proved_on_the_small_instance():
    model = load_model(ROOT / "models" / "multi_paxos_small.toml")
    res = prove(model.spec, model.instances[0], timeout=TIMEOUT)
    assert res.status == "proved" and res.mode == "instance"
    assert len(res.obligations) == 169


# every auxiliary invariant of specs/multi_paxos.pax is needed: without it,
# this obligation has a real counterexample to induction (only that one is
# run: the whole proof takes a minute)
MULTI_PAXOS_NEEDS = {
    "learned_is_chosen": "learn -> log_consistency",
    "proposal_valid": "phase2b -> validity",
    "vbal_le_bal": "phase1b -> one_b_mbal_lt",
    "vbal_val_none": "phase1b -> one_b_mbal_lt",
    "last_vote_sent": "phase1b -> one_b_reports_vote",
    "votes_le_vbal": "phase1b -> one_b_no_vote_between",
    "one_2a_per_slot": "recover -> two_a_safe",
    "vote_has_2a": "recover -> proposal_valid",
    "one_b_le_bal": "recover -> two_a_safe",
    "one_b_mbal_lt": "fill_gap -> two_a_safe",
    "one_b_reports_vote": "recover -> proposal_valid",
    "one_b_no_vote_between": "phase2a -> two_a_safe",
    "two_a_safe": "phase2b -> agreement",
}


def test_multi_paxos_every_auxiliary_invariant_is_named():
    spec = load_spec(MULTI_PAXOS)
    assert sorted(MULTI_PAXOS_NEEDS) == sorted(p.name for p in spec.properties
                                               if p.kind == "invariant")


@pytest.mark.parametrize("name", _tiered(sorted(MULTI_PAXOS_NEEDS)))
def test_multi_paxos_without_an_auxiliary_invariant_gives_a_real_cti(name):
    spec = load_spec(MULTI_PAXOS)
    res = prove(spec, timeout=TIMEOUT, without=(name,), only=(MULTI_PAXOS_NEEDS[name],))
    assert res.status == "cti"
    assert [o.name for o in res.obligations] == [MULTI_PAXOS_NEEDS[name]]
    assert _ctis_are_real(res)


def test_flexible_paxos_without_intersection_gives_a_real_cti():
    spec = load_spec(ROOT / "specs" / "broken" / "flexible_paxos_no_intersection.pax")
    res = prove(spec, timeout=TIMEOUT)
    assert res.status == "cti"
    assert _ctis_are_real(res)


def test_a_whole_run_timeout_is_unknown_never_proved(capsys):
    res = prove(PAXOS, timeout=0.01, minimize=False)
    assert res.status == "unknown"
    # 10 ms of wall clock runs out on the axioms' consistency check or on
    # the first obligations, by load; either way: unknown with the reason
    if res.consistency_unknown:
        assert res.consistency_reason == "could not show the axioms consistent: timeout (the run's --timeout)"
    else:
        unknown = [o for o in res.obligations if o.verdict == "unknown"]
        assert unknown and all(o.reason == "timeout (the run's --timeout)" for o in unknown)
    assert main(["prove", str(ROOT / "specs/paxos.pax"), "--timeout", "0.01"]) == 3
    assert "Result: UNKNOWN" in capsys.readouterr().out


# Z3 resource units: 400,000 per obligation proves all but the two hardest
# obligations of paxos.pax (which need over a million: see
# benchmarks/prove_analysis.md), so the verdict is mixed and every path of
# the budget (proved within it, exhausted) is exercised.
SMALL_RLIMIT = 400_000


def _outcome(res) -> list[tuple[str, str, str, int]]:
    return [(o.name, o.verdict, o.reason, o.units) for o in res.obligations]


def test_a_small_resource_budget_gives_the_same_outcome_twice():
    first = prove(PAXOS, rlimit=SMALL_RLIMIT)
    second = prove(PAXOS, rlimit=SMALL_RLIMIT)
    assert first.status == "unknown"
    unknown = [o for o in first.obligations if o.verdict == "unknown"]
    assert unknown and len(unknown) < len(first.obligations)
    assert all(o.reason == f"resource limit of {SMALL_RLIMIT:,} Z3 units reached" for o in unknown)
    assert all(o.units <= SMALL_RLIMIT + 1_000 for o in first.obligations)
    # not just the verdicts: the units each obligation spent are the same
    assert _outcome(first) == _outcome(second)


def _cli_outcome(env_extra: dict[str, str], pin: list[str]) -> list:
    import os
    import subprocess
    import sys
    env = {**os.environ, **env_extra}
    out = subprocess.run(pin + [sys.executable, "-m", "paxcheck", "prove", str(ROOT / "specs/paxos.pax"),
                                "--rlimit", str(SMALL_RLIMIT), "--json"],
                         capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 3, out.stderr
    data = json.loads(out.stdout)
    return [(o["name"], o["verdict"], o["reason"], o["units"]) for o in data["obligations"]]


def test_the_same_budget_gives_the_same_outcome_on_a_loaded_cpu():
    """One run on a quiet machine; one pinned to a CPU that a busy loop
    shares, with another hash seed: the outcome, down to the units each
    obligation spent, is the same."""
    import shutil
    import subprocess
    import sys
    quiet = _cli_outcome({"PYTHONHASHSEED": "0"}, [])
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    hog = subprocess.Popen(pin + [sys.executable, "-c", "while True: pass"])
    try:
        loaded = _cli_outcome({"PYTHONHASHSEED": "1"}, pin)
    finally:
        hog.kill()
        hog.wait()
    assert loaded == quiet
    assert {v for _, v, _, _ in quiet} == {"proved", "unknown"}


@pytest.mark.parametrize("bad", ["0", "-5", "many", "1.5"])
def test_rlimit_must_be_a_positive_whole_number(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["prove", str(ROOT / "specs/paxos.pax"), "--rlimit", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--rlimit" in err and "Traceback" not in err


def test_minimizing_a_cti_leaves_no_scope_behind() -> None:
    """Shrinking a model asserts its closure axioms in the caller's scope:
    a scope of its own left pushed would outlive the caller's pop, and the
    next query on a shared frame would be restricted to the small universe
    (and keep the previous obligation's goal)."""
    import z3

    from paxcheck.smt.finite import b_not, z3val
    from paxcheck.smt.prove import _FOBackend
    from paxcheck.smt.resources import Meter, isolated
    spec = load_spec(ROOT / "specs/examples/mutex.pax")
    with isolated():
        backend = _FOBackend(spec)
        pre, cons = backend.fresh("pre")
        solver = z3.Solver()
        solver.add(*[f for f in backend.background() + cons if f is not True])
        before = len(solver.assertions())
        solver.push()
        # some state breaks mutual exclusion: a model, which minimizing
        # shrinks to two processes
        goal = b_not(backend.enc.ev(spec.property_map["mutual_exclusion"].formula, {}, pre))
        solver.add(z3val(goal))
        assert solver.check() == z3.sat
        assert backend.minimize(solver, pre, Meter(10_000_000))
        solver.pop()
        assert solver.num_scopes() == 0
        assert len(solver.assertions()) == before
        # with the goal gone, a state of three processes, all in crit, is
        # a model again (a leaked closure to two processes would forbid it)
        p = [z3.Const(f"p{i}", backend.enc.sorts["proc"]) for i in range(3)]
        solver.add(z3.Distinct(*p))
        assert solver.check() == z3.sat


def test_luby_sequence() -> None:
    from paxcheck.smt.prove import _luby
    # Luby, Sinclair and Zuckerman's sequence: each block of 2^k - 1 terms
    # is the previous block twice, then 2^(k-1)
    assert [_luby(i) for i in range(1, 32)] == [
        1, 1, 2, 1, 1, 2, 4, 1, 1, 2, 1, 1, 2, 4, 8,
        1, 1, 2, 1, 1, 2, 4, 1, 1, 2, 1, 1, 2, 4, 8, 16]


def test_a_hint_core_keeps_what_the_proof_needs_and_the_goal() -> None:
    import z3

    from paxcheck.smt.prove import _shrunk
    from paxcheck.smt.resources import Meter, isolated
    with isolated():
        x, y = z3.Bools("x y")
        p, q, r, s = (z3.Bool(f"assume!{n}") for n in "pqrs")
        solver = z3.Solver()
        # p and q together are contradictory; r and s are irrelevant
        solver.add(z3.Implies(p, x), z3.Implies(q, z3.Not(x)), z3.Implies(r, y), z3.Implies(s, y))
        meter = Meter(10_000_000)
        assert meter.check(solver, p, q, r, s) == z3.unsat
        # handed the whole set as its core: s goes, p and q are needed, and
        # r stays as the goal's own invariant
        assert _shrunk(solver, [p, q, r, s], "assume!r", meter) == {"p", "q", "r"}
        assert meter.check(solver, p, q) == z3.unsat


def test_a_disjunctive_guard_is_proved_case_by_case() -> None:
    from paxcheck.lang import ir
    from paxcheck.smt.prove import _cases
    spec = load_spec(ROOT / "specs" / "paxos.pax")
    accept = next(a for a in spec.actions if a.name == "accept")
    # accept's quorum guard: exists q. promised & (free branch | recovery branch)
    free, recovery = _cases(accept)
    guard = [i for i, st in enumerate(accept.body)
             if isinstance(st, ir.Require) and isinstance(st.cond, ir.Quant)
             and st.cond.kind == "exists"][0]
    for case in (free, recovery):
        assert case.name == accept.name and case.params == accept.params
        assert case.body[:guard] == accept.body[:guard]
        assert case.body[guard + 1:] == accept.body[guard + 1:]
        cond = case.body[guard].cond
        assert isinstance(cond, ir.Quant) and cond.kind == "exists"
        assert isinstance(cond.body, ir.And) and not isinstance(cond.body.args[1], ir.Or)
    orig = accept.body[guard].cond
    assert isinstance(orig, ir.Quant) and isinstance(orig.body, ir.And)
    branches = orig.body.args[1]
    assert isinstance(branches, ir.Or)
    assert [c.body[guard].cond.body.args[1] for c in (free, recovery)] == list(branches.args)
    # an action without a disjunctive guard is its own only case
    promise = next(a for a in spec.actions if a.name == "promise")
    assert _cases(promise) == [promise]
    # one obligation per action and property, as without cases
    res = prove(spec, only=("accept -> proposals_safe",))
    assert [(o.name, o.verdict) for o in res.obligations] == [("accept -> proposals_safe", "proved")]


def test_an_obligation_its_own_invariant_settles_is_proved_from_it_alone() -> None:
    import z3

    from paxcheck.smt.prove import _from_own
    from paxcheck.smt.resources import Meter, isolated
    with isolated():
        x = z3.Bool("x")
        assert _from_own([x, z3.Not(x)], Meter(1_000_000))
        assert _from_own([False], Meter(1_000_000))
        assert not _from_own([x], Meter(1_000_000))   # satisfiable: not a proof
        S = z3.DeclareSort("S")
        r = z3.Function("r", S, z3.BoolSort())
        y = z3.Const("y", S)
        c = z3.Const("c", S)
        # a quantified invariant instantiated by E-matching
        assert _from_own([z3.ForAll([y], r(y)), z3.Not(r(c))], Meter(1_000_000))
