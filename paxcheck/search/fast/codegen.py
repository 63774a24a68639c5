"""Machine-code kernels for one instance, generated from the same grounding
as the Python engine (ground/grounder.py); only the rendering of state reads and
writes differs (WordCode), and llvm.py compiles the result.

A state is a row of int64 words: word k holds bits 64k..64k+63 of the
packed state of layout.py. Words are signed so that constants, shifts and
comparisons are all plain int64 operations.

Like compiler.py, the source holds only integer literals and names made
here: nothing from the spec text reaches it."""
from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from paxcheck.config.instance import Instance
from paxcheck.errors import PaxError
from paxcheck.ground.grounder import (
    MAX_HAVOC_CHOICES,
    Emitter,
    GroundAction,
    Grounder,
    StateCode,
    emit_successors,
    has_havoc,
)
from paxcheck.ground.layout import Layout
from paxcheck.lang import ir
from paxcheck.search.fast.canon import SIGNATURES as CANON_SIGNATURES
from paxcheck.search.fast.canon import canon_source
from paxcheck.search.fast.llvm import INT, MAT, ROW, Compiled, Table, compile_cached

if TYPE_CHECKING:
    from paxcheck.config.symmetry import Symmetry
    from paxcheck.ground.temporal import Atom

_M64 = (1 << 64) - 1


def _lit(word: int) -> str:
    """A 64-bit pattern as an int64 literal."""
    word &= _M64
    return str(word - (1 << 64) if word >> 63 else word)


def _words(mask: int) -> list[tuple[int, int]]:
    out = []
    k = 0
    while mask >> (64 * k):
        m = (mask >> (64 * k)) & _M64
        if m:
            out.append((k, m))
        k += 1
    return out


@dataclass(frozen=True)
class WordTable:
    """Havoc choices: one row of words per outcome."""
    rows: tuple[tuple[int, ...], ...]


def _balanced(parts: list[str], op: str, flat: int = 8) -> str:
    """parts joined by a binary operator as a balanced tree: `a & b & c`
    parses as a chain nested to the left, as deep as it is long, and a
    grounded quantifier can have thousands of parts (llvm.py, like CPython's
    compiler, walks expressions recursively)."""
    if len(parts) <= flat:
        return op.join(f"({p})" for p in parts)
    mid = len(parts) // 2
    return f"({_balanced(parts[:mid], op, flat)}){op}({_balanced(parts[mid:], op, flat)})"


