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
connected components (graphalgo.py) are checked for fairness; a component is
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

from paxcheck import budget
from paxcheck.ground.temporal import Condition, LiveSet, Obligation
from paxcheck.search import graphalgo
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
    """A StateGraph with what every obligation reuses: BFS distances and
    parents from the initial states, and the fairness conditions as bit
    sets (graphalgo.py works on these in place)."""

    def __init__(self, graph: StateGraph, conditions: Sequence[Condition], nactions: int) -> None:
        self.g = graph
        n = self.n = graph.size
        self.offsets, self.dst, self.gid = graph.offsets, graph.dst, graph.gid
        self.initial = np.zeros(n, bool)
        self.initial[:graph.initial] = True
        self.everything = np.ones(n, bool)
        self.algo = graphalgo.kernels(graph.edges, graph.dst.dtype)
        self.depth, self.parent = self.bfs(self.everything, np.arange(graph.initial),
                                           np.zeros(graph.initial, np.int64))
        self.conditions = tuple(conditions)
        words = max(1, -(-len(conditions) // 64))
        self.member = np.zeros((max(1, nactions), words), np.int64)   # action -> its conditions
        self.weak = np.zeros(words, np.int64)
        self.strong = np.zeros(words, np.int64)
        for c, cond in enumerate(conditions):
            bit = np.int64(1) << np.int64(c % 64) if c % 64 < 63 else np.int64(-(2**63))
            self.member[np.array(cond.gids, np.int64), c // 64] |= bit
            if cond.kind == "weak":
                self.weak[c // 64] |= bit
            else:
                self.strong[c // 64] |= bit
        self.enabled = np.zeros((n, words), np.int64)   # conditions that can change each state
        self.algo.enabled_bits(self.offsets, self.gid, self.member, self.enabled)
        self._src: np.ndarray | None = None

    def bfs(self, alive: np.ndarray, starts: np.ndarray, start_dist: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(start_dist, kind="stable")
        dist = np.full(self.n, graphalgo.UNSEEN, np.int64)
        parent = np.full(self.n, -1, np.int32)
        self.algo.bfs(self.offsets, self.dst, alive, starts[order].astype(np.int32),
                      start_dist[order].astype(np.int64), dist, parent)
        return dist, parent

    @property
    def src(self) -> np.ndarray:
        """The source of each edge (built when a lasso needs it)."""
        if self._src is None:
            self._src = np.repeat(np.arange(self.n, dtype=np.int32), np.diff(self.offsets))
        return self._src

    def edge_gid(self, a: int, b: int) -> int:
        """The lowest ground action of an edge a -> b."""
        lo, hi = self.offsets[a], self.offsets[a + 1]
        return int(self.gid[lo:hi][self.dst[lo:hi] == b].min())

    def has(self, states: np.ndarray, c: int) -> np.ndarray:
        """Is condition c enabled in each of these states?"""
        return (self.enabled[states, c // 64] >> np.int64(c % 64)) & 1 == 1


def _fair_components(G: _Graph, alive: np.ndarray, accepting: np.ndarray) -> np.ndarray:
    """Per state, the id of its fair accepting component inside `alive`
    (-1 for none)."""
    n = G.n
    comp_of = np.full(n, -1, np.int64)
    ncomp = 0
    words = G.enabled.shape[1]
    while alive.any():
        budget.checkpoint("checking liveness", every=1)
        comp = np.empty(n, np.int32)
        k = G.algo.scc(G.offsets, G.dst, alive, comp)
        size = np.zeros(k, np.int64)
        acc = np.zeros(k, bool)
        taken = np.zeros((k, words), np.int64)
        en_and = np.zeros((k, words), np.int64)
        en_or = np.zeros((k, words), np.int64)
        G.algo.summaries(G.offsets, G.dst, G.gid, comp, k, accepting, G.enabled, G.member,
                            size, acc, taken, en_and, en_or)
        # every state may stutter, so every component can cycle
        weak_bad = ((~taken & en_and & G.weak) != 0).any(axis=1)
        broken = ~taken & en_or & G.strong          # strong conditions it breaks
        strong_bad = (broken != 0).any(axis=1)
        good = acc & ~weak_bad & ~strong_bad
        members = np.flatnonzero((comp >= 0) & good[np.maximum(comp, 0)])
        if len(members):
            ids = np.unique(comp[members], return_inverse=True)[1]
            comp_of[members] = ncomp + ids
            ncomp += int(ids.max()) + 1
        # weak conditions met, strong ones broken: drop the states where a
        # broken one is enabled, and split what is left again
        redo = acc & ~weak_bad & strong_bad
        nodes = np.flatnonzero((comp >= 0) & redo[np.maximum(comp, 0)])
        keep = ~((G.enabled[nodes] & broken[comp[nodes]]) != 0).any(axis=1)
        alive = np.zeros(n, bool)
        alive[nodes[keep]] = True
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
    budget.checkpoint("checking liveness", every=1)
    trig = np.flatnonzero(sh.trigger & ((G.depth >= 0) if sh.free_stem else sh.region))
    if not len(trig):
        return None
    # from the triggers, through the region: a trigger starts at its own stem length
    offset = G.depth[trig] if sh.free_stem else np.zeros(len(trig), np.int64)
    dist, pred = G.bfs(sh.region, trig, offset)
    comp_of = _fair_components(G, (dist >= 0) & sh.region, sh.accepting)
    targets = np.flatnonzero(comp_of >= 0)
    if not len(targets):
        return None
    best = int(targets[np.lexsort((targets, dist[targets]))[0]])   # nearest, then lowest
    tail = [best]
    while pred[tail[-1]] >= 0:
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
    component through a witness of every demand on it; [] when stuttering
    at entry forever meets them all."""
    members = comp_of == comp_of[entry]
    nodes = np.flatnonzero(members)
    e_in = np.flatnonzero(members[G.src] & members[G.dst])
    es, ed, eg = G.src[e_in], G.dst[e_in], G.gid[e_in]
    # each demand: (states that meet it, positions in e_in of edges that do)
    needs: list[tuple[np.ndarray, np.ndarray]] = [(nodes[accepting[nodes]], np.zeros(0, int))]
    for c, cond in enumerate(G.conditions):
        in_c = np.isin(eg, np.array(cond.gids, np.int64))
        en = G.has(nodes, c)
        if cond.kind == "weak":
            needs.append((nodes[~en], np.flatnonzero(in_c)))
        elif en.any():   # strong, so the component holds one of its edges
            needs.append((np.zeros(0, int), np.flatnonzero(in_c)))
    pending = [i for i, (ns, _) in enumerate(needs) if entry not in set(ns.tolist())]
    if not pending:
        return []
    steps: list[tuple[int, int, int]] = []
    cur = entry
    while pending or cur != entry:
        budget.checkpoint("building a lasso", every=1)
        dist, pred = G.bfs(members, np.array([cur]), np.zeros(1, np.int64))
        far = np.where(dist >= 0, dist, np.iinfo(np.int64).max // 2)
        target, edge = entry, -1
        if pending:
            best: tuple[int, int, int] | None = None   # cost, state, edge position
            for i in pending:
                ns, eds = needs[i]
                if len(ns):
                    j = int(np.argmin(far[ns]))
                    if best is None or far[ns[j]] < best[0]:
                        best = (int(far[ns[j]]), int(ns[j]), -1)
                if len(eds):
                    d = far[es[eds]] + 1
                    j = int(np.argmin(d))
                    if best is None or d[j] < best[0]:
                        best = (int(d[j]), int(es[eds[j]]), int(eds[j]))
            assert best is not None and dist[best[1]] >= 0, "a fair component meets every need"
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
        used = set(steps)
        pending = [i for i in pending
                   if not (seen & set(needs[i][0].tolist())
                           or any((int(es[k]), int(eg[k]), int(ed[k])) in used
                                  for k in needs[i][1]))]
    return steps
