"""What the tests ask of the engines, through the one seam (search/api.py).

`Mode` bundles a run's limits and check flags (the tests sweep them
together and use them as cache keys); `Compiled` is one instance grounded,
with the Python engine's kernel for tests that step states by hand;
`explore`, `explore_fast` and `explore_reference` are one run of each
engine; `bfs` is the one plain breadth-first search the tests use as an
independent count of levels, transitions and states."""
from __future__ import annotations

from dataclasses import dataclass, field

from paxcheck.config.instance import Instance
from paxcheck.config.symmetry import Symmetry
from paxcheck.ground.ground import GroundInstance, ground
from paxcheck.search.api import Checks, Limits, RunResult, make_engine, run
from paxcheck.search.python import PythonKernel
from paxcheck.semantics.evaluate import RefState


@dataclass(frozen=True)
class Mode:
    max_states: int | None = None
    timeout: float | None = None
    deadlock: bool = False
    keep_going: bool = False
    max_memory: int | None = None

    def limits(self) -> Limits:
        return Limits(self.max_states, self.timeout, self.max_memory)

    def checks(self, properties: tuple[str, ...]) -> Checks:
        return Checks(tuple(properties), self.deadlock, self.keep_going)


ALL = Mode(keep_going=True, deadlock=True)


class Compiled:
    """An instance grounded for the given properties, with the Python kernel."""

    def __init__(self, inst: Instance, properties: tuple[str, ...] = ()) -> None:
        self.inst = inst
        self.properties = tuple(properties)
        self.ground: GroundInstance = ground(inst)
        self.kernel = PythonKernel(self.ground)
        self.layout = self.ground.layout
        self.ground_actions = self.ground.ground_actions
        self.initial_states = self.ground.initial_states
        self.successors = self.kernel.successors


def explore(c: Compiled, mode: Mode = Mode(), symmetry: Symmetry | None = None) -> RunResult:
    return run(c.ground, mode.limits(), mode.checks(c.properties), engine="python",
               symmetry=symmetry)


def explore_fast(c: Compiled, mode: Mode = Mode(), workers: int | None = None,
                 symmetry: Symmetry | None = None) -> RunResult:
    return run(c.ground, mode.limits(), mode.checks(c.properties), engine="fast",
               workers=workers, symmetry=symmetry)


class FastRuns:
    """One fast engine (one kernel) for several runs of a Compiled."""

    def __init__(self, c: Compiled, workers: int | None = None,
                 symmetry: Symmetry | None = None) -> None:
        self.c = c
        self.engine = make_engine("fast", c.ground, workers=workers, symmetry=symmetry)

    @property
    def store(self):  # noqa: ANN201 - the fast engine's StateStore
        return self.engine.store  # type: ignore[attr-defined]

    def run(self, mode: Mode = Mode()) -> RunResult:
        return self.engine.run(mode.limits(), mode.checks(self.c.properties))

    def close(self) -> None:
        self.engine.close()


@dataclass
class ReferenceSummary:
    distinct: int
    transitions: int
    depth: int
    states: set[RefState]
    violations: dict[str, int] = field(default_factory=dict)  # property -> shortest length
    deadlocks: int | None = None   # length of a shortest trace to a deadlock


class _Keep:
    def __init__(self) -> None:
        self.states: set[RefState] = set()

    def state(self, index: int, state: RefState, parent: int, gid: int) -> None:
        self.states.add(state)

    def transition(self, src: int, gid: int, dst: int) -> None:
        pass


def explore_reference(inst: Instance, properties: tuple[str, ...],
                      max_states: int = 2_000_000) -> ReferenceSummary:
    """Every property's and deadlock's shortest violation, by the reference
    engine run to the end."""
    keep = _Keep()
    r = run(ground(inst), Limits(max_states=max_states),
            Checks(tuple(properties), deadlock=True, keep_going=True), engine="reference",
            visitor=keep)
    if r.stop is not None:
        raise RuntimeError(f"reference engine: {r.stop.text}")
    out = ReferenceSummary(r.stats.distinct, r.stats.transitions, r.stats.depth, keep.states)
    for v in r.violations:
        if v.kind == "deadlock":
            out.deadlocks = v.length
        else:
            out.violations[v.property] = v.length  # type: ignore[index]
    return out


def bfs(c: Compiled, max_states: int | None = None
        ) -> tuple[dict[int, int], int, int] | None:
    """Every reachable packed state with its BFS level, the transition count
    and the depth, by a plain loop over the Python kernel's successors (None
    past max_states)."""
    level = {s: 0 for s in c.initial_states}
    frontier = list(level)
    transitions = depth = 0
    while frontier:
        nxt = []
        for s in frontier:
            out = c.successors(s)
            transitions += len(out)
            for _, t in out:
                if t not in level:
                    if max_states is not None and len(level) >= max_states:
                        return None
                    level[t] = depth + 1
                    nxt.append(t)
        if nxt:
            depth += 1
        frontier = nxt
    return level, transitions, depth


def fast_canon(c: Compiled, symmetry: Symmetry, states: list[int]) -> list[int]:
    """The fast engine's compiled canonicalization (search/fast/canon.py) of
    packed states, in one batch."""
    import numpy as np

    from paxcheck.search.fast.engine import from_words, to_words
    runs = FastRuns(c, workers=1, symmetry=symmetry)
    try:
        k = runs.engine.kernel_for(())  # type: ignore[attr-defined]
        rows = np.array([to_words(s, k.nwords) for s in states], dtype=np.uint64)
        rows = rows.reshape(-1, k.nwords).view(np.int64)
        k.canon(rows, 0, len(states), np.zeros((2, k.nwords), np.int64))
        return [from_words(r) for r in rows]
    finally:
        runs.close()
