"""The reachable state graph of a bounded model, exported through networkx.

`build_graph` explores breadth-first with the compiled engine and keeps
every state and transition: nodes are states (BFS order: `s0`, `s1`, ...),
edges the distinct (state, ground action, successor) triples, so the counts
are the `distinct states` and `transitions` of `paxcheck check`. Node
attributes: `label` (a summary of the state, one line per mutable symbol),
`initial`, `depth` (BFS level), `violates` (the checked one-state
properties the state breaks, comma-separated, or ""), `violation` (on the
shortest violating path); edge attributes: `label` (the ground action),
`action`, `args` (JSON), `violation`. The violating path is the one
`paxcheck check` reports: the first violation in BFS order, a shortest one.

`write_dot` writes Graphviz DOT itself (see the README for why) and
`write_graphml` uses `networkx.write_graphml`."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from paxcheck.ground.grounder import CompiledInstance
from paxcheck.errors import PaxError
from paxcheck.config.model import Model
from paxcheck.traces.trace import state_json

DEFAULT_MAX_STATES = 10_000


class GraphTooLarge(PaxError):
    pass


@dataclass
class GraphResult:
    graph: nx.MultiDiGraph
    states: int
    transitions: int
    violation: str | None  # "invariant agreement", "transition stability" or None
    path: list[str]        # node ids of the shortest violating path


def _summary(compiled: CompiledInstance, s: int) -> str:
    inst = compiled.inst
    lines = []
    for name, val in state_json(inst, compiled.layout.decode(s)).items():
        if isinstance(val, list):
            rows = " ".join("(" + ",".join(r) + ")" if len(r) != 1 else r[0] for r in val)
            lines.append(f"{name}: {rows or '-'}")
        elif isinstance(val, dict):
            lines.append(f"{name}: " + " ".join(f"{k}:{v}" for k, v in val.items()))
        else:
            lines.append(f"{name} = {val}")
    return "\n".join(lines)


def build_graph(model: Model, properties: tuple[str, ...] | None = None,
                max_states: int = DEFAULT_MAX_STATES) -> GraphResult:
    props = tuple(properties) if properties is not None else model.config.properties
    g = nx.MultiDiGraph(name=Path(model.path).stem, model=model.path, spec=model.spec.file)
    total_states = total_edges = 0
    first: tuple[str, list[str], list[tuple[str, str, int]]] | None = None
    many = len(model.instances) > 1
    for k, inst in enumerate(model.instances):
        compiled = CompiledInstance(inst, props)
        prefix = f"i{k}." if many else ""
        states: list[int] = []
        index: dict[int, int] = {}
        parent: list[int] = []
        via: list[int] = []
        depth: list[int] = []

        def nid(i: int) -> str:
            return f"{prefix}s{i}"

        def path_to(i: int) -> tuple[list[str], list[tuple[str, str, int]]]:
            nodes, edges = [], []
            while i >= 0:
                nodes.append(nid(i))
                if parent[i] >= 0:
                    edges.append((nid(parent[i]), nid(i), via[i]))
                i = parent[i]
            return nodes[::-1], edges[::-1]

        def add(t: int, p: int, gid: int) -> int:
            if total_states + len(states) >= max_states:
                raise GraphTooLarge(
                    f"the state graph has more than {max_states:,} states; raise --max-states "
                    "or use a smaller model (a graph that size is not readable anyway)")
            i = len(states)
            states.append(t)
            index[t] = i
            parent.append(p)
            via.append(gid)
            depth.append(depth[p] + 1 if p >= 0 else 0)
            bad = [prop.name for prop, fn in compiled.invariants if not fn(t)]
            g.add_node(nid(i), label=_summary(compiled, t), initial=p < 0, depth=depth[i],
                       violates=",".join(bad), violation=False, instance=inst.describe())
            return i

        for s0 in compiled.initial_states:
            if s0 not in index:
                i = add(s0, -1, -1)
                bad = g.nodes[nid(i)]["violates"]
                if bad and first is None:
                    first = (f"invariant {bad.split(',')[0]}", *path_to(i))
        i = 0
        while i < len(states):
            s = states[i]
            for gid, t in compiled.successors(s):
                j = index.get(t)
                if j is None:
                    j = add(t, i, gid)
                    bad = g.nodes[nid(j)]["violates"]
                    # the engine checks transitions before the new state's invariants
                    pending = (f"invariant {bad.split(',')[0]}", *path_to(j)) if bad else None
                else:
                    pending = None
                ga = compiled.ground_actions[gid]
                args = {p.name: inst.name_of(p.sort, a) for p, a in zip(ga.action.params, ga.args)}
                g.add_edge(nid(i), nid(j), key=gid, label=compiled.label(gid),
                           action=ga.action.name, args=json.dumps(args), violation=False)
                total_edges += 1
                if first is None:
                    for prop, fn in compiled.transition_props:
                        if not fn(s, t):
                            nodes, edges = path_to(i)
                            first = (f"transition {prop.name}", nodes + [nid(j)],
                                     edges + [(nid(i), nid(j), gid)])
                            break
                if first is None and pending is not None:
                    first = pending
            i += 1
        total_states += len(states)
    path: list[str] = []
    violation = None
    if first is not None:
        violation, path, edges = first
        for n in path:
            g.nodes[n]["violation"] = True
        for u, v, key in edges:
            g.edges[u, v, key]["violation"] = True
        g.graph["violation"] = violation
    return GraphResult(g, total_states, total_edges, violation, path)


# ---- writers -------------------------------------------------------------------
def write_graphml(g: nx.MultiDiGraph, path: str | Path) -> None:
    nx.write_graphml(g, str(path))


def _dot_str(s: str, newline: str = "\\l") -> str:
    """A DOT string; line breaks become `newline` (\\l: left-justified lines)."""
    body = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", newline)
    return '"' + body + (newline if "\n" in s and newline == "\\l" else "") + '"'


def to_dot(g: nx.MultiDiGraph) -> str:
    """DOT text for a graph from `build_graph`: initial states drawn with a
    double border, states that break a property filled red, the shortest
    violating path in red."""
    out = [f"digraph {_dot_str(g.graph.get('name', 'states'))} {{"]
    title = f"{g.graph.get('model', '')}"
    if g.graph.get("violation"):
        title += f"\nshortest violation: {g.graph['violation']}"
    out.append(f"  graph [label={_dot_str(title, chr(92) + 'n')}, labelloc=t, "
               'fontname="Helvetica"];')
    out.append('  node [shape=box, fontname="Helvetica", fontsize=10];')
    out.append('  edge [fontname="Helvetica", fontsize=9];')
    for n, d in g.nodes(data=True):
        attrs = [f"label={_dot_str(d['label'])}"]
        if d.get("initial"):
            attrs.append("peripheries=2")
        if d.get("violates"):
            attrs.append('style=filled, fillcolor="#ffd6d6"')
        if d.get("violation"):
            attrs.append("color=red, penwidth=2")
        out.append(f"  {_dot_str(n)} [{', '.join(attrs)}];")
    for u, v, d in g.edges(data=True):
        attrs = [f"label={_dot_str(d['label'])}"]
        if d.get("violation"):
            attrs.append("color=red, fontcolor=red, penwidth=2")
        out.append(f"  {_dot_str(u)} -> {_dot_str(v)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def write_dot(g: nx.MultiDiGraph, path: str | Path) -> None:
    Path(path).write_text(to_dot(g), encoding="utf-8")
