"""mypyvy's `.pyv` language as a second front end: text to the same surface
syntax tree (`syntax.ModuleS`) as a `.pax` file, so the type checker, every
engine and the prover read it unchanged, and errors point into the `.pyv`.

mypyvy writes a transition as one two-state formula over `new(...)`;
paxcheck's actions are guards and updates. The translation reads each
top-level conjunct of a transition as
  - a guard (no `new`): `require`, on the pre-state;
  - an update of a modified symbol, defined everywhere:
    `forall X.. new(r(X..)) <-> F`, `new(f(X..)) = t`, `new(r)`, `!new(r)`,
    with F and t over the pre-state: `r(X..) := F`;
  - `if c then A else B` of these: an `if`;
  - `exists x. A`: `x` becomes a parameter of the action.
A modified symbol that a path leaves undefined is havocked on that path
(mypyvy's meaning of `modifies`), and updates are ordered so each reads
the pre-state. Anything else that mentions `new` is refused at its
position: paxcheck never guesses at a transition's meaning.

`init` formulas become assignments where they pin a relation everywhere
(`!r(X..)`, `forall X.. r(X..) <-> F`, `f(X..) = t` with F, t immutable) and
`require`s after a havoc of the rest. Sorts of unannotated and implicitly
quantified (capitalised, free) variables are inferred as mypyvy does.
Trace and theorem declarations are not checked: they become notes."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Union

from lark import Lark, Token, v_args
from lark.exceptions import UnexpectedInput, VisitError

from paxcheck.errors import PaxError, Span, read_input
from paxcheck.lang import syntax as S
from paxcheck.lang.parser import SpanBuilder, _check_nesting, _syntax_error, load_grammar

_GRAMMAR = Path(__file__).with_name("pyv.lark")

# ---- mypyvy's syntax tree (what pyv.lark reads), translated below ----------


@dataclass(frozen=True, eq=False)
class Id:
    name: str
    span: Span


@dataclass(frozen=True, eq=False)
class App:
    name: str
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, eq=False)
class New:
    arg: Expr
    span: Span


@dataclass(frozen=True, eq=False)
class Not:
    arg: Expr
    span: Span


@dataclass(frozen=True, eq=False)
class Chain:
    op: str  # '&' | '|'
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, eq=False)
class Bin:
    op: str  # '->' | '<->'
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, eq=False)
class Cmp:
    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, eq=False)
class Binder:
    name: str
    sort: str | None
    span: Span


@dataclass(frozen=True, eq=False)
class Quant:
    kind: str
    binders: tuple[Binder, ...]
    body: Expr
    span: Span


@dataclass(frozen=True, eq=False)
class Ite:
    cond: Expr
    then: Expr
    els: Expr
    span: Span


@dataclass(frozen=True, eq=False)
class Lit:
    value: bool
    span: Span


@dataclass(frozen=True, eq=False)
class Unsupported:
    what: str
    span: Span


Expr = Union[Id, App, New, Not, Chain, Bin, Cmp, Quant, Ite, Lit, Unsupported]


@dataclass(frozen=True)
class Decl:
    """One mypyvy declaration: `kind` names it, the rest is what it holds."""
    kind: str   # sort relation constant function axiom init safety invariant
    #             transition definition theorem trace derived
    name: str | None
    span: Span
    expr: Expr | None = None
    binders: tuple[Binder, ...] = ()
    params: tuple[tuple[str, Span], ...] = ()     # a symbol's parameter sorts
    result: tuple[str, Span] | None = None
    mutable: bool = False
    modifies: tuple[tuple[str, Span], ...] | None = None
    detail: str = ""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return load_grammar(_GRAMMAR)


class _Builder(SpanBuilder):
    """Lark's tree of a `.pyv` file to the mini AST above."""

    def _named(self, tok: Token) -> tuple[str, Span]:
        return str(tok), self._tok(tok)

    # ---- declarations
    def start(self, items):
        return tuple(items)

    def mut(self, items):
        return str(items[0]) == "mutable"

    def inv_kind(self, items):
        return str(items[0])

    def kstate(self, items):
        return str(items[0])

    def satunsat(self, items):
        return str(items[0])

    def quantifier(self, items):
        return str(items[0])

    def sort(self, items):
        return items[0]

    def annotation(self, items):
        return None

    def arity(self, items):
        return tuple(self._named(t) for t in items if t is not None)

    def opt_name(self, items):
        return str(items[0]) if items and items[0] is not None else None

    @v_args(meta=True)
    def sort_decl(self, meta, items):
        return Decl("sort", str(items[0]), self._span(meta))

    @v_args(meta=True)
    def relation_decl(self, meta, items):
        mutable, name, params = items[:3]
        return Decl("relation", str(name), self._span(meta), params=params, mutable=mutable)

    @v_args(meta=True)
    def derived_decl(self, meta, items):
        return Decl("derived", str(items[0]), self._span(meta), detail="derived relation")

    @v_args(meta=True)
    def constant_decl(self, meta, items):
        mutable, name, result = items[:3]
        return Decl("constant", str(name), self._span(meta), result=self._named(result),
                    mutable=mutable)

    @v_args(meta=True)
    def function_decl(self, meta, items):
        mutable, name, *rest = [i for i in items if i is not None]
        return Decl("function", str(name), self._span(meta),
                    params=tuple(self._named(t) for t in rest[:-1]),
                    result=self._named(rest[-1]), mutable=mutable)

    @v_args(meta=True)
    def axiom_decl(self, meta, items):
        return Decl("axiom", items[0], self._span(meta), expr=items[1])

    @v_args(meta=True)
    def init_decl(self, meta, items):
        return Decl("init", items[0], self._span(meta), expr=items[1])

    @v_args(meta=True)
    def invariant_decl(self, meta, items):
        kind, name, expr = items
        return Decl(kind, name, self._span(meta), expr=expr)

    def sortedvars(self, items):
        return tuple(items)

    @v_args(meta=True)
    def sortedvar(self, meta, items):
        name, sort = items
        return Binder(str(name), str(sort) if sort is not None else None, self._span(meta))

    @v_args(meta=True)
    def modifies_body(self, meta, items):
        *mods, expr = items
        return tuple(self._named(m) for m in mods), expr

    @v_args(meta=True)
    def equal_body(self, meta, items):
        return None, items[0]

    @v_args(meta=True)
    def transition_decl(self, meta, items):
        name, binders, (mods, expr) = items
        return Decl("transition", str(name), self._span(meta), expr=expr,
                    binders=binders or (), modifies=mods)

    @v_args(meta=True)
    def definition_decl(self, meta, items):
        kstate, name, binders, (mods, expr) = items
        return Decl("definition", str(name), self._span(meta), expr=expr,
                    binders=binders or (), modifies=mods, detail=kstate or "")

    @v_args(meta=True)
    def theorem_decl(self, meta, items):
        kstate, name, expr = items
        return Decl("theorem", name, self._span(meta), expr=expr, detail=kstate or "")

    @v_args(meta=True)
    def trace_decl(self, meta, items):
        return Decl("trace", None, self._span(meta), detail=items[0])

    def __default__(self, data, children, meta):
        if str(data).startswith("trace_"):   # trace bodies are not translated
            return None
        return super().__default__(data, children, meta)

    # ---- expressions
    @v_args(meta=True)
    def iff(self, meta, items):
        return Bin("<->", items[0], items[1], self._span(meta))

    @v_args(meta=True)
    def implies(self, meta, items):
        return Bin("->", items[0], items[1], self._span(meta))

    @v_args(meta=True)
    def or_(self, meta, items):
        return items[0] if len(items) == 1 else Chain("|", tuple(items), self._span(meta))

    @v_args(meta=True)
    def and_(self, meta, items):
        return items[0] if len(items) == 1 else Chain("&", tuple(items), self._span(meta))

    @v_args(meta=True)
    def compare(self, meta, items):
        op = "!=" if str(items[1]) == "~=" else str(items[1])
        return Cmp(op, items[0], items[2], self._span(meta))

    @v_args(meta=True)
    def not_(self, meta, items):
        return Not(items[0], self._span(meta))

    @v_args(meta=True)
    def quant(self, meta, items):
        return Quant(items[0], items[1], items[2], self._span(meta))

    @v_args(meta=True)
    def ite(self, meta, items):
        return Ite(items[0], items[1], items[2], self._span(meta))

    @v_args(meta=True)
    def let(self, meta, items):
        return Unsupported("'let'", self._span(meta))

    @v_args(meta=True)
    def intlit(self, meta, items):
        return Unsupported("integer literals (the int sort)", self._span(meta))

    def _primed(self, e: Expr, primes: list, span: Span) -> Expr:
        if len(primes) > 1:
            return Unsupported("more than one prime (k-state formulas)", span)
        return New(e, span) if primes else e

    @v_args(meta=True)
    def name(self, meta, items):
        name, *primes = items
        span = self._span(meta)
        return self._primed(Id(str(name), self._tok(name)), primes, span)

    @v_args(meta=True)
    def call(self, meta, items):
        name, *rest = items
        primes = [t for t in rest if isinstance(t, Token) and t.type == "PRIME"]
        args = tuple(a for a in rest if a is not None and not (isinstance(a, Token) and a.type == "PRIME"))
        span = self._span(meta)
        return self._primed(App(str(name), args, span), primes, span)

    @v_args(meta=True)
    def new(self, meta, items):
        return New(items[0], self._span(meta))

    @v_args(meta=True)
    def distinct(self, meta, items):
        span = self._span(meta)
        pairs = [Cmp("!=", a, b, span) for i, a in enumerate(items) for b in items[i + 1:]]
        return pairs[0] if len(pairs) == 1 else Chain("&", tuple(pairs), span) if pairs \
            else Lit(True, span)

    @v_args(meta=True)
    def true(self, meta, items):
        return Lit(True, self._span(meta))

    @v_args(meta=True)
    def false(self, meta, items):
        return Lit(False, self._span(meta))