class WordCode(StateCode):
    def __init__(self, nwords: int) -> None:
        self.nwords = nwords

    def bits(self, var: str, mask: int, all_set: bool) -> str:
        if all_set:
            terms = [f"({var}[{k}] & {_lit(m)}) == {_lit(m)}" if m & (m - 1)
                     else f"({var}[{k}] & {_lit(m)}) != 0" for k, m in _words(mask)]
            return "(" + " & ".join(f"({t})" for t in terms) + ")"
        return "(" + " | ".join(f"(({var}[{k}] & {_lit(m)}) != 0)" for k, m in _words(mask)) + ")"

    def no_bits(self, var: str, mask: int, none_set: bool) -> str:
        if none_set:
            return "(" + " & ".join(f"(({var}[{k}] & {_lit(m)}) == 0)"
                                    for k, m in _words(mask)) + ")"
        return "(" + " | ".join(f"(({var}[{k}] & {_lit(m)}) != {_lit(m)})"
                                for k, m in _words(mask)) + ")"

    # Connectives are bitwise on bools: a grounded quantifier is hundreds of
    # cheap, side-effect-free tests, and branching on each costs more than
    # it saves. Only a guard's top conjunction short-circuits.
    def conj(self, parts: list[str], top: bool) -> str:
        if top:   # `and` is one flat BoolOp however many parts
            return " and ".join(f"({p})" for p in parts)
        return _balanced(parts, " & ")

    def disj(self, parts: list[str]) -> str:
        return _balanced(parts, " | ")

    def neg(self, arg: str) -> str:
        return f"(({arg}) ^ True)"

    def field(self, var: str, off: int, mask: int) -> str:
        k, b = divmod(off, 64)
        if b + mask.bit_length() <= 64:
            return f"(({var}[{k}] >> {b}) & {mask})" if b else f"({var}[{k}] & {mask})"
        return f"getf({var}, {off}, {mask}, {mask.bit_length()})"

    def field_cmp(self, var: str, off: int, mask: int, op: str, raw: int) -> str:
        # compare the shifted-down value: a masked word may be negative
        return f"{self.field(var, off, mask)} {op} {raw}"

    def dyn_field(self, var: str, off: str, mask: int, width: int) -> str:
        return f"getf({var}, {off}, {mask}, {width})"

    def dyn_bit(self, var: str, off: str) -> str:
        return f"(getf({var}, {off}, 1, 1) != 0)"

    def update(self, cur, new, clear, setm, parts, dynamic):
        out = [f"{new} = tmp[{new[1:]}]"]
        for k in range(self.nwords):
            c = (clear >> (64 * k)) & _M64
            s = (setm >> (64 * k)) & _M64
            expr = f"{cur}[{k}]"
            if c:
                expr = f"({expr} & {_lit(~c)})"
            if s:
                expr = f"{expr} | {_lit(s)}"
            out.append(f"{new}[{k}] = {expr}")
        for off, width, raw in parts:
            k, b = divmod(off, 64)
            out.append(f"{new}[{k}] |= ({raw}) << {b}")
            if b + width > 64:
                out.append(f"{new}[{k + 1}] |= ({raw}) >> {64 - b}")
        for off, mask, raw in dynamic:
            out.append(f"setf({new}, {off}, {mask}, {mask.bit_length()}, {raw})")
        return out

    def havoc_loop(self, cur, new, h, clear, choices):
        out = [f"for {h} in range({choices}.shape[0]):", f"    {new} = tmp[{new[1:]}]"]
        for k in range(self.nwords):
            c = (clear >> (64 * k)) & _M64
            expr = f"({cur}[{k}] & {_lit(~c)})" if c else f"{cur}[{k}]"
            out.append(f"    {new}[{k}] = {expr} | {choices}[{h}, {k}]")
        return out

    def copy(self, cur: str, new: str) -> list[str]:
        return [f"{new} = tmp[{new[1:]}]"] + [f"{new}[{k}] = {cur}[{k}]" for k in range(self.nwords)]

    def choices(self, values):
        return WordTable(tuple(tuple((v >> (64 * k)) & _M64 for k in range(self.nwords))
                               for v in values))

    def nondet_start(self, gid: int) -> list[str]:
        return [f"st{gid} = n"]

    def successor(self, cur: str, gid: int, nondet: bool) -> list[str]:
        body = [f"for k in range({self.nwords}):", f"    out[n, k] = {cur}[k]",
                f"gids[n] = {gid}", "n += 1"]
        if nondet:
            return [f"if not seen_since(out, st{gid}, n, {cur}):"] + ["    " + b for b in body]
        return body


def _max_fanout(inst: Instance) -> int:
    """Most successors one state can have: one per ground action, times
    the havoc outcomes along its body."""
    def outcomes(stmts: tuple[ir.Stmt, ...]) -> int:
        n = 1
        for s in stmts:
            if isinstance(s, ir.Havoc):
                sym = inst.spec.symbol_map[s.symbol]
                points = 1
                for b in s.bound:
                    points *= len(inst.domain(b.sort))
                values = 2 if sym.is_relation else len(inst.domain(sym.value_sort))
                # compiler.py refuses a havoc with more outcomes than this
                n *= min(values ** points, MAX_HAVOC_CHOICES)
            elif isinstance(s, ir.If):
                n *= max(outcomes(s.then), outcomes(s.els))
        return n
    total = 0
    for a in inst.spec.actions:
        groundings = 1
        for p in a.params:
            groundings *= len(inst.domain(p.sort))
        total += groundings * (outcomes(a.body) if has_havoc(a.body) else 1)
    return total


# Helpers the generated functions call; same subset of Python (see llvm.py).
# Words are signed, so a read crossing a word boundary masks the low word's
# arithmetically shifted bits before joining the high word.
_HELPERS = """
def getf(s, off, mask, width):
    k = off >> 6
    b = off & 63
    if b + width > 64:
        low = (s[k] >> b) & ((1 << (64 - b)) - 1)
        return (low | (s[k + 1] << (64 - b))) & mask
    return (s[k] >> b) & mask


def setf(s, off, mask, width, raw):
    k = off >> 6
    b = off & 63
    s[k] = (s[k] & ~(mask << b)) | ((raw & mask) << b)
    if b + width > 64:
        hi = mask >> (64 - b)
        s[k + 1] = (s[k + 1] & ~hi) | ((raw >> (64 - b)) & hi)


def seen_since(out, start, n, row):
    for i in range(start, n):
        same = True
        for k in range(NWORDS):
            if out[i, k] != row[k]:
                same = False
                break
        if same:
            return True
    return False
"""

