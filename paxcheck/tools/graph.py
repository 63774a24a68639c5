"""The reachable state graph of a bounded model, exported through networkx.

`build_graph` runs an engine (search/api.py) with a Visitor that keeps
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from paxcheck.config.model import Model
from paxcheck.errors import PaxError
from paxcheck.ground.ground import GroundInstance, ground
from paxcheck.lang import ir
from paxcheck.search.api import Checks, Limits, Violation, run
from paxcheck.semantics.evaluate import Evaluator, RefState
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


def _summary(ground: GroundInstance, s: Any) -> str:
    lines = []
    for name, val in state_json(ground.inst, ground.decode(s) if isinstance(s, int) else s).items():
        if isinstance(val, list):
            rows = " ".join("(" + ",".join(r) + ")" if len(r) != 1 else r[0] for r in val)
            lines.append(f"{name}: {rows or '-'}")
        elif isinstance(val, dict):
            lines.append(f"{name}: " + " ".join(f"{k}:{v}" for k, v in val.items()))
        else:
            lines.append(f"{name} = {val}")
    return "\n".join(lines)


class _GraphBuilder:
    """A Visitor that adds every state and transition of one instance's run
    to the graph, with BFS depths and each state's broken invariants."""

    def __init__(self, g: nx.MultiDiGraph, ground: GroundInstance, prefix: str,
                 invariants: list[tuple[str, Callable[[RefState], bool]]]) -> None:
        self.g, self.ground, self.prefix, self.invariants = g, ground, prefix, invariants
        self.depth: list[int] = []
        self.index: dict[Any, int] = {}
        self.transitions = 0

    def nid(self, i: int) -> str:
        return f"{self.prefix}s{i}"

    def state(self, index: int, state: Any, parent: int, gid: int) -> None:
        self.index[state] = index
        self.depth.append(self.depth[parent] + 1 if parent >= 0 else 0)
        ref = self.ground.decode(state) if isinstance(state, int) else state
        bad = [name for name, holds in self.invariants if not holds(ref)]
        self.g.add_node(self.nid(index), label=_summary(self.ground, state), initial=parent < 0,
                        depth=self.depth[index], violates=",".join(bad), violation=False,
                        instance=self.ground.inst.describe())

    def transition(self, src: int, gid: int, dst: int) -> None:
        ga = self.ground.ground_actions[gid]
        args = dict(self.ground.named_args(gid))
        self.g.add_edge(self.nid(src), self.nid(dst), key=gid, label=self.ground.label(gid),
                        action=ga.action.name, args=json.dumps(args), violation=False)
        self.transitions += 1

    def marked(self, v: Violation) -> tuple[str, list[str], list[tuple[str, str, int]]]:
        """The engine's shortest violation as graph nodes and edges (no
        symmetry here, so its states are the graph's own)."""
        ids = [self.nid(self.index[s]) for s in v.states]
        return f"{v.kind} {v.property}", ids, list(zip(ids, ids[1:], v.steps))


def _holds(ev: Evaluator, formula: ir.Expr) -> Callable[[RefState], bool]:
    return lambda s: bool(ev.eval(formula, {}, s))


def build_graph(model: Model, properties: tuple[str, ...] | None = None,
                max_states: int = DEFAULT_MAX_STATES, engine: str = "python",
                workers: int | None = None) -> GraphResult:
    """The reachable state graph of every instance of a model, via an engine run."""
    props = tuple(properties) if properties is not None else model.config.properties
    g = nx.MultiDiGraph(name=Path(model.path).stem, model=model.path, spec=model.spec.file)
    total_states = total_edges = 0
    first: tuple[str, list[str], list[tuple[str, str, int]]] | None = None
    many = len(model.instances) > 1
    ev_props = [p for p in model.spec.properties_named(props) if not p.two_state]
    for k, inst in enumerate(model.instances):
        gi = ground(inst)
        evaluator = Evaluator(inst)
        invariants = [(p.name, _holds(evaluator, p.checked)) for p in ev_props]
        builder = _GraphBuilder(g, gi, f"i{k}." if many else "", invariants)
        left = max_states - total_states
        res = run(gi, Limits(max_states=left), Checks(props, keep_going=True),
                  engine=engine, workers=workers, visitor=builder)
        if res.stop is not None:
            raise GraphTooLarge(
                f"the state graph has more than {max_states:,} states; raise --max-states "
                "or use a smaller model (a graph that size is not readable anyway)")
        if first is None and res.violations:
            first = builder.marked(res.violations[0])
        total_states += len(builder.depth)
        total_edges += builder.transitions
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
    """Write the graph as GraphML (networkx)."""
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
    """Write the graph as Graphviz DOT."""
    Path(path).write_text(to_dot(g), encoding="utf-8")
