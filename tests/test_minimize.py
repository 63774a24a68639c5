"""`minimize` and trace slicing on tiny hand-made specs with exactly known answers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.semantics.evaluate import Evaluator
from paxcheck.tools.minimize import minimize
from paxcheck.traces import slicing
from paxcheck.traces import trace as T

# Marks: a violation needs three marked elements of one sort (a or b), or a
# marked pair of elements at once in both sorts ("pair" needs a >= 2, b >= 2).
MARKS = """\
sort a
sort b
mutable relation ma(x: a)
mutable relation mb(y: b)
init { ma(X) := false  mb(Y) := false }
action mark_a(x: a) { require !ma(x)  ma(x) := true }
action mark_b(y: b) { require !mb(y)  mb(y) := true }
safety few: !(exists x1, x2, x3: a. x1 != x2 & x1 != x3 & x2 != x3 & ma(x1) & ma(x2) & ma(x3))
          & !(exists y1, y2, y3: b. y1 != y2 & y1 != y3 & y2 != y3 & mb(y1) & mb(y2) & mb(y3))
safety no_pairs: !(exists x1, x2: a, y1, y2: b. x1 != x2 & y1 != y2 & ma(x1) & ma(x2) & mb(y1) & mb(y2))
safety fine: true
"""


def _write(tmp_path: Path, spec: str, model: str, name: str = "m") -> Path:
    (tmp_path / f"{name}.pax").write_text(spec)
    p = tmp_path / f"{name}.toml"
    p.write_text(f'spec = "{name}.pax"\n' + model)
    return p


def test_smallest_first_and_lexicographic_tie_break(tmp_path):
    m = load_model(_write(tmp_path, MARKS, "[sorts]\na = 3\nb = 3\n"))
    res = minimize(m, ("few",))
    assert res.status == "violated"
    assert res.given.sizes == (("a", 3), ("b", 3)) and res.given.length == 3
    # total 2: (1,1); total 3: (1,2) (2,1); total 4: (1,3) violates first --
    # (3,1) violates too, but (1,3) is lexicographically smaller
    assert [(c.describe(), c.status) for c in res.tried] == [
        ("a=1 b=1", "holds"), ("a=1 b=2", "holds"), ("a=2 b=1", "holds"),
        ("a=1 b=3", "violated")]
    assert res.smallest.instance == "a=1 b=3" and res.smallest.total == 4
    assert res.smallest.length == 3 and res.trace.length == 3
    assert [s.action for s in res.trace.steps] == ["mark_b"] * 3
    assert res.undecided == ()


def test_default_property_is_the_first_the_model_violates(tmp_path):
    m = load_model(_write(tmp_path, MARKS, "[sorts]\na = 2\nb = 2\n"
                                           "[check]\nproperties = [\"no_pairs\", \"fine\"]\n"))
    res = minimize(m)
    assert res.properties == ("no_pairs",)
    assert res.smallest.describe() == "a=2 b=2" and res.smallest.length == 4
    assert [c.status for c in res.tried] == ["holds", "holds", "holds"]  # (1,1) (1,2) (2,1)


def test_model_that_holds_is_not_minimized(tmp_path):
    m = load_model(_write(tmp_path, MARKS, "[sorts]\na = 2\nb = 2\n"))
    res = minimize(m, ("few",))
    assert res.status == "holds" and res.smallest is None and res.tried == ()


# Quorums derived from the [sorts] size of node, an individual that names an
# element, and a "subsets" size that smaller node sorts cannot have.
QUORUMS = """\
sort node
sort quorum
immutable relation member(n: node, q: quorum)
immutable individual boss: node
mutable relation voted(n: node)
init { voted(N) := false }
action vote(n: node) { require n != boss  voted(n) := true }
safety no_quorum_votes: !(exists q: quorum. forall n: node. member(n, q) -> voted(n))
"""


def test_derived_sorts_are_derived_again_and_unbuildable_sizes_skipped(tmp_path):
    p = _write(tmp_path, QUORUMS, '[sorts]\nnode = ["n0", "n1", "n2", "n3"]\n'
                                  '[immutable]\nmember = { subsets = 2 }\nboss = "n3"\n')
    res = minimize(load_model(p))
    # node=1 (subsets = 2 > 1), node=2 and node=3 (boss "n3" is gone) cannot be built
    assert [(c.describe(), c.status) for c in res.tried] == [
        ("node=1", "skipped"), ("node=2", "skipped"), ("node=3", "skipped")]
    assert "subset size" in res.tried[0].reason and "n3" in res.tried[1].reason
    assert res.smallest is res.given and res.smallest.instance == "node=4 quorum=6"
    assert res.trace.length == 2
    # with the boss at n0 every size builds: node=2 has the one quorum {n0,n1},
    # which cannot fill up since n0 never votes; node=3 has {n1,n2}: 2 votes
    p.write_text(p.read_text().replace('boss = "n3"', 'boss = "n0"'))
    res = minimize(load_model(p))
    assert [(c.describe(), c.status) for c in res.tried] == [
        ("node=1", "skipped"), ("node=2", "holds"), ("node=3", "violated")]
    assert res.smallest.instance == "node=3 quorum=3" and res.smallest.length == 2


# Marking the third element of b is a violation at once; a only adds states.
TOP = """\
sort a
ordered sort b
mutable relation ma(x: a)
mutable relation mb(y: b)
init { ma(X) := false  mb(Y) := false }
action mark_a(x: a) { require !ma(x)  ma(x) := true }
action mark_b(y: b) { require !mb(y)  mb(y) := true }
safety no_third: !(exists y1, y2, y3: b. y1 < y2 & y2 < y3 & mb(y3))
"""


def test_state_limit_makes_a_candidate_undecided(tmp_path):
    from paxcheck.search.api import Limits
    m = load_model(_write(tmp_path, TOP, "[sorts]\na = 3\nb = 3\n"))
    # a=3 b=3: the 7th state (mark_b(2) from the initial one) violates
    res = minimize(m, limits=Limits(max_states=7))
    assert res.given.status == "violated" and res.given.length == 1
    # a=1 b=1 has 2 x 2 = 4 states; a=1 b=2 and a=2 b=1 have 8: over the limit
    assert [(c.describe(), c.status) for c in res.tried] == [
        ("a=1 b=1", "holds"), ("a=1 b=2", "incomplete"), ("a=2 b=1", "incomplete"),
        ("a=1 b=3", "violated")]
    assert [c.describe() for c in res.undecided] == ["a=1 b=2", "a=2 b=1"]
    assert res.smallest.describe() == "a=1 b=3" and res.status == "violated"
    res = minimize(m, limits=Limits(max_states=6))
    assert res.status == "incomplete" and res.smallest is None


# ---- CLI ---------------------------------------------------------------------
def test_cli_exit_codes_and_json(tmp_path, capsys):
    p = _write(tmp_path, MARKS, "[sorts]\na = 3\nb = 3\n")
    assert main(["minimize", str(p), "--invariant", "few"]) == 1
    out = capsys.readouterr().out
    assert any(line.split() == ["a=1", "b=3", "violated", "(few)", "after", "3", "steps",
                                "[15", "states]"] for line in out.splitlines()), out
    assert "Result: VIOLATED: few; smallest configuration a=1 b=3 (4 elements in [sorts]), " \
           "shortest trace 3 steps" in out
    assert "(not needed)" not in out  # a shortest trace needs every step
    assert main(["minimize", str(p), "--invariant", "few", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "violated" and data["exit_code"] == 1
    assert data["smallest"]["sizes"] == {"a": 1, "b": 3}
    # a=1 b=3: the three b's are marked, the second conjunct of `few` fails
    assert data["trace"]["violation"] == {
        "kind": "invariant", "property": "few", "length": 3,
        "explanation": [{"in": "", "values": {"y1": "b0", "y2": "b1", "y3": "b2"}}]}
    assert data["unneeded_steps"] == []
    assert [t["status"] for t in data["tried"]] == ["holds", "holds", "holds", "violated"]
    assert main(["minimize", str(p), "--invariant", "fine"]) == 0
    assert "the given model holds" in capsys.readouterr().out
    assert main(["minimize", str(p), "--invariant", "nope"]) == 2
    assert "unknown property 'nope'" in capsys.readouterr().err
    assert main(["minimize", str(tmp_path / "missing.toml")]) == 2
    assert main(["minimize", str(p), "--invariant", "few", "--max-states", "3"]) == 3


# ---- slicing -----------------------------------------------------------------
# Two flags; `arm` needs `ready`; `noise` changes nothing the property reads.
FLAGS = """\
sort node
mutable relation flag(n: node)
mutable relation noise(n: node)
mutable individual ready: node?
init { flag(N) := false  noise(N) := false  ready := none }
action prep(n: node) { ready := n }
action arm(n: node) { require ready = n  flag(n) := true }
action toggle(n: node) { noise(n) := !noise(n) }
action pick() { ready := * }
action drop(n: node) { require flag(n)  flag(n) := false }
safety at_most_one: !(exists a, b: node. a != b & flag(a) & flag(b))
transition no_drop: forall n: node. old(flag(n)) -> flag(n)
"""


def _trace(model_path: Path, steps, kind: str, prop: str) -> T.Trace:
    """A trace by hand: run the steps with the reference evaluator."""
    m = load_model(model_path)
    inst = m.instances[0]
    ev = Evaluator(inst)
    (state,) = ev.initial_states()
    initial, out = state, []
    for name, args, *choice in steps:
        action = inst.spec.action_map[name]
        env = {p.name: inst.value_of(p.sort, args[p.name]) for p in action.params}
        posts = ev.execute(action.body, env, state)
        state = posts[choice[0] if choice else 0]
        out.append(T.Step(name, tuple((p.name, args[p.name]) for p in action.params), None, state))
    return T.Trace(inst.spec, inst, kind, prop, initial, tuple(out))


@pytest.fixture
def flags(tmp_path) -> Path:
    return _write(tmp_path, FLAGS, "[sorts]\nnode = 2\n", "flags")


def test_slicing_marks_exactly_the_removable_steps(flags):
    steps = [("toggle", {"n": "node0"}),   # 1 noise: not needed
             ("prep", {"n": "node0"}),     # 2 needed by 3
             ("arm", {"n": "node0"}),      # 3 needed
             ("prep", {"n": "node1"}),     # 4 needed by 5
             ("toggle", {"n": "node1"}),   # 5 noise: not needed
             ("arm", {"n": "node1"}),      # 6 needed
             ("arm", {"n": "node1"})]      # 7 repeats 6: either of 6, 7 alone can go
    tr = _trace(flags, steps, "invariant", "at_most_one")
    assert slicing.unneeded_steps(tr) == (1, 5, 6, 7)
    text = slicing.to_text(tr)
    marked = [line for line in text.splitlines() if line.endswith("(not needed)")]
    assert marked == ["  Step 1: toggle(n=node0)   (not needed)",
                      "  Step 5: toggle(n=node1)   (not needed)",
                      "  Step 6: arm(n=node1)   (not needed)",
                      "  Step 7: arm(n=node1)   (not needed)"]
    # everything else is exactly the plain text trace
    assert text.replace("   (not needed)", "") == T.to_text(tr)


def test_slicing_transition_property_and_nondeterminism(flags):
    steps = [("prep", {"n": "node1"}),     # 1 overwritten by 2's havoc: not needed
             ("pick", {}, 1),              # 2 havoc: ready := node0 (none, node0, node1)
             ("arm", {"n": "node0"}),      # 3 needed
             ("toggle", {"n": "node0"}),   # 4 not needed
             ("drop", {"n": "node0"})]     # 5 breaks no_drop: needed
    tr = _trace(flags, steps, "transition", "no_drop")
    assert tr.steps[1].state[2] == (0,)  # ready = node0 after the havoc
    # without step 2, ready = node1 and arm(node0) is not enabled; without step
    # 1 the havoc can still pick node0
    assert slicing.unneeded_steps(tr) == (1, 4)


def test_shortest_traces_have_no_unneeded_steps(tmp_path):
    m = load_model(_write(tmp_path, MARKS, "[sorts]\na = 2\nb = 2\n"))
    res = minimize(m, ("no_pairs",))
    assert slicing.unneeded_steps(res.trace) == ()


def test_check_slice_flag(tmp_path, capsys):
    p = _write(tmp_path, MARKS, "[sorts]\na = 2\nb = 2\n")
    assert main(["check", str(p), "--invariant", "no_pairs", "--slice", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["violations"][0]["unneeded_steps"] == []
    assert main(["check", str(p), "--invariant", "no_pairs", "--slice"]) == 1
    assert "violated after 4 steps" in capsys.readouterr().out


def test_mark_text_only_touches_step_lines():
    text = "Counterexample: x\n  Step 1: a()\n    + r(x)\n  Step 12: b()\n  State 12 violates 'p'.\n"
    assert slicing.mark_text(text, [12]) == (
        "Counterexample: x\n  Step 1: a()\n    + r(x)\n  Step 12: b()   (not needed)\n"
        "  State 12 violates 'p'.\n")
    assert slicing.mark_text(text, []) == text
