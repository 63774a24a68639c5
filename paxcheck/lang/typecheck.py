"""Surface syntax -> typed IR: resolve names, check sorts, arities, mutability
and variable use. Every problem is a PaxError with the span of the culprit."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from paxcheck.errors import PaxError, Span
from paxcheck.lang import ir
from paxcheck.lang import syntax as S
from paxcheck.lang.parser import parse_file, parse_text

_KEYWORD_SORTS = {"bool"}


@dataclass
class _VarInfo:
    sort: ir.SortT
    span: Span
    kind: str  # 'param' | 'quant' | 'bound'
    used: bool = False


@dataclass
class _Scope:
    vars: dict[str, _VarInfo] = field(default_factory=dict)
    allow_old: bool = False
    in_old: bool = False
    immutable_only: str | None = None  # reason text when only immutable symbols may be read


class _Checker:
    def __init__(self, module: S.ModuleS) -> None:
        self.module = module
        self.sorts: dict[str, ir.Sort] = {}
        self.symbols: dict[str, ir.Symbol] = {}
        self.definitions: dict[str, ir.Definition] = {}
        self.definition_reads_mutable: dict[str, bool] = {}
        self.declared: dict[str, Span] = {}

    def error(self, message: str, span: Span, expected: str | None = None) -> PaxError:
        return PaxError(message, span, expected, self.module.source)

    # ---- declarations
    def declare(self, name: str, span: Span, what: str) -> None:
        if name in self.declared:
            prev = self.declared[name]
            raise self.error(f"{what} '{name}' is already declared (at line {prev.line})", span)
        self.declared[name] = span

    def run(self) -> ir.Spec:
        decls = self.module.decls
        for d in decls:
            if isinstance(d, S.SortDeclS):
                self.declare(d.name, d.span, "sort")
                if d.name in _KEYWORD_SORTS:
                    raise self.error(f"'{d.name}' is reserved and cannot name a sort", d.span)
                self.sorts[d.name] = ir.Sort(d.name, d.ordered, d.span)
        for d in decls:
            if isinstance(d, S.SymbolDeclS):
                self.declare(d.name, d.span, d.kind if not d.message else "message")
                self.symbols[d.name] = self.symbol(d)
        axioms: list[ir.Axiom] = []
        actions: list[ir.Action] = []
        properties: list[ir.Property] = []
        liveness: list[ir.Liveness] = []
        fairness: list[ir.Fairness] = []
        init: tuple[ir.Stmt, ...] | None = None
        for d in decls:
            if isinstance(d, S.AxiomDeclS):
                self.declare(d.name, d.span, "axiom")
                scope = _Scope(immutable_only="an axiom")
                axioms.append(ir.Axiom(d.name, self.formula(d.formula, scope), d.span))
            elif isinstance(d, S.DefinitionDeclS):
                self.declare(d.name, d.span, "definition")
                self.definitions[d.name] = self.definition(d)
            elif isinstance(d, S.InitDeclS):
                if init is not None:
                    raise self.error("more than one 'init' block", d.span,
                                     "a single 'init { ... }'")
                init = self.block(d.body, _Scope())
            elif isinstance(d, S.ActionDeclS):
                self.declare(d.name, d.span, "action")
                actions.append(self.action(d))
            elif isinstance(d, S.PropertyDeclS):
                self.declare(d.name, d.span, d.kind)
                scope = _Scope(allow_old=d.kind == "transition")
                properties.append(ir.Property(d.name, d.kind, self.formula(d.formula, scope), d.span))
            elif isinstance(d, S.LivenessDeclS):
                self.declare(d.name, d.span, "liveness property")
                parts = tuple(self.temporal(d.formula, _Scope(), (), False))
                liveness.append(ir.Liveness(d.name, parts, d.span))
        for d in decls:   # after every action is known
            if isinstance(d, S.FairnessDeclS):
                self.declare(d.name, d.span, "fairness assumption")
                fairness.append(self.fairness(d, {a.name: a for a in actions}))
        if not actions:
            raise self.error("the spec declares no action", S_span_end(self.module),
                             "at least one 'action NAME(...) { ... }'")
        name = Path(self.module.file).stem
        return ir.Spec(name, self.module.file, tuple(self.sorts.values()),
                       tuple(self.symbols.values()), tuple(axioms),
                       tuple(self.definitions.values()), init or (), tuple(actions),
                       tuple(properties), tuple(liveness), tuple(fairness))

    def sortref(self, ref: S.SortRefS) -> ir.SortT:
        if ref.name not in self.sorts:
            raise self.error(f"unknown sort '{ref.name}'", ref.span,
                             _one_of("a declared sort", self.sorts))
        return ir.SortT(ref.name, ref.option)

    def symbol(self, d: S.SymbolDeclS) -> ir.Symbol:
        params = tuple(self.sortref(p.sort) for p in d.params)
        names = tuple(p.name for p in d.params)
        seen: set[str] = set()
        for p in d.params:
            if p.name is not None:
                if p.name in seen:
                    raise self.error(f"parameter '{p.name}' appears twice", p.span)
                seen.add(p.name)
        result = self.sortref(d.result) if d.result is not None else None
        sender = None
        if d.sender is not None:
            if d.sender not in names:
                raise self.error(f"message sender '{d.sender}' is not a parameter of '{d.name}'",
                                 d.sender_span or d.span,
                                 _one_of("a named parameter", [n for n in names if n]))
            sender = names.index(d.sender)
        return ir.Symbol(d.name, d.kind, params, names, result, d.mutable, d.message, sender, d.span)

    def binders(self, binders: tuple[S.BinderS, ...], scope: _Scope, kind: str) -> list[ir.Binder]:
        out = []
        for b in binders:
            if b.name in scope.vars:
                raise self.error(f"variable '{b.name}' is already bound here", b.span,
                                 "a fresh variable name")
            if b.name in self.declared:
                raise self.error(f"variable '{b.name}' shadows the declared name '{b.name}'",
                                 b.span, "a name not declared at top level")
            sort = self.sortref(b.sort)
            scope.vars[b.name] = _VarInfo(sort, b.span, kind)
            out.append(ir.Binder(b.name, sort, b.span))
        return out

    def check_used(self, scope: _Scope, names: list[ir.Binder], what: str) -> None:
        for b in names:
            info = scope.vars[b.name]
            if not info.used and not b.name.startswith("_"):
                raise self.error(f"{what} '{b.name}' is never used", b.span,
                                 f"a use of '{b.name}', or a name starting with '_'")

    def definition(self, d: S.DefinitionDeclS) -> ir.Definition:
        scope = _Scope()
        params = self.binders(d.binders, scope, "param")
        body = self.formula(d.body, scope)
        self.check_used(scope, params, "parameter")
        self.definition_reads_mutable[d.name] = _reads_mutable(body, self.symbols,
                                                               self.definition_reads_mutable)
        return ir.Definition(d.name, tuple(params), body, d.span)

    def action(self, d: S.ActionDeclS) -> ir.Action:
        scope = _Scope()
        params = self.binders(d.binders, scope, "param")
        actor = None
        if d.actor is not None:
            names = [p.name for p in params]
            if d.actor not in names:
                raise self.error(f"acting process '{d.actor}' is not a parameter of '{d.name}'",
                                 d.actor_span or d.span, _one_of("a parameter", names))
            actor = names.index(d.actor)
        body = self.block(d.body, scope)
        self.check_used(scope, params, "parameter")
        return ir.Action(d.name, tuple(params), actor, body, d.span)

    # ---- liveness and fairness
    def temporal(self, e: S.ExprS, scope: _Scope, binders: tuple[ir.Binder, ...],
                 always: bool) -> list[ir.Temporal]:
        """A liveness formula as its obligations in normal form: foralls
        and conjunctions outside, one of the ir.TEMPORAL_KINDS inside
        (`always` is true under an enclosing `always`)."""
        def state(x: S.ExprS) -> ir.Expr:
            return self.formula(x, scope)

        if isinstance(e, S.QuantS) and e.kind == "forall":
            inner = _Scope(dict(scope.vars))
            bs = self.binders(e.binders, inner, "quant")
            out = self.temporal(e.body, inner, binders + tuple(bs), always)
            self.check_used(inner, bs, "quantified variable")
            return out
        if isinstance(e, S.ChainS) and e.op == "&" and _is_temporal(e):
            return [t for item in e.items for t in self.temporal(item, scope, binders, always)]
        if isinstance(e, S.TemporalS):
            arg = e.args[0]
            if e.op == "~>" and not always:
                return [ir.Temporal("leads_to", binders, state(e.args[0]), state(e.args[1]),
                                    e.span)]
            if e.op == "eventually" and not always:
                if isinstance(arg, S.TemporalS) and arg.op == "always":
                    return [ir.Temporal("stable", binders, state(arg.args[0]), None, e.span)]
                return [ir.Temporal("eventually", binders, state(arg), None, e.span)]
            if e.op == "always" and not always:
                if isinstance(arg, S.TemporalS) and arg.op == "eventually":
                    return [ir.Temporal("infinitely", binders, state(arg.args[0]), None,
                                        e.span)]
                if (isinstance(arg, S.BinOpS) and arg.op == "->"
                        and isinstance(arg.right, S.TemporalS) and arg.right.op == "eventually"):
                    return [ir.Temporal("leads_to", binders, state(arg.left),
                                        state(arg.right.args[0]), e.span)]
                if _is_temporal(arg):
                    if (isinstance(arg, S.QuantS) and arg.kind == "forall"
                            or isinstance(arg, S.ChainS) and arg.op == "&"):
                        return self.temporal(arg, scope, binders, True)
                    raise self.error("this liveness formula is not supported", arg.span,
                                     _TEMPORAL_SHAPES)
                return [ir.Temporal("always", binders, state(arg), None, e.span)]
        if always:
            # a conjunct or forall body under `always`: always F
            return self.temporal(S.TemporalS("always", (e,), e.span), scope, binders, False)
        if _is_temporal(e):
            raise self.error("this liveness formula is not supported", e.span, _TEMPORAL_SHAPES)
        raise self.error("a liveness property needs a temporal operator here", e.span,
                         _TEMPORAL_SHAPES)

    def fairness(self, d: S.FairnessDeclS, actions: dict[str, ir.Action]) -> ir.Fairness:
        scope = _Scope()
        binders = self.binders(d.binders, scope, "quant")
        refs = []
        for ref in d.actions:
            action = actions.get(ref.name)
            if action is None:
                raise self.error(f"unknown action '{ref.name}' in fairness '{d.name}'", ref.span,
                                 _one_of("an action", actions))
            if ref.args is None:
                refs.append(ir.ActionRef(ref.name, (None,) * len(action.params), ref.span))
                continue
            if len(ref.args) != len(action.params):
                raise self.error(f"action '{ref.name}' takes {len(action.params)} argument(s), "
                                 f"got {len(ref.args)}", ref.span,
                                 "one binder name or '_' per parameter")
            args: list[str | None] = []
            for a, param in zip(ref.args, action.params):
                if a == "_":
                    args.append(None)
                    continue
                info = scope.vars.get(a)
                sym = self.symbols.get(a)
                if info is None and sym is not None and sym.kind == "individual" \
                        and not sym.mutable:
                    # a model constant: `fairness f: weak phase1a(leader)`
                    if sym.value_sort != param.sort:
                        raise self.error(f"'{a}' has sort {sym.value_sort}, but parameter "
                                         f"'{param.name}' of '{ref.name}' has sort {param.sort}",
                                         ref.span, f"a term of sort {param.sort}, or '_'")
                    args.append(a)
                    continue
                if info is None:
                    raise self.error(f"'{a}' is not a variable of fairness '{d.name}'", ref.span,
                                     _one_of("'_', a variable bound by its forall or an "
                                             "immutable individual", scope.vars))
                if info.sort != param.sort:
                    raise self.error(f"'{a}' has sort {info.sort}, but parameter "
                                     f"'{param.name}' of '{ref.name}' has sort {param.sort}",
                                     ref.span, f"a variable of sort {param.sort}, or '_'")
                info.used = True
                args.append(a)
            refs.append(ir.ActionRef(ref.name, tuple(args), ref.span))
        self.check_used(scope, binders, "variable")
        return ir.Fairness(d.name, d.kind, tuple(binders), tuple(refs), d.span)

    # ---- statements
    def block(self, stmts: tuple[S.StmtS, ...], scope: _Scope) -> tuple[ir.Stmt, ...]:
        return tuple(self.stmt(s, scope) for s in stmts)

    def stmt(self, s: S.StmtS, scope: _Scope) -> ir.Stmt:
        if isinstance(s, S.RequireS):
            return ir.Require(self.formula(s.cond, scope), s.span)
        if isinstance(s, S.IfS):
            return ir.If(self.formula(s.cond, scope), self.block(s.then, scope),
                         self.block(s.els, scope), s.span)
        lhs = s.lhs
        sym = self.symbols.get(lhs.name)
        if sym is None:
            # a variable or a sort/definition/action is known, just not assignable:
            # calling it "unknown" would send the user looking for a typo
            if lhs.name in scope.vars:
                message = f"cannot assign to variable '{lhs.name}'"
            elif lhs.name in self.declared:
                message = (f"cannot assign to '{lhs.name}': "
                           "it is not a relation, function or individual")
            else:
                message = f"unknown symbol '{lhs.name}' on the left of ':='"
            raise self.error(message, lhs.span,
                             _one_of("a mutable relation, function or individual",
                                     [n for n, x in self.symbols.items() if x.mutable]))
        if not sym.mutable:
            raise self.error(f"cannot assign to immutable {sym.kind} '{sym.name}'", lhs.span,
                             "a mutable symbol")
        if len(lhs.args) != sym.arity:
            raise self.error(f"'{sym.name}' takes {sym.arity} argument(s), got {len(lhs.args)}",
                             lhs.span)
        inner = _Scope(dict(scope.vars), immutable_only=scope.immutable_only)
        bound: list[ir.Binder] = []
        args: list[ir.Expr] = []
        for a, psort in zip(lhs.args, sym.params):
            if (isinstance(a, S.NameS) and a.id[:1].isupper() and a.id not in scope.vars
                    and a.id not in self.declared):
                if a.id not in inner.vars:
                    inner.vars[a.id] = _VarInfo(psort, a.span, "bound", used=True)
                    bound.append(ir.Binder(a.id, psort, a.span))
                elif inner.vars[a.id].sort != psort:
                    raise self.error(f"'{a.id}' is used at sorts {inner.vars[a.id].sort} and {psort}",
                                     a.span)
                args.append(ir.Var(a.id, psort, a.span))
            else:
                args.append(self.term(a, inner, psort))
        if isinstance(s, S.HavocS):
            stmt: ir.Stmt = ir.Havoc(sym.name, tuple(args), tuple(bound), s.span)
        elif sym.result is None:
            stmt = ir.Assign(sym.name, tuple(args), tuple(bound), self.formula(s.rhs, inner), s.span)
        else:
            stmt = ir.Assign(sym.name, tuple(args), tuple(bound), self.term(s.rhs, inner, sym.result),
                             s.span)
        for name, info in inner.vars.items():
            if name in scope.vars and info.used:
                scope.vars[name].used = True
        return stmt

    # ---- expressions
    def formula(self, e: S.ExprS, scope: _Scope) -> ir.Expr:
        out, sort = self.expr(e, scope)
        if sort is not None:
            raise self.error(f"expected a formula, found a term of sort {sort}", e.span,
                             "a formula (true/false, an atom, a comparison, ...)")
        return out

    def term(self, e: S.ExprS, scope: _Scope, expected: ir.SortT | None = None) -> ir.Expr:
        if isinstance(e, S.NoneS):
            if expected is None:
                raise self.error("cannot tell the sort of 'none' here", e.span,
                                 "'none' compared with or passed as a term of an option sort")
            if not expected.option:
                raise self.error(f"'none' is not a value of sort {expected}", e.span,
                                 f"a term of sort {expected} (only option sorts like "
                                 f"{expected.name}? contain none)")
            return ir.NoneLit(expected, e.span)
        out, sort = self.expr(e, scope)
        if sort is None:
            raise self.error("expected a term, found a formula", e.span,
                             f"a term of sort {expected}" if expected else "a term")
        if expected is not None and not _fits(sort, expected):
            raise self.error(f"sort mismatch: found {sort}, expected {expected}", e.span,
                             f"a term of sort {expected}")
        return out

    def expr(self, e: S.ExprS, scope: _Scope) -> tuple[ir.Expr, ir.SortT | None]:
        if isinstance(e, S.BoolS):
            return ir.BoolLit(e.value, e.span), None
        if isinstance(e, S.NoneS):
            self.term(e, scope, None)  # always raises: no sort to give it
        if isinstance(e, S.NotS):
            return ir.Not(self.formula(e.arg, scope), e.span), None
        if isinstance(e, S.ChainS):
            kind = ir.And if e.op == "&" else ir.Or
            args: list[ir.Expr] = []
            for item in e.items:   # a conjunct that is a conjunction is flattened in
                x = self.formula(item, scope)
                args.extend(x.args if isinstance(x, kind) else (x,))
            return kind(tuple(args), e.span), None
        if isinstance(e, S.BinOpS):
            left = self.formula(e.left, scope)
            right = self.formula(e.right, scope)
            if e.op == "->":
                return ir.Implies(left, right, e.span), None
            return ir.Iff(left, right, e.span), None
        if isinstance(e, S.QuantS):
            inner = _Scope(dict(scope.vars), scope.allow_old, scope.in_old, scope.immutable_only)
            binders = self.binders(e.binders, inner, "quant")
            body = self.formula(e.body, inner)
            self.check_used(inner, binders, "quantified variable")
            for name, info in inner.vars.items():
                if name in scope.vars and info.used:
                    scope.vars[name].used = True
            return ir.Quant(e.kind, tuple(binders), body, e.span), None
        if isinstance(e, S.OldS):
            if not scope.allow_old:
                raise self.error("'old(...)' is only allowed in a 'transition' property", e.span,
                                 "a one-state formula")
            if scope.in_old:
                raise self.error("'old(...)' cannot be nested", e.span)
            inner = _Scope(scope.vars, scope.allow_old, True, scope.immutable_only)
            return ir.Old(self.formula(e.arg, inner), e.span), None
        if isinstance(e, S.CompareS):
            return self.compare(e, scope), None
        if isinstance(e, S.TemporalS):
            op = "~>" if e.op == "~>" else e.op
            raise self.error(f"temporal operator '{op}' where a state formula is expected",
                             e.span, "a one-state formula; in a liveness property: "
                             + _TEMPORAL_SHAPES)
        if isinstance(e, S.NameS):
            info = scope.vars.get(e.id)
            if info is not None:
                info.used = True
                return ir.Var(e.id, info.sort, e.span), info.sort
            return self.application(e.id, (), e.span, scope, bare=True)
        if isinstance(e, S.CallS):
            if e.id in scope.vars:
                raise self.error(f"variable '{e.id}' cannot be applied to arguments", e.span)
            return self.application(e.id, e.args, e.span, scope, bare=False)
        raise AssertionError(f"unhandled syntax {e!r}")

    def application(self, name: str, args: tuple[S.ExprS, ...], span: Span, scope: _Scope,
                    bare: bool) -> tuple[ir.Expr, ir.SortT | None]:
        sym = self.symbols.get(name)
        if sym is not None:
            if bare and sym.arity:
                raise self.error(f"{sym.kind} '{name}' needs {sym.arity} argument(s)", span,
                                 f"{name}({', '.join(str(p) for p in sym.params)})")
            if len(args) != sym.arity:
                raise self.error(f"'{name}' takes {sym.arity} argument(s), got {len(args)}", span)
            if sym.mutable and scope.immutable_only:
                raise self.error(f"{scope.immutable_only} may only use immutable symbols, "
                                 f"but '{name}' is mutable", span)
            targs = tuple(self.term(a, scope, p) for a, p in zip(args, sym.params))
            return ir.App(name, targs, sym.result, span), sym.result
        d = self.definitions.get(name)
        if d is not None:
            if len(args) != len(d.params):
                raise self.error(f"definition '{name}' takes {len(d.params)} argument(s), "
                                 f"got {len(args)}", span)
            if scope.immutable_only and self.definition_reads_mutable[name]:
                raise self.error(f"{scope.immutable_only} may only use immutable symbols, "
                                 f"but definition '{name}' reads mutable state", span)
            targs = tuple(self.term(a, scope, p.sort) for a, p in zip(args, d.params))
            return ir.Call(name, targs, span), None
        if name in self.declared:
            raise self.error(f"'{name}' cannot be used in a formula here", span,
                             "a variable, symbol or earlier definition")
        candidates = list(scope.vars) + list(self.symbols) + list(self.definitions)
        raise self.error(f"unknown name '{name}'", span, _one_of("a variable, symbol or "
                                                                  "definition", candidates))

    def compare(self, e: S.CompareS, scope: _Scope) -> ir.Expr:
        op, left_s, right_s = e.op, e.left, e.right
        if op in (">", ">="):
            op = "<" if op == ">" else "<="
            left_s, right_s = right_s, left_s
        # `none` takes its sort from the other side
        if isinstance(left_s, S.NoneS) and isinstance(right_s, S.NoneS):
            raise self.error("cannot tell the sort of 'none' here", left_s.span,
                             "'none' compared with a term of an option sort")
        if isinstance(left_s, S.NoneS):
            right, rsort = self.expr(right_s, scope)
            if rsort is None:
                raise self.error("'none' compared with a formula", e.span, "a term")
            left, lsort = self.term(left_s, scope, ir.SortT(rsort.name, True)), ir.SortT(rsort.name, True)
        else:
            left, lsort = self.expr(left_s, scope)
            if isinstance(right_s, S.NoneS):
                if lsort is None:
                    raise self.error("'none' compared with a formula", e.span, "a term")
                right, rsort = self.term(right_s, scope, ir.SortT(lsort.name, True)), ir.SortT(lsort.name, True)
            else:
                right, rsort = self.expr(right_s, scope)
        if lsort is None or rsort is None:
            if lsort is None and rsort is None and op in ("=", "!="):
                iff = ir.Iff(left, right, e.span)
                return iff if op == "=" else ir.Not(iff, e.span)
            bad = left_s if lsort is None else right_s
            raise self.error(f"'{e.op}' compares terms, found a formula", bad.span,
                             "a term on both sides (use <-> between formulas)")
        if lsort.name != rsort.name:
            raise self.error(f"sort mismatch: cannot compare {lsort} with {rsort}", e.span,
                             f"terms of the same sort on both sides of '{e.op}'")
        if op in ("<", "<=") and not self.sorts[lsort.name].ordered:
            raise self.error(f"'{e.op}' needs an ordered sort, but {lsort.name} is not ordered",
                             e.span, f"'ordered sort {lsort.name}' or '=' / '!='")
        return ir.Cmp(op, left, right, e.span)


_TEMPORAL_SHAPES = ("one of 'always P', 'eventually P', 'always eventually P', "
                    "'eventually always P', 'P ~> Q' or 'always (P -> eventually Q)', "
                    "with P, Q state formulas, joined by '&' under 'forall'")


def _is_temporal(e: S.ExprS) -> bool:
    """Does a temporal operator occur in e (iteratively: e may be deep)?"""
    stack: list[object] = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, S.TemporalS):
            return True
        for name in getattr(x, "__dataclass_fields__", ()):
            v = getattr(x, name)
            if isinstance(v, (tuple, list)):
                stack.extend(v)
            elif hasattr(v, "__dataclass_fields__"):
                stack.append(v)
    return False


def S_span_end(module: S.ModuleS) -> Span:
    lines = module.source.splitlines() or [""]
    return Span(module.file, len(lines), 1, len(lines), len(lines[-1]) + 1)


def _fits(actual: ir.SortT, expected: ir.SortT) -> bool:
    return actual.name == expected.name and (expected.option or not actual.option)


def _one_of(what: str, names) -> str:
    names = sorted(set(names))
    if not names:
        return what
    shown = ", ".join(f"'{n}'" for n in names[:12])
    return f"{what} ({shown}{', ...' if len(names) > 12 else ''})"


def _reads_mutable(e: ir.Expr, symbols: dict[str, ir.Symbol], defs: dict[str, bool]) -> bool:
    from paxcheck.lang.walk import subexprs
    for x in subexprs(e):
        if isinstance(x, ir.App) and symbols[x.symbol].mutable:
            return True
        if isinstance(x, ir.Call) and defs[x.definition]:
            return True
    return False


def check_module(module: S.ModuleS) -> ir.Spec:
    """Type-check a parsed module into the typed IR."""
    return _Checker(module).run()


def load_spec(path: str | Path) -> ir.Spec:
    """Parse and type-check a spec file: `.pax`, or mypyvy's `.pyv`."""
    if str(path).endswith(".pyv"):
        from paxcheck.lang.pyv import translate_file
        read = translate_file(path)
        return dataclasses.replace(check_module(read.module), notes=read.notes)
    return check_module(parse_file(path))


def load_spec_text(text: str, file: str = "<string>") -> ir.Spec:
    """Parse and type-check spec text named `file` (mypyvy's language when
    the name ends in `.pyv`)."""
    if file.endswith(".pyv"):
        from paxcheck.lang.pyv import translate_text
        read = translate_text(text, file)
        return dataclasses.replace(check_module(read.module), notes=read.notes)
    return check_module(parse_text(text, file))
