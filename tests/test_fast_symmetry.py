"""Symmetry reduction in the fast engine against the Python engine.

For every model of tests/test_symmetry.py's SYMMETRIC table, on the
instance the Python engine can afford (models are shrunk as for the
orbit tests), both engines explore with the same symmetry and must agree
on orbits, transitions, depth, verdicts and the traces themselves (both
rebuild real runs from the same path of representatives). The fast
engine's canonicalization is generated code (fast/canon.py), independent
of Symmetry.canon, so on every state of the run the two must pick the same
representative."""
from __future__ import annotations

from pathlib import Path

import pytest

from paxcheck.config.model import load_model
from paxcheck.config.symmetry import Symmetry
from paxcheck.search.fast.engine import from_words
from support.engines import Compiled, FastRuns, Mode, explore
from support.models import SYMMETRIC

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 8_000   # orbits the Python engine explores per model here (its canon is slow)


def _instance(rel: str):
    m = load_model(ROOT / "models" / rel)
    return m, m.instances[0]


@pytest.mark.parametrize("rel", sorted(r for r, s in SYMMETRIC.items() if s))
def test_fast_symmetry_agrees_with_python(rel: str) -> None:
    m, inst = _instance(rel)
    compiled = Compiled(inst, m.config.properties)
    sym = Symmetry.build(inst, compiled.layout, SYMMETRIC[rel])
    eng = FastRuns(compiled, workers=2, symmetry=sym)   # one kernel, two runs
    for limits in (Mode(max_states=LIMIT), Mode(max_states=LIMIT, keep_going=True,
                                                     deadlock=True)):
        slow = explore(compiled, limits, symmetry=sym)
        fast = eng.run(limits)
        assert (fast.status, fast.stats.distinct, fast.stats.transitions, fast.stats.depth,
                fast.stop_reason) == \
            (slow.status, slow.stats.distinct, slow.stats.transitions, slow.stats.depth,
             slow.stop_reason)
        assert [(v.kind, v.property, v.states, v.steps) for v in fast.violations] == \
            [(v.kind, v.property, v.states, v.steps) for v in slow.violations]
        # every stored state is its own representative under Symmetry.canon
        rows = eng.store.get(0, min(len(eng.store), 5_000))
        assert all(sym.canon(from_words(r)) == from_words(r) for r in rows)
        # real runs (identical to the Python engine's, which replay: test_symmetry.py)
        for v in fast.violations:
            assert v.states[0] in compiled.initial_states
            for pre, gid, post in zip(v.states, v.steps, v.states[1:]):
                assert (gid, post) in compiled.successors(pre)
    eng.close()


def test_paxos_tla_b2_orbits_fast() -> None:
    m, inst = _instance("paxos_tla_b2.toml")
    compiled = Compiled(inst, ("agreement",))
    sym = Symmetry.build(inst, compiled.layout, ("acceptor", "value"))
    eng = FastRuns(compiled, workers=2, symmetry=sym)
    res = eng.run()
    eng.close()
    # the orbit count tests/test_symmetry.py derives by brute force
    assert (res.status, res.stats.distinct, res.stats.depth) == ("holds", 17_153, 24)
    assert res.stats.transitions == explore(compiled, symmetry=sym).stats.transitions
