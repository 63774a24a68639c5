"""Mutation testing of a spec's properties: does each property catch the
protocol bugs it should?

Every single-point change to the spec's actions (a *mutant*) is generated
on the typed IR, with one of these operators:

| operator       | change                                                         |
|----------------|----------------------------------------------------------------|
| `drop-require` | drop one top-level conjunct of a `require` (the whole          |
|                | statement when it has one)                                     |
| `negate`       | negate a literal: a relation atom, definition use or           |
|                | comparison `A` becomes `!A`, and `!A` becomes `A`              |
| `swap-cmp`     | replace a comparison operator by another of `=` `!=` `<` `<=`  |
|                | (`=`/`!=` only on unordered sorts)                             |
| `swap-quant`   | `forall` <-> `exists`                                          |
| `drop-update`  | drop an update statement (`:=`, `:= *`)                        |
| `rhs-const`    | replace the right-hand side of a relation update by `true` and |
|                | by `false`, of an option-sorted function by `none`             |
| `replace-var`  | replace a variable occurrence (parameter, quantified or        |
|                | pointwise-update variable) by another variable in scope of the |
|                | same sort                                                      |

A mutant is applied as a text edit at the span of the IR node it changes,
so the rest of the file stays byte-identical and a surviving mutant shows
as a unified diff of the spec. The edited text is parsed and type-checked
again; a variable the change leaves unused is renamed `_name` (the
type-checker rejects unused variables otherwise); a mutant that still fails
to type-check is skipped and counted. The re-parsed actions are compared
with the IR mutant, so what is checked is exactly the change described.
Mutants equal to the original or to an earlier mutant are not generated.

Each mutant is checked with the compiled engine on the model's instances
under a budget (states and seconds per mutant), in parallel: it is
*killed* when a property is violated (by which, with the length of the
shortest trace), *survived* when the search completes with every property
holding, *out of budget* otherwise. The mutation score is
killed / (killed + survived). A survivor's reachable states and state
changes (steps to a different state) are compared exactly with the
original's: *equivalent* (the same: the mutant differs at most in steps
that change nothing), *does-less* (a part of them and nothing new: no
safety property can notice, only a liveness or reachability check would)
or *does-more* (states or state changes the original does not have and no
property rejects: either allowed behaviour, or a missing property)."""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paxcheck.config.model import Model, build_model
from paxcheck.errors import PaxError, Span, read_input
from paxcheck.ground.ground import GroundInstance, ground
from paxcheck.lang import ir
from paxcheck.lang.typecheck import load_spec_text
from paxcheck.parallel import default_workers, fork_context
from paxcheck.search.api import Checks, Limits, RunResult, run
from paxcheck.search.python import PythonKernel
from paxcheck.tools.coverage import action_coverage

DEFAULT_MAX_STATES = 1_000_000
DEFAULT_TIMEOUT = 60.0
OPERATORS = ("drop-require", "negate", "swap-cmp", "swap-quant", "drop-update", "rhs-const",
             "replace-var")


# ---- source positions ----------------------------------------------------------
class Source:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        for line in text.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col - 1

    def range(self, span: Span) -> tuple[int, int]:
        return self.offset(span.line, span.col), self.offset(span.end_line, span.end_col)

    def slice(self, span: Span) -> str:
        a, b = self.range(span)
        return self.text[a:b]


Edit = tuple[int, int, str]  # replace text[start:end] by the string


def apply_edits(text: str, edits: tuple[Edit, ...]) -> str:
    for a, b, s in sorted(edits, key=lambda e: -e[0]):
        text = text[:a] + s + text[b:]
    return text


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _skip_ws_back(text: str, i: int) -> int:
    while i > 0 and text[i - 1] in " \t\r\n":
        i -= 1
    return i


def _extend_parens(text: str, a: int, b: int) -> tuple[int, int]:
    """Grow [a, b) over parentheses that wrap exactly it."""
    while True:
        i, j = _skip_ws_back(text, a), _skip_ws(text, b)
        if i > 0 and j < len(text) and text[i - 1] == "(" and text[j] == ")":
            a, b = i - 1, j + 1
        else:
            return a, b


def _delete_stmt(src: Source, span: Span) -> Edit:
    a, b = src.range(span)
    text = src.text
    line_start = text.rfind("\n", 0, a) + 1
    line_end = text.find("\n", b)
    line_end = len(text) if line_end < 0 else line_end
    if not text[line_start:a].strip() and not text[b:line_end].strip():
        return (line_start, min(line_end + 1, len(text)), "")  # the whole line
    return (a, b, "")


