"""The cluster engine: one breadth-first search partitioned by state hash
over the workers of a Ray cluster (`check --cluster ADDRESS|local:N`).

Each worker (a Ray actor, `Partition`) owns the states whose hash falls to
it: it keeps them in an exact store of its own (no fingerprints, as on one
machine) with a parent reference per state, expands its share of the
current level with the instance's compiled kernel, and sends each
successor, in one batch per destination and round, to its owner, which
inserts it and checks the invariants on the new ones. Batches go from
worker to worker through Ray's object store; the driver only sees small
summaries, so the data never funnels through one process.

The search is level-synchronous: level d+1 starts once every worker has
expanded all of level d. So the set of states in each level, and the
distinct, transition and depth figures of a complete run, are those of the
single-machine engine for any number of workers. A violation stops the
search at the end of the level it was found in, and of the violating states
of that level the one with the smallest packed value is reported, so the
verdict, the violating state, the trace's length (shortest: every earlier
level was checked) and the figures at the stop do not depend on the number
of workers or on scheduling. The path to it follows the parents recorded
at insertion and is a shortest one; with several workers it may be a
different shortest path from the single-machine engine's.

A worker that dies ends the run as incomplete ("worker lost"), with the
figures explored so far: never a "holds". Liveness needs the whole state
graph in one place and is not checked here."""
from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from paxcheck import budget
from paxcheck.errors import PaxError
from paxcheck.ground.ground import GroundInstance
from paxcheck.search.api import (
    Checks,
    Limits,
    Progress,
    RunResult,
    Stats,
    Stop,
    Violation,
    Visitor,
    over_limit,
    reach_names,
)

if TYPE_CHECKING:
    from paxcheck.config.symmetry import Symmetry

# frontier states a worker expands per round: enough to amortise a round's
# messages, few enough that a round's successors stay a few tens of MB
ROUND_ROWS = 1 << 16
# Ray's shared-memory object store per local cluster; its default (30% of
# RAM) is more than a check needs and /dev/shm may be small
LOCAL_OBJECT_STORE = 512 * 2**20
_NO_PARENT = -1
_IDX_BITS = 40       # a parent reference: worker << _IDX_BITS | index in its store


def owner_of(rows: np.ndarray, n: int) -> np.ndarray:
    """The worker owning each row (uint64 words of a packed state): a
    fixed 64-bit mix of the words, so every process routes a state to the
    same worker."""
    return (_mix(rows) % np.uint64(n)).astype(np.int64)


