"""The fast explicit-state engine: breadth-first, a frontier batch at a time.

Each batch of frontier states is decoded from the compact store, expanded by
the instance's machine-code kernel (codegen.py) on several threads at once,
then inserted into the store in row order, so the states get exactly the
indices, and the run exactly the counts, verdicts and traces, of the Python
engine (search/python.py): a batch's events are replayed in the order that
engine meets them, and a run that stops mid-batch reports the figures it
would have reported at that point.

No parent pointers are kept (they would double the bytes per state): store
indices are in breadth-first order, so levels are index ranges, and a
trace is rebuilt backwards by re-expanding one level per step and taking the
first state whose successor is the next state on the path, which is the
parent the Python engine records."""
from __future__ import annotations

import bisect
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from paxcheck import budget
from paxcheck.ground.ground import GroundInstance
from paxcheck.parallel import default_workers
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
from paxcheck.search.fast import codegen
from paxcheck.search.fast.store import Parents, StateStore
from paxcheck.search.fast.store import kernels as store_kernels

if TYPE_CHECKING:
    from paxcheck.config.symmetry import Symmetry
    from paxcheck.ground.temporal import Atom

_M64 = (1 << 64) - 1
# Successor buffer bytes per worker, and the most frontier states a batch
# takes: every batch costs a round of Python and of thread hand-offs (the
# store's passes, the split kernels), so batches are as big as buffers of
# this size allow (benchmarks/bench_workers.py: bigger batches were what
# let a second worker pay off).
_OUT_BYTES = 96 << 20
_MAX_BATCH = 1 << 17
# rows below which splitting a kernel call over the workers costs more than it saves
_MIN_SHARE = 1024


def to_words(s: int, nwords: int) -> list[int]:
    """A packed state as its 64-bit words, least significant first."""
    return [(s >> (64 * k)) & _M64 for k in range(nwords)]


def from_words(row: np.ndarray) -> int:
    """A row of 64-bit words back to the packed state."""
    return sum((int(w) & _M64) << (64 * k) for k, w in enumerate(row))


@dataclass
class _Part:
    """One worker's share of a batch and its output buffers."""
    out: np.ndarray
    gids: np.ndarray
    srcs: np.ndarray
    fan: np.ndarray
    tmp: np.ndarray
    tres: np.ndarray
    scratch: np.ndarray
    lo: int = 0
    hi: int = 0
    n: int = 0


@dataclass(frozen=True)
class _Event:
    src: int      # row of the source state in the batch (-1: an initial state)
    j: int        # successor position in the part (-1: before every successor)
    order: int    # at one position: transition, limit, then invariant
    kind: str
    prop: str | None
    gid: int
    row: np.ndarray | None


