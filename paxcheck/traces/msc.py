"""Message-sequence charts of counterexample traces, as standalone SVG.

`build_chart` works out what to draw, `render_svg` draws it:

* one lifeline per process: the distinct actors of the steps (an action's
  `by` parameter), plus the declared senders (`message ... from p`) of the
  messages sent, grouped by sort in the order in which the actions first
  name an actor of that sort (for Paxos: ballots, i.e. proposers, then
  nodes, i.e. acceptors), elements in model order; steps of actions without
  `by` go on a leftmost "environment" lifeline;
* one row per step, top to bottom, with a box on the actor's lifeline;
* an arrow for each message (a tuple of a `message` relation) a step adds,
  from its sender (the tuple's `from` parameter, else the sending step's
  actor) to every later step that receives it, and a dashed stub ending in a
  dot for a message no later step receives;
* a red band at the bottom naming the violated property.

Which messages a step receives: the step's action is re-run (reference
evaluator) on its pre-state with messages taken away. Going through the
messages in the pre-state that earlier steps sent, newest first, a message
is dropped for good when the action still leads to the same post-state
(ignoring the dropped tuples) without it. What is left is a minimal set of
messages the step needs: each of them is received. A message whose removal
alone disables the step or changes its effect is always in that set; when a
step is enabled by any of several messages (say three promises where two
make a quorum), the oldest sufficient ones are kept."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from paxcheck.config.instance import Instance
from paxcheck.lang import ir
from paxcheck.semantics.evaluate import Evaluator, RefState
from paxcheck.traces.trace import Step, Trace, describe_violation, diff_json

ENV = "env"


@dataclass(frozen=True)
class Lifeline:
    id: str          # "sort:element", or "env"
    label: str       # the element's name
    sort: str        # the sort's name ("" for the environment)


@dataclass(frozen=True)
class Event:
    step: int        # 1-based step index
    lifeline: str
    label: str       # "promise(n=node0, b=0)"
    detail: str      # the step's changes, one per line (a tooltip in the SVG)


@dataclass(frozen=True)
class Arrow:
    message: str             # "one_b(node0, 0, none, none)"
    symbol: str
    sent: int                # the step that added it
    sender: str              # lifeline id
    received: int | None     # the receiving step, None for a message never received
    receiver: str | None


@dataclass(frozen=True)
class Chart:
    title: str
    lifelines: tuple[Lifeline, ...]
    events: tuple[Event, ...]
    arrows: tuple[Arrow, ...]
    violation: str           # the text of the red band
    symbols: tuple[str, ...]  # message relations, in spec order (colours, legend)
    cycle: tuple[int, int] | None = None   # a lasso's repeated steps (first, last)


# ---- analysis ----------------------------------------------------------------
def _fmt(inst: Instance, sym: ir.Symbol, tup: tuple[int, ...]) -> str:
    return f"{sym.name}({', '.join(inst.name_of(s, x) for s, x in zip(sym.params, tup))})"


def _step_label(step: Step) -> str:
    return f"{step.action}({', '.join(f'{k}={v}' for k, v in step.args)})"


def _step_detail(trace: Trace, before: RefState, step: Step) -> str:
    lines = [_step_label(step) + (f" by {step.actor}" if step.actor is not None else "")]
    for name, ch in diff_json(trace.instance, before, step.state).items():
        if isinstance(ch, dict) and "added" in ch:
            lines += [f"+ {name}({', '.join(r)})" for r in ch["added"]]
            lines += [f"- {name}({', '.join(r)})" for r in ch["removed"]]
        elif isinstance(ch, dict):
            lines += [f"{name}({k}) := {v}" for k, v in ch.items()]
        else:
            lines.append(f"{name} := {ch}")
    return "\n".join(lines)


def _without(state: RefState, index: dict[str, int], drop: dict[str, set]) -> RefState:
    if not drop:
        return state
    out = list(state)
    for name, tups in drop.items():
        out[index[name]] = out[index[name]] - tups
    return tuple(out)


def received_messages(ev: Evaluator, action: ir.Action, args: tuple[int, ...],
                      pre: RefState, post: RefState,
                      candidates: list[tuple[str, tuple[int, ...]]]) -> set[tuple[str, tuple]]:
    """The candidates (message tuples in `pre`, in the order to try dropping
    them) that the step from `pre` to `post` receives: see the module doc."""
    env = {p.name: a for p, a in zip(action.params, args)}
    index = ev.index
    dropped: dict[str, set] = {}
    kept: set[tuple[str, tuple]] = set()
    for name, tup in candidates:
        trial = {k: set(v) for k, v in dropped.items()}
        trial.setdefault(name, set()).add(tup)
        frozen = {k: frozenset(v) for k, v in trial.items()}
        target = _without(post, index, frozen)
        posts = ev.execute(action.body, env, _without(pre, index, frozen))
        if any(_without(p, index, frozen) == target for p in posts):
            dropped = trial
        else:
            kept.add((name, tup))
    return kept


def _lifeline_id(sort: str, element: str) -> str:
    return f"{sort}:{element}"


def build_chart(trace: Trace) -> Chart:
    """A Trace as a message-sequence chart: lifelines, local events, arrows."""
    spec, inst = trace.spec, trace.instance
    ev = Evaluator(inst)
    messages = [s for s in spec.mutable_symbols if s.message]
    msg_index = {s.name: ev.index[s.name] for s in messages}

    # actor sorts in the order the actions first name them
    sort_rank: dict[str, int] = {}
    for a in spec.actions:
        if a.actor is not None:
            sort_rank.setdefault(a.params[a.actor].sort.name, len(sort_rank))
    for s in spec.sorts:
        sort_rank.setdefault(s.name, len(sort_rank))

    used: dict[str, tuple[int, int, Lifeline]] = {}

    def lifeline(sort: ir.SortT | None, value: int | None) -> str:
        if sort is None:
            used.setdefault(ENV, (-1, 0, Lifeline(ENV, "environment", "")))
            return ENV
        name = inst.name_of(sort, value)
        lid = _lifeline_id(sort.name, name)
        used.setdefault(lid, (sort_rank[sort.name], value, Lifeline(lid, name, sort.name)))
        return lid

    events: list[Event] = []
    arrows: list[Arrow] = []
    sent_at: dict[tuple[str, tuple], tuple[int, str]] = {}  # message -> (step, sender)
    pending: dict[tuple[str, tuple], list[tuple[int, str]]] = {}  # message -> receivers
    order: list[tuple[str, tuple]] = []
    prev = trace.initial
    for i, step in enumerate(trace.steps, 1):
        action = spec.action_map[step.action]
        args = tuple(inst.value_of(p.sort, v) for p, (_, v) in zip(action.params, step.args))
        if action.actor is not None:
            me = lifeline(action.params[action.actor].sort, args[action.actor])
        else:
            me = lifeline(None, None)
        events.append(Event(i, me, _step_label(step), _step_detail(trace, prev, step)))
        # receptions: messages sent by earlier steps and still in the pre-state
        live = [m for m in sent_at if m[1] in prev[msg_index[m[0]]]]
        live.sort(key=lambda m: (-sent_at[m][0], m[0], m[1]))
        if live:
            for m in received_messages(ev, action, args, prev, step.state, live):
                pending[m].append((i, me))
        # sends: message tuples this step adds
        for sym in messages:
            k = msg_index[sym.name]
            for tup in sorted(step.state[k] - prev[k]):
                if sym.sender is not None and tup[sym.sender] >= 0:
                    who = lifeline(sym.params[sym.sender], tup[sym.sender])
                else:
                    who = me
                key = (sym.name, tup)
                if key in sent_at:  # sent again after being removed: a new message
                    _flush(inst, spec, key, sent_at, pending, arrows)
                sent_at[key] = (i, who)
                pending[key] = []
                order.append(key)
        prev = step.state
    for key in list(sent_at):
        _flush(inst, spec, key, sent_at, pending, arrows)
    arrows.sort(key=lambda a: (a.sent, a.received if a.received is not None else 1 << 30,
                               a.message))
    lifelines = tuple(x[2] for x in sorted(used.values(), key=lambda x: (x[0], x[1])))
    cycle = None
    if trace.loop is not None:
        what = describe_violation(trace.kind, trace.property, spec, trace.binding)
        if trace.cycle:
            cycle = (trace.loop + 1, trace.length)
            band = f"{what}: steps {trace.loop + 1}-{trace.length} repeat forever"
        else:
            band = f"{what}: state {trace.loop} stutters forever"
    elif trace.kind == "deadlock":
        band = f"deadlock: state {trace.length} has no successor"
    elif trace.kind == "transition":
        band = f"step {trace.length} breaks '{trace.property}'"
    elif trace.kind == "witness":
        band = f"state {trace.length} satisfies '{trace.property}'"
    else:
        band = f"state {trace.length} violates '{trace.property}'"
    title = (f"{Path(spec.file).name}: {trace.kind} '{trace.property or 'deadlock'}' "
             f"after {trace.length} steps")
    return Chart(title, lifelines, tuple(events), tuple(arrows), band,
                 tuple(s.name for s in messages), cycle)


def _flush(inst, spec, key, sent_at, pending, arrows) -> None:
    step, who = sent_at.pop(key)
    text = _fmt(inst, spec.symbol_map[key[0]], key[1])
    receivers = pending.pop(key)
    if not receivers:
        arrows.append(Arrow(text, key[0], step, who, None, None))
    for j, to in receivers:
        arrows.append(Arrow(text, key[0], step, who, j, to))


# ---- rendering -----------------------------------------------------------------
_PALETTE = ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
            "#bcbd22", "#7f7f7f")
_FONT = 12
_CHAR_W = 7.0          # a generous estimate of the width of one character at 12px
_ROW_H = 58
_BOX_H = 24
_HEAD_TOP = 44
_HEAD_H = 36
_LEFT = 56


def _text_w(s: str) -> float:
    return len(s) * _CHAR_W


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def render_svg(chart: Chart) -> str:
    """A chart as SVG text."""
    n_rows = len(chart.events)
    widest = max([_text_w(e.label) + 16 for e in chart.events] +
                 [_text_w(a.message) * 0.6 for a in chart.arrows] + [120])
    col_w = max(170.0, widest + 34)
    n_cols = max(1, len(chart.lifelines))
    width = _LEFT + col_w * n_cols + 20
    xs = {l.id: _LEFT + col_w * (k + 0.5) for k, l in enumerate(chart.lifelines)}
    # room on the right for the labels and stubs of the last lifeline's messages
    for e in chart.events:
        for a in chart.arrows:
            if a.sent == e.step:
                right = xs[e.lifeline] + (_text_w(e.label) + 16) / 2 + 12 + _text_w(a.message) * 0.92
                width = max(width, right + 10, xs[e.lifeline] + (_text_w(e.label) + 16) / 2 + 70)
    first_row = _HEAD_TOP + _HEAD_H + 40
    row_y = {e.step: first_row + (e.step - 1) * _ROW_H for e in chart.events}
    bottom = first_row + max(0, n_rows - 1) * _ROW_H + _ROW_H / 2 + 10
    band_y = bottom + 6
    legend_y = band_y + 30 + 26
    height = legend_y + 20
    color = {s: _PALETTE[i % len(_PALETTE)] for i, s in enumerate(chart.symbols)}

    out: list[str] = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8"?>')
    w(f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" height="{_num(height)}" '
      f'viewBox="0 0 {_num(width)} {_num(height)}" font-family="Helvetica, Arial, sans-serif" '
      f'font-size="{_FONT}">')
    w(f"<title>{escape(chart.title)}</title>")
    w("<defs>")
    for s, c in color.items():
        w(f'<marker id="head-{escape(s)}" viewBox="0 0 10 10" refX="10" refY="5" '
          f'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
          f'<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>')
    w("</defs>")
    w(f'<rect x="0" y="0" width="{_num(width)}" height="{_num(height)}" fill="white"/>')
    w(f'<text x="{_LEFT}" y="24" font-size="14" font-weight="bold">{escape(chart.title)}</text>')
    # row stripes and step numbers
    for e in chart.events:
        y = row_y[e.step]
        if e.step % 2 == 0:
            w(f'<rect x="0" y="{_num(y - _ROW_H / 2)}" width="{_num(width)}" '
              f'height="{_ROW_H}" fill="#f5f5f5"/>')
        w(f'<text x="{_LEFT - 14}" y="{_num(y + 4)}" text-anchor="end" fill="#666">{e.step}</text>')
    # lifelines
    for l in chart.lifelines:
        x = xs[l.id]
        w(f'<g class="lifeline" data-id={quoteattr(l.id)} data-sort={quoteattr(l.sort)}>')
        w(f'<line x1="{_num(x)}" y1="{_HEAD_TOP + _HEAD_H}" x2="{_num(x)}" y2="{_num(bottom)}" '
          f'stroke="#999" stroke-dasharray="4 4"/>')
        bw = max(_text_w(l.label), _text_w(l.sort) * 0.85) + 24
        w(f'<rect x="{_num(x - bw / 2)}" y="{_HEAD_TOP}" width="{_num(bw)}" height="{_HEAD_H}" '
          f'rx="4" fill="#e8eef7" stroke="#335"/>')
        w(f'<text x="{_num(x)}" y="{_HEAD_TOP + 15}" text-anchor="middle" '
          f'font-weight="bold">{escape(l.label)}</text>')
        w(f'<text x="{_num(x)}" y="{_HEAD_TOP + 29}" text-anchor="middle" font-size="10" '
          f'fill="#555">{escape(l.sort or "no actor")}</text>')
        w("</g>")
    # arrows go from the side of the sending box to the side of the receiving
    # box that faces the sender; ends that meet at one box are spread out
    box_w = {e.step: _text_w(e.label) + 16 for e in chart.events}
    actor_of = {e.step: e.lifeline for e in chart.events}
    ins: dict[int, list[Arrow]] = {}
    sends: dict[int, list[str]] = {}
    for a in chart.arrows:
        if a.received is not None:
            ins.setdefault(a.received, []).append(a)
        lst = sends.setdefault(a.sent, [])
        if a.message not in lst:
            lst.append(a.message)

    def edge(step: int, lifeline: str, direction: int) -> float:
        half = box_w[step] / 2 if actor_of[step] == lifeline else 0.0
        return xs[lifeline] + direction * half

    labelled: set[tuple[int, str]] = set()
    for a in chart.arrows:
        c = color[a.symbol]
        k = sends[a.sent].index(a.message)
        y1 = row_y[a.sent] + 4 * k
        attrs = (f'class="arrow" data-message={quoteattr(a.message)} '
                 f'data-symbol={quoteattr(a.symbol)} data-from={quoteattr(a.sender)} '
                 f'data-sent="{a.sent}" data-to={quoteattr(a.receiver or "")} '
                 f'data-received="{a.received if a.received is not None else ""}"')
        w(f"<g {attrs}>")
        w(f"<title>{escape(a.message)}: step {a.sent} -&gt; "
          f"{'step ' + str(a.received) if a.received is not None else 'never received'}</title>")
        if a.received is None:
            direction = 1
            x1 = edge(a.sent, a.sender, 1)
            x2, y2 = x1 + 48, y1 + 20
            w(f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
              f'stroke="{c}" stroke-width="1.5" stroke-dasharray="5 3"/>')
            w(f'<circle cx="{_num(x2)}" cy="{_num(y2)}" r="3.5" fill="{c}"/>')
        else:
            lst = ins[a.received]
            y2 = row_y[a.received] - _BOX_H / 2  # into the top of the receiving box
            spread = (lst.index(a) - (len(lst) - 1) / 2) * 14
            if a.sender == a.receiver:  # to itself: a loop on the right
                direction = 1
                x1 = edge(a.sent, a.sender, 1)
                x2 = xs[a.receiver] + spread
                xr = max(x1, x2) + 40
                w(f'<path d="M{_num(x1)},{_num(y1)} C{_num(xr)},{_num(y1)} {_num(xr)},{_num(y2)} '
                  f'{_num(x2)},{_num(y2)}" fill="none" stroke="{c}" stroke-width="1.5" '
                  f'marker-end="url(#head-{escape(a.symbol)})"/>')
            else:
                direction = 1 if xs[a.receiver] > xs[a.sender] else -1
                x1 = edge(a.sent, a.sender, direction)
                x2 = xs[a.receiver] + spread
                w(f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
                  f'stroke="{c}" stroke-width="1.5" marker-end="url(#head-{escape(a.symbol)})"/>')
        if (a.sent, a.message) not in labelled:
            labelled.add((a.sent, a.message))
            lx = edge(a.sent, a.sender, direction) + 6 * direction
            ly = row_y[a.sent] - 6 - 13 * k
            anchor = "start" if direction > 0 else "end"
            w(f'<text x="{_num(lx)}" y="{_num(ly)}" text-anchor="{anchor}" font-size="11" '
              f'fill="{c}" stroke="white" stroke-width="3" paint-order="stroke">'
              f'{escape(a.message)}</text>')
        w("</g>")
    # step boxes, above the arrows
    for e in chart.events:
        x, y = xs[e.lifeline], row_y[e.step]
        bw = _text_w(e.label) + 16
        w(f'<g class="step" data-step="{e.step}" data-lifeline={quoteattr(e.lifeline)}>')
        w(f"<title>{escape(e.detail)}</title>")
        w(f'<rect x="{_num(x - bw / 2)}" y="{_num(y - _BOX_H / 2)}" width="{_num(bw)}" '
          f'height="{_BOX_H}" rx="3" fill="#fffbe6" stroke="#333"/>')
        w(f'<text x="{_num(x)}" y="{_num(y + 4)}" text-anchor="middle">{escape(e.label)}</text>')
        w("</g>")
    if chart.cycle is not None and chart.cycle[0] in row_y:
        # a lasso: bracket the repeated steps on the left margin
        top = row_y[chart.cycle[0]] - _ROW_H / 2
        end = row_y[chart.cycle[1]] + _ROW_H / 2
        w(f'<g class="cycle"><line x1="6" y1="{_num(top)}" x2="{_num(width)}" y2="{_num(top)}" '
          f'stroke="#d62728" stroke-dasharray="6 4"/>'
          f'<path d="M 14 {_num(top)} H 6 V {_num(end)} H 14" fill="none" stroke="#d62728" '
          f'stroke-width="2"/><text x="{_num(width - 6)}" y="{_num(top - 4)}" '
          f'text-anchor="end" fill="#d62728">cycle: steps {chart.cycle[0]}-{chart.cycle[1]} '
          f'repeat forever</text></g>')
    # the violation
    w(f'<g class="violation"><rect x="0" y="{_num(band_y)}" width="{_num(width)}" height="30" '
      f'fill="#d62728"/><text x="{_num(width / 2)}" y="{_num(band_y + 20)}" '
      f'text-anchor="middle" fill="white" font-weight="bold" font-size="14">'
      f'{escape(chart.violation)}</text></g>')
    # legend
    x = _LEFT
    w('<g class="legend">')
    for s, c in color.items():
        w(f'<line x1="{_num(x)}" y1="{_num(legend_y - 4)}" x2="{_num(x + 24)}" '
          f'y2="{_num(legend_y - 4)}" stroke="{c}" stroke-width="2" '
          f'marker-end="url(#head-{escape(s)})"/>')
        w(f'<text x="{_num(x + 30)}" y="{_num(legend_y)}">{escape(s)}</text>')
        x += 30 + _text_w(s) + 24
    w(f'<line x1="{_num(x)}" y1="{_num(legend_y - 4)}" x2="{_num(x + 24)}" y2="{_num(legend_y - 4)}" '
      f'stroke="#555" stroke-width="1.5" stroke-dasharray="5 3"/>'
      f'<circle cx="{_num(x + 24)}" cy="{_num(legend_y - 4)}" r="3.5" fill="#555"/>')
    w(f'<text x="{_num(x + 32)}" y="{_num(legend_y)}">never received</text>')
    w("</g>")
    w("</svg>")
    return "\n".join(out) + "\n"


def to_svg(trace: Trace) -> str:
    """A Trace's message-sequence chart as SVG text."""
    return render_svg(build_chart(trace))