# Batch entry points: the driver calls these on slices of a frontier, from
# several threads at once (ctypes releases the GIL), each thread with its
# own out/tmp buffers.
_BATCH = """
def expand(states, lo, hi, out, gids, srcs, fan, tmp):
    n = 0
    for i in range(lo, hi):
        m = _succ(states[i], out, gids, n, tmp)
        fan[i - lo] = m - n
        for j in range(n, m):
            srcs[j] = i
        n = m
    return n


def invariants(states, lo, hi, res):
    for i in range(lo, hi):
        res[i] = _inv(states[i])


def observations(states, lo, hi, res):
    for i in range(lo, hi):
        res[i] = _obs(states[i])


def transitions(states, out, srcs, lo, hi, res):
    for j in range(lo, hi):
        res[j] = _trans(states[srcs[j]], out[j])
"""

_SIGNATURES = {
    "getf": ((ROW, INT, INT, INT), "int"),
    "setf": ((ROW, INT, INT, INT, INT), "void"),
    "seen_since": ((MAT, INT, INT, ROW), "bool"),
    "_succ": ((ROW, MAT, ROW, INT, MAT), "int"),
    "_inv": ((ROW,), "int"),
    "_trans": ((ROW, ROW), "int"),
    "_obs": ((ROW,), "int"),
    "expand": ((MAT, INT, INT, MAT, ROW, ROW, ROW, MAT), "int"),
    "invariants": ((MAT, INT, INT, ROW), "void"),
    "observations": ((MAT, INT, INT, ROW), "void"),
    "transitions": ((MAT, MAT, ROW, INT, INT, ROW), "void"),
}


@dataclass
class Kernel:
    """Machine code for one instance: batch functions over int64 arrays."""
    nwords: int
    ntemps: int
    max_fanout: int
    ground_actions: list[GroundAction]
    invariant_names: tuple[str, ...]
    transition_names: tuple[str, ...]
    source: str
    compiled: Compiled
    symmetric: bool = False

    def __post_init__(self) -> None:
        p, i = ctypes.c_void_p, ctypes.c_int64
        f = self.compiled.function
        self._expand = f("expand", i, (p, i, i, p, p, p, p, p))
        self._invariants = f("invariants", None, (p, i, i, p))
        self._observations = f("observations", None, (p, i, i, p))
        self._transitions = f("transitions", None, (p, p, p, i, i, p))
        self._canon = f("canon_batch", None, (p, i, i, p, p)) if self.symmetric else None

    def expand(self, states: np.ndarray, lo: int, hi: int, out: np.ndarray, gids: np.ndarray,
               srcs: np.ndarray, fan: np.ndarray, tmp: np.ndarray) -> int:
        """Successors of states[lo:hi] into out/gids/srcs (source row), with
        fan[i - lo] successors of state i; returns how many. `out` needs
        room for (hi - lo) * max_fanout rows."""
        return self._expand(states.ctypes.data, lo, hi, out.ctypes.data, gids.ctypes.data,
                            srcs.ctypes.data, fan.ctypes.data, tmp.ctypes.data)

    def invariants(self, states: np.ndarray, lo: int, hi: int, res: np.ndarray) -> None:
        """res[i] = bit mask of the invariants states[i] violates."""
        self._invariants(states.ctypes.data, lo, hi, res.ctypes.data)

    def observations(self, states: np.ndarray, lo: int, hi: int, res: np.ndarray) -> None:
        """res[i] = bit mask of the observed atoms that hold in states[i]."""
        self._observations(states.ctypes.data, lo, hi, res.ctypes.data)

    def transitions(self, states: np.ndarray, out: np.ndarray, srcs: np.ndarray,
                    lo: int, hi: int, res: np.ndarray) -> None:
        """res[j] = bit mask of the transition properties the step
        states[srcs[j]] -> out[j] violates."""
        self._transitions(states.ctypes.data, out.ctypes.data, srcs.ctypes.data, lo, hi,
                          res.ctypes.data)

    def canon(self, rows: np.ndarray, lo: int, hi: int, scratch: np.ndarray) -> None:
        """rows[lo:hi] := their orbit representatives; scratch: (2, nwords)."""
        assert self._canon is not None
        self._canon(rows.ctypes.data, lo, hi, scratch[0].ctypes.data, scratch[1].ctypes.data)

    def buffers(self, batch: int) -> tuple[np.ndarray, ...]:
        """(out, gids, srcs, fan, tmp) for batches of up to `batch` states."""
        cap = batch * self.max_fanout
        return (np.zeros((cap, self.nwords), np.int64), np.zeros(cap, np.int64),
                np.zeros(cap, np.int64), np.zeros(batch, np.int64),
                np.zeros((self.ntemps, self.nwords), np.int64))


