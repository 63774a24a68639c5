"""The compiled explicit engine against the reference engine, on every model.

For every model file under models/ (recursively, so the broken variants in
models/broken/ and the examples in models/examples/ are included), both
engines explore the same instance and must agree exactly on

* the number of distinct states, of transitions and the depth,
* the set of reachable states (compiled states decoded with Layout.decode),
* the violated properties and the length of a shortest violating trace
  for each (every property the model checks; the compiled engine runs with
  --all semantics so that it does not stop at the first violation),
* the length of a shortest trace to a deadlock (or that there is none),

and every counterexample of the compiled engine must replay step by step
under the reference semantics.

Size rule. The reference engine is a tree-walking interpreter (about
1-2 ms per state on the Paxos specs), so an instance is cross-checked as
is only when the compiled engine finds at most STATE_LIMIT distinct states
in it. A bigger one is replaced by a derived instance of the same spec:
repeatedly decrement the size of the largest sort in the model's [sorts]
table (ties: ordered sorts first, then [sorts] order; a size that makes
the model invalid, e.g. fewer elements than `{ subsets = K }` needs, is
not used and the next sort is tried) until the instance fits. Nothing is
skipped: a model that cannot be brought under the limit fails the test.
Derived instances that coincide (paxos_tla_b1/b2/b3 all become the same
one) are checked once. Basic Paxos with ballot=2 (7,364 states, beyond the
limit) is cross-checked in full by its own test below."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from paxcheck.ground.grounder import CompiledInstance
from paxcheck.errors import PaxError
from paxcheck.semantics.evaluate import Evaluator
from paxcheck.search.python import Limits, explore
from paxcheck.config.instance import Instance
from paxcheck.config.model import Model, build_model, load_model
from paxcheck.search.reference import explore_reference, successors

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").rglob("*.toml"))
STATE_LIMIT = 2_000


# ---- the size rule ------------------------------------------------------------
def _build(path: Path, data: dict[str, Any], text: str) -> Model:
    return build_model(data, str(path), text)


def _fits(model: Model) -> bool:
    for inst in model.instances:
        run = explore(CompiledInstance(inst, model.config.properties),
                      Limits(max_states=STATE_LIMIT + 1, keep_going=True))
        if run.stop_reason is not None or run.stats.distinct > STATE_LIMIT:
            return False
    return True


def sized_model(path: Path) -> tuple[Model, dict[str, int]]:
    """The model, or the derived instance the size rule picks; and the sort
    sizes that were changed."""
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    model = _build(path, data, text)
    changed: dict[str, int] = {}
    while not _fits(model):
        sorts = data.get("sorts", {})
        order = sorted((n for n, v in sorts.items() if isinstance(v, int) and v > 1),
                       key=lambda n: (-sorts[n], not model.spec.sort_map[n].ordered,
                                      list(sorts).index(n)))
        for name in order:
            trial = {**data, "sorts": {**sorts, name: sorts[name] - 1}}
            try:
                smaller = _build(path, trial, text)
            except PaxError:
                continue  # e.g. `{ subsets = K }` needs at least K elements
            data, model = trial, smaller
            changed[name] = sorts[name] - 1
            break
        else:
            pytest.fail(f"{path}: no smaller instance of {model.spec.file} is valid; "
                        f"the size rule needs a new case")
    return model, changed


# ---- the comparison ---------------------------------------------------------------
def compiled_bfs(compiled: CompiledInstance) -> tuple[dict[int, int], int, int]:
    """Every reachable packed state with its BFS level, the transition count
    and the depth, straight from the generated successor function."""
    level = {s: 0 for s in compiled.initial_states}
    frontier = list(level)
    depth = transitions = 0
    while frontier:
        nxt = []
        for s in frontier:
            out = compiled.successors(s)
            transitions += len(out)
            for _, t in out:
                if t not in level:
                    level[t] = depth + 1
                    nxt.append(t)
        if nxt:
            depth += 1
        frontier = nxt
    return level, transitions, depth


def crosscheck(inst: Instance, properties: tuple[str, ...]) -> dict[str, Any]:
    compiled = CompiledInstance(inst, properties)
    run = explore(compiled, Limits(keep_going=True, deadlock=True))
    assert run.stop_reason is None
    level, transitions, depth = compiled_bfs(compiled)
    ref = explore_reference(inst, properties)

    counts = (run.stats.distinct, run.stats.transitions, run.stats.depth)
    assert counts == (len(level), transitions, depth), "explore() vs its own successors"
    assert counts == (ref.distinct, ref.transitions, ref.depth), "compiled vs reference"

    layout = compiled.layout
    decoded = {layout.decode(s) for s in level}
    assert len(decoded) == len(level), "Layout.decode maps two packed states to one"
    assert all(layout.encode(layout.decode(s)) == s for s in level)
    assert decoded == ref.states

    found = {v.property: v.length for v in run.violations if v.kind != "deadlock"}
    assert found == ref.violations
    deadlocks = [v.length for v in run.violations if v.kind == "deadlock"]
    assert (deadlocks[0] if deadlocks else None) == ref.deadlocks

    # every counterexample is a run of the reference semantics, and it ends
    # in a violation there too
    ev = Evaluator(inst)
    for v in run.violations:
        states = [layout.decode(s) for s in v.states]
        assert level[v.states[0]] == 0
        for pre, gid, post in zip(states, v.steps, states[1:]):
            ga = compiled.ground_actions[gid]
            assert (ga.action.name, ga.args, post) in successors(ev, pre)
        if v.kind == "deadlock":
            assert successors(ev, states[-1]) == []
            continue
        prop = inst.spec.property_map[v.property]
        if prop.two_state:
            assert not ev.eval(prop.formula, {}, states[-1], pre=states[-2])
        else:
            assert not ev.eval(prop.formula, {}, states[-1])
    return {"counts": counts, "violations": found,
            "deadlock": deadlocks[0] if deadlocks else None}


_checked: dict[str, str] = {}  # instance key -> the model that checked it first


def _key(model: Model, inst: Instance) -> str:
    interp = {k: sorted(v) if isinstance(v, frozenset) else
              sorted(v.items()) if isinstance(v, dict) else v for k, v in inst.interp.items()}
    return json.dumps([model.spec.file, sorted(inst.elements.items()), interp,
                       model.config.properties], default=str)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT / "models")))
def test_compiled_engine_agrees_with_reference(path: Path) -> None:
    model, _ = sized_model(path)
    for inst in model.instances:
        key = _key(model, inst)
        if key in _checked:  # the same instance as an earlier model
            continue
        _checked[key] = str(path)
        crosscheck(inst, model.config.properties)


# ---- Basic Paxos at ballot=2, in full --------------------------------------------
def test_paxos_ballot_2_agrees_with_reference() -> None:
    data = {"spec": "../specs/paxos.pax",
            "sorts": {"node": 3, "value": 2, "ballot": 2},
            "immutable": {"member": "majority"}}
    # the path only anchors the relative spec path; no such file is read
    model = build_model(data, str(ROOT / "models" / "paxos_ballot_2.toml"))
    (inst,) = model.instances
    assert inst.describe() == "node=3 value=2 ballot=2 quorum=3"
    res = crosscheck(inst, model.config.properties)
    # both engines agree on these (they are not hand-derived)
    assert res == {"counts": (7_364, 31_828, 18), "violations": {}, "deadlock": None}


# ---- what the size rule does to the models we have ----------------------------------
def test_size_rule_keeps_small_models_and_shrinks_paxos() -> None:
    _, changed = sized_model(ROOT / "models" / "examples" / "mutex_broken.toml")
    assert changed == {}
    _, changed = sized_model(ROOT / "models" / "paxos.toml")
    assert changed == {"ballot": 2, "node": 2}  # ballot first on the 3-3 tie


def test_every_spec_has_a_model() -> None:
    """Every spec (including specs/broken/ and specs/examples/) is the spec
    of some model, so the cross-check above covers it."""
    used = set()
    for path in MODELS:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        used.add((path.parent / data["spec"]).resolve())
    missing = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "specs").rglob("*.pax"))
               if p.resolve() not in used]
    assert missing == []


# ---- corner cases of the language, beyond what the models use -----------------------
CORNERS = """\
# engine corner cases: state-dependent indices (reads and writes), option
# sorts at parameter and result positions, immutable tables read at
# state-dependent points, definitions applied to state-dependent terms,
# havocs (in init, in branches, followed by requires and overwrites),
# iff, else-if, transition properties with old(), and deadlocks
sort s
ordered sort o
immutable function imm(x: s): o?
immutable relation ir2(x: o, y: s)
mutable function f(x: s): o?
mutable function g(x: o?): s
mutable relation r(x: s, y: o?)
mutable relation q(x: s)
mutable individual i: o
mutable relation stop(x: s)
definition d(x: s, y: o?) = r(x, y) | y = imm(x)
init {
  f(X) := none
  stop(X) := false
  r(X, Y) := false
  q(X) := *
  require exists x: s. !q(x)
}
action a1(x: s) {
  require !q(x) & !stop(x)
  f(x) := *
  require f(x) != imm(x)
  r(x, f(x)) := true
}
action a2(x: s, y: o) {
  require !stop(x)
  require d(x, f(x)) <-> r(x, y)
  g(f(x)) := x
  f(g(y)) := y
}
action a3(x: s) {
  require forall z: s. !stop(z)
  if q(x) { q(X) := * ; q(X) := q(X) & X != x } else if ir2(i, g(i)) { i := * ; require i != f(x) } else { q(x) := true }
}
action a4(y: o) {
  require forall x: s. !q(x) & !stop(x)
  r(X, Y) := r(X, Y) & !(Y < y) | (exists z: s. f(z) = Y & X != z)
  if i < y { i := y } else { require f(g(i)) <= i }
}
action halt(x: s) {
  require !stop(x)
  stop(x) := true
}