def _delete_conjunct(src: Source, conj: ir.Expr) -> tuple[Edit, bool]:
    """An edit deleting a conjunct with one of its `&`; (edit, True) or, when
    that cannot be done cleanly, replacing it by `true` (edit, False)."""
    text = src.text
    a, b = _extend_parens(text, *src.range(conj.span))
    j = _skip_ws(text, b)
    if j < len(text) and text[j] == "&":
        return (a, _skip_ws(text, j + 1), ""), True
    i = _skip_ws_back(text, a)
    if i > 0 and text[i - 1] == "&":
        return (_skip_ws_back(text, i - 1), b, ""), True
    return (a, b, "true"), False


# ---- IR positions ---------------------------------------------------------------
Scope = dict[str, ir.SortT]
Rebuild = Callable[[Any], tuple]   # new node -> new action body


@dataclass
class _Pos:
    node: Any
    scope: Scope
    rebuild: Rebuild
    parent: Any = None
    kind: str = "expr"  # 'expr' | 'stmt'


def _expr_positions(e: ir.Expr, scope: Scope, rebuild: Rebuild, parent=None) -> Iterator[_Pos]:
    yield _Pos(e, scope, rebuild, parent)
    R = dataclasses.replace
    if isinstance(e, (ir.App, ir.Call, ir.And, ir.Or)):
        for k, a in enumerate(e.args):
            yield from _expr_positions(
                a, scope, lambda x, k=k, e=e: rebuild(R(e, args=e.args[:k] + (x,) + e.args[k + 1:])), e)
    elif isinstance(e, (ir.Not, ir.Old)):
        yield from _expr_positions(e.arg, scope, lambda x, e=e: rebuild(R(e, arg=x)), e)
    elif isinstance(e, (ir.Implies, ir.Iff, ir.Cmp)):
        yield from _expr_positions(e.left, scope, lambda x, e=e: rebuild(R(e, left=x)), e)
        yield from _expr_positions(e.right, scope, lambda x, e=e: rebuild(R(e, right=x)), e)
    elif isinstance(e, ir.Quant):
        inner = {**scope, **{b.name: b.sort for b in e.binders}}
        yield from _expr_positions(e.body, inner, lambda x, e=e: rebuild(R(e, body=x)), e)


def _block_positions(stmts: tuple, scope: Scope, rebuild_block) -> Iterator[_Pos]:
    R = dataclasses.replace
    for k, st in enumerate(stmts):
        def put(new: tuple, k=k) -> tuple:
            return rebuild_block(stmts[:k] + new + stmts[k + 1:])
        yield _Pos(st, scope, put, kind="stmt")
        if isinstance(st, ir.Require):
            yield from _expr_positions(st.cond, scope, lambda x, st=st, put=put: put((R(st, cond=x),)))
        elif isinstance(st, (ir.Assign, ir.Havoc)):
            inner = {**scope, **{b.name: b.sort for b in st.bound}}
            bound = {b.name for b in st.bound}
            for j, a in enumerate(st.args):
                if isinstance(a, ir.Var) and a.name in bound:
                    continue  # a pointwise-update variable on the left: a binder
                yield from _expr_positions(
                    a, inner, lambda x, j=j, st=st, put=put: put((R(st, args=st.args[:j] + (x,) + st.args[j + 1:]),)))
            if isinstance(st, ir.Assign):
                yield from _expr_positions(st.rhs, inner, lambda x, st=st, put=put: put((R(st, rhs=x),)))
        elif isinstance(st, ir.If):
            yield from _expr_positions(st.cond, scope, lambda x, st=st, put=put: put((R(st, cond=x),)))
            yield from _block_positions(st.then, scope, lambda b, st=st, put=put: put((R(st, then=b),)))
            yield from _block_positions(st.els, scope, lambda b, st=st, put=put: put((R(st, els=b),)))


# ---- mutants ---------------------------------------------------------------------
@dataclass
class Mutant:
    """One single-point change of the spec, as a text edit."""
    id: int
    operator: str
    action: str
    line: int
    description: str
    text: str = ""                 # the mutated spec source
    body: tuple = ()               # the mutated action body (IR)
    skipped: str | None = None     # why it was not checked (type error)
    renamed: tuple[str, ...] = ()  # variables renamed `_x` because the change left them unused