def _mix(rows: np.ndarray) -> np.ndarray:
    h = np.full(len(rows), 0x9E3779B97F4A7C15, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(rows.shape[1]):
            h ^= rows[:, k]
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(31)
    return h


def parse_address(address: str) -> tuple[str | None, int | None]:
    """(Ray address, workers): `local:N` starts a local cluster of N
    workers; anything else is the address of a running cluster, with a
    worker per CPU it offers."""
    if address.startswith("local:"):
        n = address[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise PaxError(f"--cluster {address}: the number of local workers must be a "
                           "positive integer", expected="local:N, e.g. local:2")
        return None, int(n)
    return address, None


@dataclass
class _Found:
    """The first violating state of one property in one level, by packed value."""
    kind: str
    name: str | None
    key: tuple[int, ...]          # the state's words, most significant first
    ref: int                      # the state's (or the step's source's) reference
    step: tuple[int, np.ndarray] | None = None   # a transition violation's (gid, successor row)


class Partition:
    """One worker's share of the search (run as a Ray actor)."""

    def __init__(self, ground: GroundInstance, symmetry: Symmetry | None, me: int, n: int,
                 properties: tuple[str, ...], deadlock: bool) -> None:
        from paxcheck.search.fast.engine import FastEngine
        from paxcheck.search.fast.store import StateStore
        self.me, self.n, self.deadlock = me, n, deadlock
        self.eng = FastEngine(ground, 1, symmetry)
        self.k = self.eng.kernel_for(properties)
        self.store = StateStore(self.k.nwords, bits=ground.layout.bits)
        self.parents: list[np.ndarray] = []
        self.levels = [0]
        self.cursor = 0
        self.fired = np.zeros(len(ground.ground_actions), np.int64)

    def ready(self) -> int:
        return self.me

    def next_level(self) -> int:
        """Close the level being inserted; the size of the new frontier."""
        self.levels.append(len(self.store))
        self.cursor = self.levels[-2]
        return self.levels[-1] - self.levels[-2]

    def expand(self, rows: int) -> list[Any]:
        """Expand up to `rows` frontier states: a batch for each worker (its
        successors' words and parent references), then a summary."""
        lo = self.cursor
        hi = min(self.levels[-1], lo + rows)
        self.cursor = hi
        k, nw = self.k, self.k.nwords
        chunks: list[np.ndarray] = []
        found: list[_Found] = []
        transitions = 0
        for b in range(lo, hi, self.eng.batch):
            states = self.store.get(b, min(b + self.eng.batch, hi)).view(np.int64)
            for p in self.eng.expand(states, bool(k.transition_names)):
                n = p.n
                transitions += n
                if n:
                    self.fired += np.bincount(p.gids[:n], minlength=len(self.fired))
                payload = np.empty((n, nw + 1), np.int64)
                payload[:, :nw] = p.out[:n]
                payload[:, nw] = (self.me << _IDX_BITS) + b + p.srcs[:n]
                chunks.append(payload)
                if self.deadlock:
                    for r in np.flatnonzero(p.fan[:p.hi - p.lo] == 0):
                        src = b + p.lo + int(r)
                        found.append(_Found("deadlock", None, _key(states[p.lo + int(r)]),
                                            (self.me << _IDX_BITS) + src))
                masks = p.tres[:n]
                present = int(np.bitwise_or.reduce(masks)) if n and k.transition_names else 0
                for bit, name in enumerate(k.transition_names):
                    if present >> bit & 1:
                        for hit in np.flatnonzero(masks >> bit & 1):
                            j = int(hit)
                            found.append(_Found("transition", name, _key(states[int(p.srcs[j])]),
                                                (self.me << _IDX_BITS) + b + int(p.srcs[j]),
                                                (int(p.gids[j]), p.out[j].copy())))
        succ = np.concatenate(chunks) if chunks else np.zeros((0, nw + 1), np.int64)
        succ, dest = _drop_repeats(succ, nw, self.n)
        order = np.argsort(dest, kind="stable")
        cuts = np.searchsorted(dest[order], np.arange(self.n + 1))
        out: list[Any] = [succ[order[cuts[j]:cuts[j + 1]]] for j in range(self.n)]
        sent = sum(out[j].nbytes for j in range(self.n) if j != self.me)
        out.append({"transitions": transitions, "found": _first(found), "kept": len(succ),
                    "left": self.levels[-1] - self.cursor, "sent": sent})
        return out

    def absorb(self, *batches: np.ndarray) -> dict[str, Any]:
        """Insert successors sent by the workers (in worker order) and check
        the invariants on the new states."""
        nw = self.k.nwords
        a = np.concatenate(batches) if batches else np.zeros((0, nw + 1), np.int64)
        before = len(self.store)
        rows = np.ascontiguousarray(a[:, :nw])
        _, new = self.store.insert(rows.view(np.uint64))
        fresh = rows[new]
        self.parents.append(a[new, nw].copy())
        found: list[_Found] = []
        if len(fresh) and self.k.invariant_names:
            res = np.zeros(len(fresh), np.int64)
            self.k.invariants(fresh, 0, len(fresh), res)
            present = int(np.bitwise_or.reduce(res))
            for bit, name in enumerate(self.k.invariant_names):
                if present >> bit & 1:
                    for j in np.flatnonzero(res >> bit & 1):
                        found.append(_Found("invariant", name, _key(fresh[int(j)]),
                                            (self.me << _IDX_BITS) + before + int(j)))
        return {"new": len(fresh), "found": _first(found), "distinct": len(self.store),
                "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}

    def fired_counts(self) -> np.ndarray:
        return self.fired

    def state(self, idx: int) -> tuple[np.ndarray, int]:
        """A state's words and its parent reference."""
        parent = int(np.concatenate(self.parents)[idx]) if self.parents else _NO_PARENT
        return self.store.get(idx, idx + 1)[0].copy(), parent


def _drop_repeats(succ: np.ndarray, nw: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A round's successors less the repeats of a state (the first, whose
    parent the owner would have kept, stays), and each one's owner. Most
    successors repeat one another (a Paxos state has a dozen
    transitions), and a repeat would cost its bytes on the network and an
    insert at the owner. Rows are grouped by a 64-bit hash and compared
    whole, so two different states are never taken for one; a repeat the
    grouping misses (a hash shared by several states) is only sent twice."""
    rows = succ[:, :nw].view(np.uint64)
    h = _mix(rows)
    order = np.argsort(h, kind="stable")
    hs, rs = h[order], rows[order]
    repeat = np.zeros(len(succ), np.bool_)
    repeat[1:] = (hs[1:] == hs[:-1]) & np.all(rs[1:] == rs[:-1], axis=1)
    keep = np.sort(order[~repeat])
    kept = succ[keep]
    return kept, (h[keep] % np.uint64(n)).astype(np.int64)


def _key(row: np.ndarray) -> tuple[int, ...]:
    return tuple(int(w) & ((1 << 64) - 1) for w in reversed(row))


def _first(found: list[_Found]) -> list[_Found]:
    """Per kind and property, the violating state with the smallest packed value."""
    best: dict[tuple[str, str | None], _Found] = {}
    for f in found:
        cur = best.get((f.kind, f.name))
        if cur is None or f.key < cur.key:
            best[(f.kind, f.name)] = f
    return list(best.values())


@dataclass
class ClusterEngine:
    """The partitioned BFS over a Ray cluster (see the module)."""
    ground: GroundInstance
    address: str
    symmetry: Symmetry | None = None
    name: str = "cluster"
    partition: type = Partition     # the worker's class (a test makes one that dies)
    # per level expanded: (states expanded, successors, successors left once
    # a round's repeats are dropped, bytes sent between workers)
    traffic: list[tuple[int, int, int, int]] = field(default_factory=list)
    row_bytes: int = 0              # a successor as sent: its words and a parent reference
    _started: bool = False
    _actors: list[Any] = field(default_factory=list)

    def _connect(self) -> int:
        try:
            import ray
        except ImportError as e:
            raise PaxError("--cluster needs Ray, which is not installed",
                           expected="pip install 'paxcheck[cluster]'") from e
        where, n = parse_address(self.address)
        if not ray.is_initialized():
            if where is None:
                ray.init(num_cpus=n, include_dashboard=False, log_to_driver=False,
                         object_store_memory=LOCAL_OBJECT_STORE, configure_logging=False)
            else:
                ray.init(address=where, log_to_driver=False, configure_logging=False)
            self._started = True
        if n is None:
            n = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return n

    def run(self, limits: Limits = Limits(), checks: Checks = Checks(),
            progress: Progress | None = None, visitor: Visitor | None = None,
            progress_every: float = 2.0) -> RunResult:
        if checks.graph:
            raise PaxError("liveness is not checked on a cluster: it needs the whole state "
                           "graph in one process", expected="--no-liveness with --cluster")
        if visitor is not None:
            raise ValueError("the cluster engine shows no visitor its states")
        import ray
        from ray.exceptions import RayError

        from paxcheck.search.fast.engine import FastEngine
        g = self.ground
        # the driver's own kernel rebuilds traces; loading it first also
        # fills the kernel cache the workers then load from
        local = FastEngine(g, 1, self.symmetry)
        k = local.kernel_for(checks.properties)
        n = self._connect()
        remote: Any = ray.remote(num_cpus=1, max_restarts=0)(self.partition)
        self._actors = [remote.remote(g, self.symmetry, i, n, checks.properties, checks.deadlock)
                        for i in range(n)]
        start = time.monotonic()
        self.traffic = []
        self.row_bytes = (k.nwords + 1) * 8
        stats = Stats()
        result = RunResult(g, stats)
        reach = result.reach = reach_names(g, checks)
        recorded: set[str] = set()
        found: list[_Found] = []
        actors = self._actors
        counts = [0] * n

        def finish(complete: bool, stop: Stop | None) -> RunResult:
            stats.distinct = sum(counts)
            stats.elapsed = time.monotonic() - start
            try:
                fired = ray.get([a.fired_counts.remote() for a in actors])
                result.fired = np.sum(fired, axis=0).tolist()
            except RayError:
                result.fired = []
            for f in found:
                v = self._violation(local, f)
                (result.witnesses if f.name in reach else result.violations).append(
                    replace(v, kind="witness") if f.name in reach else v)
            result.complete = complete and not result.violations
            result.stop = stop
            return result

        def take(level_found: list[_Found]) -> bool:
            """Record each property's first violation; whether to stop."""
            stop = False
            for f in sorted(_first(level_found), key=_report_order(k)):
                key = f"{f.kind}:{f.name}"
                if key in recorded:
                    continue
                recorded.add(key)
                found.append(f)
                stop = stop or (not checks.keep_going and f.name not in reach)
            return stop

        deadline = budget.deadline(limits, start)
        next_report = start + progress_every
        try:
            try:
                ray.get([a.ready.remote() for a in actors])
                rows = local.initial_rows()
                payload = np.empty((len(rows), k.nwords + 1), np.int64)
                payload[:, :k.nwords] = rows.view(np.int64)
                payload[:, k.nwords] = _NO_PARENT
                dest = owner_of(rows, n)
                metas = ray.get([a.absorb.remote(payload[dest == i]) for i, a in enumerate(actors)])
                counts = [m["distinct"] for m in metas]
                level_found = [f for m in metas for f in m["found"]]
                if take(level_found):
                    return finish(False, None)
                frontier = sum(ray.get([a.next_level.remote() for a in actors]))
                level = 0
                while frontier:
                    stats.depth = level
                    level_found = []
                    self.traffic.append((frontier, 0, 0, 0))
                    busy = list(range(n))
                    while busy:
                        outs = [actors[i].expand.options(num_returns=n + 1).remote(ROUND_ROWS)
                                for i in busy]
                        absorbs = [a.absorb.remote(*[o[j] for o in outs])
                                   for j, a in enumerate(actors)]
                        summaries = ray.get([o[n] for o in outs])
                        metas = ray.get(absorbs)
                        counts = [m["distinct"] for m in metas]
                        for s in summaries:
                            stats.transitions += s["transitions"]
                            level_found.extend(s["found"])
                            f0, t0, k0, b0 = self.traffic[-1]
                            self.traffic[-1] = (f0, t0 + s["transitions"], k0 + s["kept"],
                                                b0 + s["sent"])
                        for m in metas:
                            level_found.extend(m["found"])
                        busy = [i for i, s in zip(busy, summaries) if s["left"]]
                        now = time.monotonic()
                        why = over_limit(limits, deadline, now)
                        rss = sum(m["rss"] for m in metas) + budget.peak_rss_bytes()
                        if why is None and limits.max_memory is not None \
                                and rss > limits.max_memory:
                            why = Stop(budget.StopReason.MEMORY,
                                       f"memory limit of {limits.max_memory / 2**20:,.0f} MB "
                                       "reached (the cluster's workers together)")
                        if why is None and limits.max_states is not None \
                                and sum(counts) >= limits.max_states:
                            why = Stop.state_limit(limits.max_states)
                        if why is not None:
                            take(level_found)
                            return finish(False, why)
                        if progress is not None and now >= next_report:
                            stats.distinct, stats.elapsed = sum(counts), now - start
                            progress(stats, frontier)
                            next_report = now + progress_every
                    if take(level_found):
                        stats.depth = level + 1
                        return finish(False, None)
                    frontier = sum(ray.get([a.next_level.remote() for a in actors]))
                    level += 1
                stats.depth = max(0, level - 1) if sum(counts) else 0
                return finish(True, None)
            except RayError as e:
                actors = []   # nothing more is asked of a cluster that lost a worker
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                return finish(False, Stop(budget.StopReason.WORKER_LOST,
                                          f"a cluster worker was lost: {first}"))
        except KeyboardInterrupt:   # the workers finish their round, then report
            return finish(False, Stop.interrupted())

    def _violation(self, local: Any, f: _Found) -> Violation:
        """The path to a found state along the recorded parents, as a
        Violation the single-machine engine would build from that path."""
        import ray
        rows: list[np.ndarray] = []
        ref = f.ref
        while ref != _NO_PARENT:
            row, ref = ray.get(self._actors[ref >> _IDX_BITS].state.remote(
                ref & ((1 << _IDX_BITS) - 1)))
            rows.append(row)
        rows.reverse()
        from paxcheck.search.fast.engine import from_words
        reps = [from_words(r) for r in rows]
        canon = local.canon_int or (lambda s: s)
        gids = []
        for x, y in zip(reps, reps[1:]):
            gids.append(next(gid for gid, z in local.successors(x) if canon(z) == y))
        return local.violation_on_path(f.kind, f.name, reps, gids, f.step)

    def close(self) -> None:
        try:
            import ray
        except ImportError:
            return
        for a in self._actors:
            try:
                ray.kill(a)
            except Exception:   # pragma: no cover - an actor already gone
                pass
        self._actors = []
        if self._started and ray.is_initialized():
            ray.shutdown()
            self._started = False


def _report_order(k: Any) -> Any:
    """One level's violations: deadlocks (a step shorter), then the
    properties as the kernel lists them."""
    names = list(k.transition_names) + list(k.invariant_names)

    def order(f: _Found) -> tuple[int, int]:
        return (0 if f.kind == "deadlock" else 1, names.index(f.name) if f.name in names else -1)
    return order
