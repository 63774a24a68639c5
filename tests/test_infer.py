"""`paxcheck infer`: candidates mined from reachable states, Houdini for
every size, the support a proof needs, and the CLI around them."""
from __future__ import annotations

import dataclasses
import glob
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paxcheck.config.model import Model, load_model
from paxcheck.infer.houdini import houdini, support
from paxcheck.infer.infer import Settings, infer, without_invariants
from paxcheck.infer.mine import minimal_clauses
from paxcheck.infer.strengthen import strengthen
from paxcheck.lang import ir
from paxcheck.lang.show import show
from paxcheck.lang.typecheck import load_spec, load_spec_text
from paxcheck.outcome import Verdict
from paxcheck.semantics.evaluate import Evaluator
from support.interrupt import interrupted

ROOT = Path(__file__).resolve().parent.parent


# ---- printing formulas back to .pax ------------------------------------------
@pytest.mark.parametrize("spec", ["specs/paxos.pax", "specs/multi_paxos.pax",
                                  "specs/flexible_paxos.pax", "specs/two_phase_commit.pax"])
def test_show_reparses_to_the_same_formula(spec: str) -> None:
    """Every property printed and parsed again is the same IR (spans aside)."""
    s = load_spec(ROOT / spec)
    text = (ROOT / spec).read_text()
    props = [p for p in s.properties if p.inductive]
    extra = "".join(f"\n{'transition' if p.two_state else 'safety'} shown_{i}: {show(p.formula)}"
                    for i, p in enumerate(props))
    again = load_spec_text(text + extra, spec)
    for i, p in enumerate(props):
        assert again.property_map[f"shown_{i}"].formula == p.formula, p.name


# ---- mining ---------------------------------------------------------------
def test_minimal_clauses_are_exactly_the_minimal_never_falsified_ones() -> None:
    # atoms a, b, c; rows: (a b c) = 100, 010, 110, 111. Valid minimal
    # clauses: a | b (no row has both false); !c | a and !c | b (c only
    # with both). Nothing of one literal holds; the 3-literal ones that hold
    # contain one of these.
    rows = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 1, 1]], np.uint8)
    found, complete = minimal_clauses(rows, 3)
    assert complete
    # literal 2*atom+1 is the atom, 2*atom its negation
    assert sorted(found) == sorted([(1, 3), (1, 4), (3, 4)])


def test_a_clause_list_that_fills_up_says_so() -> None:
    rows = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 1, 1]], np.uint8)
    found, complete = minimal_clauses(rows, 3, limit=2)
    assert not complete and len(found) == 2


# ---- Houdini ----------------------------------------------------------------
def _mutex() -> ir.Spec:
    return load_spec(ROOT / "specs/examples/mutex.pax")


def test_houdini_drops_exactly_what_is_not_inductive() -> None:
    spec = _mutex()
    extra = load_spec_text(
        (ROOT / "specs/examples/mutex.pax").read_text()
        + "\ninvariant nobody_waits: forall p: proc. !waiting(p)"
        + "\ninvariant free_at_start: holder = none"
        + "\ninvariant crit_holds: forall p: proc. crit(p) -> holder = p", "mutex.pax")
    pool = [p for p in extra.properties if not p.two_state]
    h = houdini(extra, pool, 10_000_000)
    assert {p.name for p in h.kept} == {"mutual_exclusion", "holder_in_crit", "waiting_not_crit",
                                        "crit_holds"}
    assert h.dropped == {"nobody_waits": "not preserved by request",
                         "free_at_start": "not preserved by enter"}
    names, _ = support(extra, h.kept, ["mutual_exclusion"], 10_000_000)
    # either lock invariant proves mutual exclusion alone; the shrinking
    # keeps one of them and the goal
    assert "mutual_exclusion" in names and len(names) == 2
    assert spec.property_map["mutual_exclusion"].kind == "safety"


def _mutex_pool() -> tuple[ir.Spec, list[ir.Property], list[ir.Property]]:
    extra = load_spec_text(
        (ROOT / "specs/examples/mutex.pax").read_text()
        + "\ninvariant nobody_waits: forall p: proc. !waiting(p)"
        + "\ninvariant free_at_start: holder = none"
        + "\ninvariant crit_holds: forall p: proc. crit(p) -> holder = p", "mutex.pax")
    return (extra, [p for p in extra.properties if p.kind == "safety"],
            [p for p in extra.properties if p.kind == "invariant"])