@dataclass
class Result:
    """How a mutant fared: killed (by what), survived (and how it behaves), or not decided."""
    status: str                      # 'killed' | 'survived' | 'out-of-budget' | 'skipped' | 'error'
    property: str | None = None      # the property that killed it
    kind: str | None = None          # invariant | transition | deadlock
    length: int | None = None        # steps of the shortest counterexample
    states: int = 0
    transitions: int = 0
    seconds: float = 0.0
    reason: str | None = None        # out of budget / skipped / error: why
    # survivors, against the original: 'equivalent' (same reachable states and
    # state changes), 'does-less' (a part of them, nothing new), 'does-more'
    behaviour: str | None = None
    new_states: int = 0              # reachable in the mutant only
    new_steps: int = 0               # state changes only the mutant makes
    lost_states: int = 0             # reachable in the original only
    lost_steps: int = 0              # state changes only the original makes
    fired: tuple[str, ...] = ()      # a complete check: the actions that fired


def _is_literal(e: ir.Expr) -> bool:
    return (isinstance(e, ir.App) and e.sort is None) or isinstance(e, (ir.Call, ir.Cmp))


def _mirror(op: str) -> str:
    return {"<": ">", "<=": ">=", "=": "=", "!=": "!="}[op]


def _candidates(spec: ir.Spec, src: Source) -> Iterator[tuple[str, ir.Action, int, str, tuple, tuple]]:
    """(operator, action, line, description, edits, mutated body) for every mutant."""
    for action in spec.actions:
        scope = {p.name: p.sort for p in action.params}
        for pos in _block_positions(action.body, scope, lambda b: b):
            n = pos.node
            show = lambda x: " ".join(src.slice(x.span).split())  # noqa: E731
            if pos.kind == "stmt":
                if isinstance(n, ir.Require):
                    conj = n.cond.args if isinstance(n.cond, ir.And) else (n.cond,)
                    if len(conj) == 1:
                        yield ("drop-require", action, n.span.line, f"drop `{_clip(show(n), 90)}`",
                               (_delete_stmt(src, n.span),), pos.rebuild(()))
                    else:
                        for k, c in enumerate(conj):
                            rest = conj[:k] + conj[k + 1:]
                            edit, clean = _delete_conjunct(src, c)
                            cond = (ir.And(rest, n.cond.span) if len(rest) > 1 else rest[0]) \
                                if clean else ir.And(conj[:k] + (ir.BoolLit(True),) + conj[k + 1:])
                            yield ("drop-require", action, c.span.line,
                                   f"drop conjunct `{_clip(show(c), 80)}` of a require", (edit,),
                                   pos.rebuild((dataclasses.replace(n, cond=cond),)))
                elif isinstance(n, (ir.Assign, ir.Havoc)):
                    yield ("drop-update", action, n.span.line, f"drop `{show(n)}`",
                           (_delete_stmt(src, n.span),), pos.rebuild(()))
                    if isinstance(n, ir.Assign):
                        sym = spec.symbol_map[n.symbol]
                        consts: list[tuple[str, ir.Expr]] = []
                        if sym.is_relation:
                            consts = [(str(v).lower(), ir.BoolLit(v)) for v in (True, False)
                                      if not (isinstance(n.rhs, ir.BoolLit) and n.rhs.value == v)]
                        elif sym.result is not None and sym.result.option \
                                and not isinstance(n.rhs, ir.NoneLit):
                            consts = [("none", ir.NoneLit(sym.result))]
                        a, b = src.range(n.rhs.span)
                        for text, lit in consts:
                            yield ("rhs-const", action, n.rhs.span.line,
                                   f"`{show(n)}` with right-hand side `{text}`", ((a, b, text),),
                                   pos.rebuild((dataclasses.replace(n, rhs=lit),)))
                continue
            # expressions
            if isinstance(n, ir.Not) and _is_literal(n.arg):
                a, b = src.range(n.span)
                yield ("negate", action, n.span.line, f"`{show(n)}` -> `{show(n.arg)}`",
                       ((a, b, src.slice(n.arg.span)),), pos.rebuild(n.arg))
            if _is_literal(n) and not isinstance(pos.parent, ir.Not):
                a, b = src.range(n.span)
                inner = src.slice(n.span)
                new = f"!({inner})" if isinstance(n, ir.Cmp) else f"!{inner}"
                if isinstance(pos.parent, ir.Iff):  # `p = q` between formulas binds tighter
                    new = f"({new})"
                yield ("negate", action, n.span.line, f"`{show(n)}` -> `{' '.join(new.split())}`",
                       ((a, b, new),), pos.rebuild(ir.Not(n)))
            if isinstance(n, ir.Cmp):
                ordered = spec.sort_map[n.left.sort.name].ordered if n.left.sort else False
                ops = ("=", "!=", "<", "<=") if ordered else ("=", "!=")
                la, lb = src.range(n.left.span)
                ra, rb = src.range(n.right.span)
                swapped = ra < la
                gap_a, gap_b = (rb, la) if swapped else (lb, ra)
                m = re.search(r"<=|>=|!=|=|<|>", src.text[gap_a:gap_b])
                if m is None:
                    continue
                for op in ops:
                    if op == n.op:
                        continue
                    shown = _mirror(op) if swapped else op
                    # the IR keeps `a > b` as `b < a`; `a = b` keeps the source order
                    mutated = ir.Cmp(op, n.right, n.left, n.span) if swapped and op in ("=", "!=") \
                        else dataclasses.replace(n, op=op)
                    edit = (gap_a + m.start(), gap_a + m.end(), shown)
                    yield ("swap-cmp", action, n.span.line,
                           f"`{show(n)}` -> `{_edited(src, n.span, edit)}`",
                           (edit,), pos.rebuild(mutated))
            if isinstance(n, ir.Quant):
                a, _ = src.range(n.span)
                other = "exists" if n.kind == "forall" else "forall"
                if src.text[a:a + len(n.kind)] == n.kind:
                    yield ("swap-quant", action, n.span.line,
                           f"`{n.kind}` -> `{other}` in `{_clip(show(n))}`",
                           ((a, a + len(n.kind), other),), pos.rebuild(dataclasses.replace(n, kind=other)))
            if isinstance(n, ir.Var):
                a, b = src.range(n.span)
                for name, sort in pos.scope.items():
                    if name == n.name or sort.name != n.sort.name or (sort.option and not n.sort.option):
                        continue
                    yield ("replace-var", action, n.span.line,
                           f"`{n.name}` -> `{name}` in `{_clip(_enclosing(src, n, pos))}`",
                           ((a, b, name),), pos.rebuild(ir.Var(name, sort)))


