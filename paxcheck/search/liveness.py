"""Liveness under fairness on an explored state graph: fair lassos.

An obligation (ground/temporal.py) fails iff some fair behaviour satisfies
its negation. Each negation is a Büchi automaton of at most three states
whose only cycles are self-loops on one accepting state:

  not <>P     = [](~P)            every state ~P
  not []<>P   = <>[](~P)          from some state on, ~P
  not <>[]P   = []<>(~P)          ~P infinitely often
  not []P     = <>(~P)            a ~P state, then anything
  not P ~> Q  = <>(P & [](~Q))    a P & ~Q state, then ~Q forever

So a counterexample is a stem to a `trigger` state, a path from it inside
the `region` the accepting state admits, and a cycle inside the region;
the product with the automaton is never built. The region's strongly
connected components (scipy) are checked for fairness; a component is
kept if it can cycle (every state may stutter, so each one can), holds an
`accepting` state, and meets every condition.

Semantics are TLA+'s: behaviours are infinite, every state may stutter (a
stutter step is no action's step), a state without successors stutters
forever, and an action is taken or enabled only by a step that changes the
state (`<<A>>_vars`). A strongly connected set of states, visited forever
with every edge inside it taken forever, satisfies weak fairness of A iff
it holds an A edge or a state where A is disabled, and strong fairness iff
it holds an A edge or no state where A is enabled. A component that fails
a strong condition is split again without its states where that condition
is enabled (the Emerson-Lei / Streett emptiness check), since a fair cycle
inside it must avoid them.

The lasso: the stem is a shortest path (fewest steps) from an initial
state through a trigger to a state of a fair component, the cycle a greedy
walk inside that component from the stem's end through one witness of
each obligation (an accepting state, a fair edge or a disabled state) and
back: short, not always the shortest. The graph comes from any engine
(Checks.graph), so verdicts rest on the engines' own state spaces; the
tests compare them with a brute-force checker over every strongly
connected set of states."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from paxcheck import budget
from paxcheck.ground.temporal import Condition, LiveSet, Obligation
from paxcheck.search.api import StateGraph, Violation

if TYPE_CHECKING:
    from paxcheck.ground.ground import GroundInstance


@dataclass(frozen=True)
class Lasso:
    """A fair behaviour violating an obligation: state indices and the
    ground actions between them; it goes on from the last state as from
    states[loop] (equal states), or stutters at the last state forever
    when loop == len(states) - 1 and the cycle has no step."""
    obligation: Obligation
    states: tuple[int, ...]
    steps: tuple[int, ...]
    loop: int

    @property
    def stem_length(self) -> int:
        return self.loop

    @property
    def cycle_length(self) -> int:
        return len(self.steps) - self.loop


@dataclass(frozen=True)
class _Shape:
    """An obligation's negation over the graph (see the module): a stem
    from an initial state reaches a `trigger` state (through anything when
    `free_stem`, else only through `region` states), then stays in
    `region`, where a fair cycle holds an `accepting` state."""
    trigger: np.ndarray
    region: np.ndarray
    accepting: np.ndarray
    free_stem: bool


def _shape(kind: str, p: np.ndarray, q: np.ndarray, initial: np.ndarray) -> _Shape:
    every = np.ones(len(p), bool)
    if kind == "eventually":
        return _Shape(initial & ~p, ~p, every, False)
    if kind == "infinitely":
        return _Shape(~p, ~p, every, True)
    if kind == "stable":
        return _Shape(every, every, ~p, True)
    if kind == "always":
        return _Shape(~p, every, every, True)
    if kind == "leads_to":
        return _Shape(p & ~q, ~q, every, True)
    raise ValueError(f"unknown temporal kind {kind!r}")


class _Graph:
    """A StateGraph with what every obligation reuses: its adjacency
    matrix, BFS distances and parents from the initial states, and the
    fairness conditions' enabledness per state."""

    def __init__(self, graph: StateGraph, conditions: Sequence[Condition], nactions: int) -> None:
        self.g = graph
        n = self.n = graph.size
        self.offsets, self.dst, self.gid = graph.offsets, graph.dst, graph.gid
        self.src = np.repeat(np.arange(n, dtype=self.dst.dtype), np.diff(self.offsets))
        self.initial = np.zeros(n, bool)
        self.initial[:graph.initial] = True
        self.ones = np.ones(len(self.dst), np.int8)
        adj = sparse.csr_matrix((self.ones, self.dst, self.offsets), shape=(n, n))
        if n:
            dist, pred, _ = csgraph.dijkstra(adj, indices=np.arange(graph.initial),
                                             unweighted=True, min_only=True,
                                             return_predecessors=True)
        else:
            dist, pred = np.zeros(0), np.zeros(0, np.int32)
        del adj
        self.depth, self.parent = dist, pred
        self.conditions = tuple(conditions)
        self.weak = np.array([c.kind == "weak" for c in conditions], bool)
        rows = [g for c in conditions for g in c.gids]
        cols = [i for i, c in enumerate(conditions) for _ in c.gids]
        g = max(1, nactions)
        # member[a, c]: ground action a is one of condition c's
        self.member = sparse.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)),
                                        shape=(g, len(conditions)))
        by_state = sparse.csr_matrix((self.ones, self.gid.astype(np.int32), self.offsets),
                                     shape=(n, g))
        by_state.sum_duplicates()
        by_state.data[:] = 1
        en = (by_state.astype(np.int32) @ self.member).tocsr()
        en.data[:] = 1
        self.enabled = en   # enabled[s, c] = 1: a step of condition c changes state s
        self.quiet = np.asarray(en.sum(axis=1)).ravel() == 0   # nothing fair enabled

    def edge_gid(self, a: int, b: int) -> int:
        """The lowest ground action of an edge a -> b."""
        lo, hi = self.offsets[a], self.offsets[a + 1]
        return int(self.gid[lo:hi][self.dst[lo:hi] == b].min())


