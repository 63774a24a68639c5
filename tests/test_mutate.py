"""Mutation testing on a tiny hand-made spec: the exact mutants, and a kill
table checked by hand."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.lang.typecheck import load_spec, load_spec_text
from paxcheck.tools import mutate as M

ROOT = Path(__file__).resolve().parent.parent

# A token passed between two nodes, with a log of who ever held it.
TOKEN = """\
sort node
mutable relation token(n: node)
mutable relation log(n: node)
init {
  token(N) := false
  log(N) := false
}
action grab(n: node) {
  require forall m: node. !token(m)
  token(n) := true
  log(n) := true
}
action release(n: node) {
  require token(n)
  token(n) := false
}
safety mutex: forall a, b: node. token(a) & token(b) -> a = b
safety logged: forall n: node. token(n) -> log(n)
"""

# (id, operator, action, line, description)
MUTANTS = [
    (1, "drop-require", "grab", 9, "drop `require forall m: node. !token(m)`"),
    (2, "swap-quant", "grab", 9, "`forall` -> `exists` in `forall m: node. !token(m)`"),
    (3, "negate", "grab", 9, "`!token(m)` -> `token(m)`"),
    (4, "replace-var", "grab", 9, "`m` -> `n` in `token(m)`"),
    (5, "drop-update", "grab", 10, "drop `token(n) := true`"),
    (6, "rhs-const", "grab", 10, "`token(n) := true` with right-hand side `false`"),
    (7, "drop-update", "grab", 11, "drop `log(n) := true`"),
    (8, "rhs-const", "grab", 11, "`log(n) := true` with right-hand side `false`"),
    (9, "drop-require", "release", 14, "drop `require token(n)`"),
    (10, "negate", "release", 14, "`token(n)` -> `!token(n)`"),
    (11, "drop-update", "release", 15, "drop `token(n) := false`"),
    (12, "rhs-const", "release", 15, "`token(n) := false` with right-hand side `true`"),
]

# Checked by hand on node = 2. The original's states (token, log):
# A (-, {}), B (0, {0}), C (1, {1}), D (-, {0}), E (-, {1}), F (1, {0,1}),
# G (0, {0,1}), H (-, {0,1}); its 12 steps: A->B A->C B->D C->E D->B D->F
# E->C E->G F->H G->H H->F H->G.
#  1  grab anytime: node0 then node1 grab                     -> mutex, 2 steps
#  2  grab when some node is free: the same                    -> mutex, 2 steps
#  3  grab needs every node to hold the token: never enabled;
#     only A, whose 2 steps are lost                           -> killed: grab never fires
#  4  `forall _m. !token(n)`: grab when n itself is free      -> mutex, 2 steps
#  5, 6  grab only logs: A->D A->E D->H E->H; no node ever holds
#     the token, so release never fires                       -> killed: release never fires
#  7, 8  the holder is not logged                              -> logged, 1 step
#  9  release when not holding: only steps that change nothing -> survives, equivalent
# 10  release only when not holding: the token is never freed:
#     A B C, losing the steps B->D C->E                       -> survives, does less
# 11, 12  release changes nothing: the same                    -> survive, do less
# (10, 11 and 12 still fire release, in steps that change nothing.)
KILLS = {1: ("mutex", 2), 2: ("mutex", 2), 4: ("mutex", 2), 7: ("logged", 1),
         8: ("logged", 1), 3: ("grab", None), 5: ("release", None), 6: ("release", None)}
# id: (states, behaviour, new states, new steps, lost states, lost steps)
SURVIVORS = {9: (8, "equivalent", 0, 0, 0, 0),
             10: (3, "does-less", 0, 0, 5, 2), 11: (3, "does-less", 0, 0, 5, 2),
             12: (3, "does-less", 0, 0, 5, 2)}


@pytest.fixture
def model(tmp_path: Path) -> Path:
    (tmp_path / "tok.pax").write_text(TOKEN)
    (tmp_path / "tok.toml").write_text('spec = "tok.pax"\n[sorts]\nnode = 2\n')
    return tmp_path / "tok.toml"


def test_exact_mutants():
    spec = load_spec_text(TOKEN, "tok.pax")
    mutants = M.generate(spec, TOKEN)
    assert [(m.id, m.operator, m.action, m.line, m.description) for m in mutants] == MUTANTS
    assert all(m.skipped is None for m in mutants)
    by_id = {m.id: m for m in mutants}
    # the edit is local: the rest of the file is byte-identical
    assert by_id[4].text == TOKEN.replace("forall m: node. !token(m)", "forall _m: node. !token(n)")
    assert by_id[4].renamed == ("m",)  # left unused by the change
    assert by_id[9].text == TOKEN.replace("  require token(n)\n", "")
    assert by_id[6].text == TOKEN.replace("token(n) := true", "token(n) := false")


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_table(model, tmp_path, workers):
    report = M.run_mutants(tmp_path / "tok.pax", model, M.Budget(1000, 30), workers=workers)
    assert report.original.status == "survived"
    assert (report.original.states, report.original.transitions) == (8, 12)
    kills = {i: (r.property, r.length) for i, r in report.results.items() if r.status == "killed"}
    assert kills == KILLS
    survivors = {i: (r.states, r.behaviour, r.new_states, r.new_steps, r.lost_states,
                     r.lost_steps) for i, r in report.results.items() if r.status == "survived"}
    assert survivors == SURVIVORS
    assert {i for i, r in report.results.items() if r.kind == "unfired"} == {3, 5, 6}
    assert report.score == pytest.approx(8 / 12)


def test_cli_json_and_text(model, tmp_path, capsys):
    assert main(["mutate", str(tmp_path / "tok.pax"), "--model", str(model), "--workers", "1",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"killed": 8, "survived": 4, "out-of-budget": 0, "skipped": 0,
                             "error": 0}
    assert out["score"] == pytest.approx(8 / 12)
    m3 = out["mutants"][2]
    assert (m3["status"], m3["kind"], m3["property"]) == ("killed", "unfired", "grab")
    assert out["mutants"][9]["status"] == "survived"   # 10: release only when not holding
    assert "-  require token(n)\n+  require !token(n)\n" in out["mutants"][9]["diff"]
    assert out["mutants"][0]["property"] == "mutex" and out["mutants"][0]["length"] == 2
    assert out["mutants"][3]["renamed"] == ["m"]
    assert main(["mutate", str(tmp_path / "tok.pax"), "--model", str(model), "--workers", "1",
                 "--invariant", "mutex", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["properties"] == ["mutex"]
    assert [m["id"] for m in out["mutants"] if m["status"] == "killed"] == [1, 2, 3, 4, 5, 6]
    assert main(["mutate", str(tmp_path / "tok.pax"), "--model", str(model), "--workers", "1",
                 "--operator", "drop-update", "--fail-under", "0.7"]) == 1
    text = capsys.readouterr().out
    # drop `token(n) := true` (release never fires), drop `log(n) := true`
    # (logged) and drop `token(n) := false` (survives)
    assert "Mutation score: 66.7% (2 killed / 3 killed or survived)" in text
    assert "mutant 11 (drop-update, action release)" not in text  # numbered per run
    assert "mutant 3 (drop-update, action release): drop `token(n) := false`" in text


def test_budget_and_bad_input(model, tmp_path, capsys):
    spec = load_spec(tmp_path / "tok.pax")
    res = M.check_spec(spec, M.load_model_for(tmp_path / "tok.pax", model), M.Budget(3, 30))
    assert (res.status, res.reason) == ("out-of-budget", "state limit of 3 reached")
    # the original must hold within the budget
    assert main(["mutate", str(tmp_path / "tok.pax"), "--model", str(model),
                 "--max-states", "3"]) == 2
    assert "does not finish within the budget" in capsys.readouterr().err
    broken = tmp_path / "broken.pax"
    broken.write_text(TOKEN.replace("  require token(n)\n  token(n) := false",
                                    "  token(n) := true"))
    assert main(["mutate", str(broken), "--model", str(model)]) == 2
    assert "its property 'logged' is violated" in capsys.readouterr().err
    assert main(["mutate", str(broken), "--model", str(model), "--operator", "nope"]) == 2


def test_type_errors_are_reported_and_unused_variables_renamed():
    spec, text, renamed, err = M._retypecheck(
        "sort s\nmutable relation r(x: s)\naction a(p: s, q: s) {\n  r(p) := true\n}\n", "x.pax")
    assert spec is not None and renamed == ("q",) and "a(p: s, _q: s)" in text and err is None
    spec, _, _, err = M._retypecheck("sort s\nmutable relation r(x: s)\n"
                                     "action a(p: s) {\n  r(p, p) := true\n}\n", "x.pax")
    assert spec is None and "takes 1 argument(s)" in err


COVERAGE = """\
ordered sort t
sort node
mutable relation token(n: node)
mutable relation log(n: node)
mutable individual x: t?
init {
  token(N) := false
  log(N) := false
  x := none
}
action step(n: node, v: t) {
  require (v > x) & (token(n) = log(n))
  if exists m: node. token(m) {
    x := v
  } else {
    log(N) := log(N) | N = n
  }
}
"""


def test_rendering_of_tricky_syntax():
    # parenthesised conjuncts, `>` (kept as `<` with swapped operands in the
    # IR), negation inside `=` between formulas, if/else, pointwise updates
    mutants = M.generate(load_spec_text(COVERAGE, "c.pax"), COVERAGE)
    assert all(m.skipped is None for m in mutants)
    lines = {m.id: [x for x in m.text.splitlines() if x not in COVERAGE.splitlines()]
             for m in mutants}
    assert lines[1] == ["  require (token(n) = log(n))"]
    assert lines[2] == ["  require (v > x)"]
    assert [lines[i] for i in (4, 5, 6)] == [["  require (v = x) & (token(n) = log(n))"],
                                             ["  require (v != x) & (token(n) = log(n))"],
                                             ["  require (v >= x) & (token(n) = log(n))"]]
    assert lines[7] == ["  require (v > x) & ((!token(n)) = log(n))"]
    assert lines[11] == ["  if exists _m: node. token(n) {"]
    assert lines[18] == ["    log(N) := log(n) | N = n"]
    # the pointwise-update variable on the left is a binder, never replaced
    assert not any("log(n) :=" in "".join(v) for v in lines.values())
    assert len(mutants) == 22


def test_every_paxos_mutant_renders_to_itself():
    text = (ROOT / "specs" / "paxos.pax").read_text()
    mutants = M.generate(load_spec_text(text, "specs/paxos.pax"), text)
    assert [m for m in mutants if m.skipped] == []
    assert {m.operator for m in mutants} == set(M.OPERATORS)
    assert len({m.text for m in mutants}) == len(mutants)
