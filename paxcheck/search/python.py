"""The explicit-state engine: breadth-first over packed states, so the first
violation found has a shortest trace."""
from __future__ import annotations

import resource
import time
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from paxcheck.ground.grounder import CompiledInstance
from paxcheck.config.instance import Instance

if TYPE_CHECKING:
    from paxcheck.config.symmetry import Symmetry


@dataclass(frozen=True)
class Limits:
    max_states: int | None = None
    timeout: float | None = None
    deadlock: bool = False
    keep_going: bool = False  # --all: record every violated property, do not stop
    max_memory: int | None = None  # bytes of peak RSS


@dataclass(frozen=True)
class Violation:
    kind: str  # 'invariant' | 'transition' | 'deadlock'
    property: str | None
    states: tuple[int, ...]  # packed states from an initial one to the violation
    steps: tuple[int, ...]   # ground action ids; len(states) == len(steps) + 1

    @property
    def length(self) -> int:
        return len(self.steps)


@dataclass
class Stats:
    distinct: int = 0
    transitions: int = 0
    depth: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return self.distinct / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class RunResult:
    instance: Instance
    compiled: CompiledInstance
    stats: Stats
    violations: list[Violation] = field(default_factory=list)
    complete: bool = True
    stop_reason: str | None = None  # why an incomplete run stopped

    @property
    def status(self) -> str:
        if self.violations:
            return "violated"
        return "holds" if self.complete else "incomplete"


Progress = Callable[[Stats, int], None]


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def over_limit(limits: Limits, deadline: float | None, now: float) -> str | None:
    """Why a search must stop now (timeout, memory), if it must."""
    if deadline is not None and now > deadline:
        return f"timeout after {limits.timeout:g} s"
    if limits.max_memory is not None and peak_rss_bytes() > limits.max_memory:
        return f"memory limit of {limits.max_memory / 2**20:,.0f} MB reached"
    return None


def explore(compiled: CompiledInstance, limits: Limits = Limits(),
            progress: Progress | None = None, progress_every: float = 2.0,
            symmetry: "Symmetry | None" = None) -> RunResult:
    """Breadth-first search from the initial states.

    With `symmetry`, every state (initial and successor) is replaced by its
    orbit's representative `symmetry.canon(t)` before the visited check, so
    `stats.distinct` counts orbits; representatives are reachable states
    themselves (the reachable set is closed under the group). Transitions
    are the (ground action, successor) pairs generated from the
    representatives; transition properties are checked on those real pairs
    (rep, t), and invariants on the representatives, which is sound since
    every property is invariant under the group. A violation's path of
    representatives is turned back into a real execution (see realize), so
    Violation.states/steps are an actual run as without symmetry."""
    start = time.monotonic()
    stats = Stats()
    result = RunResult(compiled.inst, compiled, stats)
    states: list[int] = []
    index: dict[int, int] = {}
    parent = array("q")
    via = array("q")
    invariants = compiled.invariants
    transition_props = compiled.transition_props
    violated: set[str] = set()
    canon = symmetry.canon if symmetry is not None else None

    def path(i: int) -> tuple[list[int], list[int]]:
        ss, gs = [], []
        while i >= 0:
            ss.append(states[i])
            if parent[i] >= 0:
                gs.append(via[i])
            i = parent[i]
        return ss[::-1], gs[::-1]

    def record(kind: str, name: str | None, i: int, extra: tuple[int, int] | None = None) -> bool:
        """Store a violation; True when exploration must stop."""
        key = f"{kind}:{name}"
        if key in violated:
            return False
        violated.add(key)
        ss, gs = path(i)
        if canon is not None:
            ss, gs = realize(compiled, canon, ss, name, extra)
        elif extra is not None:
            gs.append(extra[0])
            ss.append(extra[1])
        result.violations.append(Violation(kind, name, tuple(ss), tuple(gs)))
        return not limits.keep_going

    def add(t: int, p: int, g: int) -> bool:
        """Add a new state; True when exploration must stop."""
        idx = len(states)
        states.append(t)
        index[t] = idx
        parent.append(p)
        via.append(g)
        for prop, fn in invariants:
            if not fn(t) and record("invariant", prop.name, idx):
                return True
        return False

    def finish(complete: bool, reason: str | None) -> RunResult:
        stats.distinct = len(states)
        stats.elapsed = time.monotonic() - start
        result.complete = complete and not result.violations
        result.stop_reason = reason
        return result

    succ = compiled.successors
    max_states = limits.max_states
    deadline = start + limits.timeout if limits.timeout else None
    next_report = start + progress_every
    try:
        for s0 in compiled.initial_states:
            if canon is not None:
                s0 = canon(s0)
            if s0 not in index and add(s0, -1, -1):
                return finish(False, None)
        i = 0
        level_end = len(states)
        while i < len(states):
            if i == level_end:
                stats.depth += 1
                level_end = len(states)
            if (i & 1023) == 0:
                now = time.monotonic()
                reason = over_limit(limits, deadline, now)
                if reason is not None:
                    return finish(False, reason)
                if progress is not None and now >= next_report:
                    stats.distinct, stats.elapsed = len(states), now - start
                    progress(stats, len(states) - i)
                    next_report = now + progress_every
            s = states[i]
            out = succ(s)
            # with symmetry: the (action, successor) pairs of the representative s
            stats.transitions += len(out)
            if not out and limits.deadlock and record("deadlock", None, i):
                return finish(False, None)
            for g, t in out:
                for prop, fn in transition_props:
                    if not fn(s, t) and record("transition", prop.name, i, (g, t)):
                        return finish(False, None)
                if canon is not None:
                    t = canon(t)
                if t not in index:
                    if max_states is not None and len(states) >= max_states:
                        return finish(False, f"state limit of {max_states} reached")
                    if add(t, i, g):
                        if stats.depth < _level(parent, len(states) - 1):
                            stats.depth = _level(parent, len(states) - 1)
                        return finish(False, None)
            i += 1
    except KeyboardInterrupt:
        return finish(False, "interrupted")
    return finish(True, None)


def realize(compiled: CompiledInstance, canon: Callable[[int], int], reps: list[int],
             name: str | None, extra: tuple[int, int] | None
             ) -> tuple[list[int], list[int]]:
    """A real execution along a BFS path of orbit representatives: x_0 is an
    initial state in rep_0's orbit, and x_{i+1} a successor of x_i in
    rep_{i+1}'s orbit (one exists: x_i = h(rep_i) for some group element h,
    and h maps rep_i's successors onto x_i's). For a transition violation
    (extra = the violating step from the last representative), the last
    step is a successor of the last x that violates the property too."""
    initial = set(compiled.initial_states)
    x = reps[0] if reps[0] in initial else next(
        s for s in compiled.initial_states if canon(s) == reps[0])
    xs, gs = [x], []
    for rep in reps[1:]:
        gid, y = next(((g, y) for g, y in compiled.successors(x) if canon(y) == rep),
                      (None, None))
        if gid is None:  # pragma: no cover - a symmetry that is not one of the spec
            raise AssertionError("symmetry: a representative path has no real execution")
        xs.append(y)
        gs.append(gid)
        x = y
    if extra is not None:
        fn = next(f for p, f in compiled.transition_props if p.name == name)
        target = canon(extra[1])
        out = [(g, y) for g, y in compiled.successors(x) if not fn(x, y)]
        gid, y = next(((g, y) for g, y in out if canon(y) == target), out[0])
        xs.append(y)
        gs.append(gid)
    return xs, gs


def _level(parent: array, i: int) -> int:
    d = 0
    while parent[i] >= 0:
        i = parent[i]
        d += 1
    return d
