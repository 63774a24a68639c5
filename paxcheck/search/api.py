"""The engine seam: what every explicit-state engine takes and returns.

An engine explores one `GroundInstance` breadth-first, so the first
violation it meets has a shortest trace. `Limits` say when to stop,
`Checks` what to check, a `Visitor` sees every state and transition (graph
export, mutation comparison), and the result is a `RunResult` whose
violations are `Violation` paths of packed states. Every engine gives the
same counts, stopping points and paths for the same inputs; the test suite
holds them to it.

Engines (`make_engine`): `python`, per-state generated Python
(search/python.py); `fast`, machine code and a compressed store
(search/fast/); `reference`, the tree-walking evaluator with no grounding
(search/reference.py), the slow oracle the other two are checked against.
Bounded model checking with Z3 (smt/bmc.py) answers a different question
(a shortest violation up to a depth) and has its own entry point."""
from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from paxcheck.budget import LimitReached, Limits, Stop, StopReason, over_limit, peak_rss_bytes
from paxcheck.errors import PaxError
from paxcheck.outcome import Verdict

__all__ = ["ENGINES", "Checks", "Engine", "Limits", "Progress", "RunResult", "StateGraph", "Stats",
           "reach_names",
           "graph_arrays",
           "Stop", "StopReason", "Violation", "Visitor", "make_engine", "over_limit",
           "peak_rss_bytes", "realize", "run"]

if TYPE_CHECKING:
    import numpy as np

    from paxcheck.config.symmetry import Symmetry
    from paxcheck.ground.ground import GroundInstance
    from paxcheck.ground.temporal import Atom, LiveSet

ENGINES = ("fast", "python", "reference")


@dataclass(frozen=True)
class Checks:
    """What a search checks: properties by name, deadlock, and whether it
    goes on after a violation (then each property is reported once). With
    `graph`, a complete run also returns its state graph (RunResult.graph),
    every state labelled with the truth of each `observe` atom: what the
    liveness checker (search/liveness.py) works on."""
    properties: tuple[str, ...] = ()
    deadlock: bool = False
    keep_going: bool = False
    graph: bool = False
    observe: tuple[Atom, ...] = ()


# Atoms one run labels states with: the bits of one int64 in the fast engine.
MAX_OBSERVED = 63


@dataclass(frozen=True)
class Violation:
    """A path from an initial state to a violation: packed states (a real
    execution, also under symmetry) and the ground action of each step."""
    # 'invariant' | 'transition' | 'deadlock' | 'liveness', or 'witness': a
    # path to a state satisfying a `sometimes` property (RunResult.witnesses)
    kind: str
    property: str | None
    states: tuple[Any, ...]
    steps: tuple[int, ...]   # ground action ids; len(states) == len(steps) + 1
    # a lasso (liveness): the behaviour goes on from the last state as from
    # states[loop] (the last state equals it); loop == len(states) - 1 with
    # no step after it: it stutters there forever
    loop: int | None = None
    binding: tuple[tuple[str, str], ...] = ()   # a liveness obligation's forall values

    @builtins.property   # the field 'property' shadows the decorator here
    def length(self) -> int:
        return len(self.steps)


@dataclass
class Stats:
    """A run's counts: distinct states, transitions, BFS depth, seconds."""
    distinct: int = 0
    transitions: int = 0
    depth: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return self.distinct / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class StateGraph:
    """The reachable state graph of a complete run, by state index (BFS
    order, as in every engine): states 0 .. initial-1 are the initial ones;
    the edges out of state i are dst[offsets[i]:offsets[i+1]], with their
    ground actions in gid: the generated transitions that change the state
    (a step back to the same state is a stutter step: no edge); labels[i]
    has bit a set when observed atom a holds in state i. Compressed rows,
    int32 targets and int16 actions where they fit: the graph of a liveness
    check is its main memory cost."""
    initial: int
    offsets: np.ndarray
    dst: np.ndarray
    gid: np.ndarray
    labels: np.ndarray
    state: Callable[[int], Any]   # the packed state of an index

    @property
    def size(self) -> int:
        return len(self.labels)

    @property
    def edges(self) -> int:
        return len(self.dst)


