"""Liveness under fairness: the language, exact verdicts and lasso lengths
on the protocol models, the engines against each other and against a
brute-force oracle (tests/support/liveness_oracle.py), every lasso
re-validated, every output format, and the command line.

Where the figures come from. TwoPhase and TCommit (3 RMs) and PaxosCommit
(2 RMs, 3 acceptors, ballots 0..1) are TLC's, from the tlaplus/Examples
manifest: distinct states 288, 34 and 1,321,761; TLC's "states generated"
(1146, 94) is our transitions + the one initial state, and its depth
counts the initial state (11, 7, 28 = ours + 1). PaxosCommit's generated
count differs (TLC enumerates each witness of an existential in an action,
we generate one successor per ground action). The lasso lengths are argued
at each test."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.errors import PaxError
from paxcheck.ground.ground import ground
from paxcheck.ground.temporal import live_set
from paxcheck.lang.typecheck import load_spec_text
from paxcheck.search.api import Checks, Limits, run
from paxcheck.traces import itf, msc
from paxcheck.traces import trace as T
from paxcheck.traces.replay import replay, validate_lasso
from support import liveness_oracle

ROOT = Path(__file__).resolve().parent.parent


def live_run(model_path: str | Path, engine: str = "fast", fairness: dict | None = None,
             max_states: int | None = None):
    model = load_model(ROOT / model_path if not Path(model_path).is_absolute() else model_path)
    g = ground(model.instances[0])
    fair = dict(model.config.fairness) if fairness is None else fairness
    live = live_set(g, model.config.liveness, fair)
    res = run(g, Limits(max_states=max_states), Checks(model.config.properties), engine=engine,
              workers=1, live=live)
    return model, g, res, fair


def lassos(res):
    return [v for v in res.violations if v.kind == "liveness"]


# ---- the language ---------------------------------------------------------------
SPEC = """sort p
ordered sort o
mutable relation d(x: p)
mutable individual k: o
init { d(X) := false
  k := * }
