"""The fast explicit-state engine: breadth-first, a frontier batch at a time.

Each batch of frontier states is decoded from the compact store, expanded by
the instance's machine-code kernel (codegen.py) on several threads at once,
then inserted into the store in row order, so the states get exactly the
indices, and the run exactly the counts, verdicts and traces, of the Python
engine (explicit.py): a batch's events are replayed in the order that
engine meets them, and a run that stops mid-batch reports the figures it
would have reported at that point.

No parent pointers are kept (they would double the bytes per state): store
indices are in breadth-first order, so levels are index ranges, and a
trace is rebuilt backwards by re-expanding one level per step and taking the
first state whose successor is the next state on the path, which is the
parent the Python engine records."""
from __future__ import annotations

import bisect
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from paxcheck.ground.grounder import CompiledInstance
from paxcheck.search.python import (Limits, Progress, RunResult, Stats, Violation, over_limit, realize)
from paxcheck.search.fast import codegen
from paxcheck.search.fast.store import StateStore

if TYPE_CHECKING:
    from paxcheck.config.symmetry import Symmetry

_M64 = (1 << 64) - 1
_OUT_ROWS = 1 << 19   # successor rows per worker per batch


def to_words(s: int, nwords: int) -> list[int]:
    return [(s >> (64 * k)) & _M64 for k in range(nwords)]


