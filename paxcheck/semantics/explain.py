"""Why a formula has its truth value in a state: the values of its
quantifiers that decide it. For a violated `forall v1, v2: value. chosen(v1)
& chosen(v2) -> v1 = v2` that is v1 = value0, v2 = value1, and, inside
the definition `chosen`, the ballot and quorum that make each value chosen.

It walks the formula with the reference evaluator, following only the
subformulas that decide the outcome (a false conjunct, a true disjunct,
the antecedent and consequent of a false implication): what a person
reads off the last state of a counterexample by hand."""
from __future__ import annotations

from dataclasses import dataclass

from paxcheck.lang import ir
from paxcheck.semantics.evaluate import Evaluator, RefState

# a formula is explained down to this many quantifier bindings: past that
# the list stops helping a reader
_MAX_BINDINGS = 12


@dataclass(frozen=True)
class Binding:
    """Quantified variables and the values that decide the formula, under a
    context: '' at the top, `chosen(value0)` inside a definition call."""
    context: str
    values: tuple[tuple[str, str], ...]

    def show(self) -> str:
        vals = ", ".join(f"{k} = {v}" for k, v in self.values)
        return f"{self.context}: {vals}" if self.context else vals


def explain(ev: Evaluator, formula: ir.Expr, state: RefState, want: bool,
            pre: RefState | None = None) -> tuple[Binding, ...]:
    """The bindings that make `formula` evaluate to `want` in `state` (it
    must: the caller has checked it), outermost first."""
    out: list[Binding] = []
    _walk(ev, formula, {}, state, pre, want, "", out)
    return tuple(out)


def _walk(ev: Evaluator, e: ir.Expr, env: dict[str, int], s: RefState, pre: RefState | None,
          want: bool, ctx: str, out: list[Binding]) -> None:
    if len(out) >= _MAX_BINDINGS:
        return
    if isinstance(e, ir.Not):
        _walk(ev, e.arg, env, s, pre, not want, ctx, out)
    elif isinstance(e, (ir.And, ir.Or)):
        decisive = want if isinstance(e, ir.Or) else not want
        # one decisive part explains it (a false conjunct); else all parts do
        parts = [a for a in e.args if bool(ev.eval(a, env, s, pre)) == want]
        for a in (parts[:1] if decisive else parts):
            _walk(ev, a, env, s, pre, want, ctx, out)
    elif isinstance(e, ir.Implies):
        if not want:
            _walk(ev, e.left, env, s, pre, True, ctx, out)
            _walk(ev, e.right, env, s, pre, False, ctx, out)
        elif not ev.eval(e.left, env, s, pre):
            _walk(ev, e.left, env, s, pre, False, ctx, out)
        else:
            _walk(ev, e.right, env, s, pre, True, ctx, out)
    elif isinstance(e, ir.Quant):
        # forall false / exists true: one binding decides; the other way
        # every binding does, and there is nothing particular to show
        if (e.kind == "forall") != want:
            names = [b.name for b in e.binders]
            for vals in ev.valuations(e.binders):
                inner = {**env, **dict(zip(names, vals))}
                if bool(ev.eval(e.body, inner, s, pre)) == want:
                    out.append(Binding(ctx, tuple(
                        (b.name, ev.inst.name_of(b.sort, v)) for b, v in zip(e.binders, vals))))
                    _walk(ev, e.body, inner, s, pre, want, ctx, out)
                    return
    elif isinstance(e, ir.Call):
        d = ev.spec.definition_map[e.definition]
        args = [ev.eval(a, env, s, pre) for a in e.args]
        shown = ", ".join(ev.inst.name_of(p.sort, v) for p, v in zip(d.params, args))
        inner_ctx = f"{'!' if not want else ''}{d.name}({shown})"
        _walk(ev, d.body, {p.name: v for p, v in zip(d.params, args)}, s, pre, want,
              inner_ctx, out)
    elif isinstance(e, ir.Old) and pre is not None:
        _walk(ev, e.arg, env, pre, None, want, ctx, out)
