"""Liveness properties and fairness assumptions of one instance, grounded:
each `forall` unrolled over the instance's finite sorts.

A liveness property becomes ground `Obligation`s (one per conjunct and
value of its binders), each over at most two state formulas; the distinct
(formula, binding) pairs are the `Atom`s an engine labels every state with.
A fairness assumption becomes ground `Condition`s (one per value of its
binders), each the set of ground action ids whose disjunction is fair."""
from __future__ import annotations

import builtins
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from paxcheck.config.model import FairnessSetting
from paxcheck.errors import PaxError
from paxcheck.lang import ir

from .ground import GroundInstance

# An atom: a one-state formula and the values of its free variables, as
# sorted (name, element) pairs so that atoms hash and compare.
Atom = tuple[ir.Expr, tuple[tuple[str, int], ...]]


@dataclass(frozen=True)
class Obligation:
    """One ground temporal obligation: `kind` (ir.TEMPORAL_KINDS) over
    atoms p (and q for leads_to), indices into LiveSet.atoms."""
    property: str
    kind: str
    p: int
    q: int | None
    binding: tuple[tuple[str, str], ...]   # (variable, element name), for reports
    span: object

    @builtins.property   # the field 'property' shadows the decorator here
    def label(self) -> str:
        args = ", ".join(f"{n}={v}" for n, v in self.binding)
        return f"{self.property}[{args}]" if args else self.property


@dataclass(frozen=True)
class Condition:
    """One ground fairness assumption: weak or strong fairness of the
    disjunction of these ground actions (a step of one that changes the
    state; TLA+'s <<A>>_vars)."""
    name: str
    kind: str   # 'weak' | 'strong'
    gids: tuple[int, ...]
    binding: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        args = ", ".join(f"{n}={v}" for n, v in self.binding)
        return f"{self.name}[{args}]" if args else self.name


@dataclass(frozen=True)
class LiveSet:
    """What a liveness check of one instance needs: the obligations, the
    atoms they read, the fairness conditions in force."""
    obligations: tuple[Obligation, ...]
    atoms: tuple[Atom, ...]
    conditions: tuple[Condition, ...]


FAIRNESS_SETTINGS = ("weak", "strong", "off")


def live_set(ground: GroundInstance, properties: Sequence[str],
             fairness: Mapping[str, FairnessSetting] | None = None) -> LiveSet:
    """Ground the named liveness properties and the spec's fairness, each
    assumption as `fairness[name]` sets it where given: its kind ('weak',
    'strong' or 'off'), and the values of its variables it keeps."""
    spec = ground.spec
    for name in properties:
        if name not in spec.liveness_map:
            raise PaxError(f"unknown liveness property '{name}' (spec has: "
                           f"{', '.join(spec.liveness_map) or 'none'})")
    for name, setting in (fairness or {}).items():
        if name not in spec.fairness_map:
            raise PaxError(f"unknown fairness assumption '{name}' (spec has: "
                           f"{', '.join(spec.fairness_map) or 'none'})")
        if setting.kind not in FAIRNESS_SETTINGS:
            raise PaxError(f"fairness '{name}' set to {setting.kind!r}",
                           expected=" or ".join(repr(k) for k in FAIRNESS_SETTINGS))
    atoms: dict[Atom, int] = {}

    def atom(e: ir.Expr, env: dict[str, int]) -> int:
        key = (e, tuple(sorted(env.items())))
        return atoms.setdefault(key, len(atoms))

    obligations = []
    for name in properties:
        for part in spec.liveness_map[name].parts:
            for env, binding in _valuations(ground, part.binders):
                p = atom(part.p, env)
                q = atom(part.q, env) if part.q is not None else None
                obligations.append(Obligation(name, part.kind, p, q, binding, part.span))
    conditions = []
    for fair in spec.fairness:
        setting = (fairness or {}).get(fair.name, FairnessSetting(fair.kind))
        if setting.kind == "off":
            continue
        only = dict(setting.only)
        for env, binding in _valuations(ground, fair.binders):
            if any(name in only and value not in only[name] for name, value in binding):
                continue
            known = {**{sym.name: ground.inst.interp[sym.name] for sym in spec.immutable_symbols
                        if sym.kind == "individual"}, **env}
            gids = tuple(i for i, ga in enumerate(ground.ground_actions)
                         if any(_matches(ref, ga.action, ga.args, known)
                                for ref in fair.actions))
            conditions.append(Condition(fair.name, setting.kind, gids, binding))
    return LiveSet(tuple(obligations), tuple(atoms), tuple(conditions))


def _valuations(ground: GroundInstance, binders: tuple[ir.Binder, ...]
                ) -> list[tuple[dict[str, int], tuple[tuple[str, str], ...]]]:
    inst = ground.inst
    out = []
    for values in itertools.product(*(inst.domain(b.sort) for b in binders)):
        env = {b.name: v for b, v in zip(binders, values)}
        binding = tuple((b.name, inst.name_of(b.sort, v)) for b, v in zip(binders, values))
        out.append((env, binding))
    return out


def _matches(ref: ir.ActionRef, action: ir.Action, args: tuple[int, ...],
             env: dict[str, int]) -> bool:
    return ref.action == action.name and all(
        var is None or env[var] == a for var, a in zip(ref.args, args))