def graph_arrays(degree: Any, dst: Any, gid: Any, nactions: int) -> tuple[Any, Any, Any]:
    """(offsets, dst, gid) of a StateGraph in their compact types, from
    per-state out-degrees and the edges in source order."""
    import numpy as np
    offsets = np.zeros(len(degree) + 1, np.int64)
    np.cumsum(degree, out=offsets[1:])
    # np.asarray copies only when the type changes (the fast engine's arrays
    # already have these types)
    return (offsets, np.asarray(dst, np.int32 if len(degree) < 2**31 else np.int64),
            np.asarray(gid, np.int16 if nactions < 2**15 else np.int32))


@dataclass
class RunResult:
    """What one engine run found: counts, violations, and whether it was exhaustive."""
    ground: GroundInstance
    stats: Stats
    violations: list[Violation] = field(default_factory=list)
    complete: bool = True
    stop: Stop | None = None   # why an incomplete run stopped
    graph: StateGraph | None = None   # with Checks.graph, when complete
    # per ground action (by id), the transitions it generated among those
    # counted in stats.transitions: action coverage (tools/coverage.py)
    fired: list[int] = field(default_factory=list)
    # the reachability (`sometimes`) properties checked, and a shortest
    # witness path of each one reached (kind 'witness': its last state
    # fails the property's `checked` formula, as a violation's does)
    reach: tuple[str, ...] = ()
    witnesses: list[Violation] = field(default_factory=list)

    @property
    def instance(self) -> Any:
        return self.ground.inst

    @property
    def unreached(self) -> tuple[str, ...]:
        """The `sometimes` properties no reachable state satisfies: known
        only once the search is complete."""
        if not self.complete:
            return ()
        found = {w.property for w in self.witnesses}
        return tuple(p for p in self.reach if p not in found)

    @property
    def verdict(self) -> Verdict:
        if self.violations or self.unreached:
            return Verdict.VIOLATED
        return Verdict.HOLDS if self.complete else Verdict.INCOMPLETE

    @property
    def status(self) -> str:
        return self.verdict.value

    @property
    def stop_reason(self) -> str | None:
        return self.stop.text if self.stop is not None else None


Progress = Callable[[Stats, int], None]


class Visitor(Protocol):
    """Sees a run's states and transitions as the engine meets them, in BFS
    order: `state` once per distinct state (its index 0, 1, ..., and the
    state and ground action that first reached it, -1 for an initial one),
    before any transition into it; `transition` once per generated
    (source, ground action, successor) triple, by index."""

    def state(self, index: int, state: Any, parent: int, gid: int) -> None: ...

    def transition(self, src: int, gid: int, dst: int) -> None: ...


class Engine(Protocol):
    """An explicit-state engine for one ground instance."""
    name: str

    def run(self, limits: Limits = Limits(), checks: Checks = Checks(),
            progress: Progress | None = None, visitor: Visitor | None = None,
            progress_every: float = 2.0) -> RunResult: ...

    def close(self) -> None: ...


def reach_names(ground: GroundInstance, checks: Checks) -> tuple[str, ...]:
    """The reachability properties among those a run checks, in order: a
    state that fails their `checked` formula is a witness, recorded once,
    and the search goes on."""
    pm = ground.spec.property_map
    return tuple(p for p in checks.properties if pm[p].reach)


def make_engine(kind: str, ground: GroundInstance, *, workers: int | None = None,
                symmetry: Symmetry | None = None, cluster: str | None = None) -> Engine:
    """The engine named `kind` (one of ENGINES) for a ground instance; with
    `cluster` (a Ray address or `local:N`), the fast engine's kernel on
    every worker of a cluster (search/cluster.py)."""
    if cluster is not None:
        if kind != "fast":
            raise PaxError(f"--cluster runs the fast engine's kernel, not the {kind} engine",
                           expected="--engine fast with --cluster")
        from paxcheck.search.cluster import ClusterEngine
        return ClusterEngine(ground, cluster, symmetry)
    if kind == "python":
        from paxcheck.search.python import PythonEngine
        return PythonEngine(ground, symmetry)
    if kind == "fast":
        from paxcheck.search.fast.engine import FastEngine  # numpy and llvmlite load here
        return FastEngine(ground, workers, symmetry)
    if kind == "reference":
        if symmetry is not None:
            raise ValueError("the reference engine has no symmetry reduction")
        from paxcheck.search.reference import ReferenceEngine
        return ReferenceEngine(ground)
    raise ValueError(f"unknown engine {kind!r} (one of {', '.join(ENGINES)})")