def parse_decls(text: str, file: str) -> tuple[Decl, ...]:
    """mypyvy text to its declarations (syntax errors with file:line:col)."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, file, _parser()) from None
    try:
        return _Builder(file).transform(tree)
    except VisitError as exc:   # pragma: no cover - the builder raises nothing of its own
        raise exc.orig_exc from None


# ---- sort inference ---------------------------------------------------------

class _Var:
    """A variable of one formula: its sort, once known (union-find)."""

    def __init__(self, name: str, sort: str | None, span: Span) -> None:
        self.name, self.sort, self.span = name, sort, span
        self.parent: _Var | None = None
        self.used = False

    def find(self) -> _Var:
        v = self
        while v.parent is not None:
            v = v.parent
        return v


SortOf = Union[str, _Var, None]   # a sort name, a variable, or None: a formula


@dataclass
class _Formula:
    """What inference learned of one formula: each binder's and name's variable."""
    binder: dict[int, _Var] = field(default_factory=dict)
    ref: dict[int, _Var] = field(default_factory=dict)
    free: dict[str, _Var] = field(default_factory=dict)   # implicit (capitalised) variables


def _walk(e: Expr, into_new: bool = True):
    """Every node of `e`, iteratively; without what is under a `new(...)`
    when not `into_new`."""
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, New) and not into_new:
            continue
        yield x
        if isinstance(x, (New, Not)):
            stack.append(x.arg)
        elif isinstance(x, App):
            stack.extend(x.args)
        elif isinstance(x, Chain):
            stack.extend(x.items)
        elif isinstance(x, (Bin, Cmp)):
            stack.extend((x.left, x.right))
        elif isinstance(x, Quant):
            stack.append(x.body)
        elif isinstance(x, Ite):
            stack.extend((x.cond, x.then, x.els))


def _has_new(e: Expr) -> bool:
    return any(isinstance(x, New) for x in _walk(e))


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Chain) and e.op == "&":
        return [c for item in e.items for c in _conjuncts(item)]
    return [e]


# ---- the translation --------------------------------------------------------

_UPDATE_SHAPES = ("a guard without new(...), or an update of a modified symbol at every "
                  "point: 'forall X. new(r(X)) <-> F', 'new(f(X)) = t', 'new(r)', '!new(r)', "
                  "a frame 'forall X, Y. !(X = a) -> (new(r(X, Y)) <-> r(X, Y))' with "
                  "'new(r(a, Y)) <-> F' (or nothing) at the other points, "
                  "or 'if c then ... else ...' of these")


@dataclass
class _GuardedFrame:
    """`forall X. !(X_i = t_i & ...) -> (new(r(X)) <-> r(X))`: r unchanged
    except at the points whose arguments at positions i are the closed terms
    t_i (`pattern[i]`; None where the argument is free)."""
    symbol: str
    pattern: list[Expr | None]
    conj: Expr
    covered: bool = False


def _key(e: Expr) -> tuple | None:
    """A closed term's shape without spans, to compare two of them."""
    if isinstance(e, Id):
        return ("id", e.name)
    if isinstance(e, App):
        keys = [_key(a) for a in e.args]
        return None if any(k is None for k in keys) else ("app", e.name, tuple(keys))
    return None