def _matrix(n: int, src: np.ndarray, dst: np.ndarray) -> sparse.csr_matrix:
    m = sparse.csr_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n, n))
    m.data[:] = 1   # parallel edges were summed
    return m


def _fair_components(G: _Graph, alive: np.ndarray, accepting: np.ndarray) -> np.ndarray:
    """Per state, the id of its fair accepting component inside `alive`
    (-1 for none)."""
    n = G.n
    comp_of = np.full(n, -1, np.int64)
    ncomp = 0
    while alive.any():
        budget.checkpoint("checking liveness")
        if alive.all():   # the whole graph: no copy of its edges
            es, ed, eg = G.src, G.dst, G.gid
            m = sparse.csr_matrix((G.ones, G.dst, G.offsets), shape=(n, n))
        else:
            inside = alive[G.src] & alive[G.dst]
            es, ed, eg = G.src[inside], G.dst[inside], G.gid[inside]
            m = _matrix(n, es, ed)
        _, lab = csgraph.connected_components(m, directed=True, connection="strong")
        del m
        lab = np.where(alive, lab, -1)
        nl = int(lab.max()) + 1
        size = np.bincount(lab[alive], minlength=nl)
        cand = np.bincount(lab[alive & accepting], minlength=nl) > 0   # every state may stutter
        nxt = np.zeros(n, bool)
        good = np.zeros(nl, bool)
        if not G.conditions:
            good = cand
        else:
            # one state: no edge inside, so fair iff nothing fair is enabled there
            single = np.flatnonzero(alive & (size[np.maximum(lab, 0)] == 1))
            ok1 = single[G.quiet[single]]
            good[lab[ok1]] = cand[lab[ok1]]
            multi = np.flatnonzero(cand & (size > 1))
            if len(multi):
                cid = np.full(nl, -1, np.int64)
                cid[multi] = np.arange(len(multi))
                k = len(multi)
                within = lab[es] == lab[ed]
                ce = cid[lab[es]]
                e_in = within & (ce >= 0)
                taken_by = sparse.csr_matrix((np.ones(int(e_in.sum()), np.int32),
                                              (ce[e_in], eg[e_in])), shape=(k, G.member.shape[0]))
                taken = (taken_by @ G.member).toarray() > 0
                nodes = np.flatnonzero(alive & (cid[np.maximum(lab, 0)] >= 0))
                cn = sparse.csr_matrix((np.ones(len(nodes), np.int32), (cid[lab[nodes]], nodes)),
                                       shape=(k, n))
                en_count = (cn @ G.enabled).toarray()
                csize = size[multi][:, None]
                weak_ok = taken | (en_count < csize)
                strong_ok = taken | (en_count == 0)
                ok = np.where(G.weak[None, :], weak_ok, strong_ok)
                fine = ok.all(axis=1)
                good[multi[fine]] = True
                # weak conditions met, a strong one broken: drop the states where
                # a broken one is enabled, and split again
                redo = ~fine & (weak_ok | ~G.weak[None, :]).all(axis=1)
                if redo.any():
                    broken = sparse.csr_matrix(~strong_ok & ~G.weak[None, :] & redo[:, None])
                    rn = nodes[redo[cid[lab[nodes]]]]
                    hit = np.asarray(G.enabled[rn].multiply(broken[cid[lab[rn]]]).sum(axis=1))
                    nxt[rn[hit.ravel() == 0]] = True
        members = np.flatnonzero(alive & good[np.maximum(lab, 0)] & (lab >= 0))
        if len(members):
            ids = np.unique(lab[members], return_inverse=True)[1]
            comp_of[members] = ncomp + ids
            ncomp += int(ids.max()) + 1
        alive = nxt
    return comp_of