def _edited(src: Source, span: Span, edit: Edit) -> str:
    """The text of a span after an edit inside it, on one line."""
    a, b = src.range(span)
    text = src.text[a:edit[0]] + edit[2] + src.text[edit[1]:b]
    return " ".join(text.split())


def _clip(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[:n - 3] + "..."


def _enclosing(src: Source, v: ir.Var, pos: _Pos) -> str:
    node = pos.parent if pos.parent is not None else v
    return " ".join(src.slice(node.span).split())


# ---- comparing IR modulo formatting ------------------------------------------------
def _strip(name: str) -> str:
    return name.lstrip("_") or name


def normalize(x: Any) -> Any:
    """IR with spans dropped, `_` prefixes stripped from variables, `true`
    conjuncts dropped and conjunctions flattened: equal for the IR of an edit
    and the IR that re-parsing the edited text gives."""
    if isinstance(x, tuple):
        return tuple(normalize(y) for y in x)
    if isinstance(x, ir.Var):
        return ("Var", _strip(x.name), x.sort)
    if isinstance(x, ir.Binder):
        return ("Binder", _strip(x.name), x.sort)
    if isinstance(x, ir.And):
        args: list[Any] = []
        for a in x.args:
            na = normalize(a)
            if na == ("BoolLit", True):
                continue
            args.extend(na[1] if na[0] == "And" else (na,))
        if not args:
            return ("BoolLit", True)
        return args[0] if len(args) == 1 else ("And", tuple(args))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__,) + tuple(normalize(getattr(x, f.name))
                                          for f in dataclasses.fields(x) if f.name != "span")
    return x


# ---- generation ---------------------------------------------------------------------
_UNUSED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is never used")


def _retypecheck(text: str, file: str) -> tuple[ir.Spec | None, str, tuple[str, ...], str | None]:
    """Parse and type-check a mutant, renaming variables it left unused to
    `_name`. Returns (spec or None, final text, renamed, error)."""
    renamed: list[str] = []
    for _ in range(8):
        try:
            return load_spec_text(text, file), text, tuple(renamed), None
        except PaxError as err:
            m = _UNUSED.search(err.message)
            if m is None or err.span is None:
                return None, text, tuple(renamed), err.message
            at = Source(text).offset(err.span.line, err.span.col)
            if text[at:at + len(m.group(1))] != m.group(1):
                return None, text, tuple(renamed), err.message
            text = text[:at] + "_" + text[at:]
            renamed.append(m.group(1))
    return None, text, tuple(renamed), "too many unused variables"


