"""The models the tests sweep, the size rule that shrinks them for the
slow reference engine, and two specs of language corner cases with their
expected figures (used by the Python-engine and fast-engine sweeps alike)."""
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

from paxcheck.config.instance import Instance
from paxcheck.config.model import Model, build_model
from paxcheck.errors import PaxError
from support.engines import Compiled, Mode, explore

ROOT = Path(__file__).resolve().parent.parent.parent
# Models whose state space is another model's up to element names (they
# differ in fairness only): the liveness tests cover them, and the safety
# sweeps, which would repeat the other model's figures, skip them.
SAME_STATES_AS = {
    "multi_paxos_live.toml": "multi_paxos_small.toml",
    "multi_paxos_live_unstable.toml": "multi_paxos_small.toml",
    "paxos_live_preempted.toml": "paxos_live.toml",
    "paxos_live_unfair.toml": "paxos_live.toml",
    "examples/turns_strong.toml": "examples/turns.toml",
}
MODELS = sorted(p for p in (ROOT / "models").rglob("*.toml")
                if p.relative_to(ROOT / "models").as_posix() not in SAME_STATES_AS)
STATE_LIMIT = 2_000


# ---- the size rule ------------------------------------------------------------
def _build(path: Path, data: dict[str, Any], text: str) -> Model:
    return build_model(data, str(path), text)


def _fits(model: Model) -> bool:
    for inst in model.instances:
        run = explore(Compiled(inst, model.config.properties),
                      Mode(max_states=STATE_LIMIT + 1, keep_going=True))
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

        def size(v: Any) -> int:
            return v if isinstance(v, int) else len(v) if isinstance(v, list) else 0

        # a sort given by size loses one element; one given by names, its last
        order = sorted((n for n, v in sorts.items() if size(v) > 1),
                       key=lambda n: (-size(sorts[n]), not model.spec.sort_map[n].ordered,
                                      list(sorts).index(n)))
        for name in order:
            v = sorts[name]
            trial = {**data, "sorts": {**sorts, name: v - 1 if isinstance(v, int) else v[:-1]}}
            try:
                smaller = _build(path, trial, text)
            except PaxError:
                continue  # e.g. `{ subsets = K }` needs at least K elements
            data, model = trial, smaller
            changed[name] = size(v) - 1
            break
        else:
            pytest.fail(f"{path}: no smaller instance of {model.spec.file} is valid; "
                        f"the size rule needs a new case")
    return model, changed


def instance_key(model: Model, inst: Instance) -> str:
    interp = {k: sorted(v) if isinstance(v, frozenset) else
              sorted(v.items()) if isinstance(v, dict) else v for k, v in inst.interp.items()}
    return json.dumps([model.spec.file, sorted(inst.elements.items()), interp,
                       model.config.properties], default=str)


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


# Both engines agree on these figures (they are not hand-derived).
CORNER_CASES = [
    ("corners", CORNERS, CORNERS_MODEL,
     {"counts": (952, 2742, 11), "violations": {"t1": 1, "t2": 1}, "deadlock": 2}),
    ("havocs", HAVOCS, HAVOCS_MODEL,
     {"counts": (132, 4872, 2), "violations": {"p": 1}, "deadlock": None}),
]


# The sorts each model is symmetric in (the symmetry tests' table).
PAXOS = ("node", "value")
TLA = ("acceptor", "value")
MULTI = ("acceptor", "learner")
SYMMETRIC: dict[str, tuple[str, ...]] = {
    "broken/flexible_paxos_q2_q2.toml": TLA,
    "broken/multi_paxos_partial_recovery.toml": MULTI,
    "broken/multi_paxos_skip_phase1.toml": MULTI,
    "broken/paxos_accept_below_promise.toml": PAXOS,
    "broken/paxos_any_value.toml": PAXOS,
    "broken/paxos_crash_restart.toml": PAXOS,
    "broken/paxos_lowest_promise.toml": PAXOS,
    "broken/paxos_mixed_ballots.toml": PAXOS,
    "broken/paxos_no_intersection_1of3.toml": PAXOS,
    "broken/paxos_no_intersection_2of4.toml": PAXOS,
    "broken/paxos_promise_no_value.toml": PAXOS,
    "broken/paxos_promise_not_recorded.toml": PAXOS,
    "broken/paxos_same_ballot.toml": PAXOS,
    "broken/paxos_unproposed_value.toml": PAXOS,
    "broken/paxos_vote_overwrites.toml": PAXOS,
    "examples/counter.toml": (),          # one ordered sort: nothing is symmetric
    "examples/handshake.toml": ("data",),
    "examples/mutex.toml": ("proc",),
    "examples/mutex_broken.toml": ("proc",),
    "flexible_paxos.toml": TLA,
    "multi_paxos.toml": MULTI,
    "multi_paxos_b2.toml": MULTI,
    "multi_paxos_medium.toml": MULTI,
    "multi_paxos_small.toml": MULTI,
    "paxos.toml": PAXOS,
    "paxos_tla_b1.toml": TLA,
    "paxos_tla_b2.toml": TLA,
    "paxos_tla_b3.toml": TLA,
    "paxos_tla_b4.toml": TLA,
    # models for liveness: symmetry is refused with liveness (README,
    # "Liveness and fairness"), so none is declared or swept
    "examples/turns.toml": (),
    "examples/turns_strong.toml": (),
    "multi_paxos_live.toml": (),
    "multi_paxos_live_unstable.toml": (),
    "paxos_commit.toml": (),
    "paxos_commit_crash.toml": (),
    "paxos_live.toml": (),
    "paxos_live_preempted.toml": (),
    "paxos_live_unfair.toml": (),
    "tcommit.toml": (),
    "two_phase_commit.toml": (),
    "two_phase_commit_crash.toml": (),
    # mypyvy's models, read from their .pyv files: they declare no symmetry
    # (models/mypyvy/ is about the front end; the engines cross-check them)
    "mypyvy/consensus_epr.toml": (),
    "mypyvy/lockserv.toml": (),
    "mypyvy/paxos_epr.toml": (),
    "mypyvy/sharded_kv.toml": (),
}