class FastEngine:
    """The batch BFS over machine code and the compressed store (see the module)."""
    name = "fast"

    def __init__(self, ground: GroundInstance, workers: int | None = None,
                 symmetry: Symmetry | None = None) -> None:
        self.ground = ground
        self.symmetry = symmetry
        self.workers = workers or default_workers()
        self.symmetric = symmetry is not None
        self.canon_int = symmetry.canon if symmetry is not None else None
        self._kernels: dict[tuple[tuple[str, ...], tuple[Atom, ...]], codegen.Kernel] = {}
        self.parts: list[_Part] = []
        self.pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None

    def kernel_for(self, properties: tuple[str, ...], observe: tuple[Atom, ...] = ()
                   ) -> codegen.Kernel:
        """The machine code checking these properties (and labelling states
        with these atoms), compiled on first use of the set (the successor
        code, so the buffers, are the same for every set); makes it the
        current kernel."""
        key = (properties, observe)
        if key not in self._kernels:
            g = self.ground
            g.spec.properties_named(properties)
            k = codegen.load(g.inst, properties, g.layout, symmetry=self.symmetry,
                             observe=observe)
            assert tuple(k.ground_actions) == g.ground_actions
            self._kernels[key] = k
            if not self.parts:
                rows = _OUT_BYTES // (8 * k.nwords + 16)   # out, gids and srcs of a row
                self.batch = max(64, min(_MAX_BATCH, rows * self.workers // max(1, k.max_fanout)))
                share = -(-self.batch // self.workers)
                self.kernel = k
                self.parts = [self._part(share) for _ in range(self.workers)]
                _warm_up()
        self.kernel = self._kernels[key]
        return self.kernel

    def initial_rows(self) -> np.ndarray:
        """The initial states as rows (uint64), canonical under symmetry, in
        the ground instance's order (duplicates kept: inserting drops them)."""
        nwords = self.kernel.nwords
        rows = []
        for s0 in self.ground.initial_states:
            if self.canon_int is not None:
                s0 = self.canon_int(s0)
            rows.append(to_words(s0, nwords))
        return np.array(rows, dtype=np.uint64).reshape(-1, nwords)

    def _part(self, rows: int) -> _Part:
        out, gids, srcs, fan, tmp = self.kernel.buffers(rows)
        return _Part(out, gids, srcs, fan, tmp, np.zeros(len(gids), np.int64),
                     np.zeros((2, self.kernel.nwords), np.int64))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    # ---- expansion --------------------------------------------------------
    def _expand_part(self, states: np.ndarray, p: _Part, check_transitions: bool) -> None:
        k = self.kernel
        p.n = k.expand(states, p.lo, p.hi, p.out, p.gids, p.srcs, p.fan, p.tmp)
        if check_transitions:
            k.transitions(states, p.out, p.srcs, 0, p.n, p.tres)
        if self.symmetric and p.n:
            k.canon(p.out, 0, p.n, p.scratch)

    def expand(self, states: np.ndarray, check_transitions: bool) -> list[_Part]:
        """Expand rows of `states` (int64), split across the workers."""
        m = len(states)
        share = -(-m // self.workers)
        used = []
        for w, p in enumerate(self.parts):
            p.lo, p.hi = min(m, w * share), min(m, (w + 1) * share)
            if p.lo < p.hi:
                used.append(p)
        if self.pool is None or len(used) == 1:
            for p in used:
                self._expand_part(states, p, check_transitions)
        else:
            # the first share on this thread, which would otherwise only wait
            futures = [self.pool.submit(self._expand_part, states, p, check_transitions)
                       for p in used[1:]]
            self._expand_part(states, used[0], check_transitions)
            for f in futures:
                f.result()
        return used

    # ---- the search ---------------------------------------------------------
    def run(self, limits: Limits = Limits(), checks: Checks = Checks(),
            progress: Progress | None = None, visitor: Visitor | None = None,
            progress_every: float = 2.0) -> RunResult:
        g = self.ground
        if checks.graph and self.symmetric:
            raise ValueError("a state graph under symmetry is a quotient: liveness refuses it")
        # compiling is setup, not search time
        k = self.kernel_for(checks.properties, checks.observe if checks.graph else ())
        start = time.monotonic()
        stats = Stats()
        result = RunResult(g, stats)
        self._fired = np.zeros(len(g.ground_actions), np.int64)
        store = StateStore(k.nwords, bits=g.layout.bits, partitions=self.workers, pool=self.pool)
        self.store = store
        self.levels = [0]
        violated: set[str] = set()
        reach = result.reach = reach_names(g, checks)
        inv_names, tr_names = k.invariant_names, k.transition_names
        pending: list[tuple[str, str | None, int, tuple[int, np.ndarray] | None]] = []
        # with checks.graph: edge arrays (src, gid, dst) and label arrays, per part
        self._edges: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = \
            [] if checks.graph else None
        self._labels: list[np.ndarray] = []
        self._gid_type = np.int16 if len(g.ground_actions) < 2**15 else np.int32

        def finish(complete: bool, stop: Stop | None, distinct: int | None = None) -> RunResult:
            stats.distinct = len(store) if distinct is None else distinct
            stats.elapsed = time.monotonic() - start
            result.fired = self._fired.tolist()
            for kind, name, src, extra in pending:
                found = self._violation(kind, name, src, extra)
                if name in reach:
                    result.witnesses.append(replace(found, kind="witness"))
                else:
                    result.violations.append(found)
            result.complete = complete and not result.violations
            result.stop = stop
            if self._edges is not None and result.complete:
                result.graph = self._graph(initial)
            return result

        def record(kind: str, name: str | None, src: int,
                   extra: tuple[int, np.ndarray] | None) -> bool:
            key = f"{kind}:{name}"
            if key in violated:
                return False
            violated.add(key)
            pending.append((kind, name, src, extra))
            return not checks.keep_going and name not in reach

        # initial states, one at a time as the Python engine adds them
        rows = self.initial_rows()
        _, new = store.insert(rows)
        fresh = rows[new].view(np.int64)
        res = np.zeros(len(fresh), np.int64)
        k.invariants(fresh, 0, len(fresh), res)
        initial = len(fresh)
        self._observe(fresh)
        for i, mask in enumerate(res):
            if limits.max_states is not None and i >= limits.max_states:
                return finish(False, Stop.state_limit(limits.max_states), i)
            if visitor is not None:
                visitor.state(i, from_words(fresh[i]), -1, -1)
            for b, name in enumerate(inv_names):
                if mask >> b & 1 and record("invariant", name, i, None):
                    return finish(False, None, i + 1)
        self.levels.append(len(store))

        deadline = budget.deadline(limits, start)
        next_report = start + progress_every
        check_tr = bool(tr_names)
        level = 0   # the level being expanded; its successors are level + 1
        memory, warned = budget.memory_limit(limits), False
        try:
            while self.levels[level] < self.levels[level + 1]:
                lo, end = self.levels[level], self.levels[level + 1]
                stats.depth = level
                for b in range(lo, end, self.batch):
                    rows, nodes = store.get_with_nodes(b, min(b + self.batch, end))
                    states = rows.view(np.int64)
                    for p in self.expand(states, check_tr):
                        halt = self._absorb(p, b, level, limits, checks, stats, record, visitor,
                                            Parents(rows, nodes, p.srcs[:p.n]))
                        if halt is not None:
                            why, distinct = halt
                            return finish(False, why, distinct)
                    now = time.monotonic()
                    why = over_limit(limits, deadline, now)
                    if why is not None:
                        return finish(False, why)
                    if progress is not None and now >= next_report:
                        stats.distinct, stats.elapsed = len(store), now - start
                        progress(stats, len(store) - b)
                        next_report = now + progress_every
                self.levels.append(len(store))
                level += 1
                if not warned and memory is not None:
                    text = budget.memory_forecast(self.levels, store.nbytes,
                                                  budget.peak_rss_bytes(), memory)
                    if text is not None:
                        print(f"warning: {text}", file=sys.stderr, flush=True)
                        warned = True
        except KeyboardInterrupt:
            return finish(False, Stop.interrupted())
        stats.depth = max(0, level - 1) if len(store) else 0
        return finish(True, None)

    def _absorb(self, p: _Part, base: int, level: int, limits: Limits, checks: Checks,
                stats: Stats, record: Callable, visitor: Visitor | None, parents: Parents
                ) -> tuple[Stop | None, int] | None:
        """Insert one part's successors (generated from `parents`) and replay
        its events in the Python engine's order; (stop, distinct count) when
        the run stops."""
        k, store = self.kernel, self.store
        before = len(store)
        idx, new = store.insert(p.out[:p.n].view(np.uint64), parents)
        new_pos = np.flatnonzero(new)
        inv = np.zeros(p.n, np.int64)
        if len(new_pos) and k.invariant_names:
            fresh = np.ascontiguousarray(p.out[new_pos])
            r = np.zeros(len(new_pos), np.int64)
            self._split(len(new_pos), lambda lo, hi: k.invariants(fresh, lo, hi, r))
            inv[new_pos] = r
        # starts[r] = successors of the part's sources before source r
        starts = np.concatenate(([0], np.cumsum(p.fan[:p.hi - p.lo])))
        for ev in self._events(p, new_pos, inv, before, limits, checks):
            src = ev.src - p.lo
            counted = int(starts[src + 1])   # through this source's successors, as in the loop
            done = stats.transitions + counted
            if ev.kind == "limit":
                stats.transitions = done
                self._count_fired(p, counted)
                self._visit(visitor, p, base, idx, new, ev.j)
                assert limits.max_states is not None
                return Stop.state_limit(limits.max_states), limits.max_states
            extra = None if ev.kind == "deadlock" else (ev.gid, ev.row)
            if record(ev.kind, ev.prop, base + ev.src, extra):
                stats.transitions = done
                self._count_fired(p, counted)
                if ev.kind == "invariant":
                    stats.depth = level + 1
                    made = np.count_nonzero(new[:ev.j + 1])
                    self._visit(visitor, p, base, idx, new, ev.j + 1)
                elif ev.kind == "transition":
                    made = np.count_nonzero(new[:ev.j])
                    self._visit(visitor, p, base, idx, new, ev.j)
                else:
                    made = np.count_nonzero(new[:starts[src]])
                    self._visit(visitor, p, base, idx, new, int(starts[src]))
                return None, before + int(made)
        stats.transitions += p.n
        self._count_fired(p, p.n)
        self._visit(visitor, p, base, idx, new, p.n)
        if self._edges is not None:
            edst = idx[:p.n]
            moves = (p.srcs[:p.n] + base) != edst
            degree = np.bincount(p.srcs[:p.n][moves] - p.lo, minlength=p.hi - p.lo)
            self._edges.append((degree.astype(np.int32), edst[moves].astype(np.int32),
                                p.gids[:p.n][moves].astype(self._gid_type)))
            if len(new_pos):
                self._observe(np.ascontiguousarray(p.out[new_pos]))
        return None

    def _split(self, n: int, work: Callable[[int, int], object]) -> None:
        """work(lo, hi) over 0..n, in a share for each worker (the kernels
        release the GIL)."""
        if self.pool is None or n < 2 * _MIN_SHARE:
            work(0, n)
            return
        share = -(-n // self.workers)
        futures = [self.pool.submit(work, lo, min(n, lo + share)) for lo in range(share, n, share)]
        work(0, share)
        for f in futures:
            f.result()

    def _count_fired(self, p: _Part, upto: int) -> None:
        """Add the part's first `upto` transitions to the per-action counts."""
        if upto:
            self._fired += np.bincount(p.gids[:upto], minlength=len(self._fired))

    def _observe(self, fresh: np.ndarray) -> None:
        """Label new states (rows in index order) with the observed atoms."""
        if self._edges is None:
            return
        r = np.zeros(len(fresh), np.int64)
        if len(fresh):
            self.kernel.observations(fresh, 0, len(fresh), r)
        self._labels.append(r)

    def _graph(self, initial: int) -> StateGraph:
        assert self._edges is not None
        parts = self._edges or [(np.zeros(0, np.int32),) * 3]
        self._edges = None
        labels = np.concatenate(self._labels) if self._labels else np.zeros(0, np.int64)
        self._labels = []
        degree = np.concatenate([e[0] for e in parts])
        degree = np.concatenate([degree, np.zeros(len(labels) - len(degree), np.int32)])
        # the parts are moved into the final arrays one at a time and freed
        # as they go, so the edges are never held twice
        total = sum(len(e[1]) for e in parts)
        dst = np.empty(total, np.int32)
        gid = np.empty(total, self._gid_type)
        pos = 0
        parts.reverse()
        while parts:
            _, d, a = parts.pop()
            dst[pos:pos + len(d)] = d
            gid[pos:pos + len(d)] = a
            pos += len(d)
        offsets, dst, gid = graph_arrays(degree, dst, gid, len(self.ground.ground_actions))
        store = self.store
        return StateGraph(initial, offsets, dst, gid, labels,
                          lambda i: from_words(store.get(i, i + 1)[0]))

    @staticmethod
    def _visit(visitor: Visitor | None, p: _Part, base: int, idx: np.ndarray,
               new: np.ndarray, upto: int) -> None:
        """Show the visitor the part's successors before position `upto`."""
        if visitor is None:
            return
        for j in range(upto):
            dst = int(idx[j])
            if new[j]:
                visitor.state(dst, from_words(p.out[j]), base + int(p.srcs[j]), int(p.gids[j]))
            visitor.transition(base + int(p.srcs[j]), int(p.gids[j]), dst)

    def _events(self, p: _Part, new_pos: np.ndarray, inv: np.ndarray, before: int,
                limits: Limits, checks: Checks) -> list[_Event]:
        """The part's events in the Python engine's order. Only the first
        event of each kind and property can matter (`record` takes each
        once), so only those are built: a `sometimes` property holds in most
        states, and an event for each was most of a run's time."""
        k = self.kernel
        events: list[_Event] = []
        if checks.deadlock:
            dead = np.flatnonzero(p.fan[:p.hi - p.lo] == 0)
            if len(dead):
                events.append(_Event(p.lo + int(dead[0]), -1, 0, "deadlock", None, -1, None))
        def first(masks: np.ndarray, names: tuple[str, ...], order: int, kind: str) -> None:
            # one OR over the part finds which properties were hit at all
            present = int(np.bitwise_or.reduce(masks)) if names and len(masks) else 0
            for b, name in enumerate(names):
                if not present >> b & 1:
                    continue
                j = int(np.flatnonzero(masks >> b & 1)[0])
                events.append(_Event(int(p.srcs[j]), j, order, kind, name,
                                     int(p.gids[j]), p.out[j].copy()))

        first(p.tres[:p.n], k.transition_names, 0, "transition")
        if limits.max_states is not None and before + len(new_pos) > limits.max_states:
            at = int(new_pos[limits.max_states - before])
            events.append(_Event(int(p.srcs[at]), at, 1, "limit", None, -1, None))
        first(inv, k.invariant_names, 2, "invariant")
        events.sort(key=lambda e: (e.src, e.j, e.order))
        return events

    # ---- traces -------------------------------------------------------------
    def _level_of(self, idx: int) -> int:
        return bisect.bisect_right(self.levels, idx) - 1

    def _parent(self, idx: int) -> tuple[int, int, np.ndarray]:
        """(parent index, ground action, the successor row as generated) of
        the first state in the previous level that reaches state idx."""
        target = self.store.get(idx, idx + 1)[0].view(np.int64)
        lv = self._level_of(idx)
        lo, hi = self.levels[lv - 1], self.levels[lv]
        for b in range(lo, hi, self.batch):
            states = self.store.get(b, min(b + self.batch, hi)).view(np.int64)
            for p in self.expand(states, False):
                hit = np.flatnonzero(np.all(p.out[:p.n] == target, axis=1))
                if len(hit):
                    j = int(hit[0])
                    return b + int(p.srcs[j]), int(p.gids[j]), p.out[j].copy()
        raise AssertionError(f"state {idx} has no parent in level {lv - 1}")

    def path(self, idx: int) -> tuple[list[int], list[int]]:
        """Representative states and ground actions from an initial state to idx."""
        states = [from_words(self.store.get(idx, idx + 1)[0])]
        gids: list[int] = []
        while self._level_of(idx) > 0:
            idx, g, _ = self._parent(idx)
            gids.append(g)
            states.append(from_words(self.store.get(idx, idx + 1)[0]))
        return states[::-1], gids[::-1]

    def _violation(self, kind: str, name: str | None, src: int,
                   extra: tuple[int, np.ndarray] | None) -> Violation:
        ss, gs = self.path(src)
        return self.violation_on_path(kind, name, ss, gs, extra)

    def violation_on_path(self, kind: str, name: str | None, ss: list[int], gs: list[int],
                          extra: tuple[int, np.ndarray] | None) -> Violation:
        """The Violation along a BFS path of (representative) states `ss`
        and ground actions `gs`, ending in the violating state or, with
        `extra` = (ground action, successor row), in the step's source. Under
        symmetry the path is one of orbit representatives, and api.realize
        makes it a real run."""
        if self.canon_int is not None:
            step = None
            if kind == "transition":
                assert extra is not None and name is not None
                step = (extra[0], from_words(extra[1]))
            elif extra is not None:
                ss = ss + [from_words(extra[1])]
            bit = 1 << self.kernel.transition_names.index(name) if step is not None else 0
            ss, gs = realize(self.ground.initial_states, self.successors, self.canon_int, ss,
                             step, lambda x, y: bool(self._transition_mask(x, y) & bit))
        elif extra is not None:
            gs = gs + [extra[0]]
            ss = ss + [from_words(extra[1])]
        return Violation(kind, name, tuple(ss), tuple(gs))

    def successors(self, s: int) -> list[tuple[int, int]]:
        """The (ground action, successor) pairs of one packed state, as
        generated (not canonicalized)."""
        k = self.kernel
        row = np.array([to_words(s, k.nwords)], dtype=np.uint64).view(np.int64)
        out, gids, srcs, fan, tmp = k.buffers(1)
        n = k.expand(row, 0, 1, out, gids, srcs, fan, tmp)
        return [(int(gids[j]), from_words(out[j])) for j in range(n)]

    def _transition_mask(self, s: int, t: int) -> int:
        k = self.kernel
        pre = np.array([to_words(s, k.nwords)], dtype=np.uint64).view(np.int64)
        post = np.array([to_words(t, k.nwords)], dtype=np.uint64).view(np.int64)
        res = np.zeros(1, np.int64)
        k.transitions(pre, post, np.zeros(1, np.int64), 0, 1, res)
        return int(res[0])


def _warm_up() -> None:
    """Load the store's compiled code (the kernel cache, or a first build
    with numba: seconds) now, so that it counts as setup like compiling the
    kernel, not as search: a build inside the search once let an interrupt
    find 8 states."""
    store_kernels()
