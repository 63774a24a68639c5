"""Typed intermediate representation: what every engine consumes.

Produced by `typecheck.check_module` from the surface syntax; all names are
resolved, every term carries its sort, and `>`/`>=` are normalised away."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Union

from paxcheck.errors import NO_SPAN, PaxError, Span


@dataclass(frozen=True)
class SortT:
    """The sort of a term: a declared sort, or its option (`ballot?`) which adds `none`."""
    name: str
    option: bool = False

    def __str__(self) -> str:
        return self.name + ("?" if self.option else "")


@dataclass(frozen=True)
class Sort:
    name: str
    ordered: bool
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str  # 'relation' | 'function' | 'individual'
    params: tuple[SortT, ...]
    param_names: tuple[str | None, ...]
    result: SortT | None  # None for relations
    mutable: bool
    message: bool = False
    sender: int | None = None  # index of the sender parameter of a message
    span: Span = NO_SPAN

    @property
    def arity(self) -> int:
        return len(self.params)

    @property
    def is_relation(self) -> bool:
        return self.kind == "relation"

    @property
    def value_sort(self) -> SortT:
        """The result sort of a function or individual (not of a relation)."""
        assert self.result is not None, f"relation '{self.name}' has no result sort"
        return self.result


@dataclass(frozen=True)
class Binder:
    name: str
    sort: SortT
    span: Span = field(default=NO_SPAN, compare=False)


# ---- expressions: `sort` is None for formulas ------------------------------
@dataclass(frozen=True)
class Var:
    name: str
    sort: SortT
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class App:
    """A relation atom (sort None), a function application or an individual."""
    symbol: str
    args: tuple[Expr, ...]
    sort: SortT | None
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class Call:
    """A use of a (boolean) definition."""
    definition: str
    args: tuple[Expr, ...]
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class NoneLit:
    sort: SortT
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class Not:
    arg: Expr
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class And:
    args: tuple[Expr, ...]
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class Or:
    args: tuple[Expr, ...]
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class Implies:
    left: Expr
    right: Expr
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class Iff:
    left: Expr
    right: Expr
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class Cmp:
    """op is one of '=', '!=', '<', '<=' (ordered sorts; `none` is below every element)."""
    op: str
    left: Expr
    right: Expr
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class Quant:
    kind: str  # 'forall' | 'exists'
    binders: tuple[Binder, ...]
    body: Expr
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


@dataclass(frozen=True)
class Old:
    """The pre-state value of a formula, inside a two-state property."""
    arg: Expr
    span: Span = field(default=NO_SPAN, compare=False)
    sort: None = None


Expr = Union[Var, App, Call, NoneLit, BoolLit, Not, And, Or, Implies, Iff, Cmp, Quant, Old]


# ---- statements: executed in order, each on the state the previous left ----
@dataclass(frozen=True)
class Assign:
    """symbol(args) := rhs for every value of `bound` (the capitalised lhs variables)."""
    symbol: str
    args: tuple[Expr, ...]
    bound: tuple[Binder, ...]
    rhs: Expr
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class Havoc:
    """symbol(args) := * : every point named by the lhs takes any value."""
    symbol: str
    args: tuple[Expr, ...]
    bound: tuple[Binder, ...]
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class Require:
    cond: Expr
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    els: tuple[Stmt, ...]
    span: Span = field(default=NO_SPAN, compare=False)


Stmt = Union[Assign, Havoc, Require, If]


@dataclass(frozen=True)
class Definition:
    name: str
    params: tuple[Binder, ...]
    body: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Axiom:
    name: str
    formula: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Action:
    name: str
    params: tuple[Binder, ...]
    actor: int | None  # index of the acting-process parameter
    body: tuple[Stmt, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Property:
    name: str
    kind: str  # 'safety' | 'invariant' (one-state) | 'transition' (two-state) | 'sometimes'
    formula: Expr
    span: Span = NO_SPAN

    @property
    def two_state(self) -> bool:
        return self.kind == "transition"

    @property
    def reach(self) -> bool:
        """A reachability property (`sometimes`): it holds when some
        reachable state satisfies the formula, so a search looks for a
        witness instead of a violation."""
        return self.kind == "sometimes"

    @property
    def checked(self) -> Expr:
        """What a search tests in every state: the formula, or for a
        `sometimes` its negation, so the engines' one loop serves both (a
        state that fails `checked` is a violation, or a witness)."""
        return Not(self.formula, self.span) if self.reach else self.formula

    @property
    def inductive(self) -> bool:
        """Whether the property is a candidate invariant for `prove`."""
        return not self.reach


@dataclass(frozen=True)
class Temporal:
    """One liveness obligation in normal form, for every value of `binders`:
    'always' []p, 'eventually' <>p, 'infinitely' []<>p, 'stable' <>[]p,
    'leads_to' p ~> q (= [](p -> <>q)). p and q are one-state formulas."""
    kind: str
    binders: tuple[Binder, ...]
    p: Expr
    q: Expr | None = None
    span: Span = NO_SPAN

    def show(self) -> str:
        return {"always": "always P", "eventually": "eventually P",
                "infinitely": "always eventually P", "stable": "eventually always P",
                "leads_to": "P ~> Q"}[self.kind]


TEMPORAL_KINDS = ("always", "eventually", "infinitely", "stable", "leads_to")


@dataclass(frozen=True)
class Liveness:
    """`liveness NAME: F`: F normalised into a conjunction of obligations."""
    name: str
    parts: tuple[Temporal, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True)
class ActionRef:
    """An action in a fairness assumption: per parameter, the fairness
    binder or the immutable individual it is tied to, or None (free: any
    value)."""
    action: str
    args: tuple[str | None, ...]
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class Fairness:
    """`fairness NAME: weak|strong forall xs. a(..) | b(..)`: for each value
    of the binders, weak (strong) fairness of the disjunction of the ground
    actions matching the refs."""
    name: str
    kind: str  # 'weak' | 'strong'
    binders: tuple[Binder, ...]
    actions: tuple[ActionRef, ...]
    span: Span = NO_SPAN



@dataclass(frozen=True)
class Spec:
    name: str
    file: str
    sorts: tuple[Sort, ...]
    symbols: tuple[Symbol, ...]
    axioms: tuple[Axiom, ...]
    definitions: tuple[Definition, ...]
    init: tuple[Stmt, ...]
    actions: tuple[Action, ...]
    properties: tuple[Property, ...]
    liveness: tuple[Liveness, ...] = ()
    fairness: tuple[Fairness, ...] = ()
    # what a front end read but does not check (mypyvy's traces, theorems)
    notes: tuple[str, ...] = ()

    @cached_property
    def liveness_map(self) -> dict[str, Liveness]:
        return {p.name: p for p in self.liveness}

    @cached_property
    def fairness_map(self) -> dict[str, Fairness]:
        return {f.name: f for f in self.fairness}

    @cached_property
    def sort_map(self) -> dict[str, Sort]:
        return {s.name: s for s in self.sorts}

    @cached_property
    def symbol_map(self) -> dict[str, Symbol]:
        return {s.name: s for s in self.symbols}

    @cached_property
    def definition_map(self) -> dict[str, Definition]:
        return {d.name: d for d in self.definitions}

    @cached_property
    def action_map(self) -> dict[str, Action]:
        return {a.name: a for a in self.actions}

    @cached_property
    def property_map(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties}

    def properties_named(self, names: tuple[str, ...] | list[str]) -> tuple[Property, ...]:
        """The properties with these names; an unknown name is a PaxError
        (the one place that check is made)."""
        for name in names:
            if name not in self.property_map:
                raise PaxError(f"unknown property '{name}' (spec has: "
                               f"{', '.join(self.property_map) or 'none'})")
        return tuple(self.property_map[n] for n in names)

    @property
    def mutable_symbols(self) -> tuple[Symbol, ...]:
        return tuple(s for s in self.symbols if s.mutable)

    @property
    def immutable_symbols(self) -> tuple[Symbol, ...]:
        return tuple(s for s in self.symbols if not s.mutable)