def violations(graph: StateGraph, live: LiveSet, ground: GroundInstance) -> list[Violation]:
    """The lassos of `check` as Violations over packed states."""
    out = []
    for lasso in check(graph, live, len(ground.ground_actions)):
        out.append(Violation("liveness", lasso.obligation.property,
                             tuple(graph.state(i) for i in lasso.states), lasso.steps,
                             lasso.loop, lasso.obligation.binding))
    return out


def check(graph: StateGraph, live: LiveSet, nactions: int) -> list[Lasso]:
    """The first violated obligation of each liveness property, as a lasso
    (properties that hold give none)."""
    G = _Graph(graph, live.conditions, nactions)
    bits = np.arange(len(live.atoms), dtype=np.int64)
    truth = ((graph.labels[:, None] >> bits[None, :]) & 1).astype(bool)
    out: list[Lasso] = []
    failed: set[str] = set()
    for ob in live.obligations:
        if ob.property in failed:
            continue
        p = truth[:, ob.p]
        q = truth[:, ob.q] if ob.q is not None else p
        lasso = _check_one(G, ob, _shape(ob.kind, p, q, G.initial))
        if lasso is not None:
            failed.add(ob.property)
            out.append(lasso)
    return out


def _check_one(G: _Graph, ob: Obligation, sh: _Shape) -> Lasso | None:
    budget.checkpoint("checking liveness")
    trig = np.flatnonzero(sh.trigger & (np.isfinite(G.depth) if sh.free_stem else sh.region))
    if not len(trig):
        return None
    # from the triggers inside the region: a root node n, with an edge to each
    # trigger t weighing its stem length + 1 (an explicit 0 would be no edge)
    n = G.n
    inside = sh.region[G.src] & sh.region[G.dst]
    offset = G.depth[trig] if sh.free_stem else np.zeros(len(trig))
    w = sparse.csr_matrix(
        (np.concatenate([np.ones(int(inside.sum())), offset + 1.0]),
         (np.concatenate([G.src[inside], np.full(len(trig), n, G.src.dtype)]),
          np.concatenate([G.dst[inside], trig.astype(G.dst.dtype)]))), shape=(n + 1, n + 1))
    w.data[:w.indptr[n]] = 1.0   # parallel edges inside the region were summed
    dist, pred = csgraph.dijkstra(w, indices=n, return_predecessors=True)
    reach = np.isfinite(dist[:n]) & sh.region
    comp_of = _fair_components(G, reach, sh.accepting)
    targets = np.flatnonzero(comp_of >= 0)
    if not len(targets):
        return None
    best = int(targets[np.lexsort((targets, dist[targets]))[0]])   # nearest, then lowest
    tail = [best]
    while pred[tail[-1]] != n:
        tail.append(int(pred[tail[-1]]))
    tail.reverse()   # a trigger first
    head = [tail[0]]
    if sh.free_stem:
        while G.parent[head[-1]] >= 0:
            head.append(int(G.parent[head[-1]]))
        head.reverse()
    path = head + tail[1:]
    cycle = _cycle(G, comp_of, best, sh.accepting)
    states = path + [b for _, _, b in cycle]
    steps = [G.edge_gid(a, b) for a, b in zip(path, path[1:])] + [g for _, g, _ in cycle]
    return Lasso(ob, tuple(states), tuple(steps), len(path) - 1)