def _signature(spec: ir.Spec) -> Any:
    return normalize((spec.init, tuple((a.name, a.params, a.actor, a.body) for a in spec.actions),
                      tuple(p.formula for p in spec.properties),
                      tuple(d.body for d in spec.definitions)))


def generate(spec: ir.Spec, text: str, operators: tuple[str, ...] = OPERATORS) -> list[Mutant]:
    """Every mutant of the spec's actions, numbered from 1 in spec order."""
    src = Source(text)
    original = _signature(spec)
    seen = {original}
    out: list[Mutant] = []
    for op, action, line, desc, edits, body in _candidates(spec, src):
        if op not in operators:
            continue
        expected_actions = tuple((a.name, a.params, a.actor, body if a.name == action.name else a.body)
                                 for a in spec.actions)
        expected = normalize((spec.init, expected_actions, tuple(p.formula for p in spec.properties),
                              tuple(d.body for d in spec.definitions)))
        if expected in seen:
            continue
        seen.add(expected)
        mut = Mutant(len(out) + 1, op, action.name, line, desc, body=body)
        new_spec, new_text, renamed, error = _retypecheck(apply_edits(text, edits), spec.file)
        mut.text, mut.renamed = new_text, renamed
        if new_spec is None:
            mut.skipped = f"does not type-check: {error}"
        elif _signature(new_spec) != expected:
            mut.skipped = "internal: the edited text does not parse to the mutant"
        out.append(mut)
    return out


def diff(original: str, mutant: Mutant, path: str) -> str:
    return "".join(difflib.unified_diff(original.splitlines(keepends=True),
                                        mutant.text.splitlines(keepends=True),
                                        fromfile=path, tofile=f"{path} (mutant {mutant.id})",
                                        n=1))


# ---- checking -----------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    max_states: int = DEFAULT_MAX_STATES
    timeout: float = DEFAULT_TIMEOUT


_WORKER: dict[str, Any] = {}


class _Collect:
    """A Visitor keeping every state of a run, in BFS order."""

    def __init__(self) -> None:
        self.states: list[Any] = []

    def state(self, index: int, state: Any, parent: int, gid: int) -> None:
        self.states.append(state)

    def transition(self, src: int, gid: int, dst: int) -> None:
        pass


def reachable(g: GroundInstance, max_states: int, engine: str = "python",
              workers: int | None = None) -> list[int] | None:
    """Every reachable state, breadth-first (None past the limit)."""
    seen = _Collect()
    res = run(g, Limits(max_states=max_states), Checks(), engine=engine, workers=workers,
              visitor=seen)
    return seen.states if res.complete else None


class Behaviour:
    """A Visitor comparing a mutant's run with the original, exactly: how
    its reachable states and state changes (steps s -> t with t != s;
    stuttering steps are invisible to state properties) differ from the
    original's on one instance. Engines report transitions grouped by
    source in BFS order, so each state is compared as soon as the next
    source begins, and states with no transition at all are the gaps."""

    def __init__(self, original: Callable[[int], list[tuple[int, int]]],
                 original_states: frozenset[int], res: Result) -> None:
        self.original, self.original_states, self.res = original, original_states, res
        self.states: list[int] = []
        self.cur = -1              # the source whose successors are being collected
        self.succ: set[int] = set()

    def state(self, index: int, state: Any, parent: int, gid: int) -> None:
        self.states.append(state)

    def transition(self, src: int, gid: int, dst: int) -> None:
        if src != self.cur:
            self._advance(src)
        self.succ.add(self.states[dst])

    def _advance(self, src: int) -> None:
        if self.cur >= 0:
            self._compare(self.states[self.cur], self.succ)
        for gap in range(self.cur + 1, src):
            self._compare(self.states[gap], set())
        self.cur, self.succ = src, set()

    def _compare(self, s: int, succ: set[int]) -> None:
        res = self.res
        moves = succ - {s}
        if s in self.original_states:
            before = {t for _, t in self.original(s)} - {s}
            res.new_steps += len(moves - before)
            res.lost_steps += len(before - moves)
        else:
            res.new_states += 1
            res.new_steps += len(moves)

    def finish(self) -> None:
        """After a complete run: compare the last states, count lost ones."""
        self._advance(len(self.states))
        self.res.lost_states += len(self.original_states - set(self.states))


