"""State-graph export: exact nodes and edges of small hand-counted specs, the
marked shortest violating path, and the size limit."""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.tools.graph import build_graph, to_dot
from support.engines import Compiled, Mode, explore

# x and y each count none -> 0 -> 1, independently: the 3x3 grid of states.
# 'apart' fails where x = y != none: (0,0) and (1,1); the shortest way
# there is incx(0) then incy(0) (BFS: incx before incy).
GRID = """\
ordered sort t
mutable individual x: t?
mutable individual y: t?
init {
  x := none
  y := none
}
action incx(v: t) {
  require x < v & forall w: t. x < w -> v <= w
  x := v
}
action incy(v: t) {
  require y < v & forall w: t. y < w -> v <= w
  y := v
}
safety apart: x = y -> x = none
"""

TOKEN = """\
sort node
mutable relation token(n: node)
init { token(N) := false }
action grab(n: node) by n {
  require forall m: node. !token(m)
  token(n) := true
}
action release(n: node) by n {
  require token(n)
  token(n) := false
}
transition keeps: forall n: node. old(token(n)) -> token(n)
"""


@pytest.fixture
def grid(tmp_path: Path) -> Path:
    (tmp_path / "grid.pax").write_text(GRID)
    (tmp_path / "grid.toml").write_text('spec = "grid.pax"\n[sorts]\nt = 2\n')
    return tmp_path / "grid.toml"


def test_grid_graphml_exact(grid, tmp_path, capsys):
    out = tmp_path / "g.graphml"
    assert main(["graph", str(grid), "--out", str(out)]) == 0
    assert "9 states, 12 transitions (graphml)" in capsys.readouterr().out
    g = nx.read_graphml(out, force_multigraph=True)
    assert g.number_of_nodes() == 9
    assert g.number_of_edges() == 12  # incx: 2 per value of y, incy: 2 per value of x
    labels = {n: d["label"] for n, d in g.nodes(data=True)}
    assert labels["s0"] == "x = none\ny = none"
    assert [n for n, d in g.nodes(data=True) if d["initial"]] == ["s0"]
    assert sorted(labels[n] for n, d in g.nodes(data=True) if d["violates"] == "apart") == \
        ["x = 0\ny = 0", "x = 1\ny = 1"]
    assert {n for n, d in g.nodes(data=True) if d["violation"]} == {"s0", "s1", "s4"}
    assert [labels[n] for n in ("s1", "s4")] == ["x = 0\ny = none", "x = 0\ny = 0"]
    marked = sorted((u, v, d["label"]) for u, v, d in g.edges(data=True) if d["violation"])
    assert marked == [("s0", "s1", "incx(v=0)"), ("s1", "s4", "incy(v=0)")]
    assert all(d["label"] == f"{d['action']}(v={json.loads(d['args'])['v']})"
               for _, _, d in g.edges(data=True))
    assert nx.shortest_path_length(g, "s0", "s4") == 2
    # the same counts as the engine's
    m = load_model(grid)
    res = explore(Compiled(m.instances[0], ()), Mode())
    assert (res.stats.distinct, res.stats.transitions) == (9, 12)


def test_grid_dot(grid, tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["graph", str(grid), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith('digraph "grid" {')
    edges = [line for line in text.splitlines() if " -> " in line]
    assert len(edges) == 12
    assert sum("color=red" in line for line in edges) == 2
    assert '"s0" -> "s1" [label="incx(v=0)", color=red' in text
    assert '"s0" [label="x = none\\ly = none\\l", peripheries=2, color=red' in text
    nodes = [line for line in text.splitlines() if line.startswith('  "s') and " -> " not in line]
    assert len(nodes) == 9
    assert sum("fillcolor" in line for line in nodes) == 2


def test_transition_violation_path_returns_to_a_state(tmp_path):
    (tmp_path / "t.pax").write_text(TOKEN)
    (tmp_path / "t.toml").write_text('spec = "t.pax"\n[sorts]\nnode = 2\n')
    res = build_graph(load_model(tmp_path / "t.toml"))
    g = res.graph
    # {} , {node0}, {node1}; grab x2 from {}, release from each
    assert (g.number_of_nodes(), g.number_of_edges()) == (3, 4)
    assert res.violation == "transition keeps"
    assert res.path == ["s0", "s1", "s0"]  # grab(node0), release(node0)
    assert sorted(d["label"] for _, _, d in g.edges(data=True) if d["violation"]) == \
        ["grab(n=node0)", "release(n=node0)"]
    assert "\\nshortest violation: transition keeps" in to_dot(g).splitlines()[1]


def test_size_limit_exit_2(grid, tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["graph", str(grid), "--out", str(out), "--max-states", "8"]) == 2
    err = capsys.readouterr().err
    assert "more than 8 states" in err and "--max-states" in err
    assert not out.exists()
    assert main(["graph", str(grid), "--out", str(out), "--max-states", "9"]) == 0
