"""The Python engine: breadth-first over packed states (Python ints), with
per-instance generated Python for successors and properties."""
from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, cast

from paxcheck import budget
from paxcheck.ground.ground import GroundInstance
from paxcheck.ground.grounder import Emitter, Grounder, emit_successors, run_generated
from paxcheck.ground.temporal import Atom
from paxcheck.lang import ir
from paxcheck.search.api import (
    Checks,
    Limits,
    Progress,
    RunResult,
    StateGraph,
    Stats,
    Stop,
    Violation,
    Visitor,
    graph_arrays,
    over_limit,
    reach_names,
    realize,
)

if TYPE_CHECKING:
    from paxcheck.config.symmetry import Symmetry



class PythonKernel:
    """Generated Python for one ground instance: `successors(s)` gives the
    (ground action id, successor) pairs of packed state s; `predicate(p)`
    compiles a property's test (cached)."""

    def __init__(self, ground: GroundInstance) -> None:
        self.ground = ground
        self.initial_states: Sequence[int] = ground.initial_states
        self.grounder = Grounder(ground.inst, ground.layout)
        self.source_lines: list[str] = []
        em = Emitter(self.grounder)
        em.line(0, "def _succ(s):")
        em.line(1, "out = []")
        em.line(1, "app = out.append")
        gas = emit_successors(em, ground.inst)
        assert tuple(gas) == ground.ground_actions
        em.line(1, "return out")
        self.successors = cast(Callable[[int], list[tuple[int, int]]],
                               self._run("\n".join(em.lines) + "\n", "_succ"))
        self._preds: dict[str, Callable[..., bool]] = {}

    def _run(self, src: str, name: str) -> Callable[..., object]:
        self.source_lines.append(src)
        return run_generated(src, name, self.grounder.consts)

    def labeller(self, atoms: Sequence[Atom]) -> Callable[[int], int]:
        """f(s): the bit mask of the atoms that hold in s (bit a for atoms[a])."""
        lines = ["def _obs(s):", "    m = 0"]
        for a, (e, env) in enumerate(atoms):
            lines.append(f"    if {self.grounder.emit(self.grounder.formula(e, dict(env), 's'))}:")
            lines.append(f"        m |= {1 << a}")
        lines.append("    return m")
        return cast(Callable[[int], int], self._run("\n".join(lines) + "\n", "_obs"))

    def predicate(self, prop: ir.Property) -> Callable[..., bool]:
        """prop's test: f(s) for a one-state property, f(p, s) for a
        two-state one; True when it holds."""
        if prop.name not in self._preds:
            g = self.grounder.formula(prop.checked, {}, "s")
            params = "p, s" if prop.two_state else "s"
            src = f"def _pred({params}):\n    return bool({self.grounder.emit(g)})\n"
            self._preds[prop.name] = cast(Callable[..., bool], self._run(src, "_pred"))
        return self._preds[prop.name]


class Kernel(Protocol):
    """What the breadth-first loop needs of a state representation: the
    initial states, successors, and property tests (one-state f(s),
    two-state f(p, s); True when the property holds)."""
    initial_states: Sequence[Any]

    def successors(self, s: Any) -> list[tuple[int, Any]]: ...

    def predicate(self, prop: ir.Property) -> Callable[..., bool]: ...

    def labeller(self, atoms: Sequence[Atom]) -> Callable[[Any], int]: ...


class LoopEngine:
    """An engine that runs breadth_first over a Kernel: the Python engine
    (generated Python) and the reference engine (the evaluator)."""
    name = "loop"

    def __init__(self, ground: GroundInstance, kernel: Kernel,
                 symmetry: Symmetry | None = None) -> None:
        self.ground, self.kernel, self.symmetry = ground, kernel, symmetry

    def close(self) -> None:
        pass

    def run(self, limits: Limits = Limits(), checks: Checks = Checks(),
            progress: Progress | None = None, visitor: Visitor | None = None,
            progress_every: float = 2.0) -> RunResult:
        return breadth_first(self.ground, self.kernel, limits, checks, progress, visitor,
                             progress_every, self.symmetry)


class PythonEngine(LoopEngine):
    """The per-state Python engine: generated Python over packed ints."""
    name = "python"

    def __init__(self, ground: GroundInstance, symmetry: Symmetry | None = None) -> None:
        super().__init__(ground, PythonKernel(ground), symmetry)