def test_strengthening_adds_blockers_and_drops_what_nothing_blocks() -> None:
    spec, goals, pool = _mutex_pool()
    st = strengthen(spec, goals, pool, 10_000_000)
    # mutual exclusion has a CTI only with two processes (one in crit, one
    # entering a free lock). Its pre-state has a waiting process and a free
    # lock, so the smallest blocker is nobody_waits; request breaks that
    # and only free_at_start blocks the CTI, which enter breaks in turn and
    # nothing blocks: both go. Of the lock invariants the smaller
    # formula, holder_in_crit, blocks the goal's CTI and is inductive with
    # it: `prove` proves the two at the first run.
    assert [p.name for p in st.kept] == ["mutual_exclusion", "holder_in_crit"]
    assert st.dropped == {
        "nobody_waits": "not preserved by request within 2 per sort; no candidate blocks it",
        "free_at_start": "not preserved by enter within 2 per sort; no candidate blocks it"}
    assert st.failed == "" and st.rounds == 1
    assert st.proof is not None and st.proof.status == "proved"


def test_strengthening_fails_with_the_goal_cti_nothing_blocks() -> None:
    spec, goals, pool = _mutex_pool()
    weak = [p for p in pool if p.name in ("nobody_waits", "free_at_start")]
    st = strengthen(spec, goals, weak, 10_000_000)
    assert st.failed == ("no candidate blocks a counterexample to induction of "
                         "mutual_exclusion")
    assert st.cti is not None and st.cti.property == "mutual_exclusion"
    assert st.cti.action == "enter"
    # the CTI is minimal: two processes, one in crit, the other waiting to
    # enter while the lock is free (free_at_start, still chosen, holds)
    assert st.cti.instance.size("proc") == 2
    ev = Evaluator(st.cti.instance)
    assert ev.eval(spec.property_map["free_at_start"].formula, {}, st.cti.pre)
    assert not ev.eval(goals[0].formula, {}, st.cti.post, pre=st.cti.pre)
    assert [p.name for p in st.kept] == ["mutual_exclusion", "free_at_start"]


def test_an_undecided_obligation_is_asked_again_once_no_cti_is_left(monkeypatch) -> None:
    """For every size only (no bounded levels): the first `prove` round
    finds the goal's CTI; make its initiation obligation come back
    undecided in that round. It is not asked while CTIs are being blocked
    (it would spend its whole budget each time), and is asked once more
    when a round has no CTI, under the members as they are then: proved,
    so nothing is dropped for it and the search proves."""
    from paxcheck.infer import strengthen as S
    from paxcheck.smt.prove import prove as real_prove
    asked: list[tuple[str, ...]] = []

    def prove(spec, **kw):
        asked.append(tuple(kw["only"]))
        res = real_prove(spec, **kw)
        if len(asked) == 1:
            for ob in res.obligations:
                if ob.name == "init -> mutual_exclusion":
                    ob.verdict, ob.reason = "unknown", "made undecided by the test"
        return res

    monkeypatch.setattr(S, "LEVELS", ())
    monkeypatch.setattr(S, "prove", prove)
    spec, goals, pool = _mutex_pool()
    st = strengthen(spec, goals, pool, 10_000_000)
    assert st.failed == "" and st.proof is not None and st.proof.status == "proved"
    target = "init -> mutual_exclusion"
    # asked in the first round, then not while the CTIs of the next rounds
    # were blocked (the blockers of the other strengthening test, the two
    # that go and holder_in_crit), then alone in the last round
    assert [i for i, only in enumerate(asked) if target in only] == [0, len(asked) - 1]
    assert asked[-1] == (target,) and len(asked) > 3
    assert [p.name for p in st.kept] == ["mutual_exclusion", "holder_in_crit"]
    assert st.dropped == {"nobody_waits": "not preserved by request; no candidate blocks it",
                          "free_at_start": "not preserved by enter; no candidate blocks it"}
    assert st.rounds == len(asked)



def test_an_undecided_obligation_gets_its_cti_from_a_bounded_universe(monkeypatch) -> None:
    """For every size only, with every CTI `prove` finds turned into an
    undecided verdict (as Z3 leaves a query with an existential member):
    the CTIs then come from the bounded universes asked of undecided
    obligations, and the search ends where the bounded levels end (the
    first strengthening test), with the bound named in what was dropped."""
    from paxcheck.infer import strengthen as S
    from paxcheck.smt.prove import prove as real_prove
    rounds = 0

    def prove(spec, **kw):
        nonlocal rounds
        rounds += 1
        res = real_prove(spec, **kw)
        for ob in res.obligations:
            if ob.verdict == "cti":
                ob.verdict, ob.reason, ob.cti = "unknown", "made undecided by the test", None
        return res

    monkeypatch.setattr(S, "LEVELS", ())
    monkeypatch.setattr(S, "DEEPER", 2)
    monkeypatch.setattr(S, "prove", prove)
    spec, goals, pool = _mutex_pool()
    st = strengthen(spec, goals, pool, 10_000_000)
    assert st.failed == "" and st.proof is not None and st.proof.status == "proved"
    assert [p.name for p in st.kept] == ["mutual_exclusion", "holder_in_crit"]
    assert st.dropped == {
        "nobody_waits": "not preserved by request within 2 per sort; no candidate blocks it",
        "free_at_start": "not preserved by enter within 2 per sort; no candidate blocks it"}
    assert st.rounds == rounds