@dataclass
class _Item:
    """One statement of an action being built, with what it reads and writes."""
    stmt: S.StmtS
    reads: set[str]
    writes: set[str]


class _Translator:
    def __init__(self, decls: tuple[Decl, ...], text: str, file: str) -> None:
        self.decls, self.text, self.file = decls, text, file
        self.sorts: set[str] = {d.name for d in decls if d.kind == "sort" and d.name}
        self.symbols: dict[str, Decl] = {}
        self.definitions: dict[str, Decl] = {}
        self.def_params: dict[str, list[str]] = {}
        self.def_reads: dict[str, set[str]] = {}
        self.names: set[str] = set(self.sorts)
        self.notes: list[str] = []
        self.counter = 0

    def error(self, message: str, span: Span, expected: str | None = None) -> PaxError:
        return PaxError(message, span, expected, self.text)

    def unsupported(self, what: str, span: Span) -> PaxError:
        return self.error(f"mypyvy's {what} is not supported by paxcheck", span,
                          "declarations paxcheck reads: sort, relation, constant, function, "
                          "axiom, init, transition, onestate definition, invariant, safety")

    # ---- sorts
    def sort_name(self, name: str, span: Span) -> str:
        if name in ("bool", "int"):
            raise self.unsupported(f"built-in sort '{name}'", span)
        if name not in self.sorts:
            raise self.error(f"unknown sort '{name}'", span,
                             "a declared sort: " + ", ".join(sorted(self.sorts)))
        return name

    def sortref(self, name: str, span: Span) -> S.SortRefS:
        return S.SortRefS(self.sort_name(name, span), False, span)

    def unify(self, a: SortOf, b: SortOf, span: Span) -> None:
        if a is None or b is None:
            if a is not b:
                raise self.error("'=' between a formula and a term", span,
                                 "terms of one sort on both sides, or '<->' between formulas")
            return
        if isinstance(a, _Var) and isinstance(b, _Var):
            ra, rb = a.find(), b.find()
            if ra is rb:
                return
            if ra.sort and rb.sort and ra.sort != rb.sort:
                raise self.error(f"'{a.name}' would be of sorts {ra.sort} and {rb.sort}", span)
            rb.parent = ra
            ra.sort = ra.sort or rb.sort
            return
        var, sort = (a, b) if isinstance(a, _Var) else (b, a)
        if isinstance(var, _Var) and isinstance(sort, str):
            r = var.find()
            if r.sort is not None and r.sort != sort:
                raise self.error(f"'{var.name}' is used at sorts {r.sort} and {sort}", span)
            r.sort = sort
            return
        if a != b:
            raise self.error(f"sort mismatch: {a} and {b}", span)

    def infer(self, e: Expr, scope: dict[str, _Var], info: _Formula,
              implicit: bool) -> SortOf:
        """The sort of `e` (None for a formula), unifying variables on the way."""
        if isinstance(e, Unsupported):
            raise self.unsupported(e.what, e.span)
        if isinstance(e, Lit):
            return None
        if isinstance(e, (New, Not)):
            s = self.infer(e.arg, scope, info, implicit)
            if isinstance(e, Not) and s is not None:
                raise self.error("'!' of a term", e.span, "a formula")
            return s
        if isinstance(e, Chain):
            for x in e.items:
                self.formula_sort(x, scope, info, implicit)
            return None
        if isinstance(e, Bin):
            self.formula_sort(e.left, scope, info, implicit)
            self.formula_sort(e.right, scope, info, implicit)
            return None
        if isinstance(e, Cmp):
            if e.op not in ("=", "!="):
                raise self.unsupported(f"'{e.op}' (integer comparison)", e.span)
            self.unify(self.infer(e.left, scope, info, implicit),
                       self.infer(e.right, scope, info, implicit), e.span)
            return None
        if isinstance(e, Ite):
            self.formula_sort(e.cond, scope, info, implicit)
            if (self.infer(e.then, scope, info, implicit) is not None
                    or self.infer(e.els, scope, info, implicit) is not None):
                raise self.unsupported("'if ... then ... else' between terms", e.span)
            return None
        if isinstance(e, Quant):
            inner = dict(scope)
            for b in e.binders:
                v = _Var(b.name, self.sort_name(b.sort, b.span) if b.sort else None, b.span)
                info.binder[id(b)] = inner[b.name] = v
            self.formula_sort(e.body, inner, info, implicit)
            return None
        if isinstance(e, Id):
            if e.name in scope:
                v = scope[e.name]
                v.used = True
                info.ref[id(e)] = v
                return v
            if e.name in info.free:
                v = info.free[e.name]
                info.ref[id(e)] = v
                return v
            if e.name in self.symbols or e.name in self.definitions:
                return self.application(e.name, (), e.span, scope, info, implicit)
            if implicit and e.name[:1].isupper():
                v = _Var(e.name, None, e.span)
                v.used = True
                info.free[e.name] = info.ref[id(e)] = v
                return v
            raise self.error(f"unknown name '{e.name}'", e.span,
                             "a variable, a declared symbol or definition (capitalised names "
                             "are implicitly quantified only at the top of a declaration)")
        assert isinstance(e, App)
        return self.application(e.name, e.args, e.span, scope, info, implicit)

    def formula_sort(self, e: Expr, scope, info, implicit) -> None:
        if self.infer(e, scope, info, implicit) is not None:
            raise self.error("expected a formula, found a term", e.span, "a formula")

    def application(self, name: str, args: tuple[Expr, ...], span: Span, scope, info,
                    implicit) -> SortOf:
        if name in self.symbols:
            d = self.symbols[name]
            params = [p for p, _ in d.params]
            result = d.result[0] if d.result else None
        elif name in self.definitions:
            params, result = self.def_params[name], None
        else:
            raise self.error(f"unknown name '{name}'", span, "a declared symbol or definition")
        if len(args) != len(params):
            raise self.error(f"'{name}' takes {len(params)} argument(s), got {len(args)}", span)
        for a, p in zip(args, params):
            self.unify(self.infer(a, scope, info, implicit), p, getattr(a, "span", span))
        return result

    def check_sorts(self, info: _Formula) -> None:
        for v in list(info.binder.values()) + list(info.free.values()):
            if v.find().sort is None:
                raise self.error(f"cannot infer the sort of '{v.name}'", v.span,
                                 f"an annotation '{v.name}: SORT'")

    # ---- building syntax nodes
    def fresh(self, base: str, taken: set[str], upper: bool = False) -> str:
        name = base[:1].upper() + base[1:] if upper else base
        if name not in taken and name not in self.names:
            return name
        k = 2
        while f"{name}_{k}" in taken or f"{name}_{k}" in self.names:
            k += 1
        return f"{name}_{k}"

    def binder_s(self, v: _Var, name: str, span: Span) -> S.BinderS:
        return S.BinderS(name, S.SortRefS(v.find().sort or "", False, span), span)

    def build(self, e: Expr, info: _Formula, names: dict[int, str], taken: frozenset[str]) -> S.ExprS:
        """`e` as syntax nodes; `names` gives each variable its (renamed) name."""
        if isinstance(e, Lit):
            return S.BoolS(e.value, e.span)
        if isinstance(e, Not):
            return S.NotS(self.build(e.arg, info, names, taken), e.span)
        if isinstance(e, Chain):
            return S.ChainS(e.op, [self.build(x, info, names, taken) for x in e.items], e.span)
        if isinstance(e, Bin):
            return S.BinOpS(e.op, self.build(e.left, info, names, taken),
                            self.build(e.right, info, names, taken), e.span)
        if isinstance(e, Cmp):
            return S.CompareS(e.op, self.build(e.left, info, names, taken),
                              self.build(e.right, info, names, taken), e.span)
        if isinstance(e, Ite):
            cond = self.build(e.cond, info, names, taken)
            then = self.build(e.then, info, names, taken)
            els = self.build(e.els, info, names, taken)
            return S.ChainS("&", [S.BinOpS("->", cond, then, e.span),
                                  S.BinOpS("->", S.NotS(cond, e.span), els, e.span)], e.span)
        if isinstance(e, Quant):
            binders = []
            inner = set(taken)
            for b in e.binders:
                v = info.binder[id(b)]
                name = self.fresh(b.name if v.used else "_" + b.name, inner)
                inner.add(name)
                names[id(v)] = name
                binders.append(self.binder_s(v, name, b.span))
            return S.QuantS(e.kind, tuple(binders),
                            self.build(e.body, info, names, frozenset(inner)), e.span)
        if isinstance(e, New):
            raise self.error("'new(...)' outside an update of a transition", e.span,
                             _UPDATE_SHAPES)
        if isinstance(e, Id):
            ref = info.ref.get(id(e))
            if ref is not None:
                return S.NameS(names[id(ref)], e.span)
            return S.NameS(e.name, e.span) if not self.is_nullary_call(e.name) \
                else S.CallS(e.name, (), e.span)
        assert isinstance(e, App)
        return S.CallS(e.name, tuple(self.build(a, info, names, taken) for a in e.args), e.span)

    def is_nullary_call(self, name: str) -> bool:
        d = self.symbols.get(name)
        return (d is not None and d.kind == "relation") or name in self.definitions

    def closed(self, e: Expr, info: _Formula, names: dict[int, str], taken: frozenset[str],
               span: Span) -> S.ExprS:
        """`e` under `forall` of the implicit variables it mentions."""
        free = [v for v in info.free.values() if any(info.ref.get(id(x)) is v for x in _walk(e))]
        inner = set(taken)
        binders = []
        for v in free:
            name = self.fresh(v.name, inner)
            inner.add(name)
            names[id(v)] = name
            binders.append(self.binder_s(v, name, v.span))
        body = self.build(e, info, names, frozenset(inner))
        return S.QuantS("forall", tuple(binders), body, span) if binders else body

    def formula_decl(self, e: Expr) -> S.ExprS:
        """A closed one-state formula (axiom, invariant, safety)."""
        info = _Formula()
        self.formula_sort(e, {}, info, True)
        self.check_sorts(info)
        if _has_new(e):
            node = next(x for x in _walk(e) if isinstance(x, New))
            raise self.error("'new(...)' in a one-state formula", node.span)
        return self.closed(e, info, {}, frozenset(), e.span)

    def auto_name(self, kind: str, span: Span) -> str:
        return self.fresh(f"{kind}_line{span.line}", set())

    def declare(self, name: str, span: Span) -> None:
        if name in self.names:
            raise self.error(f"'{name}' is already declared", span)
        self.names.add(name)

    # ---- the declarations
    def run(self) -> S.ModuleS:
        out: list[S.DeclS] = []
        for d in self.decls:
            if d.kind == "sort":
                out.append(S.SortDeclS(d.name or "", False, d.span))
        for d in self.decls:
            if d.kind in ("relation", "constant", "function"):
                assert d.name is not None
                self.declare(d.name, d.span)
                self.symbols[d.name] = d
                params = tuple(S.ParamS(None, self.sortref(p, s), s) for p, s in d.params)
                result = self.sortref(*d.result) if d.result else None
                kind = "individual" if d.kind == "constant" else d.kind
                out.append(S.SymbolDeclS(kind, d.name, params, result, d.mutable, False, None,
                                         d.span))
        inits: list[Decl] = []
        for d in self.decls:
            if d.kind == "axiom":
                assert d.expr is not None
                name = d.name or self.auto_name("axiom", d.span)
                self.declare(name, d.span)
                out.append(S.AxiomDeclS(name, self.formula_decl(d.expr), d.span))
            elif d.kind == "init":
                inits.append(d)
            elif d.kind in ("safety", "invariant"):
                assert d.expr is not None
                name = d.name or self.auto_name(d.kind, d.span)
                self.declare(name, d.span)
                out.append(S.PropertyDeclS(d.kind, name, self.formula_decl(d.expr), d.span))
            elif d.kind == "definition":
                out.append(self.definition(d))
            elif d.kind == "transition":
                out.append(self.transition(d))
            elif d.kind == "derived":
                raise self.unsupported("derived relation", d.span)
            elif d.kind == "theorem":
                self.notes.append(f"{d.span}: {d.detail + ' ' if d.detail else ''}theorem "
                                  "not checked (paxcheck proves invariants, not theorems)")
            elif d.kind == "trace":
                self.notes.append(f"{d.span}: {d.detail} trace not checked "
                                  "(use `paxcheck bmc` or a model for runs)")
        if inits:
            out.append(self.init(inits))
        module = S.ModuleS(self.file, self.text, tuple(out))
        _check_nesting(module.decls, self.text)
        return module

    def params(self, binders: tuple[Binder, ...], what: str) -> tuple[dict[str, _Var], list[Binder]]:
        scope: dict[str, _Var] = {}
        for b in binders:
            if b.sort is None:
                raise self.error(f"{what} parameter '{b.name}' needs a sort", b.span,
                                 f"'{b.name}: SORT'")
            scope[b.name] = _Var(b.name, self.sort_name(b.sort, b.span), b.span)
        return scope, list(binders)

    def definition(self, d: Decl) -> S.DefinitionDeclS:
        assert d.name is not None and d.expr is not None
        if d.modifies is not None or d.detail == "twostate":
            raise self.unsupported("twostate definition", d.span)
        self.declare(d.name, d.span)
        scope, binders = self.params(d.binders, "definition")
        info = _Formula()
        self.formula_sort(d.expr, scope, info, False)
        self.check_sorts(info)
        names = {id(v): (b.name if v.used else "_" + b.name) for b, v in zip(binders, scope.values())}
        body = self.build(d.expr, info, names, frozenset(names.values()))
        self.definitions[d.name] = d
        self.def_params[d.name] = [v.sort or "" for v in scope.values()]
        self.def_reads[d.name] = self.reads(d.expr)
        return S.DefinitionDeclS(d.name, tuple(self.binder_s(v, names[id(v)], b.span)
                                               for b, v in zip(binders, scope.values())),
                                 body, d.span)

    def reads(self, e: Expr) -> set[str]:
        """The mutable symbols `e` reads (through definitions too), outside new()."""
        out: set[str] = set()
        for x in _walk(e, into_new=False):
            if isinstance(x, (Id, App)):
                d = self.symbols.get(x.name)
                if d is not None and d.mutable:
                    out.add(x.name)
                out |= self.def_reads.get(x.name, set())
        return out

    # ---- transitions
    def transition(self, d: Decl) -> S.ActionDeclS:
        assert d.name is not None and d.expr is not None
        self.declare(d.name, d.span)
        scope, binders = self.params(d.binders, "transition")
        modifies: dict[str, Span] = {}
        for name, span in d.modifies or ():
            sym = self.symbols.get(name)
            if sym is None or not sym.mutable:
                raise self.error(f"'{name}' in modifies is not a mutable symbol", span,
                                 "a mutable relation, constant or function")
            modifies[name] = span
        info = _Formula()
        self.formula_sort(d.expr, scope, info, True)
        for x in _walk(d.expr):
            if isinstance(x, New):
                for y in _walk(x.arg):
                    if isinstance(y, (Id, App)) and y.name in self.symbols \
                            and self.symbols[y.name].mutable and y.name not in modifies:
                        raise self.error(f"new({y.name}) but '{y.name}' is not in the modifies "
                                         "clause", y.span, "modifies " + ", ".join(
                                             list(modifies) + [y.name]))
        # the parameters, then existentials lifted out of the conjuncts
        names: dict[int, str] = {}
        taken: set[str] = set()
        out_binders: list[S.BinderS] = []
        for b, v in zip(binders, scope.values()):
            name = self.fresh(b.name if v.used else "_" + b.name, taken)
            taken.add(name)
            names[id(v)] = name
            out_binders.append(self.binder_s(v, name, b.span))
        conjs = self.lift(_conjuncts(d.expr), info, names, taken, out_binders)
        self.check_sorts(info)
        items = self.statements(conjs, info, names, frozenset(taken), modifies, d.span)
        # a modified symbol no conjunct defines may take any value: mypyvy's
        # `modifies` frames the others only (keeping it would drop behaviours)
        written = set().union(*(i.writes for i in items))
        items += [self.havoc(s, modifies[s]) for s in modifies if s not in written]
        return S.ActionDeclS(d.name, tuple(out_binders), None, None,
                             tuple(i.stmt for i in items), d.span)

    def lift(self, conjs: list[Expr], info: _Formula, names: dict[int, str], taken: set[str],
             binders: list[S.BinderS]) -> list[Expr]:
        """Top-level `exists x. A` (A updating) conjuncts: x becomes a parameter."""
        out: list[Expr] = []
        for c in conjs:
            if isinstance(c, Quant) and c.kind == "exists" and _has_new(c.body):
                for b in c.binders:
                    v = info.binder[id(b)]
                    name = self.fresh(b.name if v.used else "_" + b.name, taken)
                    taken.add(name)
                    names[id(v)] = name
                    binders.append(self.binder_s(v, name, b.span))
                out += self.lift(_conjuncts(c.body), info, names, taken, binders)
            else:
                out.append(c)
        return out

    def statements(self, conjs: list[Expr], info: _Formula, names: dict[int, str],
                   taken: frozenset[str], modifies: dict[str, Span], span: Span) -> list[_Item]:
        guards: list[_Item] = []
        updates: list[_Item] = []
        frames: dict[str, _GuardedFrame] = {}
        rest: list[Expr] = []
        for c in conjs:
            fr = self.frame(c, info) if _has_new(c) else None
            if fr is None:
                rest.append(c)
            elif fr.symbol in frames:
                raise self.error(f"a second frame condition for '{fr.symbol}'", c.span,
                                 "one frame condition per modified symbol and path")
            else:
                frames[fr.symbol] = fr
        for c in rest:
            if not _has_new(c):
                guards.append(_Item(S.RequireS(self.closed(c, info, names, taken, c.span), c.span),
                                    set(), set()))
            elif isinstance(c, Ite) and not _has_new(c.cond):
                free = [v for v in info.free.values() if any(info.ref.get(id(x)) is v
                                                             for x in _walk(c.cond))]
                if free:
                    raise self.error(f"the condition reads the implicit variable '{free[0].name}'",
                                     c.cond.span, "a condition over the transition's parameters")
                then = self.statements(_conjuncts(c.then), info, names, taken, modifies, c.span)
                els = self.statements(_conjuncts(c.els), info, names, taken, modifies, c.span)
                w_then = set().union(*(i.writes for i in then))
                w_els = set().union(*(i.writes for i in els))
                # a symbol one branch defines and the other does not is
                # unconstrained there: mypyvy's modifies
                then += [self.havoc(s, modifies[s]) for s in sorted(w_els - w_then)]
                els += [self.havoc(s, modifies[s]) for s in sorted(w_then - w_els)]
                reads = self.reads(c.cond).union(*(i.reads for i in then + els))
                cond = self.build(c.cond, info, names, taken)
                updates.append(_Item(S.IfS(cond, tuple(i.stmt for i in then),
                                           tuple(i.stmt for i in els), c.span),
                                     reads, w_then | w_els))
            else:
                updates.append(self.update(c, info, names, taken, frames))
        # a frame whose open points nothing defines leaves them free
        updates += [self.frame_item(f, info, names, taken, None, f.conj.span)
                    for f in frames.values() if not f.covered]
        written: dict[str, Span] = {}
        for u in updates:
            for s in u.writes:
                if s in written:
                    raise self.error(f"'{s}' is defined twice on one path of the transition",
                                     u.stmt.span, "one update of each modified symbol per path")
                written[s] = u.stmt.span
        return guards + self.ordered(updates, span)

    def havoc(self, sym: str, span: Span) -> _Item:
        d = self.symbols[sym]
        args = tuple(S.NameS(self.fresh(f"H{i}", set()), span) for i in range(len(d.params)))
        return _Item(S.HavocS(S.LhsS(sym, args, span), span), set(), {sym})

    def universal_refs(self, c: Expr, bound: list[_Var], info: _Formula) -> set[int]:
        free = {id(v) for v in info.free.values()
                if any(info.ref.get(id(x)) is v for x in _walk(c))}
        return {id(v) for v in bound} | free

    @staticmethod
    def is_closed_term(e: Expr, universal: set[int], info: _Formula) -> bool:
        """A term with no universal variable and no new(...) in it."""
        return _key(e) is not None and not _has_new(e) and not any(
            id(info.ref.get(id(x))) in universal for x in _walk(e) if id(x) in info.ref)

    def frame(self, c: Expr, info: _Formula) -> _GuardedFrame | None:
        """`c` as a guarded frame condition, if it is one."""
        bound: list[_Var] = []
        core = c
        while isinstance(core, Quant) and core.kind == "forall":
            bound += [info.binder[id(b)] for b in core.binders]
            core = core.body
        if not (isinstance(core, Bin) and core.op == "->"):
            return None
        guard, body = core.left, core.right
        if not (isinstance(body, (Bin, Cmp)) and body.op in ("<->", "=")):
            return None
        new, old = body.left, body.right
        if isinstance(old, New):
            new, old = old, new
        if not isinstance(new, New) or _has_new(old) or _has_new(guard):
            return None
        target = new.arg
        if (not isinstance(target, (Id, App)) or type(old) is not type(target)
                or not isinstance(old, (Id, App)) or old.name != target.name
                or target.name not in self.symbols):
            return None
        args = target.args if isinstance(target, App) else ()
        old_args = old.args if isinstance(old, App) else ()
        universal = self.universal_refs(c, bound, info)
        vars_ = [info.ref.get(id(a)) if isinstance(a, Id) else None for a in args]
        if (any(v is None or id(v) not in universal for v in vars_)
                or len({id(v) for v in vars_}) != len(vars_)
                or [info.ref.get(id(a)) if isinstance(a, Id) else None for a in old_args] != vars_):
            return None
        if isinstance(guard, Cmp) and guard.op == "!=":
            eqs: list[Expr] = [Cmp("=", guard.left, guard.right, guard.span)]
        elif isinstance(guard, Not):
            eqs = _conjuncts(guard.arg)
        else:
            return None
        pattern: list[Expr | None] = [None] * len(args)
        for eq in eqs:
            if not (isinstance(eq, Cmp) and eq.op == "="):
                return None
            for var, term in ((eq.left, eq.right), (eq.right, eq.left)):
                v = info.ref.get(id(var)) if isinstance(var, Id) else None
                if v is not None and any(v is w for w in vars_) and self.is_closed_term(term, universal, info):
                    i = next(k for k, w in enumerate(vars_) if w is v)
                    if pattern[i] is not None:
                        return None
                    pattern[i] = term
                    break
            else:
                return None
        return _GuardedFrame(target.name, pattern, c)

    def update(self, c: Expr, info: _Formula, names: dict[int, str], taken: frozenset[str],
               frames: dict[str, _GuardedFrame] | None = None) -> _Item:
        bound: list[_Var] = []
        core = c
        while isinstance(core, Quant) and core.kind == "forall":
            bound += [info.binder[id(b)] for b in core.binders]
            core = core.body
        target: Expr | None = None
        value: Expr | None = None
        if isinstance(core, Bin) and core.op == "<->":
            if isinstance(core.left, New) and not _has_new(core.right):
                target, value = core.left.arg, core.right
            elif isinstance(core.right, New) and not _has_new(core.left):
                target, value = core.right.arg, core.left
        elif isinstance(core, Cmp) and core.op == "=":
            if isinstance(core.left, New) and not _has_new(core.right):
                target, value = core.left.arg, core.right
            elif isinstance(core.right, New) and not _has_new(core.left):
                target, value = core.right.arg, core.left
        elif isinstance(core, New):
            target, value = core.arg, Lit(True, core.span)
        elif isinstance(core, Not) and isinstance(core.arg, New):
            target, value = core.arg.arg, Lit(False, core.span)
        if not isinstance(target, (Id, App)) or target.name not in self.symbols:
            raise self.error("this conjunct constrains the new state in a way paxcheck does "
                             "not translate", c.span, _UPDATE_SHAPES)
        args = target.args if isinstance(target, App) else ()
        vars_ = [info.ref.get(id(a)) if isinstance(a, Id) else None for a in args]
        universal = self.universal_refs(c, bound, info)
        frame = (frames or {}).get(target.name)
        if frame is not None and value is not None:
            return self.point_update(c, target, value, vars_, universal, frame, info, names, taken)
        if (any(v is None or id(v) not in universal for v in vars_)
                or len({id(v) for v in vars_}) != len(vars_)
                or universal - {id(v) for v in vars_ if v is not None}):
            raise self.error(f"new({target.name}) is constrained at some points only", c.span,
                             f"'{target.name}' defined at every point: its arguments distinct "
                             "variables quantified over the whole conjunct")
        local = dict(names)
        inner = set(taken)
        lhs_args = []
        for v, a in zip(vars_, args):
            assert v is not None
            name = self.fresh(v.name, inner, upper=True)
            inner.add(name)
            local[id(v)] = name
            lhs_args.append(S.NameS(name, a.span))
        assert value is not None
        rhs = self.build(value, info, local, frozenset(inner))
        return _Item(S.AssignS(S.LhsS(target.name, tuple(lhs_args), target.span), rhs, c.span),
                     self.reads(value), {target.name})

    def point_update(self, c: Expr, target: Id | App, value: Expr, vars_: list[_Var | None],
                     universal: set[int], frame: _GuardedFrame, info: _Formula, names: dict[int, str],
                     taken: frozenset[str]) -> _Item:
        """The definition of `target` at exactly the points its frame leaves
        open: the frame's closed terms where it has them, distinct
        variables elsewhere."""
        args = target.args if isinstance(target, App) else ()
        ok = not frame.covered
        for a, v, t in zip(args, vars_, frame.pattern):
            if t is None:
                ok = ok and v is not None and id(v) in universal
            else:
                ok = ok and _key(a) == _key(t) and self.is_closed_term(a, universal, info)
        free = [v for v in vars_ if v is not None and id(v) in universal]
        if not ok or len({id(v) for v in free}) != len(free) or universal - {id(v) for v in free}:
            raise self.error(f"new({target.name}) is constrained where its frame condition "
                             "does not leave it open", c.span, _UPDATE_SHAPES)
        frame.covered = True
        return self.frame_item(frame, info, names, taken, (value, vars_), c.span)

    def frame_item(self, frame: _GuardedFrame, info: _Formula, names: dict[int, str],
                   taken: frozenset[str], value: tuple[Expr, list[_Var | None]] | None,
                   span: Span) -> _Item:
        """`r(t, Y) := F` at the frame's open points, or a havoc there."""
        local = dict(names)
        inner = set(taken)
        lhs_args: list[S.ExprS] = []
        for i, t in enumerate(frame.pattern):
            if t is not None:
                lhs_args.append(self.build(t, info, names, taken))
                continue
            v = value[1][i] if value is not None else None
            name = self.fresh(v.name if v is not None else f"H{i}", inner, upper=True)
            inner.add(name)
            if v is not None:
                local[id(v)] = name
            lhs_args.append(S.NameS(name, span))
        lhs = S.LhsS(frame.symbol, tuple(lhs_args), span)
        reads = set().union(*(self.reads(t) for t in frame.pattern if t is not None))
        if value is None:
            return _Item(S.HavocS(lhs, span), reads, {frame.symbol})
        rhs = self.build(value[0], info, local, frozenset(inner))
        return _Item(S.AssignS(lhs, rhs, span), reads | self.reads(value[0]), {frame.symbol})

    def ordered(self, updates: list[_Item], span: Span) -> list[_Item]:
        """Every update before any update that writes what it reads, so that
        all of them read the pre-state, as mypyvy's `new` means."""
        out: list[_Item] = []
        left = list(updates)
        while left:
            for i, u in enumerate(left):
                others = [w for w in left if w is not u]
                if not any(s in w.reads for w in others for s in u.writes):
                    # no pending update reads what u writes: u may go next
                    out.append(u)
                    del left[i]
                    break
            else:
                raise self.error("the updates of this transition read each other's new values "
                                 "in a cycle", span, "updates paxcheck can order so each reads "
                                 "the pre-state")
        return out

    # ---- init
    def init(self, inits: list[Decl]) -> S.InitDeclS:
        assigns: list[S.StmtS] = []
        requires: list[S.StmtS] = []
        defined: set[str] = set()
        for d in inits:
            assert d.expr is not None
            info = _Formula()
            self.formula_sort(d.expr, {}, info, True)
            self.check_sorts(info)
            if _has_new(d.expr):
                node = next(x for x in _walk(d.expr) if isinstance(x, New))
                raise self.error("'new(...)' in init", node.span)
            for c in _conjuncts(d.expr):
                a = self.init_assign(c, info, defined)
                if a is not None:
                    assigns.append(a)
                else:
                    requires.append(S.RequireS(self.closed(c, info, {}, frozenset(), c.span),
                                               c.span))
        span = inits[0].span
        havocs = [self.havoc(d.name or "", span).stmt for d in self.symbols.values()
                  if d.mutable and d.name not in defined]
        return S.InitDeclS(tuple(havocs + assigns + requires), span)

    def init_assign(self, c: Expr, info: _Formula, defined: set[str]) -> S.StmtS | None:
        """`c` as an assignment if it pins a symbol at every point from
        immutable state alone; None otherwise (it becomes a require)."""
        bound: list[_Var] = []
        core = c
        while isinstance(core, Quant) and core.kind == "forall":
            bound += [info.binder[id(b)] for b in core.binders]
            core = core.body
        target: Expr | None = None
        value: Expr | None = None
        if isinstance(core, (Id, App)):
            target, value = core, Lit(True, core.span)
        elif isinstance(core, Not) and isinstance(core.arg, (Id, App)):
            target, value = core.arg, Lit(False, core.span)
        elif isinstance(core, Bin) and core.op == "<->" and isinstance(core.left, (Id, App)):
            target, value = core.left, core.right
        elif isinstance(core, Cmp) and core.op == "=" and isinstance(core.left, (Id, App)):
            target, value = core.left, core.right
        if target is None or value is None or not isinstance(target, (Id, App)):
            return None
        sym = self.symbols.get(target.name)
        if sym is None or not sym.mutable or target.name in defined or self.reads(value):
            return None
        args = target.args if isinstance(target, App) else ()
        vars_ = [info.ref.get(id(a)) if isinstance(a, Id) else None for a in args]
        free = {id(v) for v in info.free.values()
                if any(info.ref.get(id(x)) is v for x in _walk(c))}
        universal = {id(v) for v in bound} | free
        if (any(v is None or id(v) not in universal for v in vars_)
                or len({id(v) for v in vars_}) != len(vars_)
                or universal - {id(v) for v in vars_ if v is not None}):
            return None
        if (sym.kind == "relation") != isinstance(core, (Id, App, Not, Bin)):
            return None
        names: dict[int, str] = {}
        inner: set[str] = set()
        lhs_args = []
        for v, a in zip(vars_, args):
            assert v is not None
            name = self.fresh(v.name, inner, upper=True)
            inner.add(name)
            names[id(v)] = name
            lhs_args.append(S.NameS(name, a.span))
        defined.add(target.name)
        rhs = self.build(value, info, names, frozenset(inner))
        return S.AssignS(S.LhsS(target.name, tuple(lhs_args), target.span), rhs, c.span)


@dataclass(frozen=True)
class PyvModule:
    module: S.ModuleS
    notes: tuple[str, ...]


def translate_text(text: str, file: str = "<string>") -> PyvModule:
    """mypyvy text to paxcheck's surface syntax, with notes on what was not read."""
    t = _Translator(parse_decls(text, file), text, file)
    module = t.run()
    return PyvModule(module, tuple(t.notes))


def translate_file(path: str | Path) -> PyvModule:
    return translate_text(read_input(path, "spec"), str(path))
