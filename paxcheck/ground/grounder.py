"""Grounding: from a typed spec and one instance to ground formulas and code.

Per instance, every action is grounded over its parameter tuples once:
quantifiers are expanded, immutable symbols replaced by their values, and
what remains is simplified (a conjunction of state bits becomes one mask
test) and turned into Python source over packed states (see layout.py).
The generated code contains only integer literals and names made here:
nothing from the spec text reaches `exec`."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from paxcheck.budget import checkpoint
from paxcheck.config.instance import Instance
from paxcheck.errors import PaxError
from paxcheck.ground.layout import Layout, Slot, point_strides
from paxcheck.lang import ir

MAX_HAVOC_CHOICES = 1 << 16


# ---- ground formulas and terms --------------------------------------------
@dataclass(frozen=True)
class Bit:
    """State bit `pos` of state variable `var` is set."""
    pos: int
    var: str


@dataclass(frozen=True)
class Code:
    """Any other boolean Python expression."""
    src: str


@dataclass(frozen=True)
class GNot:
    arg: GF


@dataclass(frozen=True)
class GAnd:
    args: tuple[GF, ...]


@dataclass(frozen=True)
class GOr:
    args: tuple[GF, ...]


GF = Union[bool, Bit, Code, GNot, GAnd, GOr]


@dataclass(frozen=True)
class Field:
    """A function value stored at a fixed place: value = raw - bias."""
    off: int
    mask: int
    bias: int
    var: str


@dataclass(frozen=True)
class TCode:
    src: str  # Python expression giving the (semantic) value


GT = Union[int, Field, TCode]


def mk_not(a: GF) -> GF:
    if isinstance(a, bool):
        return not a
    if isinstance(a, GNot):
        return a.arg
    return GNot(a)


def mk_and(args) -> GF:
    out: list[GF] = []
    for a in args:
        if a is True:
            continue
        if a is False:
            return False
        out.extend(a.args if isinstance(a, GAnd) else (a,))
    if not out:
        return True
    return out[0] if len(out) == 1 else GAnd(tuple(dict.fromkeys(out)))


def mk_or(args) -> GF:
    out: list[GF] = []
    for a in args:
        if a is False:
            continue
        if a is True:
            return True
        out.extend(a.args if isinstance(a, GOr) else (a,))
    if not out:
        return False
    return out[0] if len(out) == 1 else GOr(tuple(dict.fromkeys(out)))


# ---- code emission ----------------------------------------------------------
class StateCode:
    """How generated code reads and writes packed states. A state here is one
    Python int; the fast engine's subclass (fast/codegen.py) uses arrays of
    64-bit words. Grounding is shared: only these renderings differ."""

    def bits(self, var: str, mask: int, all_set: bool) -> str:
        """True when every bit of `mask` is set (all_set) or some bit is set."""
        if all_set and mask & (mask - 1):
            return f"({var} & {hex(mask)}) == {hex(mask)}"
        return f"({var} & {hex(mask)})"

    def no_bits(self, var: str, mask: int, none_set: bool) -> str:
        """True when no bit of `mask` is set (none_set) or some bit is clear."""
        if none_set or mask & (mask - 1) == 0:
            return f"not ({var} & {hex(mask)})"
        return f"({var} & {hex(mask)}) != {hex(mask)}"

    def conj(self, parts: list[str], top: bool) -> str:
        return " and ".join(parts)

    def disj(self, parts: list[str]) -> str:
        return " or ".join(parts)

    def neg(self, arg: str) -> str:
        return f"not ({arg})"

    def field(self, var: str, off: int, mask: int) -> str:
        return f"(({var} >> {off}) & {mask})"

    def field_cmp(self, var: str, off: int, mask: int, op: str, raw: int) -> str:
        """Compare a stored field with a raw constant, in place."""
        return f"({var} & {hex(mask << off)}) {op} {hex(raw << off)}"

    def dyn_field(self, var: str, off: str, mask: int, width: int) -> str:
        return f"(({var} >> ({off})) & {mask})"

    def dyn_bit(self, var: str, off: str) -> str:
        return f"(({var} >> ({off})) & 1)"

    def table(self, name: str, index: str) -> str:
        return f"{name}[{index}]"

    # -- statements: each returns lines (relative indentation in nested lists)
    def update(self, cur: str, new: str, clear: int, setm: int,
               parts: list[tuple[int, int, str]],
               dynamic: list[tuple[str, int, str]]) -> list[str]:
        """new := cur with the `clear` bits replaced by `setm`, then each
        (offset, width, raw) part or'ed in, then each dynamic (offset, mask,
        raw) field written."""
        expr = f"({cur} & {hex(~clear)})" if clear else cur
        if setm:
            expr += f" | {hex(setm)}"
        for off, _w, raw in parts:
            expr += f" | (({raw}) << {off})"
        out = [f"{new} = {expr}"]
        for at, mask, raw in dynamic:
            out.append(f"{new} = ({new} & ~({mask} << ({at}))) | (({raw}) << ({at}))")
        return out

    def havoc_loop(self, cur: str, new: str, h: str, clear: int, choices: str) -> list[str]:
        return [f"for {h} in {choices}:", f"    {new} = ({cur} & {hex(~clear)}) | {h}"]

    def copy(self, cur: str, new: str) -> list[str]:
        """new := cur (the join state of an if)."""
        return [f"{new} = {cur}"]

    def choices(self, values: tuple[int, ...]) -> object:
        return values

    def nondet_start(self, gid: int) -> list[str]:
        # a havoc can reach one successor twice: count it once per ground action
        return [f"seen{gid} = set()"]

    def successor(self, cur: str, gid: int, nondet: bool) -> list[str]:
        if nondet:
            return [f"if {cur} not in seen{gid}:", f"    seen{gid}.add({cur})",
                    f"    app(({gid}, {cur}))"]
        return [f"app(({gid}, {cur}))"]


def _static(args: list[GT]) -> tuple[int, ...]:
    """Ground terms known to be constants, as a point."""
    assert all(isinstance(a, int) for a in args)
    return tuple(a for a in args if isinstance(a, int))


def _flip(op: str) -> str:
    return {"==": "==", "!=": "!=", "<": ">", "<=": ">="}[op]


# ---- grounding ---------------------------------------------------------------
class Grounder:
    """Ground formulas and terms of one instance, rendered through a StateCode."""
    def __init__(self, inst: Instance, layout: Layout, code: StateCode | None = None) -> None:
        self.inst = inst
        self.spec = inst.spec
        self.layout = layout
        self.code = code or StateCode()
        self.consts: dict[str, object] = {}

    # ---- rendering ground formulas and terms ----
    def emit(self, f: GF, top: bool = False) -> str:
        """Code for a ground formula; `top` when it is a whole guard."""
        c = self.code
        if f is True:
            return "True"
        if f is False:
            return "False"
        if isinstance(f, Bit):
            return c.bits(f.var, 1 << f.pos, True)
        if isinstance(f, Code):
            return f.src
        if isinstance(f, GNot):
            if isinstance(f.arg, Bit):
                return c.no_bits(f.arg.var, 1 << f.arg.pos, True)
            return c.neg(self.emit(f.arg))
        conj = isinstance(f, GAnd)
        pos: dict[str, int] = {}
        neg: dict[str, int] = {}
        rest: list[str] = []
        for a in f.args:
            if isinstance(a, Bit):
                pos[a.var] = pos.get(a.var, 0) | (1 << a.pos)
            elif isinstance(a, GNot) and isinstance(a.arg, Bit):
                neg[a.arg.var] = neg.get(a.arg.var, 0) | (1 << a.arg.pos)
            else:
                rest.append(f"({self.emit(a)})")
        # a conjunction of bits is one mask test; so is a disjunction
        parts = [c.bits(var, m, conj) for var, m in pos.items()]
        parts += [c.no_bits(var, m, conj) for var, m in neg.items()]
        parts.extend(rest)
        return c.conj(parts, top) if conj else c.disj(parts)

    def raw(self, t: Field) -> str:
        return self.code.field(t.var, t.off, t.mask)

    def value_code(self, t: GT) -> str:
        if isinstance(t, int):
            return str(t)
        if isinstance(t, Field):
            return f"({self.raw(t)} - {t.bias})" if t.bias else self.raw(t)
        return t.src

    def index_code(self, t: GT, opt: int) -> str:
        """Code for the index of a term at a parameter position."""
        if isinstance(t, Field):
            d = opt - t.bias
            return self.raw(t) if d == 0 else f"({self.raw(t)} + {d})"
        if isinstance(t, int):
            return str(t + opt)
        return f"({t.src} + {opt})" if opt else t.src

    def raw_for(self, t: GT, slot: Slot) -> str:
        """Raw bits to store value `t` in `slot`."""
        if isinstance(t, Field):
            d = slot.bias - t.bias
            return self.raw(t) if d == 0 else f"{self.raw(t)} + {d}"
        return f"{self.value_code(t)} + {slot.bias}" if slot.bias else self.value_code(t)

    def const(self, value: object) -> str:
        name = f"_K{len(self.consts)}"
        self.consts[name] = value
        return name

    def formula(self, e: ir.Expr, env: dict[str, int], var: str) -> GF:
        if isinstance(e, ir.BoolLit):
            return e.value
        if isinstance(e, ir.Not):
            return mk_not(self.formula(e.arg, env, var))
        if isinstance(e, ir.And):
            out: list[GF] = []
            for a in e.args:
                g = self.formula(a, env, var)
                if g is False:
                    return False
                out.append(g)
            return mk_and(out)
        if isinstance(e, ir.Or):
            out = []
            for a in e.args:
                g = self.formula(a, env, var)
                if g is True:
                    return True
                out.append(g)
            return mk_or(out)
        if isinstance(e, ir.Implies):
            left = self.formula(e.left, env, var)
            if left is False:
                return True
            return mk_or([mk_not(left), self.formula(e.right, env, var)])
        if isinstance(e, ir.Iff):
            fa, fb = self.formula(e.left, env, var), self.formula(e.right, env, var)
            if isinstance(fa, bool) and isinstance(fb, bool):
                return fa == fb
            if isinstance(fa, bool):
                return fb if fa else mk_not(fb)
            if isinstance(fb, bool):
                return fa if fb else mk_not(fa)
            return Code(f"(not ({self.emit(fa)})) == (not ({self.emit(fb)}))")
        if isinstance(e, ir.Quant):
            names = [b.name for b in e.binders]
            parts = []
            forall = e.kind == "forall"
            for vals in itertools.product(*(self.inst.domain(b.sort) for b in e.binders)):
                checkpoint("grounding")
                g = self.formula(e.body, {**env, **dict(zip(names, vals))}, var)
                if g is (not forall):
                    return g
                parts.append(g)
            return mk_and(parts) if forall else mk_or(parts)
        if isinstance(e, ir.Old):
            return self.formula(e.arg, env, "p")
        if isinstance(e, ir.Cmp):
            return self.compare(e.op, self.term(e.left, env, var), self.term(e.right, env, var))
        if isinstance(e, ir.Call):
            d = self.spec.definition_map[e.definition]
            args = [self.term(a, env, var) for a in e.args]
            return self._call(d, args, 0, {}, var)
        if isinstance(e, ir.App):
            sym = self.spec.symbol_map[e.symbol]
            args = [self.term(a, env, var) for a in e.args]
            if all(isinstance(a, int) for a in args):
                if not sym.mutable:
                    return _static(args) in self.inst.interp[sym.name]
                return Bit(self.layout.slots[sym.name].offset(_static(args)), var)
            index = self._index(sym, args)
            if not sym.mutable:
                table = tuple(p in self.inst.interp[sym.name] for p in self.inst.points(sym))
                return Code(self.code.table(self.const(table), index))
            slot = self.layout.slots[sym.name]
            return Code(self.code.dyn_bit(var, f"{slot.base} + {index}"))
        raise AssertionError(f"not a formula: {e!r}")

    def _call(self, d: ir.Definition, args: list[GT], i: int, bound: dict[str, int],
              var: str) -> GF:
        # a definition is instantiated per value of its arguments: an argument
        # that is not a constant is split into cases over its sort
        if i == len(args):
            return self.formula(d.body, bound, var)
        p = d.params[i]
        a = args[i]
        if isinstance(a, int):
            return self._call(d, args, i + 1, {**bound, p.name: a}, var)
        return mk_or([mk_and([self.compare("=", a, v),
                              self._call(d, args, i + 1, {**bound, p.name: v}, var)])
                      for v in self.inst.domain(p.sort)])

    def _index(self, sym: ir.Symbol, args: list[GT]) -> str:
        slot = self.layout.slots.get(sym.name)
        strides = slot.strides if slot else point_strides(self.inst, sym)
        terms = []
        for a, s, p in zip(args, strides, sym.params):
            c = self.index_code(a, int(p.option))
            terms.append(c if s == 1 else f"{s} * {c}")
        idx = " + ".join(terms) or "0"
        if slot and slot.width != 1:
            idx = f"{slot.width} * ({idx})"
        return f"({idx})"

    def term(self, e: ir.Expr, env: dict[str, int], var: str) -> GT:
        if isinstance(e, ir.Var):
            return env[e.name]
        if isinstance(e, ir.NoneLit):
            return -1
        if isinstance(e, ir.App):
            sym = self.spec.symbol_map[e.symbol]
            args = [self.term(a, env, var) for a in e.args]
            if all(isinstance(a, int) for a in args):
                if not sym.mutable:
                    val = self.inst.interp[sym.name]
                    return val[_static(args)] if isinstance(val, dict) else val
                slot = self.layout.slots[sym.name]
                return Field(slot.offset(_static(args)), slot.mask, slot.bias, var)
            index = self._index(sym, args)
            if not sym.mutable:
                table = tuple(self.inst.interp[sym.name][p] for p in self.inst.points(sym))
                return TCode(self.code.table(self.const(table), index))
            slot = self.layout.slots[sym.name]
            raw = self.code.dyn_field(var, f"{slot.base} + {index}", slot.mask, slot.width)
            return TCode(f"({raw} - {slot.bias})" if slot.bias else raw)
        raise AssertionError(f"not a term: {e!r}")

    def compare(self, op: str, a: GT, b: GT) -> GF:
        if isinstance(a, int) and isinstance(b, int):
            return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b}[op]
        pyop = {"=": "==", "!=": "!=", "<": "<", "<=": "<="}[op]
        # a stored field against a constant: compare the masked bits in place
        if isinstance(a, Field) and isinstance(b, int):
            return Code(self.code.field_cmp(a.var, a.off, a.mask, pyop, b + a.bias))
        if isinstance(b, Field) and isinstance(a, int):
            return Code(self.code.field_cmp(b.var, b.off, b.mask, _flip(pyop), a + b.bias))
        return Code(f"{self.value_code(a)} {pyop} {self.value_code(b)}")


# ---- statements -------------------------------------------------------------
# Guards nest (`if g:` around the rest of the path) up to this indentation;
# deeper ones abandon the path instead (CPython allows 100 levels).
GUARD_NESTING = 24


class Emitter:
    """Statements to lines of generated code, linear in the statements.

    Where nothing follows on its path, a `require` nests the rest of the
    path (the common case: no loop, no copy); deeper than GUARD_NESTING, or
    where code follows (inside an if's branch), it is a guard that abandons
    the path: `break` out of the ground action's once-loop, `continue` to a
    havoc's next outcome. An `if` copies the rest of its block into both
    branches only when that rest holds no further `if` (or must run in a
    branch's havoc loop); otherwise both branches end in one join state and
    the block goes on once. So the code grows linearly with the spec."""

    _JOIN = "\0join"   # a placeholder line: the copy into an if's join state

    def __init__(self, g: Grounder) -> None:
        self.g = g
        self.lines: list[str] = []
        self.fresh = 0
        self.broke = False     # a guard emitted `break`: the body needs its once-loop

    def name(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def nested(self, depth: int, stmts: tuple[ir.Stmt, ...], env: dict[str, int], cur: str,
               finish: Callable[[str, int], None], skip: str, tail: bool = False) -> None:
        """`block` as an indented block at `depth`; a branch that grounds to
        nothing (a require false for these parameters) still needs a statement."""
        n = len(self.lines)
        self.block(stmts, env, cur, depth, finish, skip, tail)
        if len(self.lines) == n:
            self.line(depth, "pass")

    def body(self, stmts: tuple[ir.Stmt, ...], env: dict[str, int], depth: int,
             finish: Callable[[str, int], None]) -> None:
        """A whole body from state `s` at `depth`, in a once-loop if a guard
        needs to `break` out of it."""
        start, broke = len(self.lines), self.broke
        self.broke = False
        self.block(stmts, env, "s", depth + 1, finish, "break", tail=True)
        if self.broke:
            self.lines.insert(start, "    " * depth + "for once in range(1):")
        else:   # no guard breaks: the loop is not needed
            self.lines[start:] = [ln[4:] for ln in self.lines[start:]]
        self.broke = broke

    def _skip(self, depth: int, skip: str) -> None:
        self.line(depth, skip)
        if skip == "break":
            self.broke = True

    def block(self, stmts: tuple[ir.Stmt, ...], env: dict[str, int], cur: str, depth: int,
              finish: Callable[[str, int], None], skip: str, tail: bool = False) -> None:
        """Emit stmts from state variable `cur`; `finish(cur, depth)` emits
        the successor at the end of each path; `skip` abandons a path.
        `tail`: no code follows this block's on its path, so a guard may
        nest the rest (up to GUARD_NESTING levels) and a false one may just
        end it."""
        todo = list(stmts)
        i = 0
        while i < len(todo):
            st = todo[i]
            i += 1
            checkpoint("generating code")
            if isinstance(st, ir.Require):
                # consecutive requires with no update between them test one state
                conds = [st.cond]
                while i < len(todo) and isinstance(todo[i], ir.Require):
                    conds.append(todo[i].cond)   # type: ignore[union-attr]
                    i += 1
                g = mk_and([self.g.formula(c, env, cur) for c in conds])
                if g is False:
                    if not tail:
                        self._skip(depth, skip)
                    return
                if g is True:
                    continue
                if tail and depth < GUARD_NESTING:
                    rest = tuple(todo[i:])
                    self.line(depth, f"if {self.g.emit(g, top=True)}:")
                    self.nested(depth + 1, rest, env, cur, finish, skip, tail=True)
                    return
                self.line(depth, f"if not ({self.g.emit(g, top=True)}):")
                self._skip(depth + 1, skip)
                continue
            if isinstance(st, ir.If):
                g = self.g.formula(st.cond, env, cur)
                if isinstance(g, bool):
                    todo[i:i] = list(st.then if g else st.els)
                    continue
                rest = tuple(todo[i:])
                if has_havoc(st.then) or has_havoc(st.els) or \
                        not any(isinstance(s, ir.If) for s in rest):
                    # copy the rest into both branches: it must run inside a
                    # branch's havoc loop, or it holds no if (copied once per
                    # block, so the code stays linear)
                    self.line(depth, f"if {self.g.emit(g, top=True)}:")
                    self.nested(depth + 1, st.then + rest, env, cur, finish, skip, tail)
                    self.line(depth, "else:")
                    self.nested(depth + 1, st.els + rest, env, cur, finish, skip, tail)
                    return
                cur = self._join(st, g, env, cur, depth, skip)
                continue
            if isinstance(st, ir.Assign):
                cur = self.assign(st, env, cur, depth)
                continue
            if isinstance(st, ir.Havoc):
                cur, depth = self.havoc(st, env, cur, depth)
                skip = "continue"   # a failed guard tries the havoc's next outcome
                continue
            raise AssertionError(st)
        finish(cur, depth)

    def _join(self, st: ir.If, g: GF, env: dict[str, int], cur: str, depth: int,
              skip: str) -> str:
        """Both branches of an if, each ending in a copy to one join state;
        the state to go on from (`cur` itself when neither branch updates)."""
        ends: list[str] = []

        def end(c: str, d: int) -> None:
            ends.append(c)
            self.line(d, self._JOIN + c)

        start = len(self.lines)
        self.line(depth, f"if {self.g.emit(g, top=True)}:")
        self.nested(depth + 1, st.then, env, cur, end, skip)
        self.line(depth, "else:")
        self.nested(depth + 1, st.els, env, cur, end, skip)
        join = cur if all(c == cur for c in ends) else self.name("t")
        out: list[str] = []
        for ln in self.lines[start:]:
            body = ln.lstrip(" ")
            if not body.startswith(self._JOIN):
                out.append(ln)
                continue
            indent = ln[:len(ln) - len(body)]
            src = body[len(self._JOIN):]
            copy = self.g.code.copy(src, join) if join != src else []
            out.extend(indent + c for c in copy)
            if not copy and (not out or out[-1].rstrip().endswith(":")):
                out.append(indent + "pass")
        self.lines[start:] = out
        return join

    def assign(self, st: ir.Assign, env: dict[str, int], cur: str, depth: int) -> str:
        sym = self.g.spec.symbol_map[st.symbol]
        slot = self.g.layout.slots[st.symbol]
        clear = 0
        setm = 0
        parts: list[tuple[int, int, str]] = []
        dynamic: list[tuple[str, int, str]] = []
        names = [b.name for b in st.bound]
        for vals in itertools.product(*(self.g.inst.domain(b.sort) for b in st.bound)):
            checkpoint("grounding")
            local = {**env, **dict(zip(names, vals))}
            args = [self.g.term(a, local, cur) for a in st.args]
            static = all(isinstance(a, int) for a in args)
            if sym.is_relation:
                rhs = self.g.formula(st.rhs, local, cur)
                if static:
                    off = slot.offset(_static(args))
                    bit = 1 << off
                    if rhs is True:
                        clear |= bit
                        setm |= bit
                    elif rhs is False:
                        clear |= bit
                    elif rhs == Bit(off, cur):
                        continue
                    else:
                        clear |= bit
                        parts.append((off, 1, f"1 if {self.g.emit(rhs)} else 0"))
                else:
                    at = f"{slot.base} + {self.g._index(sym, args)}"
                    dynamic.append((at, 1, f"1 if {self.g.emit(rhs)} else 0"))
            else:
                rhs_t = self.g.term(st.rhs, local, cur)
                if static:
                    off = slot.offset(_static(args))
                    fmask = slot.mask << off
                    if isinstance(rhs_t, int):
                        clear |= fmask
                        setm |= (rhs_t + slot.bias) << off
                    elif isinstance(rhs_t, Field) and rhs_t.var == cur and rhs_t.off == off:
                        continue
                    else:
                        clear |= fmask
                        parts.append((off, slot.width, self.g.raw_for(rhs_t, slot)))
                else:
                    at = f"{slot.base} + {self.g._index(sym, args)}"
                    dynamic.append((at, slot.mask, self.g.raw_for(rhs_t, slot)))
        new = self.name("t")
        for text in self.g.code.update(cur, new, clear, setm, parts, dynamic):
            self.line(depth, text)
        return new

    def havoc(self, st: ir.Havoc, env: dict[str, int], cur: str, depth: int) -> tuple[str, int]:
        sym = self.g.spec.symbol_map[st.symbol]
        slot = self.g.layout.slots[st.symbol]
        offsets = set()
        names = [b.name for b in st.bound]
        for vals in itertools.product(*(self.g.inst.domain(b.sort) for b in st.bound)):
            checkpoint("grounding")
            local = {**env, **dict(zip(names, vals))}
            args = [self.g.term(a, local, cur) for a in st.args]
            if not all(isinstance(a, int) for a in args):
                raise PaxError(f"the explicit engine cannot havoc '{sym.name}' at a point that "
                               "depends on the state", st.span,
                               "havoc arguments that are parameters or bound variables")
            offsets.add(slot.offset(_static(args)))
        offsets_l = sorted(offsets)
        total = slot.nvalues ** len(offsets_l)
        if total > MAX_HAVOC_CHOICES:
            raise PaxError(f"havoc of '{sym.name}' has {total} outcomes (at most "
                           f"{MAX_HAVOC_CHOICES} are supported)", st.span)
        clear = 0
        for off in offsets_l:
            clear |= slot.mask << off
        choices = tuple(sum(raw << off for raw, off in zip(combo, offsets_l))
                        for combo in itertools.product(range(slot.nvalues), repeat=len(offsets_l)))
        h = self.name("h")
        new = self.name("t")
        table = self.g.const(self.g.code.choices(choices))
        for text in self.g.code.havoc_loop(cur, new, h, clear, table):
            self.line(depth, text)
        return new, depth + 1


def has_havoc(stmts: tuple[ir.Stmt, ...]) -> bool:
    """Whether a block can have several successors (a havoc in it)."""
    for s in stmts:
        if isinstance(s, ir.Havoc):
            return True
        if isinstance(s, ir.If) and (has_havoc(s.then) or has_havoc(s.els)):
            return True
    return False


@dataclass(frozen=True)
class GroundAction:
    """An action with one tuple of argument values (element indices)."""
    action: ir.Action
    args: tuple[int, ...]


def ground_actions(inst: Instance) -> list[GroundAction]:
    """Every action over every parameter tuple, in spec order: a ground
    action's id is its index here, in every engine."""
    return [GroundAction(action, tuple(args)) for action in inst.spec.actions
            for args in itertools.product(*(inst.domain(p.sort) for p in action.params))]


def emit_successors(em: Emitter, inst: Instance) -> list[GroundAction]:
    """The body of a successor function, at depth 1: every ground action in
    the order of ground_actions(), which it returns."""
    out = ground_actions(inst)
    code = em.g.code
    nondet_of = {a.name: has_havoc(a.body) for a in inst.spec.actions}
    for gid, ga in enumerate(out):
        nondet = nondet_of[ga.action.name]
        env = {p.name: a for p, a in zip(ga.action.params, ga.args)}
        if nondet:
            for text in code.nondet_start(gid):
                em.line(1, text)

        def finish(cur: str, depth: int, gid: int = gid, nondet: bool = nondet) -> None:
            for text in code.successor(cur, gid, nondet):
                em.line(depth, text)
        em.body(ga.action.body, env, 1, finish)
    return out


def run_generated(src: str, name: str, consts: dict[str, object]) -> Callable[..., Any]:
    """Execute generated Python source and return its function `name`.

    The one place where generated code runs: the source holds only integer
    literals and names made by this module, and it sees no builtins but
    `set`, `bool` and `range` and the constant tables it was generated with."""
    scope: dict[str, object] = {"__builtins__": {"set": set, "bool": bool, "range": range}}
    scope.update(consts)
    exec(compile(src, "<paxcheck-generated>", "exec"), scope)
    fn = scope[name]
    assert callable(fn)
    return fn
