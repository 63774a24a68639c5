"""A one-state formula's truth in every state of a `Sample` at once, by
numpy: what the reference evaluator computes state by state, vectorized
over states and over each quantifier's variables.

Mining reads a spaced subset of a large sample, so its clauses are checked
here against every state before any reaches Z3; and a counterexample to
induction, read as a one-state sample, decides every candidate in one
pass.

Each subformula evaluates to an array with one axis for the states and one
per variable in scope (in binding order), of size 1 where it does not
depend on it. Terms are in the shifted encoding `value + 1` (`none` is 0),
in which the reference order (`none` below every element) is integer
order whether or not a side is of an option sort."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from paxcheck.infer.samples import Sample
from paxcheck.lang import ir

# assignments x states per chunk: bounds the arrays' memory
_CHUNK = 1 << 21


class Unsupported(Exception):
    """The formula uses what is not vectorized (`old`)."""


def holds(f: ir.Expr, sample: Sample) -> np.ndarray:
    """bool [states]: `f` (closed, one-state) in each state of the sample."""
    out = np.empty(sample.count, bool)
    for lo, r in _chunks(f, sample):
        out[lo:lo + len(r)] = r
    return out


def everywhere(f: ir.Expr, sample: Sample) -> bool:
    """Whether `f` holds in every state of the sample: `holds(...).all()`,
    stopping at the first block of states with one where it does not. The
    blocks start small and double: a candidate false on a sample is
    usually false on many of its states, and strengthening asks this of
    hundreds of candidates per CTI, each refuted by the wide samples
    within its first few states (a first block of a full chunk, hundreds
    of states times thousands of assignments, made each such answer cost
    as much as evaluating the candidate on a whole mining sample)."""
    return all(r.all() for _, r in _chunks(f, sample, first=_FIRST))


# states in the first block `everywhere` evaluates
_FIRST = 32


def _chunks(f: ir.Expr, sample: Sample, first: int | None = None
            ) -> Iterator[tuple[int, np.ndarray]]:
    """`f`'s truth in each state, a block of states at a time (so the
    arrays of one block of assignments fit in memory): the block's first
    index and its truth values. With `first`, the blocks grow from that
    many states, doubling up to the full block."""
    width = max(1, _width(f, sample))
    per = max(1, _CHUNK // width)
    n = min(per, first) if first else per
    lo = 0
    while lo < sample.count:
        sel = np.arange(lo, min(sample.count, lo + n))
        r = _Eval(sample, sel).formula(f, {})
        yield lo, np.broadcast_to(r, (len(sel),))
        lo += n
        n = min(per, 2 * n)


def _width(f: ir.Expr, sample: Sample) -> int:
    """The most assignments any nest of quantifiers in `f` ranges over."""
    if isinstance(f, ir.Quant):
        inner = _width(f.body, sample)
        return inner * int(np.prod([sample.dims(b.sort) for b in f.binders]))
    kids: list[ir.Expr] = []
    if isinstance(f, (ir.And, ir.Or)):
        kids = list(f.args)
    elif isinstance(f, ir.Not):
        kids = [f.arg]
    elif isinstance(f, (ir.Implies, ir.Iff)):
        kids = [f.left, f.right]
    return max([_width(k, sample) for k in kids], default=1)


# what a name stands for in scope: a quantifier's axis and its sort, or a
# definition parameter's argument, already evaluated
_Scope = dict[str, "tuple[int, ir.SortT] | np.ndarray"]


class _Eval:
    def __init__(self, sample: Sample, sel: np.ndarray) -> None:
        self.sample, self.sel = sample, sel
        self.spec = sample.inst.spec

    def formula(self, f: ir.Expr, scope: _Scope, k: int = 0) -> np.ndarray:
        """bool, ndim 1 + k (k variables' axes in scope)."""
        if isinstance(f, ir.BoolLit):
            return np.full((1,) * (1 + k), f.value)
        if isinstance(f, ir.Not):
            return ~self.formula(f.arg, scope, k)
        if isinstance(f, ir.And):
            out = self.formula(f.args[0], scope, k)
            for a in f.args[1:]:
                out = out & self.formula(a, scope, k)
            return out
        if isinstance(f, ir.Or):
            out = self.formula(f.args[0], scope, k)
            for a in f.args[1:]:
                out = out | self.formula(a, scope, k)
            return out
        if isinstance(f, ir.Implies):
            return ~self.formula(f.left, scope, k) | self.formula(f.right, scope, k)
        if isinstance(f, ir.Iff):
            return self.formula(f.left, scope, k) == self.formula(f.right, scope, k)
        if isinstance(f, ir.Cmp):
            lhs, rhs = self.term(f.left, scope, k), self.term(f.right, scope, k)
            ops = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal}
            return ops[f.op](lhs, rhs)
        if isinstance(f, ir.App):
            return self.lookup(f, scope, k).astype(bool)
        if isinstance(f, ir.Quant):
            inner = dict(scope)
            for i, b in enumerate(f.binders):
                inner[b.name] = (k + i, b.sort)
            r = self.formula(f.body, inner, k + len(f.binders))
            axes = tuple(range(1 + k, 1 + k + len(f.binders)))
            return np.asarray(r.all(axis=axes) if f.kind == "forall" else r.any(axis=axes))
        if isinstance(f, ir.Call):
            d = self.spec.definition_map[f.definition]
            args: _Scope = {p.name: self.term(a, scope, k) for p, a in zip(d.params, f.args)}
            return self.formula(d.body, args, k)
        raise Unsupported(type(f).__name__)

    def term(self, t: ir.Expr, scope: _Scope, k: int) -> np.ndarray:
        """int, shifted encoding, ndim 1 + k."""
        if isinstance(t, ir.Var):
            bound = scope[t.name]
            if isinstance(bound, np.ndarray):    # a definition's argument
                return bound.reshape(bound.shape + (1,) * (1 + k - bound.ndim))
            axis, sort = bound
            shape = [1] * (1 + k)
            shape[1 + axis] = self.sample.dims(sort)
            vals = np.arange(self.sample.dims(sort), dtype=np.int64) + (0 if sort.option else 1)
            return vals.reshape(shape)
        if isinstance(t, ir.NoneLit):
            return np.zeros((1,) * (1 + k), np.int64)
        if isinstance(t, ir.App):
            sym = self.spec.symbol_map[t.symbol]
            raw = self.lookup(t, scope, k).astype(np.int64)
            assert sym.result is not None
            return raw if sym.result.option else raw + 1
        raise Unsupported(type(t).__name__)

    def lookup(self, app: ir.App, scope: _Scope, k: int) -> np.ndarray:
        """The symbol's array at the arguments: ndim 1 + k."""
        sym = self.spec.symbol_map[app.symbol]
        arr = self.sample.arrays[app.symbol]
        lead = (self.sel.reshape((-1,) + (1,) * k) if sym.mutable
                else np.zeros((1,) * (1 + k), np.int64))
        idx: list[Any] = [lead]
        for a, p in zip(app.args, sym.params):
            # an argument's index: its reference value, plus one at an option
            # parameter (where `none` is index 0)
            idx.append(self.term(a, scope, k) - (0 if p.option else 1))
        return arr[tuple(idx)]