safety p1: forall x: s. f(x) = none | (exists y: o. f(x) = y & ir2(y, x)) | d(x, f(x))
transition t1: forall x: s. old(d(x, f(x))) -> d(x, f(x))
transition t2: forall x: s. old(q(x)) <-> q(x)
"""

CORNERS_MODEL = """\
spec = "corners.pax"
[sorts]
s = 2
o = 1
[immutable]
imm = { table = [["s0", 0], ["s1", "none"]] }
ir2 = { table = [[0, "s1"]] }
"""

# havocs whose outcomes coincide (a transition is a distinct (state, ground
# action, successor) triple, so they count once), pointwise havocs in init
HAVOCS = """\
sort s
ordered sort o
mutable relation q(x: s)
mutable function f(x: s): o
mutable individual i: o?
init {
  q(X) := *
  require exists x: s. q(x)
  f(X) := *
  require forall x: s. q(x) -> f(x) = i
}
action a(x: s) {
  q(X) := *
  q(X) := X = x
}
action b(x: s, y: o) {
  if q(x) { f(x) := * ; i := f(x) } else { i := none }
  require i != none -> i <= y
}
action c(x: s) {
  require forall y: s. !(q(y) & y != x)
  f(X) := *
  q(X) := *
  require forall y: s. q(y) -> f(y) = f(x)
}
safety p: i = none | exists x: s. f(x) = i
"""

HAVOCS_MODEL = """\
spec = "havocs.pax"
[sorts]
s = 2
o = 3
"""


@pytest.mark.parametrize("name, spec, toml, expected", [
    ("corners", CORNERS, CORNERS_MODEL,
     {"counts": (952, 2742, 11), "violations": {"t1": 1, "t2": 1}, "deadlock": 2}),
    ("havocs", HAVOCS, HAVOCS_MODEL,
     {"counts": (132, 4872, 2), "violations": {"p": 1}, "deadlock": None}),
], ids=["corners", "havocs"])
def test_language_corner_cases_agree(tmp_path, name, spec, toml, expected) -> None:
    (tmp_path / f"{name}.pax").write_text(spec)
    (tmp_path / f"{name}.toml").write_text(toml)
    model = load_model(tmp_path / f"{name}.toml")
    (inst,) = model.instances
    # both engines agree on these (they are not hand-derived)
    assert crosscheck(inst, model.config.properties) == expected
