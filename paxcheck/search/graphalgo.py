"""Graph algorithms of the liveness check over the StateGraph's compressed
rows as they are: breadth-first distances, strongly connected components
(Tarjan's, iterative), and the per-component fairness summaries. Written
here rather than taken from scipy.sparse.csgraph because csgraph copies
every graph it is given into float64 weights and int64 indices, more than
the graph itself, and the graph is the main memory cost of a liveness
check; these run on the int32 rows in place.

`kernels(edges)` gives them compiled with numba, or as plain Python (the
same functions) for a small graph when numba is not loaded yet: its import
costs about 100 MB and half a second, more than a small graph's whole
check, and the Python engine never loads it otherwise."""
from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np

UNSEEN = -1
# edges above which the compiled versions are worth numba's import
COMPILE_ABOVE = 100_000


def bfs(offsets, dst, alive, starts, start_dist, dist, parent):
    """Shortest distances through `alive` states from `starts` (sorted by
    start_dist, each start at its own distance): dist/parent filled in
    place (-1: not reached; parent -1 at a start)."""
    n = len(dist)
    queue = np.empty(n, np.int32)
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


def scc(offsets, dst, alive, comp):
    """Tarjan's strongly connected components of the subgraph of `alive`
    states, iteratively: comp[s] = component number (-1 for dead states);
    returns the number of components."""
    n = len(comp)
    index = np.full(n, -1, np.int32)
    low = np.zeros(n, np.int32)
    on_stack = np.zeros(n, np.bool_)
    stack = np.empty(n, np.int32)
    call = np.empty(n, np.int32)      # the DFS path
    edge = np.empty(n, np.int64)      # next edge to look at, per path entry
    sp = 0
    counter = 0
    ncomp = 0
    for root in range(n):
        comp[root] = -1
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


_NAMES = ("bfs", "scc", "summaries", "enabled_bits")
_compiled: SimpleNamespace | None = None
_plain = SimpleNamespace(**{name: globals()[name] for name in _NAMES})


def compiled() -> SimpleNamespace:
    """The functions above compiled (numba's cache, or a first compile)."""
    global _compiled
    if _compiled is None:
        from numba import njit
        _compiled = SimpleNamespace(**{name: njit(cache=True, nogil=True)(globals()[name])
                                       for name in _NAMES})
    return _compiled


def kernels(edges: int) -> SimpleNamespace:
    """Compiled for a big graph or when numba is loaded anyway, else plain."""
    return compiled() if edges > COMPILE_ABOVE or "numba" in sys.modules else _plain


def warm_up() -> None:
    """Load (or compile) the compiled functions on a tiny graph."""
    k = compiled()
    offsets = np.array([0, 1, 1], np.int64)
    dst = np.array([1], np.int32)
    gid = np.array([0], np.int16)
    alive = np.ones(2, np.bool_)
    dist = np.full(2, -1, np.int64)
    parent = np.full(2, -1, np.int32)
    k.bfs(offsets, dst, alive, np.array([0], np.int32), np.array([0], np.int64), dist, parent)
    comp = np.zeros(2, np.int32)
    n = k.scc(offsets, dst, alive, comp)
    member = np.zeros((1, 1), np.int64)
    en = np.zeros((2, 1), np.int64)
    k.enabled_bits(offsets, gid, member, en)
    k.summaries(offsets, dst, gid, comp, n, alive, en, member, np.zeros(n, np.int64),
                np.zeros(n, np.bool_), np.zeros((n, 1), np.int64), np.zeros((n, 1), np.int64),
                np.zeros((n, 1), np.int64))
