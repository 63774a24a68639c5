"""Graph algorithms of the liveness check over the StateGraph's compressed
rows as they are: breadth-first distances, strongly connected components
(Tarjan's, iterative), and the per-component fairness summaries. Written
here rather than taken from scipy.sparse.csgraph because csgraph copies
every graph it is given into float64 weights and int64 indices, more than
the graph itself, and the graph is the main memory cost of a liveness
check; these run on the int32 rows in place.

`kernels(edges)` gives them compiled (numba builds them once per machine,
fast/native.py), or as plain Python (the same functions) for a small
graph, whose whole check takes less than loading the compiled code."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

UNSEEN = -1
# edges above which the compiled versions are worth loading
COMPILE_ABOVE = 100_000


def bfs(offsets, dst, alive, starts, start_dist, dist, parent, queue):
    """Shortest distances through `alive` states from `starts` (sorted by
    start_dist, each start at its own distance): dist/parent filled in
    place (-1: not reached; parent -1 at a start). queue: room for a state
    each."""
    head = 0
    tail = 0
    k = 0
    while k < len(starts) or head < tail:
        # the next state is the nearer of the queue's head and the next start
        if k < len(starts) and (head == tail or start_dist[k] <= dist[queue[head]]):
            s = starts[k]
            d = start_dist[k]
            k += 1
            if dist[s] != UNSEEN and dist[s] <= d:
                continue
            dist[s] = d
            parent[s] = -1
            queue[tail] = s
            tail += 1
            continue
        s = queue[head]
        head += 1
        for e in range(offsets[s], offsets[s + 1]):
            t = dst[e]
            if alive[t] and (dist[t] == UNSEEN or dist[t] > dist[s] + 1):
                dist[t] = dist[s] + 1
                parent[t] = s
                queue[tail] = t
                tail += 1
    return 0


def scc(offsets, dst, alive, comp, work, on_stack, edge):
    """Tarjan's strongly connected components of the subgraph of `alive`
    states, iteratively: comp[s] = component number (-1 for dead states);
    returns the number of components. Working arrays, a state each: work
    (4 rows of int32), on_stack (bool), edge (int64)."""
    n = len(comp)
    index = work[0]
    low = work[1]
    stack = work[2]
    call = work[3]      # the DFS path; edge: the next edge to look at, per path entry
    sp = 0
    counter = 0
    ncomp = 0
    for root in range(n):
        comp[root] = -1
        index[root] = -1
        on_stack[root] = False
    for root in range(n):
        if not alive[root] or index[root] != -1:
            continue
        depth = 0
        call[0] = root
        edge[0] = offsets[root]
        index[root] = counter
        low[root] = counter
        counter += 1
        stack[sp] = root
        sp += 1
        on_stack[root] = True
        while depth >= 0:
            s = call[depth]
            e = edge[depth]
            if e < offsets[s + 1]:
                edge[depth] = e + 1
                t = dst[e]
                if not alive[t]:
                    continue
                if index[t] == -1:
                    index[t] = counter
                    low[t] = counter
                    counter += 1
                    stack[sp] = t
                    sp += 1
                    on_stack[t] = True
                    depth += 1
                    call[depth] = t
                    edge[depth] = offsets[t]
                elif on_stack[t] and index[t] < low[s]:
                    low[s] = index[t]
                continue
            if low[s] == index[s]:
                while True:
                    sp -= 1
                    t = stack[sp]
                    on_stack[t] = False
                    comp[t] = ncomp
                    if t == s:
                        break
                ncomp += 1
            depth -= 1
            if depth >= 0:
                p = call[depth]
                if low[s] < low[p]:
                    low[p] = low[s]
    return ncomp


def summaries(offsets, dst, gid, comp, ncomp, accepting, enabled, member, size, acc, taken,
              en_and, en_or):
    """Per component: its size, whether it holds an accepting state, and
    bit sets over the fairness conditions: taken (an edge inside it is a
    condition's action), en_and / en_or (enabled in all / some of its
    states). enabled: (state, word) bits; member: (ground action, word)."""
    n = len(comp)
    words = enabled.shape[1]
    for c in range(ncomp):
        for w in range(words):
            en_and[c, w] = -1
    for s in range(n):
        c = comp[s]
        if c < 0:
            continue
        size[c] += 1
        if accepting[s]:
            acc[c] = True
        for w in range(words):
            en_and[c, w] &= enabled[s, w]
            en_or[c, w] |= enabled[s, w]
        for e in range(offsets[s], offsets[s + 1]):
            if comp[dst[e]] == c:
                g = gid[e]
                for w in range(words):
                    taken[c, w] |= member[g, w]
    return 0


def enabled_bits(offsets, gid, member, out):
    """out[s] = the conditions with an action that changes state s."""
    for s in range(len(offsets) - 1):
        for e in range(offsets[s], offsets[s + 1]):
            g = gid[e]
            for w in range(out.shape[1]):
                out[s, w] |= member[g, w]
    return 0


# the compiled kernels (fast/native.py): gid is int16 or int32 (graph_arrays)
_NATIVE = {
    "bfs": "i8(i8[:], i4[:], b1[:], i4[:], i8[:], i8[:], i4[:], i4[:])",
    "scc": "i8(i8[:], i4[:], b1[:], i4[:], i4[:,:], b1[:], i8[:])",
    "summaries/i2": "i8(i8[:], i4[:], i2[:], i4[:], i8, b1[:], i8[:,:], i8[:,:], i8[:], b1[:], "
                    "i8[:,:], i8[:,:], i8[:,:])",
    "summaries/i4": "i8(i8[:], i4[:], i4[:], i4[:], i8, b1[:], i8[:,:], i8[:,:], i8[:], b1[:], "
                    "i8[:,:], i8[:,:], i8[:,:])",
    "enabled_bits/i2": "i8(i8[:], i2[:], i8[:,:], i8[:,:])",
    "enabled_bits/i4": "i8(i8[:], i4[:], i8[:,:], i8[:,:])",
}


class Algorithms:
    """The graph algorithms over one implementation of the kernels above
    (compiled, or these Python functions themselves), with their working
    arrays allocated here."""

    def __init__(self, k: Any, native: bool) -> None:
        self.k = k
        self.native = native

    def _variant(self, name: str, gid: np.ndarray) -> Any:
        if not self.native:
            return getattr(self.k, name)
        return getattr(self.k, f"{name}/i{gid.dtype.itemsize}")

    def bfs(self, offsets: np.ndarray, dst: np.ndarray, alive: np.ndarray, starts: np.ndarray,
            start_dist: np.ndarray, dist: np.ndarray, parent: np.ndarray) -> int:
        return int(self.k.bfs(offsets, dst, alive, starts, start_dist, dist, parent,
                              np.empty(len(dist), np.int32)))

    def scc(self, offsets: np.ndarray, dst: np.ndarray, alive: np.ndarray,
            comp: np.ndarray) -> int:
        n = len(comp)
        return int(self.k.scc(offsets, dst, alive, comp, np.empty((4, n), np.int32),
                              np.empty(n, np.bool_), np.empty(n, np.int64)))

    def summaries(self, offsets: np.ndarray, dst: np.ndarray, gid: np.ndarray, comp: np.ndarray,
                  ncomp: int, *arrays: np.ndarray) -> None:
        self._variant("summaries", gid)(offsets, dst, gid, comp, ncomp, *arrays)

    def enabled_bits(self, offsets: np.ndarray, gid: np.ndarray, member: np.ndarray,
                     out: np.ndarray) -> None:
        self._variant("enabled_bits", gid)(offsets, gid, member, out)


_compiled: Algorithms | None = None
_plain = Algorithms(SimpleNamespace(bfs=bfs, scc=scc, summaries=summaries,
                                    enabled_bits=enabled_bits), native=False)


def compiled() -> Algorithms:
    """The algorithms compiled (fast/native.py: numba is imported only to
    build them, once per machine)."""
    global _compiled
    if _compiled is None:
        from paxcheck.search.fast import native
        k = native.library(__name__, _NATIVE)
        _compiled = Algorithms(SimpleNamespace(**{n: getattr(k, n) for n in _NATIVE}),
                               native=True)
    return _compiled


def kernels(edges: int, dst_type: np.dtype = np.dtype(np.int32)) -> Algorithms:
    """Compiled for a big graph, else plain (below COMPILE_ABOVE edges the
    plain functions finish before the compiled ones would load), and plain
    for a graph too big for the compiled kernels' int32 states."""
    return compiled() if edges > COMPILE_ABOVE and dst_type == np.int32 else _plain


def warm_up() -> None:
    """Load (or build) the compiled kernels."""
    compiled()