def test_an_undecided_obligation_without_a_bounded_cti_is_dropped(monkeypatch) -> None:
    """An obligation made undecided that is in fact preserved has no CTI
    within the bounds either (2 per sort, then each sort in turn at 3, the
    ordered ones first): its member goes, as in Houdini."""
    from paxcheck.infer import strengthen as S
    from paxcheck.smt.prove import prove as real_prove

    def prove(spec, **kw):
        res = real_prove(spec, **kw)
        for ob in res.obligations:
            if ob.name == "enter -> holder_in_crit":
                ob.verdict, ob.reason = "unknown", "made undecided by the test"
        return res

    monkeypatch.setattr(S, "DEEPER", 2)
    monkeypatch.setattr(S, "prove", prove)
    asked: list[tuple[str, str, dict[str, int]]] = []
    real_cti = S._Search._ground_cti

    def ground_cti(self, c, action, sizes):
        asked.append((c.name, action.name, sizes))
        return real_cti(self, c, action, sizes)

    monkeypatch.setattr(S._Search, "_ground_cti", ground_cti)
    spec, goals, pool = _mutex_pool()
    st = strengthen(spec, goals, pool, 10_000_000)
    assert st.dropped["holder_in_crit"] == "not shown preserved within the Z3 budget"
    # the one undecided obligation, on the deeper ground instances
    assert asked == [("holder_in_crit", "enter", {"proc": 2}),
                     ("holder_in_crit", "enter", {"proc": 3})]



def test_the_deeper_bounds_grow_one_sort_at_a_time_ordered_sorts_first() -> None:
    from paxcheck.infer import strengthen as S
    bounds = S.deeper_bounds(load_spec(ROOT / "specs/paxos.pax"))
    three = {"node": 3, "value": 3, "quorum": 3, "ballot": 3}
    assert bounds == [three] + [{**three, s: 4} for s in ("ballot", "node", "value", "quorum")]
    assert [S._within(b) for b in bounds[:2]] == ["3 per sort", "ballot=4, 3 per other sort"]


# ---- whole runs -------------------------------------------------------------
def _run(model: str, **kw) -> object:
    m = load_model(ROOT / model)
    return infer(m.spec, [m], Settings(given=False, **kw))


def test_mutex_from_its_safety_property_alone() -> None:
    res = _run("models/examples/mutex.toml")
    assert res.verdict is Verdict.PROVED
    # 3 processes, one lock: 20 reachable states (models/examples/mutex.toml)
    assert res.states == 20
    assert res.text == "invariant holder_crit: forall p: proc. crit(p) -> holder = p\n"
    assert res.proof is not None and res.proof.status == "proved"
    # the completed spec proves, from its text
    again = load_spec_text(res.completed, "mutex.pax")
    assert "holder_crit" in again.property_map
    assert "holder_in_crit" not in again.property_map


def test_lockserv_from_mypyvy_without_its_invariants() -> None:
    res = _run("models/mypyvy/lockserv.toml")
    assert res.verdict is Verdict.PROVED
    # mypyvy's own proof uses the same eight facts: no two of the lock, a
    # grant, an unlock message at once, and none while the server holds it
    assert len(res.invariants) == 8
    assert "forall n1, n2: node. grant_msg(n1) & grant_msg(n2) -> n1 = n2" in res.text


@pytest.mark.slow   # about ten minutes on two cores (benchmarks/bench_infer.py)
def test_paxos_from_its_safety_properties_alone() -> None:
    res = _run("models/paxos.toml")
    assert res.verdict is Verdict.PROVED, res.reason
    assert res.proof is not None and res.proof.status == "proved"
    # agreement needs what proposals_safe says: of every quorum, some
    # member has promised past a lower ballot without voting in it
    assert any("exists n: node." in show(p.formula) and "member(n, q)" in show(p.formula)
               for p in res.invariants)
    # and that no vote lies between a promise's reported vote and its
    # ballot, which only a CTI with four ballots asks for
    assert ("forall n: node, b1, b2, b3: ballot, v1: value?, v2: value. "
            "!(b1 < b2 & b3 < b1 & one_b(n, b2, b3, v1) & two_b(n, b1, v2))") in res.text
    again = load_spec_text(res.completed, "paxos.pax")
    assert {p.name for p in res.invariants} <= set(again.property_map)


