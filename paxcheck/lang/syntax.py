"""Surface syntax tree: what the parser saw, with spans, before names are resolved."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from paxcheck.errors import Span


@dataclass(frozen=True)
class SortRefS:
    name: str
    option: bool
    span: Span


@dataclass(frozen=True)
class ParamS:
    name: str | None
    sort: SortRefS
    span: Span


@dataclass(frozen=True)
class BinderS:
    name: str
    sort: SortRefS
    span: Span


# ---- expressions -----------------------------------------------------------
@dataclass(frozen=True)
class NameS:
    id: str
    span: Span


@dataclass(frozen=True)
class CallS:
    id: str
    args: tuple[ExprS, ...]
    span: Span


@dataclass(frozen=True)
class OldS:
    arg: ExprS
    span: Span


@dataclass(frozen=True)
class BoolS:
    value: bool
    span: Span


@dataclass(frozen=True)
class NoneS:
    span: Span


@dataclass(frozen=True)
class NotS:
    arg: ExprS
    span: Span


@dataclass(frozen=True, eq=False)
class ChainS:
    """`a & b & c ...` or `a | b | c ...`: one node however long the chain,
    so its length costs no nesting depth. `items` is built in place while
    parsing (a chain's list is extended, never shared)."""
    op: str  # '&' | '|'
    items: list[ExprS]
    span: Span


@dataclass(frozen=True)
class BinOpS:
    op: str  # '->', '<->'
    left: ExprS
    right: ExprS
    span: Span


@dataclass(frozen=True)
class CompareS:
    op: str  # '=', '!=', '<', '<=', '>', '>='
    left: ExprS
    right: ExprS
    span: Span


@dataclass(frozen=True)
class QuantS:
    kind: str  # 'forall' | 'exists'
    binders: tuple[BinderS, ...]
    body: ExprS
    span: Span


@dataclass(frozen=True)
class TemporalS:
    """`always F`, `eventually F` or `F ~> G` (liveness properties only)."""
    op: str  # 'always' | 'eventually' | '~>'
    args: tuple[ExprS, ...]
    span: Span


ExprS = Union[NameS, CallS, OldS, BoolS, NoneS, NotS, ChainS, BinOpS, CompareS, QuantS,
              TemporalS]


# ---- statements ------------------------------------------------------------
@dataclass(frozen=True)
class LhsS:
    name: str
    args: tuple[ExprS, ...]
    span: Span


@dataclass(frozen=True)
class RequireS:
    cond: ExprS
    span: Span


@dataclass(frozen=True)
class AssignS:
    lhs: LhsS
    rhs: ExprS
    span: Span


@dataclass(frozen=True)
class HavocS:
    lhs: LhsS
    span: Span


@dataclass(frozen=True)
class IfS:
    cond: ExprS
    then: tuple[StmtS, ...]
    els: tuple[StmtS, ...]
    span: Span


StmtS = Union[RequireS, AssignS, HavocS, IfS]


# ---- declarations ----------------------------------------------------------
@dataclass(frozen=True)
class SortDeclS:
    name: str
    ordered: bool
    span: Span


@dataclass(frozen=True)
class SymbolDeclS:
    kind: str  # 'relation' | 'function' | 'individual'
    name: str
    params: tuple[ParamS, ...]
    result: SortRefS | None
    mutable: bool
    message: bool
    sender: str | None
    span: Span
    sender_span: Span | None = None


@dataclass(frozen=True)
class AxiomDeclS:
    name: str
    formula: ExprS
    span: Span


@dataclass(frozen=True)
class DefinitionDeclS:
    name: str
    binders: tuple[BinderS, ...]
    body: ExprS
    span: Span


@dataclass(frozen=True)
class InitDeclS:
    body: tuple[StmtS, ...]
    span: Span


@dataclass(frozen=True)
class ActionDeclS:
    name: str
    binders: tuple[BinderS, ...]
    actor: str | None
    actor_span: Span | None
    body: tuple[StmtS, ...]
    span: Span


@dataclass(frozen=True)
class PropertyDeclS:
    kind: str  # 'safety' | 'invariant' | 'transition' | 'sometimes'
    name: str
    formula: ExprS
    span: Span


@dataclass(frozen=True)
class LivenessDeclS:
    name: str
    formula: ExprS
    span: Span


@dataclass(frozen=True)
class ActionRefS:
    """An action named in a fairness assumption; args are binder names or
    '_' (a free parameter); None: every parameter free."""
    name: str
    args: tuple[str, ...] | None
    span: Span


@dataclass(frozen=True)
class FairnessDeclS:
    name: str
    kind: str  # 'weak' | 'strong'
    binders: tuple[BinderS, ...]
    actions: tuple[ActionRefS, ...]
    span: Span


DeclS = Union[SortDeclS, SymbolDeclS, AxiomDeclS, DefinitionDeclS, InitDeclS,
              ActionDeclS, PropertyDeclS, LivenessDeclS, FairnessDeclS]


@dataclass(frozen=True)
class ModuleS:
    file: str
    source: str
    decls: tuple[DeclS, ...]