def run(ground: GroundInstance, limits: Limits = Limits(), checks: Checks = Checks(), *,
        engine: str = "fast", workers: int | None = None, symmetry: Symmetry | None = None,
        progress: Progress | None = None, visitor: Visitor | None = None,
        live: LiveSet | None = None, cluster: str | None = None) -> RunResult:
    """One run of a fresh engine, closed afterwards. With `live` (ground
    liveness obligations and fairness), a complete run's state graph is
    then checked for fair lassos (search/liveness.py), each a Violation
    of kind 'liveness'."""
    if live is not None and live.obligations:
        if symmetry is not None:
            raise PaxError("liveness is not checked under symmetry reduction: a cycle of orbits "
                           "need not be a cycle of states, so a lasso could be missed or made up",
                           expected="--no-symmetry (or no liveness property)")
        if len(live.atoms) > MAX_OBSERVED:
            raise PaxError(f"the liveness properties read {len(live.atoms)} state formulas once "
                           f"their foralls are unrolled; one run labels states with at most "
                           f"{MAX_OBSERVED}", expected="fewer liveness properties per run")
        checks = replace(checks, graph=True, observe=live.atoms)
        if engine == "fast":   # the compiled graph algorithms load now: setup, not search
            from paxcheck.search import graphalgo
            graphalgo.warm_up()
    eng = make_engine(engine, ground, workers=workers, symmetry=symmetry, cluster=cluster)
    try:
        res = eng.run(limits, checks, progress, visitor)
    finally:
        eng.close()
    if live is not None and live.obligations and res.graph is not None:
        from paxcheck.search import liveness  # numpy loads here
        t0 = time.monotonic()
        try:
            res.violations.extend(liveness.violations(res.graph, live, ground))
            res.complete = not res.violations
        except LimitReached as lr:   # the search's figures stand; the verdict is open
            res.complete, res.stop = False, lr.stop
        except KeyboardInterrupt:
            res.complete, res.stop = False, Stop.interrupted()
        res.stats.elapsed += time.monotonic() - t0
        res.graph = None
    return res


Successors = Callable[[int], Iterable[tuple[int, int]]]


def realize(initial_states: Iterable[int], successors: Successors, canon: Callable[[int], int],
            reps: list[int], last: tuple[int, int] | None = None,
            breaks: Callable[[int, int], bool] | None = None) -> tuple[list[int], list[int]]:
    """A real execution along a BFS path of orbit representatives: x_0 is an
    initial state in rep_0's orbit, and x_{i+1} a successor of x_i in
    rep_{i+1}'s orbit (one exists: x_i = h(rep_i) for some group element h,
    and h maps rep_i's successors onto x_i's). For a transition violation
    (`last` = the violating step (gid, successor) from the last
    representative, `breaks(x, y)` = the step violates the property), the
    last step is a successor of the last x that violates it too."""
    inits = list(initial_states)
    x = reps[0] if reps[0] in set(inits) else next(s for s in inits if canon(s) == reps[0])
    xs, gs = [x], []
    for rep in reps[1:]:
        found = next(((g, y) for g, y in successors(x) if canon(y) == rep), None)
        if found is None:  # pragma: no cover - a symmetry that is not one of the spec
            raise AssertionError("symmetry: a representative path has no real execution")
        gs.append(found[0])
        xs.append(found[1])
        x = found[1]
    if last is not None:
        assert breaks is not None
        target = canon(last[1])
        out = [(g, y) for g, y in successors(x) if breaks(x, y)]
        gid, y = next(((g, y) for g, y in out if canon(y) == target), out[0])
        xs.append(y)
        gs.append(gid)
    return xs, gs
