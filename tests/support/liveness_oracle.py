"""A brute-force liveness checker, obviously correct and only for tiny
graphs: the oracle the engines' liveness verdicts and stem lengths are held
to (tests only).

A fair behaviour that violates an obligation exists iff some set S of
reachable states could be exactly the set visited infinitely often: S
strongly connected through edges inside it (one state: by stuttering),
every weak condition met in S (one of its edges inside S, or a state of S
where it is disabled), every strong condition met (an edge inside S, or
no state of S where it is enabled), plus the obligation's own demand on S
and on the way there. Every subset of the reachable states is tried. The
graph comes from the reference evaluator, not from an engine; the fairness
conditions and atoms from ground/temporal.py (their meaning is a
definition, not an algorithm)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from paxcheck.config.model import Model
from paxcheck.ground.ground import ground
from paxcheck.ground.temporal import live_set
from paxcheck.semantics.evaluate import Evaluator, successors

MAX_STATES = 12


@dataclass(frozen=True)
class Verdict:
    violated: bool
    stem: int | None   # the fewest steps to a violating cycle's first state


def _bfs(starts: dict[int, int], succ: list[list[int]], allowed: list[bool]) -> dict[int, int]:
    """Distances from starts (with initial distances) through allowed states."""
    dist = dict(starts)
    order = sorted(starts, key=lambda s: starts[s])
    queue = deque(order)
    # starts may have different offsets: a plain BFS is exact only when they
    # are processed in distance order, so relax until nothing improves
    while queue:
        s = queue.popleft()
        for t in succ[s]:
            if allowed[t] and dist.get(t, 1 << 30) > dist[s] + 1:
                dist[t] = dist[s] + 1
                queue.append(t)
    return dist


def _demands(kind: str, p: list[bool], q: list[bool], initial: int, depth: dict[int, int]
             ) -> tuple[list[bool], dict[int, int], list[bool]]:
    """What a violation of an obligation asks, by definition: the region
    the cycle and the path to it stay in, where that path may start (and
    at what stem length), and which states the cycle must visit."""
    n = len(p)
    every = [True] * n
    not_p = [not x for x in p]
    if kind == "eventually":      # ~P from the start on
        return not_p, {i: 0 for i in range(initial) if not p[i]}, every
    if kind == "infinitely":      # ~P from some point on
        return not_p, {s: d for s, d in depth.items() if not p[s]}, every
    if kind == "stable":          # ~P infinitely often
        return every, dict(depth), not_p
    if kind == "always":          # a ~P state, then anything
        return every, {s: d for s, d in depth.items() if not p[s]}, every
    # leads_to: a P & ~Q state, then ~Q forever
    return [not x for x in q], {s: d for s, d in depth.items() if p[s] and not q[s]}, every


def check(model: Model, fairness: dict | None = None) -> dict[str, Verdict]:
    """Per liveness property of the model: violated, and the shortest stem."""
    inst = model.instances[0]
    g = ground(inst)
    live = live_set(g, model.config.liveness, dict(model.config.fairness) if fairness is None
                    else fairness)
    ev = Evaluator(inst)
    gid = {(ga.action.name, ga.args): i for i, ga in enumerate(g.ground_actions)}
    init = list(dict.fromkeys(ev.initial_states()))
    index = {s: i for i, s in enumerate(init)}
    states = list(init)
    edges: list[tuple[int, int, int]] = []
    k = 0
    while k < len(states):
        for name, args, t in successors(ev, states[k]):
            if t not in index:
                index[t] = len(states)
                states.append(t)
                assert len(states) <= MAX_STATES, "the oracle is for tiny graphs"
            if index[t] != k:
                edges.append((k, gid[(name, args)], index[t]))
        k += 1
    n = len(states)
    succ = [[d for s, _, d in edges if s == i] for i in range(n)]
    atom = [[bool(ev.eval(e, dict(env), st)) for st in states] for e, env in live.atoms]
    enabled = [[any(s == i and g_ in set(c.gids) for s, g_, _ in edges) for i in range(n)]
               for c in live.conditions]
    everything = [True] * n
    depth = _bfs({i: 0 for i in range(len(init))}, succ, everything)

    def fair(S: list[int]) -> bool:
        inside = [(s, g_, d) for s, g_, d in edges if s in S and d in S]
        if len(S) > 1:   # strongly connected through edges inside S
            for root in (S[0],):
                for forward in (True, False):
                    seen, todo = {root}, [root]
                    while todo:
                        x = todo.pop()
                        for s, _, d in inside:
                            a, b = (s, d) if forward else (d, s)
                            if a == x and b not in seen:
                                seen.add(b)
                                todo.append(b)
                    if seen != set(S):
                        return False
        for c, cond in enumerate(live.conditions):
            taken = any(g_ in set(cond.gids) for _, g_, _ in inside)
            en = [enabled[c][s] for s in S]
            if not taken and (all(en) if cond.kind == "weak" else any(en)):
                return False
        return True

    subsets = [[s for s in range(n) if mask >> s & 1] for mask in range(1, 1 << n)]
    fair_sets = [S for S in subsets if fair(S)]
    out: dict[str, Verdict] = {}
    for ob in live.obligations:
        p = atom[ob.p]
        region, starts, accepting = _demands(ob.kind, p, atom[ob.q] if ob.q is not None else p,
                                             len(init), depth)
        dist = _bfs(starts, succ, region)
        stems = [min(dist[s] for s in S if s in dist) for S in fair_sets
                 if all(region[s] for s in S) and any(s in dist for s in S)
                 and any(accepting[s] for s in S)]
        prev = out.get(ob.property)
        if prev is not None and prev.violated:
            continue   # the engines report a property's first violated obligation
        out[ob.property] = Verdict(bool(stems), min(stems) if stems else None)
    return out


# ---- a second, plain implementation for graphs of any size ------------------------------
def check_plain(model: Model, engine: str = "python") -> dict[str, Verdict]:
    """The same question answered by the textbook algorithm written plainly
    (networkx's strongly connected components, Python sets, recursion on a
    component that breaks a strong condition), on the graph an engine
    recorded: an independent implementation of search/liveness.py, for
    models too big for `check`."""
    import networkx as nx

    from paxcheck.search.api import Checks, make_engine
    inst = model.instances[0]
    g = ground(inst)
    live = live_set(g, model.config.liveness, dict(model.config.fairness))
    eng = make_engine(engine, g)
    try:
        out_run = eng.run(checks=Checks(model.config.properties, graph=True, observe=live.atoms))
    finally:
        eng.close()
    graph = out_run.graph
    assert graph is not None
    n = graph.size
    succ: list[list[int]] = [[] for _ in range(n)]
    edges: list[tuple[int, int, int]] = []
    for s in range(n):
        for k in range(int(graph.offsets[s]), int(graph.offsets[s + 1])):
            d, a = int(graph.dst[k]), int(graph.gid[k])
            succ[s].append(d)
            edges.append((s, a, d))
    atom = [[bool(int(graph.labels[s]) >> a & 1) for s in range(n)] for a in range(len(live.atoms))]
    conds = [(c.kind, set(c.gids)) for c in live.conditions]
    enabled = [{s for s, a, _ in edges if a in gids} for _, gids in conds]
    everything = [True] * n
    depth = _bfs({i: 0 for i in range(graph.initial)}, succ, everything)

    out_edges: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for s, a, d in edges:
        out_edges[s].append((d, a))

    def fair_sets(region: set[int], accepting: set[int]) -> list[set[int]]:
        found = []
        work = [region]
        while work:
            part = work.pop()
            sub = nx.DiGraph()
            sub.add_nodes_from(part)
            sub.add_edges_from((s, d) for s in part for d, _ in out_edges[s] if d in part)
            comps = list(nx.strongly_connected_components(sub))
            cid = {s: i for i, comp in enumerate(comps) for s in comp}
            inside: list[set[int]] = [set() for _ in comps]   # actions of the edges inside
            for s in part:
                for d, a in out_edges[s]:
                    if d in part and cid[d] == cid[s]:
                        inside[cid[s]].add(a)
            for i, comp in enumerate(comps):
                if not comp & accepting:
                    continue
                weak_ok = all(inside[i] & gids or comp - enabled[c]
                              for c, (kind, gids) in enumerate(conds) if kind == "weak")
                broken = [c for c, (kind, gids) in enumerate(conds)
                          if kind == "strong" and not inside[i] & gids and comp & enabled[c]]
                if weak_ok and not broken:
                    found.append(comp)
                elif weak_ok:
                    rest = comp - set().union(*(enabled[c] for c in broken))
                    if rest:
                        work.append(rest)
        return found

    out: dict[str, Verdict] = {}
    for ob in live.obligations:
        if ob.property in out and out[ob.property].violated:
            continue
        p = atom[ob.p]
        region, starts, acc = _demands(ob.kind, p, atom[ob.q] if ob.q is not None else p,
                                       graph.initial, depth)
        dist = _bfs(starts, succ, region)
        reach = {s for s in dist if region[s]}
        comps = fair_sets(reach, {s for s in range(n) if acc[s]})
        stems = [min(dist[s] for s in comp) for comp in comps]
        out[ob.property] = Verdict(bool(stems), min(stems) if stems else None)
    return out