def breadth_first(ground: GroundInstance, kernel: Kernel, limits: Limits, checks: Checks,
                  progress: Progress | None = None, visitor: Visitor | None = None,
                  progress_every: float = 2.0, symmetry: Symmetry | None = None
                  ) -> RunResult:
    """Breadth-first search from the initial states, a state at a time: the
    loop of the Python and the reference engines (the fast engine replays
    its batches in this loop's event order).

    With symmetry, every state (initial and successor) is replaced by its
    orbit's representative `symmetry.canon(t)` before the visited check, so
    `stats.distinct` counts orbits; representatives are reachable states
    themselves (the reachable set is closed under the group). Transitions
    are the (ground action, successor) pairs generated from the
    representatives; transition properties are checked on those real pairs
    (rep, t), and invariants on the representatives, which is sound since
    every property is invariant under the group. A violation's path of
    representatives is turned back into a real execution (api.realize), so
    Violation.states/steps are an actual run as without symmetry."""
    start = time.monotonic()
    stats = Stats()
    result = RunResult(ground, stats)
    fired = result.fired = [0] * len(ground.ground_actions)
    states: list[Any] = []
    index: dict[Any, int] = {}
    parent = array("q")
    via = array("q")
    props = ground.spec.properties_named(checks.properties)
    invariants = [(p.name, kernel.predicate(p)) for p in props if not p.two_state]
    transition_props = [(p.name, kernel.predicate(p)) for p in props if p.two_state]
    violated: set[str] = set()
    reach = result.reach = reach_names(ground, checks)
    canon = symmetry.canon if symmetry is not None else None
    succ = kernel.successors
    if checks.graph and canon is not None:
        raise ValueError("a state graph under symmetry is a quotient: liveness refuses it")
    edges: tuple[array, array, array] | None = None   # out-degree per state, dst, gid
    labels: list[int] = []
    label = None
    if checks.graph:
        edges = (array("q"), array("q"), array("q"))
        label = kernel.labeller(checks.observe)
    initial = [0]   # how many initial states, once they are all in

    def path(i: int) -> tuple[list[Any], list[int]]:
        ss, gs = [], []
        while i >= 0:
            ss.append(states[i])
            if parent[i] >= 0:
                gs.append(via[i])
            i = parent[i]
        return ss[::-1], gs[::-1]

    def record(kind: str, name: str | None, i: int, extra: tuple[int, Any] | None = None) -> bool:
        """Store a violation; True when exploration must stop."""
        key = f"{kind}:{name}"
        if key in violated:
            return False
        violated.add(key)
        ss, gs = path(i)
        if canon is not None:
            breaks = None
            if extra is not None:
                fn = dict(transition_props)[name]  # type: ignore[index]
                breaks = lambda x, y: not fn(x, y)  # noqa: E731
            ss, gs = realize(kernel.initial_states, succ, canon, ss, extra, breaks)
        elif extra is not None:
            gs.append(extra[0])
            ss.append(extra[1])
        found = Violation(kind, name, tuple(ss), tuple(gs))
        if name in reach:
            result.witnesses.append(replace(found, kind="witness"))
            return False
        result.violations.append(found)
        return not checks.keep_going

    def add(t: Any, p: int, g: int) -> bool:
        """Add a new state; True when exploration must stop."""
        idx = len(states)
        states.append(t)
        index[t] = idx
        parent.append(p)
        via.append(g)
        if visitor is not None:
            visitor.state(idx, t, p, g)
        if label is not None:
            labels.append(label(t))
        for name, fn in invariants:
            if not fn(t) and record("invariant", name, idx):
                return True
        return False

    def finish(complete: bool, stop: Stop | None) -> RunResult:
        stats.distinct = len(states)
        stats.elapsed = time.monotonic() - start
        result.complete = complete and not result.violations
        result.stop = stop
        if edges is not None and result.complete:
            result.graph = _graph(initial[0], states, edges, labels, len(ground.ground_actions))
        return result

    max_states = limits.max_states
    deadline = budget.deadline(limits, start)
    next_report = start + progress_every
    try:
        for s0 in kernel.initial_states:
            if canon is not None:
                s0 = canon(s0)
            if s0 in index:
                continue
            if max_states is not None and len(states) >= max_states:
                return finish(False, Stop.state_limit(max_states))
            if add(s0, -1, -1):
                return finish(False, None)
        initial[0] = len(states)
        i = 0
        level_end = len(states)
        while i < len(states):
            if i == level_end:
                stats.depth += 1
                level_end = len(states)
            if (i & 1023) == 0:
                now = time.monotonic()
                stop = over_limit(limits, deadline, now)
                if stop is not None:
                    return finish(False, stop)
                if progress is not None and now >= next_report:
                    stats.distinct, stats.elapsed = len(states), now - start
                    progress(stats, len(states) - i)
                    next_report = now + progress_every
            s = states[i]
            out = succ(s)
            # with symmetry: the (action, successor) pairs of the representative s
            stats.transitions += len(out)
            for g, _ in out:
                fired[g] += 1
            if edges is not None:
                edges[0].append(sum(1 for _, t in out if t != s))
            if not out and checks.deadlock and record("deadlock", None, i):
                return finish(False, None)
            for g, t in out:
                for name, fn in transition_props:
                    if not fn(s, t) and record("transition", name, i, (g, t)):
                        return finish(False, None)
                if canon is not None:
                    t = canon(t)
                j = index.get(t)
                if j is None:
                    if max_states is not None and len(states) >= max_states:
                        return finish(False, Stop.state_limit(max_states))
                    j = len(states)
                    if add(t, i, g):
                        if visitor is not None:
                            visitor.transition(i, g, j)
                        stats.depth = max(stats.depth, _level(parent, j))
                        return finish(False, None)
                if visitor is not None:
                    visitor.transition(i, g, j)
                if edges is not None and j != i:
                    edges[1].append(j)
                    edges[2].append(g)
            i += 1
    except KeyboardInterrupt:
        return finish(False, Stop.interrupted())
    return finish(True, None)


def _graph(initial: int, states: list[Any], edges: tuple[array, array, array],
           labels: list[int], nactions: int) -> StateGraph:
    import numpy as np  # only runs that record a graph pay for numpy
    offsets, dst, gid = graph_arrays(np.array(edges[0], np.int64), np.array(edges[1], np.int64),
                                     np.array(edges[2], np.int64), nactions)
    return StateGraph(initial, offsets, dst, gid, np.array(labels, np.int64), states.__getitem__)


def _level(parent: array, i: int) -> int:
    d = 0
    while parent[i] >= 0:
        i = parent[i]
        d += 1
    return d