def test_a_model_larger_than_model_states_is_read_from_its_first_states() -> None:
    """A model is explored up to `model_states` states, breadth first, and
    says so: 12 of mutex's 20 states are read (every one reachable, so
    the candidates mined are still facts of reachable states, and the
    invariant is proved all the same)."""
    m = load_model(ROOT / "models/examples/mutex.toml")
    said: list[str] = []
    res = infer(m.spec, [m], Settings(given=False, model_states=12), say=said.append)
    assert res.states == 12
    assert "read the first 12 states of proc=3, breadth first" in said
    assert res.verdict is Verdict.PROVED


def test_mining_on_two_workers_gives_one_worker_candidates(tmp_path: Path) -> None:
    """Templates mined on forked workers come back in template order: the
    same candidates, names, order and counts as one process, on a spec
    with existential (quorum) templates as well as universal ones."""
    from paxcheck.budget import Limits
    from paxcheck.infer.infer import Inference, mine_candidates
    from paxcheck.infer.samples import explore
    m = _paxos_model(tmp_path, nodes=2, ballots=2)
    spec = load_spec_text(without_invariants(Path(m.spec.file).read_text(), m.spec), m.spec.file)
    ex = explore(dataclasses.replace(m.instances[0], spec=spec), (), Limits())
    assert ex.sample is not None
    runs = []
    for workers in (1, 2):
        out = Inference(spec)
        found = mine_candidates(spec, [ex.sample], Settings(max_vars=3, workers=workers), out)
        runs.append(([(p.name, show(p.formula)) for p in found], out.templates, out.mined))
    assert runs[0] == runs[1]
    names, templates, mined = runs[0]
    assert templates > 10 and len(names) > 50 and mined >= len(names)
    assert any("exists" in text for _, text in names)


def test_candidates_are_never_named_as_the_specs_own_invariants() -> None:
    """Strengthening and support tell candidates from the spec's
    invariants by name: a spec invariant called `c1` or `c3` is not
    shadowed by a mined candidate of that name."""
    from paxcheck.budget import Limits
    from paxcheck.infer.infer import Inference, mine_candidates
    from paxcheck.infer.samples import explore
    spec = load_spec_text(
        (ROOT / "specs/examples/mutex.pax").read_text()
        + "\ninvariant c1: forall p: proc. crit(p) -> holder = p"
        + "\ninvariant c3: forall p: proc. !(waiting(p) & crit(p))", "mutex.pax")
    m = load_model(ROOT / "models/examples/mutex.toml")
    ex = explore(dataclasses.replace(m.instances[0], spec=spec), (), Limits())
    assert ex.sample is not None
    found = mine_candidates(spec, [ex.sample], Settings(max_vars=2, workers=1), Inference(spec))
    names = [p.name for p in found]
    assert len(names) >= 3 and len(set(names)) == len(names)
    assert names[:3] == ["c2", "c4", "c5"]


def test_without_invariants_cuts_each_declaration_whole() -> None:
    spec = load_spec(ROOT / "specs/paxos.pax")
    text = without_invariants((ROOT / "specs/paxos.pax").read_text(), spec)
    again = load_spec_text(text, "paxos.pax")
    assert [p.kind for p in again.properties if p.kind == "invariant"] == []
    assert [p.name for p in again.properties] == [p.name for p in spec.properties
                                                  if p.kind != "invariant"]


# mixed ballots' violation needs a search of minutes (it is slow in the
# catalogue too)
BROKEN = [pytest.param(p, marks=pytest.mark.slow) if "mixed_ballots" in p else p
          for p in sorted(glob.glob(str(ROOT / "models/broken/*.toml")))]


@pytest.mark.parametrize("model", BROKEN, ids=lambda p: Path(str(p)).stem)
def test_a_broken_spec_gets_its_violation_never_an_invariant(model: str) -> None:
    m = load_model(model)
    res = infer(m.spec, [m], Settings(given=False))
    assert res.verdict is Verdict.VIOLATED
    assert res.violation is not None and res.invariants == []
    assert res.violation.property in {p.name for p in m.spec.properties}


# ---- the command ---------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paxcheck", "infer", *args], cwd=ROOT,
                          capture_output=True, text=True)


