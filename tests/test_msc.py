"""Message-sequence charts: lifelines, arrows (who sends what to whom) and
valid SVG."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from paxcheck.config.model import load_model
from paxcheck.traces.msc import build_chart, render_svg, to_svg
from paxcheck.traces.trace import Step, Trace, from_violation
from paxcheck.traces.tracefile import read_trace
from support.engines import Compiled, Mode, explore

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "counterexamples" / "paxos_any_value" / "trace.json"
SVG = "{http://www.w3.org/2000/svg}"


def _svg_arrows(svg: str) -> list[tuple[str, str, int, str, int | None]]:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    out = []
    for g in root.iter(SVG + "g"):
        if g.get("class") == "arrow":
            rec = g.get("data-received")
            out.append((g.get("data-message"), g.get("data-from"), int(g.get("data-sent")),
                        g.get("data-to"), int(rec) if rec else None))
    return out


def test_committed_paxos_chart():
    trace = read_trace(COMMITTED)
    svg = to_svg(trace)
    root = ET.fromstring(svg)  # well-formed XML, an <svg> root
    assert root.tag == SVG + "svg" and root.get("viewBox")
    lifelines = [g.get("data-id") for g in root.iter(SVG + "g") if g.get("class") == "lifeline"]
    # the environment (propose has no actor), proposers (ballots), acceptors (nodes)
    assert lifelines == ["env", "ballot:0", "ballot:1", "node:node0", "node:node1", "node:node2"]
    steps = [(g.get("data-step"), g.get("data-lifeline")) for g in root.iter(SVG + "g")
             if g.get("class") == "step"]
    assert len(steps) == 14 and steps[0] == ("1", "env") and steps[7] == ("8", "ballot:0")
    arrows = _svg_arrows(svg)
    # 16 arrows: 12 deliveries and the 4 phase-2b votes, which no step reads
    assert len(arrows) == 16
    lost = [a for a in arrows if a[4] is None]
    assert sorted(a[0] for a in lost) == ["two_b(node0, 1, value1)", "two_b(node1, 0, value0)",
                                          "two_b(node1, 1, value1)", "two_b(node2, 0, value0)"]
    assert all(a[3] == "" for a in lost)
    delivered = {a for a in arrows if a[4] is not None}
    assert delivered == {
        # 1a: the proposer of ballot b to the acceptors that promise b
        ("one_a(0)", "ballot:0", 3, "node:node0", 5),
        ("one_a(0)", "ballot:0", 3, "node:node1", 7),
        ("one_a(1)", "ballot:1", 4, "node:node0", 6),
        ("one_a(1)", "ballot:1", 4, "node:node1", 10),
        # 1b: promises to the proposer, which needs both of its quorum's
        ("one_b(node0, 0, none, none)", "node:node0", 5, "ballot:0", 8),
        ("one_b(node1, 0, none, none)", "node:node1", 7, "ballot:0", 8),
        ("one_b(node0, 1, none, none)", "node:node0", 6, "ballot:1", 11),
        ("one_b(node1, 1, 0, value0)", "node:node1", 10, "ballot:1", 11),
        # 2a: to the acceptors that accept it
        ("two_a(0, value0)", "ballot:0", 8, "node:node1", 9),
        ("two_a(0, value0)", "ballot:0", 8, "node:node2", 14),
        ("two_a(1, value1)", "ballot:1", 11, "node:node0", 12),
        ("two_a(1, value1)", "ballot:1", 11, "node:node1", 13),
    }
    band = [g for g in root.iter(SVG + "g") if g.get("class") == "violation"]
    assert "".join(band[0].itertext()) == "state 14 violates 'agreement'"


OVERDETERMINED = """\
sort node
message ack(src: node) from src
mutable relation done()
init {
  ack(N) := false
  done := false
}
action send(n: node) by n {
  require !ack(n)
  ack(n) := true
}
action decide() {
  require exists n: node. ack(n)
  require !done
  done := true
}
safety never: !done
"""


def test_overdetermined_receive_keeps_the_oldest_sufficient_message(tmp_path):
    # decide needs one ack of any node; with two acks sent it receives the
    # older one, and the newer one is drawn as never received
    (tmp_path / "o.pax").write_text(OVERDETERMINED)
    (tmp_path / "o.toml").write_text('spec = "o.pax"\n[sorts]\nnode = 2\n')
    m = load_model(tmp_path / "o.toml")
    inst = m.instances[0]
    empty, ack = frozenset(), frozenset
    s0 = (empty, empty)
    s1 = (ack({(1,)}), empty)
    s2 = (ack({(1,), (0,)}), empty)
    s3 = (ack({(1,), (0,)}), ack({()}))
    trace = Trace(inst.spec, inst, "invariant", "never", s0, (
        Step("send", (("n", "node1"),), "node1", s1),
        Step("send", (("n", "node0"),), "node0", s2),
        Step("decide", (), None, s3)))
    chart = build_chart(trace)
    assert [l.id for l in chart.lifelines] == ["env", "node:node0", "node:node1"]
    assert [(a.message, a.sender, a.received, a.receiver) for a in chart.arrows] == [
        ("ack(node1)", "node:node1", 3, "env"), ("ack(node0)", "node:node0", None, None)]
    ET.fromstring(render_svg(chart))


def test_sender_from_the_message_and_a_message_to_itself(tmp_path):
    # `from` names the sender even when another process adds the tuple; a
    # process that reads its own message gets a loop
    (tmp_path / "e.pax").write_text("""\
sort node
message ping(src: node, dst: node) from src
init { ping(A, B) := false }
action inject(n: node) {
  require forall a, b: node. !ping(a, b)
  ping(n, n) := true
}
action pong(n: node) by n {
  require ping(n, n)
  ping(n, n) := false
}
transition once: forall a: node. old(ping(a, a)) -> ping(a, a)
""")
    (tmp_path / "e.toml").write_text('spec = "e.pax"\n[sorts]\nnode = 2\n')
    m = load_model(tmp_path / "e.toml")
    compiled = Compiled(m.instances[0], ("once",))
    trace = from_violation(compiled.ground, explore(compiled, Mode()).violations[0])
    chart = build_chart(trace)
    assert [(e.step, e.lifeline) for e in chart.events] == [(1, "env"), (2, "node:node0")]
    assert [(a.message, a.sender, a.sent, a.receiver, a.received) for a in chart.arrows] == [
        ("ping(node0, node0)", "node:node0", 1, "node:node0", 2)]
    svg = render_svg(chart)
    assert "<path d=" in svg  # the loop
    assert "step 2 breaks 'once'" in svg
    ET.fromstring(svg)
