"""The engine seam (search/api.py) on toy specs: every engine gives the
same result and shows a Visitor the same states and transitions; limits
stop every engine at the same point, including limits below the number of
initial states; the outcome table maps verdicts to exit codes."""
from __future__ import annotations

from pathlib import Path

import pytest

from paxcheck.config.model import load_model
from paxcheck.ground.ground import ground
from paxcheck.outcome import Verdict, combine, exit_code
from paxcheck.search.api import ENGINES, Checks, Limits, StopReason, make_engine, run
from paxcheck.traces.trace import from_violation, to_text

ROOT = Path(__file__).resolve().parents[2]

# Open init: 'on' starts as any subset of 3 elements, so 8 initial states.
# Each step switches one element off; nothing else changes.
OPEN = """\
sort e
mutable relation on(x: e)
init { on(X) := * }
action off(x: e) {
  require on(x)
  on(x) := false
}
invariant never_empty: exists x: e. on(x)
"""


class Record:
    """A Visitor that writes down everything it is shown."""

    def __init__(self, decode) -> None:
        self.decode = decode
        self.states: list[tuple[int, object, int, int]] = []
        self.transitions: list[tuple[int, int, int]] = []

    def state(self, index: int, state: object, parent: int, gid: int) -> None:
        self.states.append((index, self.decode(state), parent, gid))

    def transition(self, src: int, gid: int, dst: int) -> None:
        self.transitions.append((src, gid, dst))


def _open_model(tmp_path: Path):
    (tmp_path / "open.pax").write_text(OPEN)
    (tmp_path / "open.toml").write_text('spec = "open.pax"\n[sorts]\ne = 3\n')
    return load_model(tmp_path / "open.toml")


def _summary(r) -> tuple:
    return (r.verdict, r.stats.distinct, r.stats.transitions, r.stats.depth, r.stop_reason,
            [(v.kind, v.property, v.length, v.steps) for v in r.violations])


def _run(g, engine: str, limits: Limits = Limits(), checks: Checks = Checks()):
    rec = Record(lambda s: g.decode(s) if isinstance(s, int) else s)
    return run(g, limits, checks, engine=engine, workers=1, visitor=rec), rec


@pytest.mark.parametrize("model", ["examples/counter.toml", "examples/mutex.toml",
                                   "examples/handshake.toml"])
def test_every_engine_shows_the_visitor_the_same_run(model: str) -> None:
    m = load_model(ROOT / "models" / model)
    g = ground(m.instances[0])
    checks = Checks(m.config.properties, deadlock=True, keep_going=True)
    results = {e: _run(g, e, checks=checks) for e in ENGINES}
    (r0, rec0) = results["python"]
    assert r0.complete
    # the visitor saw every state once, in index order, and every transition
    assert [i for i, *_ in rec0.states] == list(range(r0.stats.distinct))
    assert len(rec0.transitions) == r0.stats.transitions
    # a state's recorded parent comes before it and reaches it by that action
    edges = set(rec0.transitions)
    for i, _, parent, gid in rec0.states:
        assert parent < i and (parent < 0 or (parent, gid, i) in edges)
    for engine, (r, rec) in results.items():
        assert _summary(r) == _summary(r0), engine
        assert rec.states == rec0.states, engine
        assert rec.transitions == rec0.transitions, engine


def test_counter_figures_through_the_seam() -> None:
    """16 states, 28 transitions, depth 7: the hand count of
    models/examples/counter.toml (tests/test_counts.py derives it)."""
    m = load_model(ROOT / "models/examples/counter.toml")
    for engine in ENGINES:
        r = run(ground(m.instances[0]), checks=Checks(m.config.properties), engine=engine)
        assert (r.verdict, r.stats.distinct, r.stats.transitions, r.stats.depth) == \
            (Verdict.HOLDS, 16, 28, 7), engine


def test_limits_below_the_initial_states_stop_every_engine_alike(tmp_path: Path) -> None:
    m = _open_model(tmp_path)
    g = ground(m.instances[0])
    assert len(g.initial_states) == 8
    for n in range(1, 10):
        got = {e: _summary(_run(g, e, Limits(max_states=n))[0]) for e in ENGINES}
        assert len(set(map(repr, got.values()))) == 1, (n, got)
        verdict, distinct, *_ = got["python"]
        if n < 8:
            # stopped among the initial states, having kept exactly n of them
            assert verdict is Verdict.INCOMPLETE and distinct == n, (n, got)
        else:
            assert verdict is Verdict.HOLDS and distinct == 8, (n, got)


def test_an_initial_violation_is_a_zero_step_trace(tmp_path: Path) -> None:
    m = _open_model(tmp_path)
    g = ground(m.instances[0])
    for engine in ENGINES:
        r = run(g, checks=Checks(("never_empty",)), engine=engine)
        assert r.verdict is Verdict.VIOLATED
        (v,) = r.violations
        assert v.length == 0 and v.kind == "invariant"
        text = to_text(from_violation(g, v))
        assert "violated after 0 steps" in text and "on = {}" in text, engine


def test_stop_reasons_are_an_enum(tmp_path: Path) -> None:
    m = _open_model(tmp_path)
    r = run(ground(m.instances[0]), Limits(max_states=3), engine="python")
    assert r.stop is not None and r.stop.reason is StopReason.STATE_LIMIT
    assert r.stop_reason == "state limit of 3 reached"


def test_unknown_engine_and_property_are_refused(tmp_path: Path) -> None:
    from paxcheck.errors import PaxError
    g = ground(_open_model(tmp_path).instances[0])
    with pytest.raises(ValueError, match="unknown engine"):
        make_engine("nope", g)
    for engine in ENGINES:
        with pytest.raises(PaxError, match="unknown property 'nope'"):
            run(g, checks=Checks(("nope",)), engine=engine)


def test_the_exit_code_table() -> None:
    assert [exit_code(v) for v in (Verdict.HOLDS, Verdict.PROVED, Verdict.NO_VIOLATION)] == [0] * 3
    assert [exit_code(v) for v in (Verdict.VIOLATED, Verdict.CTI, Verdict.INCONSISTENT)] == [1] * 3
    assert [exit_code(v) for v in (Verdict.INCOMPLETE, Verdict.UNKNOWN)] == [3, 3]
    assert combine([Verdict.HOLDS, Verdict.INCOMPLETE]) is Verdict.INCOMPLETE
    assert combine([Verdict.INCOMPLETE, Verdict.VIOLATED]) is Verdict.VIOLATED
    assert combine([Verdict.HOLDS, Verdict.HOLDS]) is Verdict.HOLDS
    assert Verdict.HOLDS == "holds" and str(Verdict.NO_VIOLATION) == "no violation"