def from_words(row: np.ndarray) -> int:
    return sum((int(w) & _M64) << (64 * k) for k, w in enumerate(row))


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


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
    def __init__(self, compiled: CompiledInstance, workers: int | None = None,
                 symmetry: "Symmetry | None" = None) -> None:
        self.compiled = compiled
        names = tuple(p.name for p, _ in compiled.invariants) + \
            tuple(p.name for p, _ in compiled.transition_props)
        self.kernel = codegen.load(compiled.inst, names, compiled.layout, symmetry=symmetry)
        assert len(self.kernel.ground_actions) == len(compiled.ground_actions)
        self.workers = workers or default_workers()
        self.symmetric = symmetry is not None
        self.canon_int = symmetry.canon if symmetry is not None else None
        k = self.kernel
        self.batch = max(64, min(8192, _OUT_ROWS * self.workers // max(1, k.max_fanout)))
        share = -(-self.batch // self.workers)
        self.parts = [self._part(share) for _ in range(self.workers)]
        self.pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None
        _warm_up(self.kernel.nwords)

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
            for f in [self.pool.submit(self._expand_part, states, p, check_transitions)
                      for p in used]:
                f.result()
        return used

    # ---- the search ---------------------------------------------------------
    def run(self, limits: Limits = Limits(), progress: Progress | None = None,
            progress_every: float = 2.0) -> RunResult:
        start = time.monotonic()
        c, k = self.compiled, self.kernel
        stats = Stats()
        result = RunResult(c.inst, c, stats)
        store = StateStore(k.nwords, bits=c.layout.bits)
        self.store = store
        self.levels = [0]
        violated: set[str] = set()
        inv_names, tr_names = k.invariant_names, k.transition_names
        pending: list[tuple[str, str | None, int, tuple[int, np.ndarray] | None]] = []

        def finish(complete: bool, reason: str | None, distinct: int | None = None) -> RunResult:
            stats.distinct = len(store) if distinct is None else distinct
            stats.elapsed = time.monotonic() - start
            for kind, name, src, extra in pending:
                result.violations.append(self._violation(kind, name, src, extra))
            result.complete = complete and not result.violations
            result.stop_reason = reason
            return result

        def record(kind: str, name: str | None, src: int,
                   extra: tuple[int, np.ndarray] | None) -> bool:
            key = f"{kind}:{name}"
            if key in violated:
                return False
            violated.add(key)
            pending.append((kind, name, src, extra))
            return not limits.keep_going

        # initial states, one at a time as the Python engine adds them
        init_rows = []
        for s0 in c.initial_states:
            if self.canon_int is not None:
                s0 = self.canon_int(s0)
            init_rows.append(to_words(s0, k.nwords))
        rows = np.array(init_rows, dtype=np.uint64).reshape(-1, k.nwords)
        _, new = store.insert(rows)
        fresh = rows[new].view(np.int64)
        res = np.zeros(len(fresh), np.int64)
        k.invariants(fresh, 0, len(fresh), res)
        for i, mask in enumerate(res):
            for b, name in enumerate(inv_names):
                if mask >> b & 1 and record("invariant", name, i, None):
                    return finish(False, None, i + 1)
        self.levels.append(len(store))

        deadline = start + limits.timeout if limits.timeout else None
        next_report = start + progress_every
        check_tr = bool(tr_names)
        level = 0   # the level being expanded; its successors are level + 1
        try:
            while self.levels[level] < self.levels[level + 1]:
                lo, end = self.levels[level], self.levels[level + 1]
                stats.depth = level
                for b in range(lo, end, self.batch):
                    states = store.get(b, min(b + self.batch, end)).view(np.int64)
                    for p in self.expand(states, check_tr):
                        stop = self._absorb(p, b, level, limits, stats, record)
                        if stop is not None:
                            reason, distinct = stop
                            return finish(False, reason, distinct)
                    now = time.monotonic()
                    reason = over_limit(limits, deadline, now)
                    if reason is not None:
                        return finish(False, reason)
                    if progress is not None and now >= next_report:
                        stats.distinct, stats.elapsed = len(store), now - start
                        progress(stats, len(store) - b)
                        next_report = now + progress_every
                self.levels.append(len(store))
                level += 1
        except KeyboardInterrupt:
            return finish(False, "interrupted")
        stats.depth = max(0, level - 1) if len(store) else 0
        return finish(True, None)

    def _absorb(self, p: _Part, base: int, level: int, limits: Limits, stats: Stats,
                record: Callable) -> tuple[str | None, int] | None:
        """Insert one part's successors and replay its events in the Python
        engine's order; (stop reason, distinct count) when the run stops."""
        k, store = self.kernel, self.store
        before = len(store)
        _, new = store.insert(p.out[:p.n].view(np.uint64))
        new_pos = np.flatnonzero(new)
        inv = np.zeros(p.n, np.int64)
        if len(new_pos) and k.invariant_names:
            fresh = np.ascontiguousarray(p.out[new_pos])
            r = np.zeros(len(new_pos), np.int64)
            k.invariants(fresh, 0, len(new_pos), r)
            inv[new_pos] = r
        # starts[r] = successors of the part's sources before source r
        starts = np.concatenate(([0], np.cumsum(p.fan[:p.hi - p.lo])))
        for ev in self._events(p, new_pos, inv, before, limits):
            r = ev.src - p.lo
            done = stats.transitions + int(starts[r + 1])   # this source's successors count
            if ev.kind == "limit":
                stats.transitions = done
                return f"state limit of {limits.max_states} reached", limits.max_states
            extra = None if ev.kind == "deadlock" else (ev.gid, ev.row)
            if record(ev.kind, ev.prop, base + ev.src, extra):
                stats.transitions = done
                if ev.kind == "invariant":
                    stats.depth = level + 1
                    made = np.count_nonzero(new[:ev.j + 1])
                elif ev.kind == "transition":
                    made = np.count_nonzero(new[:ev.j])
                else:
                    made = np.count_nonzero(new[:starts[r]])
                return None, before + int(made)
        stats.transitions += p.n
        return None

    def _events(self, p: _Part, new_pos: np.ndarray, inv: np.ndarray, before: int,
                limits: Limits) -> list[_Event]:
        k = self.kernel
        events: list[_Event] = []
        if limits.deadlock:
            for r in np.flatnonzero(p.fan[:p.hi - p.lo] == 0):
                events.append(_Event(p.lo + int(r), -1, 0, "deadlock", None, -1, None))
        if k.transition_names:
            for j in np.flatnonzero(p.tres[:p.n]):
                for b, name in enumerate(k.transition_names):
                    if p.tres[j] >> b & 1:
                        events.append(_Event(int(p.srcs[j]), int(j), 0, "transition", name,
                                             int(p.gids[j]), p.out[j].copy()))
        if limits.max_states is not None and before + len(new_pos) > limits.max_states:
            j = int(new_pos[limits.max_states - before])
            events.append(_Event(int(p.srcs[j]), j, 1, "limit", None, -1, None))
        for j in np.flatnonzero(inv):
            for b, name in enumerate(k.invariant_names):
                if inv[j] >> b & 1:
                    events.append(_Event(int(p.srcs[j]), int(j), 2, "invariant", name,
                                         int(p.gids[j]), p.out[j].copy()))
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
        if extra is None and kind == "invariant":     # an initial state
            s = from_words(self.store.get(src, src + 1)[0])
            return Violation(kind, name, (s,), ())
        ss, gs = self.path(src)
        if self.canon_int is not None:
            # a path of representatives; explicit.realize makes it a real run
            step = None
            if kind == "transition":
                step = (extra[0], from_words(extra[1]))
            elif extra is not None:
                ss.append(from_words(extra[1]))
            ss, gs = realize(self.compiled, self.canon_int, ss, name, step)
        elif extra is not None:
            gs.append(extra[0])
            ss.append(from_words(extra[1]))
        return Violation(kind, name, tuple(ss), tuple(gs))


def _warm_up(nwords: int) -> None:
    """Load the store's compiled code (numba's cache, or a first compile)
    now, so that it counts as setup like compiling the kernel, not as search."""
    store = StateStore(nwords, 16)
    row = np.zeros((1, nwords), np.uint64)
    store.insert(row)
    store.lookup(row)
    store.get(0, 1)


def explore_fast(compiled: CompiledInstance, limits: Limits = Limits(),
                 progress: Progress | None = None, progress_every: float = 2.0,
                 workers: int | None = None, symmetry: "Symmetry | None" = None) -> RunResult:
    """Like explicit.explore; with `symmetry`, counts are orbits."""
    engine = FastEngine(compiled, workers, symmetry)
    try:
        return engine.run(limits, progress, progress_every)
    finally:
        engine.close()
