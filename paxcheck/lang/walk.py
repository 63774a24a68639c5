"""Generic traversal of IR expressions and statements."""
from __future__ import annotations

from collections.abc import Iterator

from paxcheck.lang import ir


def children(e: ir.Expr) -> tuple[ir.Expr, ...]:
    if isinstance(e, (ir.App, ir.Call)):
        return e.args
    if isinstance(e, (ir.And, ir.Or)):
        return e.args
    if isinstance(e, (ir.Not, ir.Old)):
        return (e.arg,)
    if isinstance(e, (ir.Implies, ir.Iff, ir.Cmp)):
        return (e.left, e.right)
    if isinstance(e, ir.Quant):
        return (e.body,)
    return ()


def subexprs(e: ir.Expr) -> Iterator[ir.Expr]:
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(children(x))


def stmt_exprs(stmts: tuple[ir.Stmt, ...]) -> Iterator[ir.Expr]:
    for s in stmts:
        if isinstance(s, ir.Require):
            yield s.cond
        elif isinstance(s, ir.Assign):
            yield from s.args
            yield s.rhs
        elif isinstance(s, ir.Havoc):
            yield from s.args
        elif isinstance(s, ir.If):
            yield s.cond
            yield from stmt_exprs(s.then)
            yield from stmt_exprs(s.els)



def assigned_whole(spec: ir.Spec, stmts: tuple[ir.Stmt, ...]) -> set[str]:
    """Mutable symbols that the leading statements of a block overwrite at
    every point before anything reads them: `init` need not enumerate their
    start values, since whatever they were is overwritten."""
    done: set[str] = set()
    for s in stmts:
        if isinstance(s, ir.Require):
            # a guard on what is already overwritten does not read a start value
            reads = {x.symbol for x in subexprs(s.cond)
                     if isinstance(x, ir.App) and spec.symbol_map[x.symbol].mutable}
            if reads - done:
                break
            continue
        if not isinstance(s, (ir.Assign, ir.Havoc)):
            break
        exprs = list(s.args) + ([s.rhs] if isinstance(s, ir.Assign) else [])
        reads = {x.symbol for e in exprs for x in subexprs(e)
                 if isinstance(x, ir.App) and spec.symbol_map[x.symbol].mutable}
        if reads - done:
            break
        bound = {b.name for b in s.bound}
        if len(s.args) == len(bound) and all(isinstance(a, ir.Var) and a.name in bound
                                             for a in s.args):
            done.add(s.symbol)
    return done