def generate(inst: Instance, properties: tuple[str, ...], layout: Layout | None = None,
             symmetry: Symmetry | None = None, observe: Sequence[Atom] = ()
             ) -> tuple[str, dict, dict[str, Table]]:
    """Source text of the kernel, facts about it, and its constant tables;
    with `symmetry`, also `canon_batch` (see canon.py); `observe`: the atoms
    `_obs` reports (at most 63, bit a set when atoms[a] holds)."""
    layout = layout or Layout(inst)
    nwords = max(1, (layout.bits + 63) // 64)
    g = Grounder(inst, layout, WordCode(nwords))
    em = Emitter(g)
    em.line(0, "def _succ(s, out, gids, n, tmp):")
    ground_actions = emit_successors(em, inst)
    em.line(1, "return n")
    succ_lines = em.lines
    ntemps = em.fresh + 1

    spec = inst.spec
    invs = [spec.property_map[p] for p in properties if not spec.property_map[p].two_state]
    trans = [spec.property_map[p] for p in properties if spec.property_map[p].two_state]
    if len(invs) > 63 or len(trans) > 63:
        raise PaxError(f"the fast engine checks at most 63 one-state and 63 two-state properties "
                       f"at once (here {len(invs)} and {len(trans)})",
                       expected="fewer --invariant names, or --engine python")
    pred_lines = ["def _inv(s):", "    m = 0"]
    for i, prop in enumerate(invs):
        pred_lines.append(f"    if not ({g.emit(g.formula(prop.checked, {}, 's'))}):")
        pred_lines.append(f"        m |= {1 << i}")
    pred_lines += ["    return m", "", "def _trans(p, s):", "    m = 0"]
    for i, prop in enumerate(trans):
        pred_lines.append(f"    if not ({g.emit(g.formula(prop.checked, {}, 's'))}):")
        pred_lines.append(f"        m |= {1 << i}")
    pred_lines += ["    return m", "", "def _obs(s):", "    m = 0"]
    assert len(observe) <= 63
    for i, (e, env) in enumerate(observe):
        pred_lines.append(f"    if {g.emit(g.formula(e, dict(env), 's'))}:")
        pred_lines.append(f"        m |= {1 << i}")
    pred_lines.append("    return m")

    src = "\n".join(succ_lines + [""] + pred_lines) + "\n" + \
        _HELPERS.replace("NWORDS", str(nwords)) + _BATCH
    tables: dict[str, Table] = {}
    for name, value in g.consts.items():
        if isinstance(value, WordTable):
            tables[name] = Table(tuple(_signed(w) for r in value.rows for w in r), nwords, False)
        else:
            assert isinstance(value, tuple)
            tables[name] = Table(tuple(int(v) for v in value), 1,
                                 all(isinstance(v, bool) for v in value))
    if symmetry is not None:
        csrc, ctables = canon_source(symmetry, nwords)
        src += "\n" + csrc
        tables.update(ctables)
    facts = {"nwords": nwords, "ntemps": ntemps, "ground_actions": ground_actions,
             "invariants": tuple(p.name for p in invs),
             "transitions": tuple(p.name for p in trans),
             "max_fanout": _max_fanout(inst)}
    return src, facts, tables


def _signed(word: int) -> int:
    word &= _M64
    return word - (1 << 64) if word >> 63 else word


def load(inst: Instance, properties: tuple[str, ...], layout: Layout | None = None,
         opt: int = 2, symmetry: Symmetry | None = None, observe: Sequence[Atom] = ()
         ) -> Kernel:
    """The compiled kernel of an instance for these properties (and symmetry,
    and observed atoms)."""
    src, facts, tables = generate(inst, properties, layout, symmetry, observe)
    sigs = {**_SIGNATURES, **(CANON_SIGNATURES if symmetry is not None else {})}
    return Kernel(facts["nwords"], facts["ntemps"], facts["max_fanout"],
                  facts["ground_actions"], facts["invariants"], facts["transitions"], src,
                  compile_cached(src, facts["nwords"], tables, sigs, opt), symmetry is not None)