def _classify(res: Result) -> str:
    if res.new_states or res.new_steps:
        return "does-more"
    if res.lost_states or res.lost_steps:
        return "does-less"
    return "equivalent"


def check_spec(spec: ir.Spec, model: Model, budget: Budget, engine: str = "python",
               behaviour: Callable[[int, Result], Behaviour] | None = None,
               must_fire: frozenset[str] = frozenset()) -> Result:
    """Check a spec (the original or a mutant) on the model's instances;
    with `behaviour` (instance index, result -> a Behaviour visitor), a
    survivor is also compared with the original in the same runs. A
    mutant is killed as `paxcheck test` would fail it: a property violated,
    a `sometimes` property never reached, or an action of `must_fire` (those
    the original fires) that never fires."""
    start = time.monotonic()
    props = model.config.properties
    total = Result("survived")
    visitors: list[Behaviour] = []
    runs: list[RunResult] = []
    for k, inst in enumerate(model.instances):
        left = budget.timeout - (time.monotonic() - start)
        if left <= 0:
            total.status, total.reason = "out-of-budget", f"timeout after {budget.timeout:g} s"
            break
        visitor = behaviour(k, total) if behaviour is not None else None
        res = run(ground(dataclasses.replace(inst, spec=spec)),
                  Limits(budget.max_states, left), Checks(props, model.config.deadlock),
                  engine=engine, workers=1, visitor=visitor)
        total.states += res.stats.distinct
        total.transitions += res.stats.transitions
        if res.violations:
            v = res.violations[0]
            total.status, total.property, total.kind, total.length = \
                "killed", v.property, v.kind, v.length
            break
        if not res.complete:
            total.status, total.reason = "out-of-budget", res.stop_reason
            break
        if res.unreached:
            total.status, total.property, total.kind = "killed", res.unreached[0], "unreached"
            break
        runs.append(res)
        if visitor is not None:
            visitors.append(visitor)
    if total.status == "survived":
        total.fired = tuple(c.action for c in action_coverage(runs) if not c.never)
        never = [a for a in sorted(must_fire) if a not in total.fired]
        if never:
            total.status, total.property, total.kind = "killed", never[0], "unfired"
    if total.status == "survived" and behaviour is not None:
        for visitor in visitors:
            visitor.finish()
        total.behaviour = _classify(total)
    total.seconds = time.monotonic() - start
    return total


def _init_worker(model: Model, budget: Budget, original_spec: ir.Spec,
                 original_states: list[frozenset[int]], engine: str,
                 must_fire: frozenset[str]) -> None:
    _WORKER.clear()
    _WORKER.update(model=model, budget=budget, spec=original_spec, states=original_states,
                   engine=engine, must_fire=must_fire)


def _original_successors(k: int) -> Callable[[int], list[tuple[int, int]]]:
    """The original spec's successor function on instance k, generated once
    per worker (the comparison asks it about single states)."""
    kernels = _WORKER.setdefault("kernels", {})
    if k not in kernels:
        inst = _WORKER["model"].instances[k]
        kernels[k] = PythonKernel(ground(dataclasses.replace(inst, spec=_WORKER["spec"])))
    return kernels[k].successors


def _check_mutant(job: tuple[int, str, str]) -> tuple[int, Result]:
    mid, text, file = job
    model, budget = _WORKER["model"], _WORKER["budget"]

    def behaviour(k: int, res: Result) -> Behaviour:
        return Behaviour(_original_successors(k), _WORKER["states"][k], res)
    try:
        spec = load_spec_text(text, file)
        res = check_spec(spec, model, budget, _WORKER["engine"], behaviour, _WORKER["must_fire"])
    except PaxError as err:
        res = Result("error", reason=err.message)
    except Exception as err:  # noqa: BLE001 - one broken mutant must not stop the run
        res = Result("error", reason=f"{type(err).__name__}: {err}")
    return mid, res


@dataclass
class Report:
    """Every mutant of a run with its result, and the score."""
    spec_path: str
    model_path: str
    budget: Budget
    workers: int
    original: Result
    mutants: list[Mutant]
    results: dict[int, Result] = field(default_factory=dict)
    seconds: float = 0.0
    properties: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for r in self.results.values() if r.status == status)

    @property
    def score(self) -> float | None:
        k, s = self.count("killed"), self.count("survived")
        return k / (k + s) if k + s else None