def _cycle(G: _Graph, comp_of: np.ndarray, entry: int, accepting: np.ndarray
           ) -> list[tuple[int, int, int]]:
    """(state, gid, state) steps of a cycle from entry inside its fair
    component through a witness of every obligation; [] when stuttering at
    entry forever is itself fair."""
    members = comp_of == comp_of[entry]
    e_in = np.flatnonzero(members[G.src] & members[G.dst])
    es, ed, eg = G.src[e_in], G.dst[e_in], G.gid[e_in]
    nodes = np.flatnonzero(members)
    # what the cycle must meet: (states that meet it, positions of edges that do)
    needs: list[tuple[np.ndarray, np.ndarray]] = [(nodes[accepting[nodes]], np.zeros(0, int))]
    for c, cond in enumerate(G.conditions):
        in_c = np.isin(eg, np.array(cond.gids, np.int64))
        en = np.asarray(G.enabled[nodes][:, c].toarray()).ravel() > 0
        if cond.kind == "weak":
            needs.append((nodes[~en], np.flatnonzero(in_c)))
        elif en.any():   # strong, so the component holds one of its edges
            needs.append((np.zeros(0, int), np.flatnonzero(in_c)))
    pending = [i for i, (ns, _) in enumerate(needs) if entry not in set(ns.tolist())]
    if not pending:
        return []   # stuttering at entry forever meets everything
    m = _matrix(G.n, es, ed)
    steps: list[tuple[int, int, int]] = []
    cur = entry
    while pending or cur != entry:
        budget.checkpoint("building a lasso")
        dist, pred = csgraph.dijkstra(m, indices=cur, unweighted=True, return_predecessors=True)
        target, edge = entry, -1
        if pending:
            best: tuple[float, int, int] | None = None   # cost, state, edge position
            for i in pending:
                ns, eds = needs[i]
                if len(ns):
                    j = int(np.argmin(dist[ns]))
                    if best is None or dist[ns[j]] < best[0]:
                        best = (float(dist[ns[j]]), int(ns[j]), -1)
                if len(eds):
                    d = dist[es[eds]] + 1
                    j = int(np.argmin(d))
                    if best is None or d[j] < best[0]:
                        best = (float(d[j]), int(es[eds[j]]), int(eds[j]))
            assert best is not None and np.isfinite(best[0]), "a fair component meets every need"
            _, target, edge = best
        walk = [target]
        while walk[-1] != cur:
            walk.append(int(pred[walk[-1]]))
        walk.reverse()
        steps += [(a, G.edge_gid(a, b), b) for a, b in zip(walk, walk[1:])]
        cur = target
        if edge >= 0:
            steps.append((int(es[edge]), int(eg[edge]), int(ed[edge])))
            cur = int(ed[edge])
        seen = {a for a, _, _ in steps} | {b for _, _, b in steps}
        used = {(a, g, b) for a, g, b in steps}
        pending = [i for i in pending
                   if not (seen & set(needs[i][0].tolist())
                           or any((int(es[k]), int(eg[k]), int(ed[k])) in used
                                  for k in needs[i][1]))]
    return steps
