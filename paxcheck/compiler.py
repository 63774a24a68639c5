"""Grounding and code generation for the explicit engine.

Per instance, every action is grounded over its parameter tuples once:
quantifiers are expanded, immutable symbols replaced by their values, and
what remains is simplified (a conjunction of state bits becomes one mask
test) and turned into Python source over packed states (see layout.py).
The generated code contains only integer literals and names made here:
nothing from the spec text reaches `exec`."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Union

from . import ir
from .errors import PaxError
from .instance import Instance
from .layout import Layout, Slot, point_strides
from .walk import assigned_whole

_MAX_HAVOC_CHOICES = 1 << 16


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
    arg: "GF"


@dataclass(frozen=True)
class GAnd:
    args: tuple["GF", ...]


@dataclass(frozen=True)
class GOr:
    args: tuple["GF", ...]


GF = Union[bool, Bit, Code, GNot, GAnd, GOr]


@dataclass(frozen=True)
class Field:
    """A function value stored at a fixed place: value = raw - bias."""
    off: int
    mask: int
    bias: int
    var: str

    def raw(self) -> str:
        return f"(({self.var} >> {self.off}) & {self.mask})"


@dataclass(frozen=True)
class TCode:
    src: str  # Python expression giving the (semantic) value


GT = Union[int, Field, TCode]


def _value_code(t: GT) -> str:
    if isinstance(t, int):
        return str(t)
    if isinstance(t, Field):
        return f"({t.raw()} - {t.bias})" if t.bias else t.raw()
    return t.src


def _index_code(t: GT, opt: int) -> str:
    """Code for the index of a term at a parameter position."""
    if isinstance(t, Field):
        d = opt - t.bias
        return t.raw() if d == 0 else f"({t.raw()} + {d})"
    if isinstance(t, int):
        return str(t + opt)
    return f"({t.src} + {opt})" if opt else t.src


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
def emit(f: GF) -> str:
    if f is True:
        return "True"
    if f is False:
        return "False"
    if isinstance(f, Bit):
        return f"({f.var} & {hex(1 << f.pos)})"
    if isinstance(f, Code):
        return f.src
    if isinstance(f, GNot):
        if isinstance(f.arg, Bit):
            return f"not ({f.arg.var} & {hex(1 << f.arg.pos)})"
        return f"not ({emit(f.arg)})"
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
            rest.append(f"({emit(a)})")
    parts: list[str] = []
    for var, m in pos.items():
        single = m & (m - 1) == 0
        if conj:
            parts.append(f"({var} & {hex(m)})" if single else f"({var} & {hex(m)}) == {hex(m)}")
        else:
            parts.append(f"({var} & {hex(m)})")
    for var, m in neg.items():
        single = m & (m - 1) == 0
        if conj:
            parts.append(f"not ({var} & {hex(m)})")
        else:
            parts.append(f"not ({var} & {hex(m)})" if single else f"({var} & {hex(m)}) != {hex(m)}")
    parts.extend(rest)
    return (" and " if conj else " or ").join(parts)


# ---- grounding ---------------------------------------------------------------
class Grounder:
    def __init__(self, inst: Instance, layout: Layout) -> None:
        self.inst = inst
        self.spec = inst.spec
        self.layout = layout
        self.consts: dict[str, object] = {}

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
            out = []
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
            a, b = self.formula(e.left, env, var), self.formula(e.right, env, var)
            if isinstance(a, bool) and isinstance(b, bool):
                return a == b
            if isinstance(a, bool):
                return b if a else mk_not(b)
            if isinstance(b, bool):
                return a if b else mk_not(a)
            return Code(f"(not ({emit(a)})) == (not ({emit(b)}))")
        if isinstance(e, ir.Quant):
            names = [b.name for b in e.binders]
            parts = []
            forall = e.kind == "forall"
            for vals in itertools.product(*(self.inst.domain(b.sort) for b in e.binders)):
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
                    return tuple(args) in self.inst.interp[sym.name]
                return Bit(self.layout.slots[sym.name].offset(tuple(args)), var)
            index = self._index(sym, args)
            if not sym.mutable:
                table = tuple(p in self.inst.interp[sym.name] for p in self.inst.points(sym))
                return Code(f"{self.const(table)}[{index}]")
            slot = self.layout.slots[sym.name]
            return Code(f"(({var} >> ({slot.base} + {index})) & 1)")
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
            c = _index_code(a, int(p.option))
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
                    return val[tuple(args)] if isinstance(val, dict) else val
                slot = self.layout.slots[sym.name]
                return Field(slot.offset(tuple(args)), slot.mask, slot.bias, var)
            index = self._index(sym, args)
            if not sym.mutable:
                table = tuple(self.inst.interp[sym.name][p] for p in self.inst.points(sym))
                return TCode(f"{self.const(table)}[{index}]")
            slot = self.layout.slots[sym.name]
            raw = f"(({var} >> ({slot.base} + {index})) & {slot.mask})"
            return TCode(f"({raw} - {slot.bias})" if slot.bias else raw)
        raise AssertionError(f"not a term: {e!r}")

    def compare(self, op: str, a: GT, b: GT) -> GF:
        if isinstance(a, int) and isinstance(b, int):
            return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b}[op]
        pyop = {"=": "==", "!=": "!=", "<": "<", "<=": "<="}[op]
        # a stored field against a constant: compare the masked bits in place
        if isinstance(a, Field) and isinstance(b, int):
            return Code(f"({a.var} & {hex(a.mask << a.off)}) {pyop} {hex((b + a.bias) << a.off)}")
        if isinstance(b, Field) and isinstance(a, int):
            return Code(f"{hex((a + b.bias) << b.off)} {pyop} ({b.var} & {hex(b.mask << b.off)})")
        return Code(f"{_value_code(a)} {pyop} {_value_code(b)}")


# ---- statements -------------------------------------------------------------
class _Emitter:
    def __init__(self, g: Grounder) -> None:
        self.g = g
        self.lines: list[str] = []
        self.fresh = 0

    def name(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def nested(self, depth: int, body: Callable[[], None]) -> None:
        """Emit an indented block; a branch that grounds to nothing (e.g. a
        require that is false for these parameters) still needs a statement."""
        n = len(self.lines)
        body()
        if len(self.lines) == n:
            self.line(depth, "pass")

    def block(self, stmts: tuple[ir.Stmt, ...], env: dict[str, int], cur: str, depth: int,
              finish: Callable[[str, int], None]) -> None:
        if not stmts:
            finish(cur, depth)
            return
        st, rest = stmts[0], stmts[1:]
        if isinstance(st, ir.Require):
            # consecutive requires with no update between them test one state
            conds = [st.cond]
            while rest and isinstance(rest[0], ir.Require):
                conds.append(rest[0].cond)
                rest = rest[1:]
            g = mk_and([self.g.formula(c, env, cur) for c in conds])
            if g is False:
                return
            if g is True:
                self.block(rest, env, cur, depth, finish)
                return
            self.line(depth, f"if {emit(g)}:")
            self.nested(depth + 1, lambda: self.block(rest, env, cur, depth + 1, finish))
            return
        if isinstance(st, ir.If):
            g = self.g.formula(st.cond, env, cur)
            if isinstance(g, bool):
                self.block((st.then if g else st.els) + rest, env, cur, depth, finish)
                return
            self.line(depth, f"if {emit(g)}:")
            self.nested(depth + 1, lambda: self.block(st.then + rest, env, cur, depth + 1, finish))
            self.line(depth, "else:")
            self.nested(depth + 1, lambda: self.block(st.els + rest, env, cur, depth + 1, finish))
            return
        if isinstance(st, ir.Assign):
            self.block(rest, env, self.assign(st, env, cur, depth), depth, finish)
            return
        if isinstance(st, ir.Havoc):
            new, depth = self.havoc(st, env, cur, depth)
            self.block(rest, env, new, depth, finish)
            return
        raise AssertionError(st)

    def assign(self, st: ir.Assign, env: dict[str, int], cur: str, depth: int) -> str:
        sym = self.g.spec.symbol_map[st.symbol]
        slot = self.g.layout.slots[st.symbol]
        clear = 0
        setm = 0
        parts: list[str] = []
        dynamic: list[str] = []
        names = [b.name for b in st.bound]
        for vals in itertools.product(*(self.g.inst.domain(b.sort) for b in st.bound)):
            local = {**env, **dict(zip(names, vals))}
            args = [self.g.term(a, local, cur) for a in st.args]
            static = all(isinstance(a, int) for a in args)
            if sym.is_relation:
                rhs = self.g.formula(st.rhs, local, cur)
                if static:
                    off = slot.offset(tuple(args))
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
                        parts.append(f"({hex(bit)} if {emit(rhs)} else 0)")
                else:
                    off = f"({slot.base} + {self.g._index(sym, args)})"
                    dynamic.append(f"(NEW & ~(1 << {off})) | ((1 << {off}) if {emit(rhs)} else 0)")
            else:
                rhs_t = self.g.term(st.rhs, local, cur)
                if static:
                    off = slot.offset(tuple(args))
                    fmask = slot.mask << off
                    if isinstance(rhs_t, int):
                        clear |= fmask
                        setm |= (rhs_t + slot.bias) << off
                    elif isinstance(rhs_t, Field) and rhs_t.var == cur and rhs_t.off == off:
                        continue
                    else:
                        clear |= fmask
                        parts.append(f"(({_raw_for(rhs_t, slot)}) << {off})")
                else:
                    off = f"({slot.base} + {self.g._index(sym, args)})"
                    dynamic.append(f"(NEW & ~({slot.mask} << {off})) | "
                                   f"(({_raw_for(rhs_t, slot)}) << {off})")
        new = self.name("t")
        expr = f"({cur} & {hex(~clear)})" if clear else cur
        if setm:
            expr += f" | {hex(setm)}"
        for p in parts:
            expr += f" | {p}"
        self.line(depth, f"{new} = {expr}")
        for d in dynamic:
            self.line(depth, f"{new} = {d.replace('NEW', new)}")
        return new

    def havoc(self, st: ir.Havoc, env: dict[str, int], cur: str, depth: int) -> tuple[str, int]:
        sym = self.g.spec.symbol_map[st.symbol]
        slot = self.g.layout.slots[st.symbol]
        offsets = set()
        names = [b.name for b in st.bound]
        for vals in itertools.product(*(self.g.inst.domain(b.sort) for b in st.bound)):
            local = {**env, **dict(zip(names, vals))}
            args = [self.g.term(a, local, cur) for a in st.args]
            if not all(isinstance(a, int) for a in args):
                raise PaxError(f"the explicit engine cannot havoc '{sym.name}' at a point that "
                               "depends on the state", st.span,
                               "havoc arguments that are parameters or bound variables")
            offsets.add(slot.offset(tuple(args)))
        offsets_l = sorted(offsets)
        total = slot.nvalues ** len(offsets_l)
        if total > _MAX_HAVOC_CHOICES:
            raise PaxError(f"havoc of '{sym.name}' has {total} outcomes (at most "
                           f"{_MAX_HAVOC_CHOICES} are supported)", st.span)
        clear = 0
        for off in offsets_l:
            clear |= slot.mask << off
        choices = tuple(sum(raw << off for raw, off in zip(combo, offsets_l))
                        for combo in itertools.product(range(slot.nvalues), repeat=len(offsets_l)))
        h = self.name("h")
        new = self.name("t")
        self.line(depth, f"for {h} in {self.g.const(choices)}:")
        self.line(depth + 1, f"{new} = ({cur} & {hex(~clear)}) | {h}")
        return new, depth + 1


def _raw_for(t: GT, slot: Slot) -> str:
    """Raw bits to store value `t` in `slot`."""
    if isinstance(t, Field):
        d = slot.bias - t.bias
        return t.raw() if d == 0 else f"{t.raw()} + {d}"
    return f"{_value_code(t)} + {slot.bias}" if slot.bias else _value_code(t)


def _has_havoc(stmts: tuple[ir.Stmt, ...]) -> bool:
    for s in stmts:
        if isinstance(s, ir.Havoc):
            return True
        if isinstance(s, ir.If) and (_has_havoc(s.then) or _has_havoc(s.els)):
            return True
    return False


# ---- the compiled instance -------------------------------------------------
@dataclass(frozen=True)
class GroundAction:
    action: ir.Action
    args: tuple[int, ...]


class CompiledInstance:
    """Everything the explicit engine runs for one instance."""

    def __init__(self, inst: Instance, properties: tuple[str, ...]) -> None:
        self.inst = inst
        self.spec = inst.spec
        self.layout = Layout(inst)
        self.grounder = Grounder(inst, self.layout)
        self.ground_actions: list[GroundAction] = []
        self.source_lines: list[str] = []
        self.successors: Callable[[int], list[tuple[int, int]]] = self._compile_successors()
        self.initial_states: list[int] = self._compile_init()
        self.invariants: list[tuple[ir.Property, Callable[[int], bool]]] = []
        self.transition_props: list[tuple[ir.Property, Callable[[int, int], bool]]] = []
        for name in properties:
            prop = self.spec.property_map[name]
            if prop.two_state:
                self.transition_props.append((prop, self._compile_pred(prop.formula, "p, s")))
            else:
                self.invariants.append((prop, self._compile_pred(prop.formula, "s")))

    def _exec(self, src: str, name: str):
        scope: dict[str, object] = {"__builtins__": {"set": set, "bool": bool}}
        scope.update(self.grounder.consts)
        self.source_lines.append(src)
        exec(compile(src, "<paxcheck-generated>", "exec"), scope)
        return scope[name]

    def _compile_successors(self):
        em = _Emitter(self.grounder)
        em.line(0, "def _succ(s):")
        em.line(1, "out = []")
        em.line(1, "app = out.append")
        for action in self.spec.actions:
            nondet = _has_havoc(action.body)
            for args in itertools.product(*(self.inst.domain(p.sort) for p in action.params)):
                gid = len(self.ground_actions)
                self.ground_actions.append(GroundAction(action, tuple(args)))
                env = {p.name: a for p, a in zip(action.params, args)}
                if nondet:
                    em.line(1, f"seen{gid} = set()")

                def finish(cur: str, depth: int, gid: int = gid, nondet: bool = nondet) -> None:
                    if nondet:
                        em.line(depth, f"if {cur} not in seen{gid}:")
                        em.line(depth + 1, f"seen{gid}.add({cur})")
                        em.line(depth + 1, f"app(({gid}, {cur}))")
                    else:
                        em.line(depth, f"app(({gid}, {cur}))")
                em.block(action.body, env, "s", 1, finish)
        em.line(1, "return out")
        return self._exec("\n".join(em.lines) + "\n", "_succ")

    def _compile_init(self) -> list[int]:
        em = _Emitter(self.grounder)
        em.line(0, "def _init(s, out):")
        em.line(1, "pass")
        em.block(self.spec.init, {}, "s", 1, lambda cur, depth: em.line(depth, f"out.add({cur})"))
        fn = self._exec("\n".join(em.lines) + "\n", "_init")
        fixed = assigned_whole(self.spec, self.spec.init)
        # start states: symbols init overwrites start at 0; the rest take every value
        per_symbol: list[list[int]] = []
        for name, slot in self.layout.slots.items():
            if name in fixed:
                continue
            offs = [slot.offset(p) for p in self.layout.points[name]]
            combos = slot.nvalues ** len(offs)
            if combos > _MAX_HAVOC_CHOICES:
                raise PaxError(f"'init' leaves '{name}' open, which has {combos} start values; "
                               f"assign it in init", slot.symbol.span)
            per_symbol.append([sum(r << o for r, o in zip(raws, offs))
                               for raws in itertools.product(range(slot.nvalues), repeat=len(offs))])
        out: set[int] = set()
        for parts in itertools.product(*per_symbol):
            fn(sum(parts), out)
        return sorted(out)

    def _compile_pred(self, formula: ir.Expr, params: str):
        g = self.grounder.formula(formula, {}, "s")
        src = f"def _pred({params}):\n    return bool({emit(g)})\n"
        return self._exec(src, "_pred")

    def label(self, gid: int) -> str:
        ga = self.ground_actions[gid]
        args = ", ".join(f"{p.name}={self.inst.name_of(p.sort, a)}"
                         for p, a in zip(ga.action.params, ga.args))
        return f"{ga.action.name}({args})"