action a(x: p) { d(x) := true }
action b(x: p, y: o) {
  require d(x)
  k := y
}
"""


def kinds(text: str) -> list[tuple[str, tuple[str, ...]]]:
    spec = load_spec_text(SPEC + text)
    return [(t.kind, tuple(b.name for b in t.binders)) for t in spec.liveness[0].parts]


def test_liveness_formulas_normalise_to_obligations() -> None:
    assert kinds("liveness l: forall x: p. eventually d(x)") == [("eventually", ("x",))]
    assert kinds("liveness l: forall x: p. always eventually d(x)") == [("infinitely", ("x",))]
    assert kinds("liveness l: forall x: p. eventually always d(x)") == [("stable", ("x",))]
    assert kinds("liveness l: forall x: p. d(x) ~> forall y: p. d(y)") == [("leads_to", ("x",))]
    # always (P -> eventually Q) is P ~> Q; always distributes over & and forall
    assert kinds("liveness l: always forall x: p. (d(x) -> eventually d(x)) & d(x)") == \
        [("leads_to", ("x",)), ("always", ("x",))]
    assert kinds("liveness l: (eventually exists x: p. d(x)) & always (forall x: p. d(x))") == \
        [("eventually", ()), ("always", ())]


@pytest.mark.parametrize("text, message, col", [
    ("liveness l: exists x: p. eventually d(x)", "this liveness formula is not supported", 13),
    ("liveness l: forall x: p. d(x)", "a liveness property needs a temporal operator here", 26),
    ("liveness l: eventually eventually (exists x: p. d(x))",
     "temporal operator 'eventually' where a state formula is expected", 24),
    ("safety s: forall x: p. eventually d(x)",
     "temporal operator 'eventually' where a state formula is expected", 24),
    ("liveness l: forall x: p. d(x) ~> always d(x)",
     "temporal operator 'always' where a state formula is expected", 34),
    ("fairness f: weak c", "unknown action 'c' in fairness 'f'", 18),
    ("fairness f: weak a(x)", "'x' is not a variable of fairness 'f'", 18),
    ("fairness f: weak forall x: p. a(_)", "variable 'x' is never used", 25),
    ("fairness f: weak forall y: o. a(y)", "'y' has sort o, but parameter 'x' of 'a' has sort p",
     31),
    ("fairness f: strong b(_)", "action 'b' takes 2 argument(s), got 1", 20),
    ("fairness d: weak a", "fairness assumption 'd' is already declared (at line 3)", 1),
])
def test_liveness_and_fairness_errors_point_at_the_culprit(text, message, col) -> None:
    with pytest.raises(PaxError) as exc:
        load_spec_text(SPEC + text + "\n")
    assert exc.value.message == message
    assert (exc.value.span.line, exc.value.span.col) == (12, col)


# ---- the protocol stories: exact figures ------------------------------------------
def test_two_phase_commit_matches_tlc_and_every_rm_decides() -> None:
    for engine in ("fast", "python"):
        _, _, res, _ = live_run("models/two_phase_commit.toml", engine)
        assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (288, 1145, 10)
        assert res.violations == [] and res.verdict.value == "holds"


def test_two_phase_commit_blocks_when_the_coordinator_crashes() -> None:
    # The shortest lasso: the TM must not decide, every RM must leave
    # `working` (rm_works is fair) without a decision to hear, so each
    # prepares (an RM that chose to abort has decided); the TM crashes
    # (first: the breadth-first parents are in action order, tm_crash
    # before rm_prepare) and the state stutters: a stem of 4, no cycle.
    for engine in ("fast", "python"):
        model, g, res, fair = live_run("models/two_phase_commit_crash.toml", engine)
        (v,) = lassos(res)
        assert (v.property, v.binding, v.loop, len(v.steps)) == ("all_decide", (("r", "r1"),),
                                                                  4, 4)
        tr = T.from_violation(g, v)
        assert [s.action for s in tr.steps] == ["tm_crash"] + ["rm_prepare"] * 3
        last = T.state_json(g.inst, tr.steps[-1].state)
        assert last["rm_state_of"] == {"r1": "prepared", "r2": "prepared", "r3": "prepared"}
        assert last["tm"] == "crashed"
        assert validate_lasso(tr, fair).ok


def test_tcommit_matches_tlc_and_fails_without_fairness() -> None:
    _, _, res, _ = live_run("models/tcommit.toml")
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (34, 93, 6)
    assert res.violations == []
    from paxcheck.config.model import FairnessSetting
    _, _, res, _ = live_run("models/tcommit.toml", fairness={"rms": FairnessSetting("off")})
    (v,) = lassos(res)
    assert (v.loop, len(v.steps)) == (0, 0)   # the initial state stutters forever


def test_paxos_commit_survives_its_initial_leader_and_an_acceptor_crashing() -> None:
    for engine in ("fast", "python"):
        _, _, res, _ = live_run("models/paxos_commit_crash.toml", engine)
        assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (10821, 84689, 21)
        assert res.violations == []


def test_paxos_commit_blocks_only_when_every_leader_is_down(tmp_path: Path) -> None:
    # Both ballots' leaders crashed: nobody can decide. Shortest lasso: two
    # RMs prepare and the two live acceptors vote ballot 0 for both (the
    # acceptors are fair, so they must), 2 + 4 = 6 steps, then stuttering.
    text = (ROOT / "models/paxos_commit_crash.toml").read_text()
    text = text.replace('leader_crashed = { table = [["b0"]] }',
                        'leader_crashed = { table = [["b0"], ["b1"]] }')
    text = text.replace('"../specs/paxos_commit.pax"', json.dumps(str(ROOT / "specs/paxos_commit.pax")))
    (tmp_path / "m.toml").write_text(text)
    _, g, res, fair = live_run(tmp_path / "m.toml")
    (v,) = lassos(res)
    assert (v.loop, len(v.steps)) == (6, 6)
    assert validate_lasso(T.from_violation(g, v), fair).ok


@pytest.mark.slow
def test_paxos_commit_full_model_matches_tlc_and_decides() -> None:
    _, _, res, _ = live_run("models/paxos_commit.toml")
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == \
        (1321761, 16312604, 27)
    assert res.violations == []


def test_basic_paxos_chooses_under_a_stable_proposer() -> None:
    _, _, res, _ = live_run("models/paxos_live.toml")
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (7364, 31828, 18)
    assert res.violations == []


def test_basic_paxos_preempted_stable_proposer_never_chooses() -> None:
    # b0 (fair, it must) and b1 prepare, every acceptor promises b1 (3), so
    # b0 gets no promise; both values are proposed (clients are fair):
    # 2 + 3 + 2 = 7 steps, then stuttering: nothing fair is enabled.
    for engine in ("fast", "python"):
        _, g, res, fair = live_run("models/paxos_live_preempted.toml", engine)
        (v,) = lassos(res)
        assert (v.property, v.loop, len(v.steps)) == ("eventually_chosen", 7, 7)
        acts = [s.action for s in T.from_violation(g, v).steps]
        assert sorted(acts) == ["prepare", "prepare", "promise", "promise", "promise",
                                "propose", "propose"]
        last = T.state_json(g.inst, T.from_violation(g, v).steps[-1].state)
        assert last["max_bal"] == {"node0": "b1", "node1": "b1", "node2": "b1"}


def test_basic_paxos_without_a_fair_proposer_never_chooses() -> None:
    # Only the clients must act: the two proposals, then stuttering.
    _, _, res, _ = live_run("models/paxos_live_unfair.toml")
    (v,) = lassos(res)
    assert (v.loop, len(v.steps)) == (2, 2)


def test_multi_paxos_learns_under_a_stable_leader() -> None:
    _, _, res, _ = live_run("models/multi_paxos_live.toml")
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (330578, 3494750, 29)
    assert res.violations == []


def test_multi_paxos_without_a_stable_leader_learns_nothing() -> None:
    # The command is proposed; b1 sends 1a and takes all three promises
    # (acceptors are fair); b0 (the fair leader) sends its 1a, which nobody
    # can answer: 1 + 1 + 3 + 1 = 6 steps, then stuttering.
    _, g, res, fair = live_run("models/multi_paxos_live_unstable.toml")
    (v,) = lassos(res)
    assert (v.property, v.binding, v.loop, len(v.steps)) == \
        ("commands_learned", (("v", "v1"), ("l", "learner0")), 6, 6)
    assert validate_lasso(T.from_violation(g, v), fair).ok


# ---- weak vs strong fairness, and a real cycle --------------------------------
@pytest.mark.parametrize("model", ["turns.toml", "turns_strong.toml"])
def test_weak_fairness_allows_a_cycle_that_strong_fairness_forbids(model) -> None:
    for engine in ("fast", "python", "reference"):
        _, g, res, fair = live_run(ROOT / "models/examples" / model, engine)
        if model == "turns_strong.toml":
            assert res.violations == []
            continue
        # serve(p0) is enabled only every other state of the passing cycle:
        # weakly fair, never taken. Stem 0, cycle of 2 passes.
        (v,) = lassos(res)
        assert (v.property, v.loop, len(v.steps)) == ("all_served", 0, 2)
        tr = T.from_violation(g, v)
        assert [s.action for s in tr.steps] == ["pass", "pass"]
        assert tr.steps[-1].state == tr.initial
        assert validate_lasso(tr, fair).ok


# ---- the oracle, on random tiny specs -----------------------------------------
@st.composite
def tiny_live_spec(draw) -> tuple[str, str]:
    """One individual over an ordered sort of 3 or 4 values and a flag:
    random guarded moves, random properties of every kind, random weak and
    strong fairness per action or per ground instance."""
    conds = ["pc < x", "x < pc", "pc != x", "mark()", "!mark()", "true",
             "exists y: s. y < pc", "forall y: s. y <= x"]
    atoms = ["mark()", "!mark()", "exists y: s. y < pc", "forall y: s. y <= pc",
             "exists y, w: s. y < w & w < pc", "forall y: s. pc <= y"]
    acts = []
    n_act = draw(st.integers(1, 3))
    for k in range(n_act):
        guard = " | ".join(f"({c})" for c in
                           draw(st.lists(st.sampled_from(conds), min_size=1, max_size=2)))
        upd = draw(st.sampled_from(["pc := x", "pc := x\n  mark() := !mark()",
                                    "mark() := true", "mark() := false\n  pc := x"]))
        acts.append(f"action a{k}(x: s) {{\n  require (x = x) & ({guard})\n  {upd}\n}}")
    props = []
    for k in range(draw(st.integers(1, 3))):
        a, b = f"({draw(st.sampled_from(atoms))})", f"({draw(st.sampled_from(atoms))})"
        form = draw(st.sampled_from([f"eventually {a}", f"always eventually {a}",
                                     f"eventually always {a}", f"always {a}", f"{a} ~> {b}"]))
        props.append(f"liveness l{k}: {form}")
    fair = []
    for k in range(n_act):
        choice = draw(st.sampled_from(["none", "weak", "strong", "weak_each", "strong_each"]))
        if choice in ("weak", "strong"):
            fair.append(f"fairness f{k}: {choice} a{k}")
        elif choice != "none":
            fair.append(f"fairness f{k}: {choice[:-5]} forall x: s. a{k}(x)")
    init = draw(st.sampled_from(["pc := *\n  require true", "pc := *\n  require !(exists y: s. y < pc)"]))
    spec = ("ordered sort s\nmutable individual pc: s\nmutable relation mark()\n"
            f"init {{\n  {init}\n  mark() := false\n}}\n" + "\n".join(acts) + "\n"
            + "\n".join(props) + "\n" + "\n".join(fair) + "\n")
    model = f'spec = "s.pax"\n[sorts]\ns = {draw(st.sampled_from([3, 4]))}\n'
    return spec, model


def _agrees_with_oracle(tmp_path: Path, spec: str, model: str, engines: tuple[str, ...]) -> None:
    (tmp_path / "s.pax").write_text(spec)
    (tmp_path / "m.toml").write_text(model)
    m = load_model(tmp_path / "m.toml")
    expected = liveness_oracle.check(m)
    for engine in engines:
        _, g, res, fair = live_run(tmp_path / "m.toml", engine)
        got = {v.property: v for v in lassos(res)}
        assert set(got) == {p for p, x in expected.items() if x.violated}, (spec, engine)
        for name, v in got.items():
            assert v.loop == expected[name].stem, (spec, engine, name)
            assert validate_lasso(T.from_violation(g, v), fair).ok, (spec, engine, name)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=tiny_live_spec())
def test_random_tiny_specs_agree_with_the_brute_force_oracle(tmp_path_factory, case) -> None:
    _agrees_with_oracle(tmp_path_factory.mktemp("l"), *case, ("python", "fast"))


@pytest.mark.slow
@settings(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=tiny_live_spec())
def test_many_random_tiny_specs_agree_with_the_oracle(tmp_path_factory, case) -> None:
    _agrees_with_oracle(tmp_path_factory.mktemp("l"), *case, ("python", "fast", "reference"))


# ---- formats, replay and the command line ----------------------------------------------
def test_lasso_in_every_format_and_replay(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cx"
    code = main(["check", str(ROOT / "models/two_phase_commit_crash.toml"), "--emit", str(out),
                 "--no-progress"])
    assert code == 1
    text = capsys.readouterr().out
    assert ("Counterexample: liveness property 'all_decide' for r=r1 violated by a lasso: a stem "
            "of 4 steps, then stuttering forever") in text
    assert "State 4 stutters forever" in text
    data = json.loads((out / "trace.json").read_text())
    assert data["version"] == 2
    assert data["violation"] == {"kind": "liveness", "property": "all_decide", "length": 4,
                                 "loop": 4, "binding": {"r": "r1"}}
    it = json.loads((out / "trace.itf.json").read_text())
    assert it["loop"] == 4 and len(it["states"]) == 5
    assert "state 4 stutters forever" in (out / "msc.svg").read_text()
    res = replay(out / "trace.json")
    assert res.ok, res.message
    # a tampered lasso is refused: the wrong loop, the wrong binding's
    # obligation still holds here, a cycle that is not fair
    data["violation"]["loop"] = 2
    (tmp_path / "bad.json").write_text(json.dumps(data))
    bad = replay(tmp_path / "bad.json")
    assert not bad.ok and "does not close" in bad.message


def test_a_cycle_is_marked_in_text_itf_and_chart(tmp_path: Path, capsys) -> None:
    spec = (ROOT / "specs/examples/turns.pax").read_text()
    (tmp_path / "s.pax").write_text(spec)
    (tmp_path / "m.toml").write_text('spec = "s.pax"\n[sorts]\nproc = 2\n')
    out = tmp_path / "cx"
    assert main(["check", str(tmp_path / "m.toml"), "--emit", str(out), "--no-progress"]) == 1
    text = capsys.readouterr().out
    assert "State 0 (initial)   <- the cycle starts here:" in text
    assert "State 2 is state 0 again" in text
    it = json.loads((out / "trace.itf.json").read_text())
    assert it["loop"] == 0 and len(it["states"]) == 2   # the closing state is not repeated
    svg = (out / "msc.svg").read_text()
    assert "cycle: steps 1-2 repeat forever" in svg
    assert replay(out / "trace.json").ok
    # the same lasso is not fair once serving is strongly fair
    (tmp_path / "s.pax").write_text(spec.replace("fairness serving: weak",
                                                 "fairness serving: strong"))
    res = replay(out / "trace.json")
    assert not res.ok and "not fair to strong fairness 'serving[p=proc0]'" in res.message


LIVE_CX = sorted((ROOT / "counterexamples" / "liveness").iterdir())


@pytest.mark.parametrize("cx", LIVE_CX, ids=lambda p: p.name)
def test_committed_lassos_replay_and_are_reproduced_exactly(cx: Path, tmp_path, monkeypatch,
                                                           capsys) -> None:
    assert replay(cx / "trace.json").ok
    data = json.loads((cx / "trace.json").read_text())
    monkeypatch.chdir(ROOT)
    assert main(["check", data["model"], "--emit", str(tmp_path), "--no-progress"]) == 1
    for name in sorted(p.name for p in cx.iterdir()):
        assert (tmp_path / name).read_text() == (cx / name).read_text(), name


def _live_models() -> list[Path]:
    out = []
    for path in sorted((ROOT / "models").rglob("*.toml")):
        try:
            if load_model(path).config.liveness:
                out.append(path)
        except PaxError:
            pass
    return out


@pytest.mark.parametrize("path", _live_models(), ids=lambda p: p.name)
def test_every_liveness_model_gets_the_same_answer_from_each_engine(path: Path) -> None:
    """Fast against Python on every model with liveness properties whose
    graph has at most 20,000 states (the larger ones: fast only, figures
    above), and against the reference engine up to 400."""
    model, g, fast, _ = live_run(path, "fast", max_states=20_000)
    if not fast.complete and not lassos(fast):
        pytest.skip("more than 20,000 states for the Python engine")
    engines = ["python"] + (["reference"] if fast.stats.distinct <= 400 else [])
    want = [(v.property, v.binding, v.loop, v.steps, tuple(g.decode(s) for s in v.states))
            for v in lassos(fast)]
    for engine in engines:
        _, g2, res, _ = live_run(path, engine)
        assert (res.stats.distinct, res.stats.transitions) == \
            (fast.stats.distinct, fast.stats.transitions)
        got = [(v.property, v.binding, v.loop, v.steps,
                tuple(s if engine == "reference" else g2.decode(s) for s in v.states))
               for v in lassos(res)]
        assert got == want, (path.name, engine)


def test_cli_liveness_options(tmp_path: Path, capsys) -> None:
    m = str(ROOT / "models/paxos_live.toml")
    assert main(["check", m, "--no-progress", "--json"]) == 0
    assert main(["check", m, "--no-progress", "--fairness", "proposers=off"]) == 1
    captured = capsys.readouterr()
    assert "Result: VIOLATED: eventually_chosen" in captured.out
    assert main(["check", m, "--no-progress", "--no-liveness", "--fairness", "proposers=off"]) == 0
    capsys.readouterr()
    # every assumption off: the warning TLC gives too
    assert main(["check", m, "--no-progress", "--fairness", "proposers=off", "--fairness",
                 "acceptors=off", "--fairness", "clients=off"]) == 1
    assert "warning: no fairness assumption is in force" in capsys.readouterr().err
    assert main(["check", m, "--fairness", "nobody=weak"]) == 2
    assert "unknown fairness assumption 'nobody'" in capsys.readouterr().err
    assert main(["check", m, "--fairness", "proposers=sometimes"]) == 2
    assert main(["check", m, "--liveness", "nothing"]) == 2
    # symmetry would quotient the graph: a liveness property asked for by
    # name is refused with the reason; the model's default list is skipped,
    # and the output says so
    assert main(["check", m, "--symmetry", "node", "--liveness", "eventually_chosen"]) == 2
    assert "liveness is not checked under symmetry reduction" in capsys.readouterr().err
    assert main(["check", m, "--symmetry", "node", "--fairness", "proposers=off"]) == 0
    captured = capsys.readouterr()
    assert "liveness:  not checked under symmetry reduction" in captured.out
    assert "warning: liveness not checked under symmetry" in captured.err


def test_a_state_limit_stops_a_liveness_run_with_exit_3(capsys) -> None:
    code = main(["check", str(ROOT / "models/paxos_live.toml"), "--max-states", "100",
                 "--no-progress"])
    assert code == 3
    assert "Result: INCOMPLETE" in capsys.readouterr().out


@pytest.mark.parametrize("table, message", [
    ('[fairness]\nnobody = "weak"\n', "unknown fairness assumption 'nobody' (not in "),
    ('[fairness]\nproposers = "often"\n', 'fairness \'proposers\' must be "weak", "strong" or "off"'),
    ('[fairness]\nproposers = { kind = "weak", only = { n = ["b0"] } }\n',
     "fairness 'proposers' has no forall variable 'n'"),
    ('[fairness]\nproposers = { kind = "weak", only = { b = ["b9"] } }\n',
     "fairness 'proposers': 'b9' is not an element of sort ballot"),
    ('[check]\nliveness = ["soon"]\n', "unknown liveness property 'soon'"),
])
def test_bad_fairness_tables_are_reported_with_their_line(tmp_path: Path, table, message) -> None:
    text = (ROOT / "models/paxos_live.toml").read_text().split("[fairness]")[0]
    text = text.replace('"../specs/paxos.pax"', json.dumps(str(ROOT / "specs/paxos.pax")))
    (tmp_path / "m.toml").write_text(text + table)
    with pytest.raises(PaxError) as exc:
        load_model(tmp_path / "m.toml")
    assert exc.value.message.startswith(message)
    assert exc.value.span.line == text.count("\n") + 2


def test_itf_and_msc_render_a_lasso_from_the_reference_engine() -> None:
    from paxcheck.config.model import FairnessSetting
    _, g, res, fair = live_run("models/two_phase_commit_crash.toml", "reference",
                               {"rm_works": FairnessSetting("off")})
    # no RM need leave `working`: the TM crashes at once, a stem of 1
    (v,) = lassos(res)
    tr = T.from_violation(g, v)
    assert [s.action for s in tr.steps] == ["tm_crash"]
    assert itf.to_itf(tr, "s", "m")["loop"] == 1
    assert "state 1 stutters forever" in msc.to_svg(tr)
    assert validate_lasso(tr, fair).ok


@pytest.mark.parametrize("path", _live_models(), ids=lambda p: p.name)
def test_every_liveness_model_agrees_with_the_plain_implementation(path: Path) -> None:
    """Verdicts and stem lengths against liveness_oracle.check_plain (the
    textbook algorithm in networkx and Python sets) on the models within
    20,000 states; `check` itself is held to the brute force above."""
    model, _, fast, _ = live_run(path, "fast", max_states=20_000)
    if not fast.complete and not lassos(fast):
        pytest.skip("more than 20,000 states for the plain implementation")
    expected = liveness_oracle.check_plain(model)
    got = {v.property: v for v in lassos(fast)}
    assert set(got) == {p for p, x in expected.items() if x.violated}
    for name, v in got.items():
        assert v.loop == expected[name].stem, name


def test_limits_hold_in_the_liveness_phase(monkeypatch, capsys) -> None:
    """A timeout or Ctrl-C while the graph is analysed ends the run as
    incomplete (exit 3) with the search's figures, never as 'holds'."""
    from paxcheck import budget
    from paxcheck.search import liveness

    def stop(*_args, **_kw):
        raise budget.LimitReached(budget.Stop(budget.StopReason.TIMEOUT, "timeout after 1 s"),
                                  "checking liveness")
    monkeypatch.setattr(liveness, "violations", stop)
    m = str(ROOT / "models/paxos_live.toml")
    assert main(["check", m, "--no-progress"]) == 3
    out = capsys.readouterr().out
    assert "Result: INCOMPLETE (timeout after 1 s)" in out and "7,364" in out

    def interrupt(*_args, **_kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(liveness, "violations", interrupt)
    assert main(["check", m, "--no-progress", "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "incomplete" and data["instances"][0]["distinct_states"] == 7364


@pytest.mark.slow
@pytest.mark.parametrize("path", ["models/multi_paxos_live.toml",
                                  "models/multi_paxos_live_unstable.toml",
                                  "models/paxos_tla_b2.toml", "models/paxos.toml"])
def test_big_liveness_models_agree_with_the_plain_implementation(path: str) -> None:
    """The same as above on the models of up to a few hundred thousand
    states, fast and Python engines both (minutes: the slow tier)."""
    model, _, fast, _ = live_run(path, "fast")
    _, _, py, _ = live_run(path, "python")
    expected = liveness_oracle.check_plain(model, "fast")
    for res in (fast, py):
        got = {v.property: v.loop for v in lassos(res)}
        assert got == {p: x.stem for p, x in expected.items() if x.violated}


def test_graph_algorithms_compiled_and_plain_agree() -> None:
    """graphalgo's functions run compiled (numba) or as plain Python, by
    graph size: the same code, so the same results on random graphs."""
    import numpy as np

    from paxcheck.search import graphalgo
    rng = np.random.default_rng(7)
    for n in (1, 5, 40, 300):
        deg = rng.integers(0, 4, n)
        offsets = np.concatenate([[0], np.cumsum(deg)]).astype(np.int64)
        dst = rng.integers(0, n, int(offsets[-1])).astype(np.int32)
        gid = rng.integers(0, 5, len(dst)).astype(np.int16)
        alive = rng.random(n) < 0.8
        member = rng.integers(0, 2**20, (5, 1)).astype(np.int64)
        out = []
        for k in (graphalgo.compiled(), graphalgo._plain):
            comp = np.zeros(n, np.int32)
            ncomp = k.scc(offsets, dst, alive, comp)
            dist = np.full(n, -1, np.int64)
            parent = np.full(n, -1, np.int32)
            k.bfs(offsets, dst, alive, np.array([0], np.int32), np.array([0], np.int64), dist,
                  parent)
            en = np.zeros((n, 1), np.int64)
            k.enabled_bits(offsets, gid, member, en)
            sums = (np.zeros(ncomp, np.int64), np.zeros(ncomp, np.bool_),
                    np.zeros((ncomp, 1), np.int64), np.zeros((ncomp, 1), np.int64),
                    np.zeros((ncomp, 1), np.int64))
            k.summaries(offsets, dst, gid, comp, ncomp, alive, en, member, *sums)
            out.append((ncomp, comp.tolist(), dist.tolist(), parent.tolist(), en.tolist(),
                        [x.tolist() for x in sums]))
        assert out[0] == out[1]
        # a component is strongly connected and maximal: check against networkx
        import networkx as nx
        gr = nx.DiGraph()
        gr.add_nodes_from(np.flatnonzero(alive).tolist())
        gr.add_edges_from((s, int(d)) for s in range(n) for d in dst[offsets[s]:offsets[s + 1]]
                          if alive[s] and alive[d])
        want = sorted(sorted(c) for c in nx.strongly_connected_components(gr))
        comp = out[0][1]
        got = sorted(sorted(s for s in range(n) if comp[s] == c) for c in range(out[0][0]))
        assert got == want