def load_model_for(spec_path: str | Path, model_path: str | Path) -> Model:
    """The model file's sorts, interpretations and [check] settings, with SPEC
    as its spec (which must declare what the model interprets)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    mp = Path(model_path)
    text = read_input(mp, "model")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PaxError(f"{mp}: invalid TOML: {exc}") from None
    if not Path(spec_path).exists():
        raise PaxError(f"spec file not found: {spec_path}")
    data["spec"] = os.path.relpath(Path(spec_path).resolve(), mp.resolve().parent)
    return build_model(data, str(mp), text)


def run_mutants(spec_path: str | Path, model_path: str | Path, budget: Budget = Budget(),
                workers: int | None = None, operators: tuple[str, ...] = OPERATORS,
                progress: Callable[[int, int], None] | None = None,
                properties: tuple[str, ...] | None = None, engine: str = "python") -> Report:
    """Generate and check every mutant; `properties` overrides the model's
    list; each mutant is checked with `engine` (search/api.py), one
    mutant per worker process."""
    start = time.monotonic()
    model = load_model_for(spec_path, model_path)
    text = read_input(spec_path, "spec")
    spec = load_spec_text(text, str(spec_path))
    config = model.config
    if properties:
        spec.properties_named(properties)
        config = dataclasses.replace(config, properties=tuple(properties))
    model = dataclasses.replace(model, spec=spec, config=config, instances=tuple(
        dataclasses.replace(i, spec=spec) for i in model.instances))
    original = check_spec(spec, model, budget, engine)
    report = Report(str(spec_path), str(model_path), budget, workers or default_workers(),
                    original, [], properties=config.properties)
    if original.status != "survived":
        what = (f"its property '{original.property}' is violated" if original.status == "killed"
                else f"checking it does not finish within the budget ({original.reason})")
        raise PaxError(f"mutation testing needs a spec whose properties hold, but {what}")
    original_states = [frozenset(reachable(ground(i), budget.max_states, engine) or ())
                       for i in model.instances]
    report.mutants = generate(spec, text, operators)
    for m in report.mutants:
        if m.skipped:
            report.results[m.id] = Result("skipped", reason=m.skipped)
    jobs = [(m.id, m.text, str(spec_path)) for m in report.mutants if not m.skipped]
    done = 0
    if report.workers <= 1 or len(jobs) <= 1:
        _init_worker(model, budget, spec, original_states, engine, frozenset(original.fired))
        for job in jobs:
            mid, res = _check_mutant(job)
            report.results[mid] = res
            done += 1
            if progress:
                progress(done, len(jobs))
    else:
        with fork_context().Pool(report.workers, _init_worker,
                      (model, budget, spec, original_states, engine,
                       frozenset(original.fired))) as pool:
            for mid, res in pool.imap_unordered(_check_mutant, jobs):
                report.results[mid] = res
                done += 1
                if progress:
                    progress(done, len(jobs))
    report.seconds = time.monotonic() - start
    return report


# ---- output --------------------------------------------------------------------------
def _verdict(r: Result) -> str:
    if r.status == "killed":
        if r.kind == "unreached":
            return f"killed by {r.property} (never reached)"
        if r.kind == "unfired":
            return f"killed: action {r.property} never fires"
        what = r.property if r.kind != "deadlock" else "deadlock"
        return f"killed by {what} ({r.length} step{'s' if r.length != 1 else ''})"
    if r.status == "survived":
        return f"SURVIVED ({r.behaviour})"
    if r.status == "out-of-budget":
        return f"out of budget ({r.reason})"
    return f"{r.status}: {r.reason}"


def _n(k: int, what: str) -> str:
    return f"{k:,} {what}{'s' if k != 1 else ''}"


def _note(r: Result) -> str:
    if r.behaviour == "equivalent":
        return ("equivalent: the same reachable states and state changes as the original on "
                "this model (it differs at most in steps that change nothing)")
    lost = f"{_n(r.lost_states, 'state')} and {_n(r.lost_steps, 'state change')} of the original"
    if r.behaviour == "does-less":
        return (f"does less: loses {lost}, adds nothing. Safety properties cannot notice "
                "a mutant that only removes behaviour; a liveness or reachability check would")
    return (f"does more: {_n(r.new_states, 'new state')} and {_n(r.new_steps, 'new state change')}"
            f" (and loses {lost}) that no property rejects: is that behaviour allowed? If not, "
            "a property is missing")


def _kinds(report: Report, survivors: list[Mutant]) -> str:
    kinds = [report.results[m.id].behaviour for m in survivors]
    return ", ".join(f"{kinds.count(k)} {k}" for k in ("equivalent", "does-less", "does-more"))


def to_text(report: Report, original_text: str) -> str:
    b = report.budget
    lines = [
        f"spec:      {report.spec_path}",
        f"model:     {report.model_path}",
        f"checking:  {', '.join(report.properties) or '(no property)'}",
        f"budget:    {b.max_states:,} states, {b.timeout:g} s per mutant; "
        f"{report.workers} worker{'s' if report.workers != 1 else ''}",
        f"original:  holds ({report.original.states:,} states, "
        f"{report.original.transitions:,} transitions, {report.original.seconds:.2f} s)",
        f"mutants:   {len(report.mutants)}",
        "",
    ]
    width = max([len(m.action) for m in report.mutants] + [6])
    lines.append(f"  {'#':>4}  {'operator':<12}  {'action':<{width}}  {'line':>4}  result")
    for m in report.mutants:
        r = report.results[m.id]
        lines.append(f"  {m.id:>4}  {m.operator:<12}  {m.action:<{width}}  {m.line:>4}  "
                     f"{_verdict(r)}")
        lines.append(f"  {'':>4}  {m.description}")
    survivors = [m for m in report.mutants if report.results[m.id].status == "survived"]
    if survivors:
        lines += ["", f"Surviving mutants ({len(survivors)}):"]
        for m in survivors:
            r = report.results[m.id]
            note = _note(r)
            lines += ["", f"  mutant {m.id} ({m.operator}, action {m.action}): {m.description}",
                      f"  {note}"]
            lines += ["    " + x for x in diff(original_text, m, report.spec_path).splitlines()]
    k, s = report.count("killed"), report.count("survived")
    score = report.score
    lines += ["",
              f"Mutation score: {'n/a' if score is None else f'{score:.1%}'} "
              f"({k} killed / {k + s} killed or survived)",
              f"  killed {k}, survived {s} ({_kinds(report, survivors)}), "
              f"out of budget {report.count('out-of-budget')}, "
              f"skipped {report.count('skipped')}, errors {report.count('error')}",
              f"  time {report.seconds:.1f} s"]
    return "\n".join(lines) + "\n"


def to_json(report: Report, original_text: str) -> dict[str, Any]:
    mutants = []
    for m in report.mutants:
        r = report.results[m.id]
        d = {"id": m.id, "operator": m.operator, "action": m.action, "line": m.line,
             "description": m.description, "status": r.status}
        if r.status == "killed":
            d.update(property=r.property, kind=r.kind, length=r.length)
        if r.status in ("killed", "survived", "out-of-budget"):
            d.update(states=r.states, transitions=r.transitions, seconds=round(r.seconds, 3))
        if r.status == "survived":
            d.update(behaviour=r.behaviour, new_states=r.new_states, new_steps=r.new_steps,
                     lost_states=r.lost_states, lost_steps=r.lost_steps,
                     diff=diff(original_text, m, report.spec_path))
        if r.reason:
            d["reason"] = r.reason
        if m.renamed:
            d["renamed"] = list(m.renamed)
        mutants.append(d)
    return {
        "spec": report.spec_path,
        "model": report.model_path,
        "properties": list(report.properties),
        "budget": {"max_states": report.budget.max_states, "timeout": report.budget.timeout},
        "workers": report.workers,
        "original": {"states": report.original.states,
                     "transitions": report.original.transitions},
        "counts": {s: report.count(s) for s in
                   ("killed", "survived", "out-of-budget", "skipped", "error")},
        "score": report.score,
        "seconds": round(report.seconds, 2),
        "mutants": mutants,
    }


def print_progress(done: int, total: int) -> None:
    """On a terminal: one line, rewritten in place."""
    print(f"\r  ... {done}/{total} mutants checked", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


class Progress:
    """Off a terminal (a CI log): a line every `every` seconds and at the end."""

    def __init__(self, every: float = 5.0) -> None:
        self.every, self.start = every, time.monotonic()
        self.next = self.start + every

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now >= self.next or done == total:
            print(f"  ... {done}/{total} mutants checked, {now - self.start:.0f} s",
                  file=sys.stderr, flush=True)
            self.next = now + self.every
