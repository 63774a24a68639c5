"""Typed IR back to `.pax` text: what `infer` prints and writes, and what
re-parses to the same formula (tests/test_show.py holds that).

Parentheses follow the grammar's precedence (loosest first: `<->`, `->`
(right-associative), `|`, `&`, `!`, comparisons); a quantifier's body
extends as far right as it can, so a quantifier inside an operand is
parenthesized."""
from __future__ import annotations

from paxcheck.lang import ir

_IFF, _IMP, _OR, _AND, _UNARY, _ATOM = range(6)


def show(e: ir.Expr) -> str:
    return _show(e, _IFF)


def _paren(s: str, level: int, ctx: int) -> str:
    return f"({s})" if level < ctx else s


def _binders(bs: tuple[ir.Binder, ...]) -> str:
    groups: list[tuple[list[str], ir.SortT]] = []
    for b in bs:
        if groups and groups[-1][1] == b.sort:
            groups[-1][0].append(b.name)
        else:
            groups.append(([b.name], b.sort))
    return ", ".join(f"{', '.join(names)}: {sort}" for names, sort in groups)


def _show(e: ir.Expr, ctx: int) -> str:
    if isinstance(e, ir.Var):
        return e.name
    if isinstance(e, ir.NoneLit):
        return "none"
    if isinstance(e, ir.BoolLit):
        return "true" if e.value else "false"
    if isinstance(e, ir.App):
        if not e.args:
            return e.symbol + ("()" if e.sort is None else "")
        return f"{e.symbol}({', '.join(_show(a, _IFF) for a in e.args)})"
    if isinstance(e, ir.Call):
        return f"{e.definition}({', '.join(_show(a, _IFF) for a in e.args)})"
    if isinstance(e, ir.Old):
        return f"old({_show(e.arg, _IFF)})"
    if isinstance(e, ir.Cmp):
        return _paren(f"{_show(e.left, _ATOM)} {e.op} {_show(e.right, _ATOM)}", _UNARY, ctx)
    if isinstance(e, ir.Not):
        if isinstance(e.arg, ir.Cmp) and e.arg.op in ("=", "<", "<="):
            flip = {"=": "!=", "<": "<=", "<=": "<"}[e.arg.op]
            left, right = (e.arg.left, e.arg.right) if e.arg.op == "=" else (e.arg.right, e.arg.left)
            return _show(ir.Cmp(flip, left, right), ctx)
        return _paren("!" + _show(e.arg, _UNARY), _UNARY, ctx)
    if isinstance(e, ir.And):
        if not e.args:
            return "true"
        return _paren(" & ".join(_show(a, _UNARY if i else _AND) for i, a in enumerate(e.args)),
                      _AND, ctx)
    if isinstance(e, ir.Or):
        if not e.args:
            return "false"
        return _paren(" | ".join(_show(a, _AND if i else _OR) for i, a in enumerate(e.args)),
                      _OR, ctx)
    if isinstance(e, ir.Implies):
        return _paren(f"{_show(e.left, _OR)} -> {_show(e.right, _IMP)}", _IMP, ctx)
    if isinstance(e, ir.Iff):
        return _paren(f"{_show(e.left, _IMP)} <-> {_show(e.right, _IMP)}", _IFF, ctx)
    if isinstance(e, ir.Quant):
        s = f"{e.kind} {_binders(e.binders)}. {_show(e.body, _IFF)}"
        return s if ctx <= _IFF else f"({s})"
    raise TypeError(f"cannot show {type(e).__name__}")
