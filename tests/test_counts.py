"""Exact, hand-derived state counts for the small example models.

Each count below is derived by hand in the comment above it, and both
engines (the compiled explicit engine and the slow reference engine) must
produce it. Notation: "distinct" is the number of reachable states,
"transitions" the number of distinct (state, ground action, successor)
triples out of reachable states, "depth" the number of BFS levels after
the initial one; "levels" lists the size of each BFS level."""
from __future__ import annotations

from pathlib import Path

from paxcheck.config.model import load_model
from paxcheck.lang import ir
from paxcheck.lang.walk import subexprs
from support.engines import Compiled, Mode, bfs, explore, explore_reference

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "models" / "examples"


def _levels(compiled: Compiled) -> list[int]:
    found = bfs(compiled)
    assert found is not None
    level = list(found[0].values())
    return [level.count(d) for d in range(max(level) + 1)]


def _check_counts(model_path: Path, distinct: int, transitions: int, depth: int,
                  levels: list[int]) -> None:
    m = load_model(model_path)
    (inst,) = m.instances
    compiled = Compiled(inst, m.config.properties)
    res = explore(compiled)
    assert res.status == "holds"
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == \
        (distinct, transitions, depth)
    assert _levels(compiled) == levels
    assert sum(levels) == distinct and len(levels) == depth + 1
    ref = explore_reference(inst, m.config.properties)
    assert (ref.distinct, ref.transitions, ref.depth) == (distinct, transitions, depth)
    assert ref.violations == {}


# ---- counter (specs/examples/counter.pax, num = 4: elements 0 < 1 < 2 < 3) ---------
# A state is (c, last, seen). Init: `c := *` then `require bottom(c)` keeps
# only c = 0, so there is 1 initial state: (0, none, {0}).
# seen is always {0..c}: init sets {c}={0}; tick below the top adds the new
# value to {0..c}; the wrap (tick from 3) and reset set it to {0}. So a state
# is determined by (c, last):
#   last = none: c = 0..3 (count up, wrap)                     4 states
#   last = k: a reset from c = k; reset needs c != 0, so k in {1, 2, 3},
#     and afterwards c takes every value again by ticks         3 * 4 = 12
#   distinct = 16.
# Transitions: tick(m) is enabled for exactly one m in every state (the
# successor of c, or 0 from the top): 16. reset(z) only for z = 0 and only
# when c != 0: 3 of the 4 values of c for each of the 4 values of last: 12.
#   transitions = 16 + 12 = 28.
# Depth: (c, none) is at level c. (0, k) is first reached by k ticks and a
# reset: level k + 1; then (c, k) at level k + 1 + c (any other way to last
# = k also starts at (0, k)). The deepest is (3, 3): 3 + 1 + 3 = 7.
# Levels: 0:(0,n) 1:(1,n) 2:(2,n)(0,1) 3:(3,n)(0,2)(1,1) 4:(0,3)(1,2)(2,1)
#   5:(1,3)(2,2)(3,1) 6:(2,3)(3,2) 7:(3,3)
def test_counter_counts():
    _check_counts(EXAMPLES / "counter.toml", 16, 28, 7, [1, 1, 2, 3, 3, 3, 2, 1])


# ---- mutex (specs/examples/mutex.pax, proc = 3) --------------------------------------
# Each process is idle (I), waiting (W) or critical (C); holder is the C
# process or none, so it adds nothing. From all idle: request makes I -> W,
# enter W -> C when no process is C, leave C -> I. Reachable: every
# I/W/C assignment with at most one C:
#   no C: 2^3 = 8;  one C: 3 choices * 2^2 for the others = 12;  distinct = 20.
# Transitions: with no C every process has exactly one move (I: request,
# W: enter): 8 * 3 = 24. With one C: that process can leave (1) and each
# idle other can request (a waiting one cannot enter); over the 4 I/W
# assignments of the two others there are 4 idle processes in all, so
# 3 * (4 + 4) = 24.  transitions = 48.
# Depth: a state with no C and k waiting processes is at level k; one with a
# C needs request + enter for it plus one request per W: 2 + #W. Deepest:
# C, W, W at level 4.
# Levels: 1 | 3 (one W) | 3 (two W) + 3 (one C) | 1 (three W) + 6 (C + one W) | 3
def test_mutex_counts():
    _check_counts(EXAMPLES / "mutex.toml", 20, 48, 4, [1, 3, 6, 7, 3])


# ---- handshake (specs/examples/handshake.pax, proc = client, server; data = 2) --------
# At most one message is in flight, so a state is one of three phases plus
# the set S of served payloads:
#   idle:         pending = none, no message                 S: any of the 4 subsets
#   requested(d): pending = d, req(client, d)                2 * 4 = 8
#   acked(d):     pending = d, ack(server, d), d in S        2 * 2 = 4
# (every S is reached: serve adds d to S, complete goes back to idle.)
#   distinct = 4 + 8 + 4 = 16.
# Transitions: from idle, request(client) havocs pending over {none, d0, d1}
# and keeps d0 and d1: 2 successors (request(server) is disabled): 4 * 2 = 8.
# requested(d): serve(server, client, d) only: 8. acked(d): complete(client,
# server, d) only: 4.  transitions = 20.
# Levels: 0: idle {} | 1: requested(d0|d1, {}) | 2: acked(d, {d}) x2 |
# 3: idle {d} x2 | 4: requested(d', {d}) x4 | 5: acked(d', {d0,d1}) x2 |
# 6: idle {d0,d1} | 7: requested(d, {d0,d1}) x2; their acks were already
# reached at level 5.  depth = 7.
def test_handshake_counts():
    _check_counts(EXAMPLES / "handshake.toml", 16, 20, 7, [1, 2, 2, 2, 4, 2, 1, 2])


