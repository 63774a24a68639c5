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

import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from paxcheck.config.instance import Instance
from paxcheck.config.model import build_model, load_model
from paxcheck.semantics.evaluate import Evaluator, successors
from support.engines import ALL, Compiled, bfs, explore, explore_reference
from support.models import CORNER_CASES, MODELS, ROOT, instance_key, sized_model


# ---- the comparison ---------------------------------------------------------------
def crosscheck(inst: Instance, properties: tuple[str, ...]) -> dict[str, Any]:
    compiled = Compiled(inst, properties)
    run = explore(compiled, ALL)
    assert run.stop_reason is None
    found = bfs(compiled)
    assert found is not None
    level, transitions, depth = found
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


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT / "models")))
def test_compiled_engine_agrees_with_reference(path: Path) -> None:
    model, _ = sized_model(path)
    for inst in model.instances:
        key = instance_key(model, inst)
        if key in _checked:  # the same instance as an earlier model
            continue
        _checked[key] = str(path)
        crosscheck(inst, model.config.properties)


# ---- Basic Paxos at ballot=2, in full --------------------------------------------
@pytest.mark.slow   # the sweep above checks paxos.toml at the size rule's instance
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
@pytest.mark.parametrize("name, spec, toml, expected", CORNER_CASES,
                         ids=["corners", "havocs"])
def test_language_corner_cases_agree(tmp_path, name, spec, toml, expected) -> None:
    (tmp_path / f"{name}.pax").write_text(spec)
    (tmp_path / f"{name}.toml").write_text(toml)
    model = load_model(tmp_path / f"{name}.toml")
    (inst,) = model.instances
    # both engines agree on these (they are not hand-derived)
    assert crosscheck(inst, model.config.properties) == expected