def test_cli_proves_writes_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "mutex_inferred.pax"
    r = _cli("specs/examples/mutex.pax", "--ignore-invariants", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "PROVED for every size with 1 auxiliary invariant:" in r.stdout
    assert "invariant holder_crit: forall p: proc. crit(p) -> holder = p" in out.read_text()
    p = subprocess.run([sys.executable, "-m", "paxcheck", "prove", str(out)], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout


def test_cli_violation_exits_1_and_bad_input_2() -> None:
    r = _cli("specs/examples/mutex_broken.pax")
    assert r.returncode == 1
    assert "VIOLATED: mutual_exclusion is violated on proc=3" in r.stdout
    r = _cli("specs/examples/mutex.pax", "--model", "models/paxos.toml")
    assert r.returncode == 2
    assert "sorts or immutable symbols differ" in r.stderr and "Traceback" not in r.stderr


# ---- existential candidates ------------------------------------------------
def test_guards_come_from_quorum_intersection_axioms() -> None:
    from paxcheck.infer.atoms import Guard, guards
    assert guards(load_spec(ROOT / "specs/paxos.pax")) == [Guard("member", 0, "node", "quorum")]
    assert guards(load_spec(ROOT / "specs/flexible_paxos.pax")) == [
        Guard("member1", 0, "acceptor", "quorum1"), Guard("member2", 0, "acceptor", "quorum2")]
    assert guards(_mutex()) == []


def test_a_set_sort_variable_is_only_ever_a_guards() -> None:
    """Quorum sorts (no mutable symbol mentions them) get a template
    variable only as a guard's. Flexible Paxos mines with at most 2
    acceptors, 2 values and 3 ballots, 5 variables in all: 3 * 3 * 4 = 36
    universal templates less the 4 of more than 5 variables ((2, 2, 2),
    (2, 2, 3), (2, 1, 3), (1, 2, 3)) is 32; per guard, its quorum and no
    acceptor, 3 * 4 value and ballot counts less (2, 3) is 11; 32 + 2 * 11
    = 54. Paxos, with one quorum sort: 32 + 11 = 43."""
    from paxcheck.infer import candidates as C
    flex = load_spec(ROOT / "specs/flexible_paxos.pax")
    assert C.set_sorts(flex) == {"quorum1", "quorum2"}
    runs = C.runs(flex, Settings().max_vars)
    assert len(runs) == 54
    for tmpl, guard in runs:
        sets = {s: n for s, n in tmpl.counts().items() if s in ("quorum1", "quorum2")}
        assert sets == ({} if guard is None else {guard.zsort: 1})
    paxos = load_spec(ROOT / "specs/paxos.pax")
    assert C.set_sorts(paxos) == {"quorum"} and len(C.runs(paxos, Settings().max_vars)) == 43
    assert C.set_sorts(_mutex()) == frozenset()


def test_the_wider_instance_and_its_deepest_states() -> None:
    from paxcheck.budget import Limits
    from paxcheck.infer.samples import explore, widened
    m = load_model(ROOT / "models/paxos.toml")
    wide = widened(m.path, m.instances[0], ["node"])
    # five nodes: "majority" quorums are the 3-of-5 subsets, C(5,3) = 10
    assert wide is not None and wide.describe() == "node=5 value=2 ballot=3 quorum=10"
    full = explore(m.instances[0], (), Limits(max_states=500))
    last = explore(m.instances[0], (), Limits(max_states=500), keep=100)
    assert full.sample is not None and last.sample is not None
    assert (full.sample.count, last.sample.count) == (500, 100)
    # breadth first: the last 100 states found, in order
    for name, arr in full.sample.arrays.items():
        if name in last.sample.inst.spec.symbol_map and \
                last.sample.inst.spec.symbol_map[name].mutable:
            assert np.array_equal(arr[400:], last.sample.arrays[name])


def test_a_widened_subset_quorum_system_still_intersects() -> None:
    """Flexible Paxos' 3-of-4 phase-1 and 2-of-4 phase-2 quorums, widened
    by two acceptors, become 4-of-6 (C(6,4) = 15) and 3-of-6 (C(6,3) =
    20): 4 + 3 > 6, so every phase-1 quorum still meets every phase-2 one
    (3-of-6 and 2-of-6 would not, and the model would be refused), and
    the instance satisfies the spec's axiom. With one acceptor too few of
    them make facts true, such as "at most one acceptor has promised
    nothing once a 2a is sent", which no larger size keeps."""
    from paxcheck.infer.samples import widened
    m = load_model(ROOT / "models/flexible_paxos.toml")
    wide = widened(m.path, m.instances[0], ["acceptor"])
    assert wide is not None
    assert wide.describe() == "acceptor=6 value=2 ballot=2 quorum1=15 quorum2=20"
    member1, member2 = wide.interp["member1"], wide.interp["member2"]
    q1 = [{a for a, q in member1 if q == k} for k in range(15)]
    q2 = [{a for a, q in member2 if q == k} for k in range(20)]
    assert {len(q) for q in q1} == {4} and {len(q) for q in q2} == {3}
    assert all(a & b for a in q1 for b in q2)


def test_the_wider_instances_refute_what_few_nodes_or_few_ballots_make_true() -> None:
    """Two wider instances: two more nodes (the sort the quorum axiom
    quantifies), and apart two more ballots (the ordered sort). With three
    ballots no ballot lies between two others and a third, so the samples
    cannot refute `junk`; five ballots do, within the first states."""
    from paxcheck.infer.infer import Inference, _wide_samples
    from paxcheck.infer.vector import everywhere
    m = load_model(ROOT / "models/paxos.toml")
    spec = m.spec
    checked = tuple(p.name for p in spec.properties if p.kind in ("safety", "transition"))
    wide = _wide_samples(spec, [(m.path, m.instances[0])], checked,
                         Settings(wide_states=20_000, wide_keep=5_000), Inference(spec),
                         lambda _: None)
    assert [(s.inst.describe(), s.count) for s in wide] == [
        ("node=5 value=2 ballot=3 quorum=10", 5_000), ("node=3 value=2 ballot=5 quorum=3", 5_000)]
    text = (ROOT / "specs/paxos.pax").read_text() + (
        "\ninvariant junk: forall n: node, b1, b2, b3: ballot. "
        "!(b1 < b2 & max_bal(n) < b1 & b3 < max_bal(n))\n")
    junk = load_spec_text(text, "paxos.pax").property_map["junk"]
    assert [everywhere(junk.formula, s) for s in wide] == [True, False]


def _paxos_model(tmp_path: Path, nodes: int = 3, ballots: int = 2) -> Model:
    """Basic Paxos with majority quorums, 2 values, and these sizes."""
    model = tmp_path / f"paxos_n{nodes}_b{ballots}.toml"
    model.write_text(f'spec = "{ROOT / "specs/paxos.pax"}"\n[sorts]\nnode = {nodes}\n'
                     f'value = 2\nballot = {ballots}\n[immutable]\nmember = "majority"\n')
    return load_model(model)


def test_paxos_proposals_safe_is_mined_from_two_ballots(tmp_path: Path) -> None:
    """The heart of Paxos' proof, an existential invariant: every quorum has
    a member that moved past ballot b2 without voting v2 there, once a
    higher ballot proposed another value. Two ballots show it."""
    from paxcheck.budget import Limits
    from paxcheck.infer.atoms import Template, guards
    from paxcheck.infer.candidates import mine_exists
    from paxcheck.infer.samples import explore
    m = _paxos_model(tmp_path)
    ex = explore(m.instances[0], (), Limits())
    assert ex.sample is not None
    tmpl = Template.of(m.spec, {"ballot": 2, "value": 2, "quorum": 1})
    mined = mine_exists(m.spec, [ex.sample], tmpl, guards(m.spec)[0], 3, None)
    texts = {show(c.formula()) for c in mined.kept}
    assert ("forall v1, v2: value, q: quorum, b1, b2: ballot. two_a(b1, v1) & b2 < b1 -> "
            "v1 = v2 | (exists n: node. !two_b(n, b2, v2) & b2 < max_bal(n) & member(n, q))"
            in texts)


def test_a_promise_reports_the_last_vote_mined_with_projections(tmp_path: Path) -> None:
    """Paxos' "no vote between a promise's reported ballot and its own"
    needs four literals and, spelt with every argument, six variables; with
    projections (`one_b(n, b, mb, _)`) it is a clause of four variables.
    Every clause mined holds on every state (vectorized truth of its
    printed formula), a projection is only ever a premise, so every
    candidate is universal, and without projections the fact is not
    found."""
    from paxcheck.budget import Limits
    from paxcheck.infer import candidates as C
    from paxcheck.infer.atoms import Template, atoms, is_projection
    from paxcheck.infer.samples import explore
    from paxcheck.infer.vector import holds
    from paxcheck.lang.walk import subexprs
    m = _paxos_model(tmp_path, ballots=3)
    ex = explore(m.instances[0], (), Limits())
    assert ex.sample is not None
    # mined from 20,000 states evenly spaced, each clause checked on 1,000
    # others (every state is quick for the mining, slow for 1,700 clauses
    # of up to seven variables)
    from paxcheck.infer.mine import _sub
    other = _sub(ex.sample, np.arange(7, ex.sample.count, ex.sample.count // 1_000))
    tmpl = Template.of(m.spec, {"node": 1, "ballot": 3})
    projected = [a for a in atoms(m.spec, tmpl, projections=True) if is_projection(a.formula)]
    assert "exists one_b_3: value?. one_b(n, b1, b2, one_b_3)" in {a.key for a in projected}
    mined = C.mine(m.spec, [ex.sample], tmpl, 4, 20_000)
    texts = {show(c.formula()) for c in mined.kept}
    fact = ("forall n: node, b1, b2, b3: ballot, v1: value?, v2: value. "
            "!(b1 < b2 & b3 < b1 & one_b(n, b2, b3, v1) & two_b(n, b1, v2))")
    assert fact in texts
    for c in mined.kept:
        f = c.formula()
        assert not any(isinstance(x, ir.Quant) and x.kind == "exists" for x in subexprs(f))
        assert holds(f, other).all(), show(f)
    monkeypatch_free = C.atoms
    try:
        C.atoms = lambda spec, t, projections=False: monkeypatch_free(spec, t)  # type: ignore
        plain = {show(c.formula()) for c in C.mine(m.spec, [ex.sample], tmpl, 4, 20_000).kept}
    finally:
        C.atoms = monkeypatch_free  # type: ignore
    assert fact not in plain and len(plain) < len(texts)


def test_existential_mining_over_instances_of_different_sizes(tmp_path: Path) -> None:
    """Samples with 3 and 4 nodes (the existential's sort) derive their
    atoms apart and are mined together: proposals_safe is still found, and
    every candidate holds on every state of both."""
    from paxcheck.budget import Limits
    from paxcheck.infer.atoms import Template, guards
    from paxcheck.infer.candidates import mine_exists
    from paxcheck.infer.samples import explore
    from paxcheck.infer.vector import holds
    smps = []
    for n in (3, 4):
        m = _paxos_model(tmp_path, nodes=n)
        ex = explore(m.instances[0], (), Limits(max_states=3_000))
        assert ex.sample is not None
        smps.append(ex.sample)
    assert [s.sizes["node"] for s in smps] == [3, 4]
    tmpl = Template.of(m.spec, {"ballot": 2, "value": 2, "quorum": 1})
    mined = mine_exists(m.spec, smps, tmpl, guards(m.spec)[0], 3, None)
    texts = {show(c.formula()) for c in mined.kept}
    assert ("forall v1, v2: value, q: quorum, b1, b2: ballot. two_a(b1, v1) & b2 < b1 -> "
            "v1 = v2 | (exists n: node. !two_b(n, b2, v2) & b2 < max_bal(n) & member(n, q))"
            in texts)
    for c in mined.kept:
        assert all(holds(c.formula(), smp).all() for smp in smps), show(c.formula())


def test_existential_mining_in_blocks_is_mining_at_once(tmp_path: Path, monkeypatch) -> None:
    """The derived atoms are found a block of cubes at a time and the rows
    deduplicated chunk by chunk, to bound memory: with blocks of 5 cubes
    and chunks of a few states the clauses are exactly those of one block
    and one chunk."""
    from paxcheck.budget import Limits
    from paxcheck.infer import mine as M
    from paxcheck.infer.atoms import Grid, Template, TVar, guards
    from paxcheck.infer.candidates import mine_exists
    from paxcheck.infer.samples import explore
    m = load_model(ROOT / "models/paxos_live.toml")
    ex = explore(m.instances[0], (), Limits())
    assert ex.sample is not None
    tmpl = Template.of(m.spec, {"ballot": 2, "value": 2, "quorum": 1})

    def mined() -> tuple[int, set[str]]:
        r = mine_exists(m.spec, [ex.sample], tmpl, guards(m.spec)[0], 3, None)
        return r.rows, {show(c.formula()) for c in r.kept}

    whole = mined()
    monkeypatch.setattr(M, "_CUBE_BLOCK", 5)
    monkeypatch.setattr(M, "_CHUNK_ROWS", 64 * Grid(Template(tmpl.vars + (TVar("n", "node"),)),
                                                    ex.sample.sizes).size)
    assert mined() == whole
    assert len(whole[1]) > 10


def test_literal_bits_across_atom_blocks() -> None:
    """Bit sets packed a block of atoms at a time, with more atoms than a
    block and rows not a multiple of 64: bit r of literal 2a+1 is row r's
    atom a, of 2a its negation, and no bit past the last row is set."""
    from paxcheck.infer.mine import literal_bits
    rng = np.random.default_rng(7)
    rows = rng.integers(0, 2, size=(70, 1030), dtype=np.uint8)
    bits = literal_bits(rows)
    unpacked = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little")
    assert unpacked.shape == (2 * 1030, 128)
    assert (unpacked[1::2, :70] == rows.T).all()
    assert (unpacked[0::2, :70] == 1 - rows.T).all()
    assert not unpacked[:, 70:].any()


# ---- vectorized evaluation --------------------------------------------------
def test_vectorized_truth_equals_the_reference_evaluator_state_by_state(tmp_path,
                                                                       monkeypatch) -> None:
    """Every property of Paxos (quantifiers, definitions, options, order)
    and a set of formulas false on some states, on every reachable state
    of a 2-ballot instance: `holds` gives what the reference evaluator
    gives, state by state, and `everywhere` (which stops at the first
    block with a false) whether it gives it on all of them, also with
    blocks of a few states."""

    from paxcheck.budget import Limits
    from paxcheck.ground.ground import ground
    from paxcheck.infer import vector
    from paxcheck.infer.samples import _Collect, decode
    from paxcheck.infer.vector import everywhere, holds
    from paxcheck.search.api import Checks, run
    from paxcheck.semantics.evaluate import Evaluator
    text = (ROOT / "specs/paxos.pax").read_text() + "".join(
        f"\ninvariant probe{i}: {f}" for i, f in enumerate([
            "forall n: node. max_bal(n) = none",
            "exists b: ballot. forall n: node. max_bal(n) <= b & b != none",
            "forall n: node, b: ballot?. max_vbal(n) < b | b <= max_vbal(n) -> max_val(n) != none",
            "forall v: value. chosen(v) <-> proposed(v)",
            "exists b: ballot, n: node, q: quorum. member(n, q) & one_b(n, b, none, none)",
        ]))
    spec = load_spec_text(text, "paxos.pax")
    (inst,) = _paxos_model(tmp_path).instances
    inst = dataclasses.replace(inst, spec=spec)
    g = ground(inst)
    col = _Collect()
    run(g, Limits(), Checks(properties=()), engine="fast", visitor=col)
    smp = decode(g, col.states)
    ev = Evaluator(inst)
    # the reference evaluator on every third state: thousands of states, seconds
    picked = np.arange(0, smp.count, 3)
    states = [g.decode(col.states[i]) for i in picked]
    props = [p for p in spec.properties if not p.two_state and p.kind != "sometimes"]
    assert len(props) == 18    # 2 safety, 11 auxiliary, 5 probes
    falsified = 0
    for p in props:
        want = np.array([bool(ev.eval(p.formula, {}, s)) for s in states])
        truth = holds(p.formula, smp)
        assert (truth[picked] == want).all(), p.name
        assert everywhere(p.formula, smp) == bool(truth.all()), p.name
        with monkeypatch.context() as mp:
            mp.setattr(vector, "_CHUNK", 1 << 12)
            assert everywhere(p.formula, smp) == bool(truth.all()), p.name
        falsified += int(not want.all())
    assert falsified >= 4     # the probes discriminate


def test_ctrl_c_ends_inference_undecided_saying_where(tmp_path) -> None:
    """Interrupted once mining is under way (its first progress line),
    infer exits 3 and says which stage it stopped in, with the figures of
    the stages it finished."""
    import json
    code, out, err = interrupted([
        "infer", str(ROOT / "specs/paxos.pax"), "--ignore-invariants", "--json"],
        when="mining template")
    assert code == 3, err
    data = json.loads(out)
    assert data["verdict"] == "unknown"
    assert data["reason"] == "interrupted while mining candidates"
    # explored whole first: models/paxos.toml's instance (3 ballots, 323,940
    # states) and the liveness models' 2-ballot one (7,364; the three share it)
    assert data["states"] == 323_940 + 7_364


class _DyingJob:
    """Three templates; the worker given the second is killed, as the
    system kills one that runs out of memory."""
    runs = [0, 1, 2]

    def cost(self, i: int) -> int:
        return i

    def one(self, i: int) -> tuple[int, list[ir.Expr]]:
        import os
        if i == 1:
            os._exit(9)
        return 0, []


def test_a_killed_mining_worker_ends_the_run_and_is_reported() -> None:
    """multiprocessing.Pool replaces a killed worker and loses its job:
    waiting for that template's result would never end (a 3-ballot
    Flexible Paxos mining worker was killed out of memory and the run
    hung with idle workers). The loss is noticed and reported."""
    from paxcheck.infer.infer import _mine_all
    from paxcheck.parallel import WorkerLost
    with pytest.raises(WorkerLost, match="mining worker was killed"):
        list(_mine_all(_DyingJob(), 2, lambda _: None))  # type: ignore[arg-type]