# ---- mutex_broken: the shortest violation ---------------------------------------------
# Two processes in C need, each, their own request, check and enter (every
# action changes the flags of its own process only), so at least 6 steps;
# and 6 suffice: request(p), request(q), check(p), check(q) (the lock is
# still free), enter(p), enter(q). mutual_exclusion is declared (and so
# checked) first, and holder_in_crit breaks in the same state.
def test_broken_mutex_fails_mutual_exclusion_after_6_steps():
    m = load_model(EXAMPLES / "mutex_broken.toml")
    (inst,) = m.instances
    compiled = Compiled(inst, m.config.properties)
    res = explore(compiled)
    assert res.status == "violated"
    (v,) = res.violations
    assert (v.kind, v.property, v.length) == ("invariant", "mutual_exclusion", 6)
    steps = [compiled.ground_actions[g] for g in v.steps]
    assert sorted(ga.action.name for ga in steps) == sorted(["request", "check", "enter"] * 2)
    procs = {ga.args[0] for ga in steps}
    assert len(procs) == 2
    for p in procs:  # each process: request, then check, then enter
        assert [ga.action.name for ga in steps if ga.args[0] == p] == ["request", "check", "enter"]
    crit = compiled.layout.decode(v.states[-1])[list(compiled.layout.slots).index("crit")]
    assert crit == {(p,) for p in procs}
    # with --all semantics both properties break, at that same shortest length
    res = explore(compiled, Mode(keep_going=True))
    assert {x.property: x.length for x in res.violations} == \
        {"mutual_exclusion": 6, "holder_in_crit": 6}
    ref = explore_reference(inst, m.config.properties)
    assert ref.violations == {"mutual_exclusion": 6, "holder_in_crit": 6}


# ---- the examples cover the language features they are meant to ----------------------
def test_examples_use_the_features_they_count():
    specs = [load_model(EXAMPLES / f"{n}.toml").spec for n in ("counter", "mutex", "handshake")]

    def stmts(block):
        for s in block:
            yield s
            if isinstance(s, ir.If):
                yield from stmts(s.then)
                yield from stmts(s.els)

    every = [s for sp in specs for b in [sp.init, *(a.body for a in sp.actions)] for s in stmts(b)]
    assert any(s.ordered for sp in specs for s in sp.sorts)
    assert any(sym.result is not None and sym.result.option
               for sp in specs for sym in sp.mutable_symbols)
    assert any(isinstance(s, ir.Havoc) for s in every)
    assert any(isinstance(s, ir.If) and s.els for s in every)
    pointwise = [s for s in every if isinstance(s, ir.Assign) and s.bound]
    assert any(isinstance(x, ir.Quant) for s in pointwise for x in subexprs(s.rhs))
    assert any(sym.message and sym.sender is not None for sp in specs for sym in sp.symbols)
    assert any(a.actor is not None for sp in specs for a in sp.actions)


# ---- regression: a branch that grounds to nothing -------------------------------------
# The code generator emitted `if ...:` / `else:` with an empty body (an
# IndentationError in the generated Python) whenever a branch of an `if`, or
# the rest of a block after a `require`, grounded to nothing for some
# parameters, e.g. `require bottom(m)` in a branch for an m that is not the
# bottom. counter.pax hit this; this is the minimal form.
REGRESSION_SPEC = """\
sort s
mutable relation r(x: s)
init { r(X) := false }
action a(x: s, y: s) {
  if r(x) { require x = y } else { require x != y }
  r(y) := true
}
action b(x: s) {
  require !r(x)
  if r(x) { require false } else { require false }
}
"""


def test_regression_empty_branches_compile(tmp_path):
    (tmp_path / "empty.pax").write_text(REGRESSION_SPEC)
    (tmp_path / "empty.toml").write_text('spec = "empty.pax"\n[sorts]\ns = 2\n')
    m = load_model(tmp_path / "empty.toml")
    (inst,) = m.instances
    res = explore(Compiled(inst, ()))
    # from {} a(0,1) and a(1,0) lead to {1} and {0}; there a(y,y) and a(x,y)
    # with r(x) false are self-loops and nothing else is enabled; b never is:
    # 3 states, 2 transitions each, depth 1
    assert (res.stats.distinct, res.stats.transitions, res.stats.depth) == (3, 6, 1)
    ref = explore_reference(inst, ())
    assert (ref.distinct, ref.transitions, ref.depth) == (3, 6, 1)
