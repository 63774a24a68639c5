"""Canonicalization under a symmetry group, as kernel code (see codegen.py).

A group element permutes the points of every mutable symbol and renames the
values of fields whose result sort it moves. Generated code applies each
element with a few shift-and-mask moves per state word: the bits that one
element moves by the same distance between the same two words move
together (swapping two acceptors moves a whole block of a message relation
at once), and only renamed fields go through a lookup table. The
representative is the least image as an unsigned number, the same as
`Symmetry.canon` on packed Python ints, so the two agree state for state."""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from paxcheck.search.fast.llvm import INT, MAT, ROW, Table

if TYPE_CHECKING:
    from paxcheck.config.symmetry import Symmetry

_M64 = (1 << 64) - 1
_MIN = -(1 << 63)


def _lit(word: int) -> str:
    word &= _M64
    return str(word - (1 << 64) if word >> 63 else word)


SIGNATURES = {
    "orf": ((ROW, INT, INT, INT), "void"),
    "ulex_less": ((ROW, ROW), "bool"),
    "_canon": ((ROW, ROW, ROW), "void"),
    "canon_batch": ((MAT, INT, INT, ROW, ROW), "void"),
}


def canon_source(sym: Symmetry, nwords: int) -> tuple[str, dict[str, Table]]:
    """Source of `_canon(s, best, img)` (s := its representative) and
    `canon_batch(rows, lo, hi, best, img)`, with their lookup tables."""
    tables: dict[str, Table] = {}
    lines = ["def _canon(s, best, img):"]
    lines += [f"    best[{k}] = s[{k}]" for k in range(nwords)]
    for g in range(1, sym.order):   # element 0 is the identity
        moves: dict[int, list[str]] = defaultdict(list)
        groups: dict[tuple[int, int, int], int] = defaultdict(int)
        renames: list[str] = []
        for si, slot in enumerate(sym.slots):
            rmap = sym.raw_maps[g][si]
            renamed = any(rmap[r] != r for r in range(slot.nvalues))
            table = None
            if renamed:
                table = f"_R{g}_{si}"
                tables[table] = Table(tuple(rmap[:1 << slot.width]), 1, False)
            for k, dest in enumerate(sym.point_maps[g][si]):
                src = slot.base + slot.width * k
                dst = slot.base + slot.width * dest
                if table is not None:
                    renames.append(f"    orf(img, {dst}, {slot.width}, {table}["
                                   f"getf(s, {src}, {slot.mask}, {slot.width})])")
                    continue
                for i in range(slot.width):
                    sb, db = src + i, dst + i
                    groups[(sb >> 6, db >> 6, (db & 63) - (sb & 63))] |= 1 << (sb & 63)
        for (sw, dw, delta), mask in sorted(groups.items()):
            if delta >= 0:
                moves[dw].append(f"((s[{sw}] & {_lit(mask)}) << {delta})")
            else:
                moves[dw].append(f"(((s[{sw}] & {_lit(mask)}) >> {-delta}) & "
                                 f"{_lit(mask >> -delta)})")
        lines.append(f"    # element {g}")
        for k in range(nwords):
            lines.append(f"    img[{k}] = " + (" | ".join(moves[k]) if moves[k] else "0"))
        lines += renames
        lines.append("    if ulex_less(img, best):")
        lines += [f"        best[{k}] = img[{k}]" for k in range(nwords)]
    lines += [f"    s[{k}] = best[{k}]" for k in range(nwords)]

    less = ["def ulex_less(a, b):"]
    for k in reversed(range(nwords)):
        less.append(f"    x = a[{k}] ^ {_MIN}")
        less.append(f"    y = b[{k}] ^ {_MIN}")
        less.append("    if x != y:")
        less.append("        return x < y")
    less.append("    return False")

    src = "\n".join(lines + [""] + less) + '''

def orf(s, off, width, raw):
    k = off >> 6
    b = off & 63
    s[k] |= raw << b
    if b + width > 64:
        s[k + 1] |= raw >> (64 - b)


def canon_batch(rows, lo, hi, best, img):
    for i in range(lo, hi):
        _canon(rows[i], best, img)
'''
    return src, tables
