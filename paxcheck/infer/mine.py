"""Candidate clauses from data: every clause of at most K literals over a
template's atoms that holds in every observed row (a reachable state
under one assignment of the template's variables) and has no proper
sub-clause that holds too.

A clause holds on every row exactly when the cube of its negated
literals occurs on none, so the search is for the minimal cubes that
never occur: a depth-first walk over cubes in literal order that only
descends into cubes that do occur (a cube that occurs nowhere ends its
branch: every extension is non-minimal). Rows are deduplicated first
(states share most of their rows), and each literal's rows are a bit
set, so a step of the walk is one AND over the row words; the walk is
compiled with numba."""
from __future__ import annotations

import dataclasses

import numpy as np

from paxcheck.infer.atoms import Atom, Grid, Template, TVar, evaluate, exists_atom, text
from paxcheck.infer.samples import Sample
from paxcheck.lang import ir

# rows of one template evaluated at a time: [states * assignments, atoms] bools
_CHUNK_ROWS = 1 << 21
# derived existential atoms computed at a time: [rows, cubes] bools
_CUBE_BLOCK = 1024
# atoms whose literal bit sets are packed at a time: [atoms, rows] bools
_ATOM_BLOCK = 1024


def distinct_rows(samples: list[Sample], tmpl: Template, atoms: list[Atom],
                  max_states: int | None = None) -> np.ndarray:
    """The distinct truth vectors of the atoms over every (state,
    assignment) of every sample: uint8 [rows, atoms] of 0/1. `max_states`
    caps the states read per sample (evenly spaced in BFS order)."""
    k = len(atoms)
    if k == 0:
        return np.zeros((0, 0), np.uint8)
    parts: list[np.ndarray] = []
    width = max(1, (k + 7) // 8)
    for smp in samples:
        grid = Grid(tmpl, smp.sizes)
        order = np.arange(smp.count)
        if max_states is not None and smp.count > max_states:
            order = np.unique(np.linspace(0, smp.count - 1, max_states).astype(np.int64))
        per = max(1, _CHUNK_ROWS // max(1, grid.size))
        seen: np.ndarray | None = None
        for lo in range(0, len(order), per):
            sel = order[lo:lo + per]
            block = np.empty((len(sel), grid.size, k), bool)
            sub = _sub(smp, sel)
            for i, a in enumerate(atoms):
                block[:, :, i] = evaluate(a, sub, grid)
            packed = np.packbits(block.reshape(-1, k), axis=1, bitorder="little")
            if seen is not None:
                packed = np.concatenate([seen, packed])
            seen = _unique(packed, width)
        if seen is not None:
            parts.append(seen)
    if not parts:
        return np.zeros((0, k), np.uint8)
    allp = _unique(np.concatenate(parts), width)
    return np.unpackbits(allp, axis=1, count=k, bitorder="little")


def _unique(packed: np.ndarray, width: int) -> np.ndarray:
    packed = np.ascontiguousarray(packed)
    view = packed.view(np.dtype((np.void, width))).ravel()
    _, idx = np.unique(view, return_index=True)
    return packed[np.sort(idx)]


def _sub(smp: Sample, sel: np.ndarray) -> Sample:
    """The sample restricted to some of its states (immutables unchanged)."""
    spec = smp.inst.spec
    return dataclasses.replace(smp, count=len(sel), arrays={
        name: (arr[sel] if spec.symbol_map[name].mutable else arr)
        for name, arr in smp.arrays.items()})


def literal_bits(rows: np.ndarray) -> np.ndarray:
    """Per literal (2 * atom + 1: the atom true, 2 * atom: false), the bit
    set of the rows where it is true: uint64 [2 * atoms, words]. Packed a
    block of atoms at a time: unpacked, thousands of derived atoms over
    tens of thousands of rows take gigabytes."""
    m, k = rows.shape
    words = max(1, (m + 63) // 64)
    out = np.zeros((2 * k, words), np.uint64)
    tail = np.zeros(words * 64, bool)
    tail[:m] = True
    valid = np.packbits(tail, bitorder="little").view(np.uint64)
    for lo in range(0, k, _ATOM_BLOCK):
        block = np.zeros((min(k, lo + _ATOM_BLOCK) - lo, words * 64), bool)
        block[:, :m] = rows[:, lo:lo + _ATOM_BLOCK].T.astype(bool)
        pos = np.packbits(block, axis=1, bitorder="little").view(np.uint64)
        out[2 * lo + 1:2 * (lo + len(block)):2] = pos
        out[2 * lo:2 * (lo + len(block)):2] = ~pos & valid
    return out


def minimal_clauses(rows: np.ndarray, max_literals: int, allowed: np.ndarray | None = None,
                    limit: int = 200_000, single: np.ndarray | None = None
                    ) -> tuple[list[tuple[int, ...]], bool]:
    """The minimal clauses of at most `max_literals` literals true on every
    row. A clause is a tuple of literal indices (2 * atom + 1 for the atom,
    2 * atom for its negation), ascending. `allowed` masks literals out.
    At most one literal of those `single` marks is in a clause. The bool
    says whether the list is complete (false: `limit` reached)."""
    m, k = rows.shape
    if k == 0:
        return [], True
    bits = literal_bits(rows)
    ok = np.ones(2 * k, np.bool_) if allowed is None else allowed.astype(np.bool_)
    one = np.zeros(2 * k, np.bool_) if single is None else single.astype(np.bool_)
    out = np.zeros((limit, max_literals), np.int32)
    n = _walk(bits, ok, one, max_literals, out)
    complete = n >= 0
    n = abs(n) if n < 0 else n
    found = []
    for i in range(n):
        cube = out[i]
        found.append(tuple(sorted(int(j) ^ 1 for j in cube if j >= 0)))
    return found, complete


def _walk_py(bits: np.ndarray, ok: np.ndarray, one: np.ndarray, K: int, out: np.ndarray) -> int:
    """The walk (numba compiles it; this is the code it compiles). Writes
    each minimal never-occurring cube (its literals, -1 padded) to `out`
    and returns how many; minus that when `out` filled up."""
    nl, W = bits.shape
    cur = np.zeros((K + 1, W), np.uint64)
    cur[0, :] = ~np.uint64(0)
    lits = np.full(K, -1, np.int64)
    nxt = np.zeros(K + 1, np.int64)
    tmp = np.zeros(W, np.uint64)
    count = 0
    d = 0
    nxt[0] = 0
    limit = out.shape[0]
    while d >= 0:
        j = nxt[d]
        if j >= nl:
            d -= 1
            continue
        nxt[d] = j + 1
        if not ok[j]:
            continue
        atom = j >> 1
        clash = False
        for i in range(d):
            if (lits[i] >> 1) == atom or (one[j] and one[lits[i]]):
                clash = True
                break
        if clash:
            continue
        anyb = False
        for w in range(W):
            v = cur[d, w] & bits[j, w]
            cur[d + 1, w] = v
            if v != 0:
                anyb = True
        if not anyb:
            # never occurs: minimal if every cube one literal smaller occurs
            minimal = True
            for skip in range(d):
                for w in range(W):
                    tmp[w] = bits[j, w]
                for i in range(d):
                    if i != skip:
                        for w in range(W):
                            tmp[w] &= bits[lits[i], w]
                nz = False
                for w in range(W):
                    if tmp[w] != 0:
                        nz = True
                        break
                if not nz:
                    minimal = False
                    break
            if minimal:
                if count >= limit:
                    return -count
                for i in range(K):
                    out[count, i] = -1
                for i in range(d):
                    out[count, i] = lits[i]
                out[count, d] = j
                count += 1
        elif d + 1 < K:
            lits[d] = j
            d += 1
            nxt[d] = j + 1
    return count


_compiled = None


def _walk(bits: np.ndarray, ok: np.ndarray, one: np.ndarray, K: int, out: np.ndarray) -> int:
    global _compiled
    if _compiled is None:
        import numba
        _compiled = numba.njit(cache=True, nogil=True)(_walk_py)
    return int(_compiled(bits, ok, one, K, out))


def exists_rows(samples: list[Sample], xt: Template, xatoms: list[Atom], yt: Template,
                y: TVar, guard: ir.App, yatoms: list[Atom], max_states: int | None
                ) -> tuple[np.ndarray, list[Atom]]:
    """Rows over a template's atoms plus derived atoms `exists y. guard & L`
    and `exists y. guard & L1 & L2` for literals L of the atoms that read
    y (`yatoms`, over template `yt` = xt's variables then y). Derived atoms
    false on every row, or equal on every row to one before them, are left
    out. Returns the rows (uint8 [rows, atoms + derived]) and the derived
    atoms."""
    kx, ny = len(xatoms), len(yatoms)
    width_atoms = [guard_as_atom(guard, yt)] + yatoms
    # rows hold y's values side by side, so samples with as many elements
    # of y's sort are deduplicated together, and each group derives its
    # atoms on its own
    groups: dict[int, np.ndarray] = {}
    for smp in samples:
        gx, gy = Grid(xt, smp.sizes), Grid(yt, smp.sizes)
        nyv = smp.sizes[y.sort]
        order = np.arange(smp.count)
        if max_states is not None and smp.count > max_states:
            order = np.unique(np.linspace(0, smp.count - 1, max_states).astype(np.int64))
        per = max(1, _CHUNK_ROWS // max(1, gy.size))
        for lo in range(0, len(order), per):
            sub = _sub(smp, order[lo:lo + per])
            xs = np.stack([evaluate(a, sub, gx) for a in xatoms], axis=-1) if xatoms else \
                np.zeros((sub.count, gx.size, 0), bool)
            ys = np.stack([evaluate(a, sub, gy) for a in width_atoms], axis=-1)
            ys = ys.reshape(sub.count, gx.size, nyv * len(width_atoms))
            block = np.concatenate([xs, ys], axis=-1).reshape(sub.count * gx.size, -1)
            # deduplicated as they come (as distinct_rows does): the rows of
            # every chunk kept until the end grow with the states read
            packed = np.packbits(block, axis=1, bitorder="little")
            if nyv in groups:
                packed = np.concatenate([groups[nyv], packed])
            groups[nyv] = _unique(packed, packed.shape[1])
    if not groups:
        return np.zeros((0, kx), np.uint8), []
    n2 = 2 * ny
    cubes: list[tuple[int, ...]] = [(i,) for i in range(n2)]
    for i in range(n2):
        cubes += [(i, j) for j in range(i + 1, n2) if j >> 1 != i >> 1]
    pairs = np.array([(c[0], c[-1]) for c in cubes], np.int64).reshape(-1, 2)
    GLs, Xs = [], []
    for nyv, packed in groups.items():
        rows = np.unpackbits(packed, axis=1,
                             count=kx + nyv * (ny + 1), bitorder="little").astype(bool)
        Y = rows[:, kx:].reshape(len(rows), nyv, ny + 1)
        G, A = Y[:, :, 0], Y[:, :, 1:]
        L = np.empty((len(rows), nyv, n2), bool)
        L[:, :, 1::2], L[:, :, 0::2] = A, ~A
        GLs.append((np.ascontiguousarray(G), np.ascontiguousarray(L)))
        Xs.append(rows[:, :kx])
    X = np.concatenate(Xs)
    # one derived atom per distinct column, the first (fewest literals);
    # the columns are derived a block of cubes at a time, since all of
    # them at once take rows x cubes bytes (gigabytes for five variables)
    seen: set[bytes] = set()
    chosen: list[int] = []
    for lo in range(0, len(cubes), _CUBE_BLOCK):
        cols = np.packbits(_derived(GLs, pairs[lo:lo + _CUBE_BLOCK]).T, axis=1)
        for c in range(len(cols)):
            key = cols[c].tobytes()
            if key not in seen and cols[c].any():
                seen.add(key)
                chosen.append(lo + c)
    # derived again rather than kept from the blocks: the kept slices and
    # their concatenation would be held at once (the peak measured higher)
    D = _derived(GLs, pairs[chosen])
    derived = []
    for c in chosen:
        conj = [guard] + [yatoms[lit >> 1].formula if lit & 1 else ir.Not(yatoms[lit >> 1].formula)
                          for lit in cubes[c]]
        derived.append(exists_atom(y, conj, xt))
    out = np.concatenate([X, D], axis=1).astype(np.uint8)
    # the rows over the new columns may repeat
    return np.unpackbits(_unique(np.packbits(out, axis=1, bitorder="little"),
                                 (out.shape[1] + 7) // 8),
                         axis=1, count=out.shape[1], bitorder="little"), derived


def _derived(groups: list[tuple[np.ndarray, np.ndarray]], pairs: np.ndarray) -> np.ndarray:
    """The derived atoms of `pairs` on every row of every group (each its
    guard and literals per y): bool [rows, pairs]."""
    parts = []
    for G, L in groups:
        D = np.zeros((len(G), len(pairs)), np.bool_)
        _derive(G, L, np.ascontiguousarray(pairs), D)
        parts.append(D)
    return np.concatenate(parts)


def _derive_py(G: np.ndarray, L: np.ndarray, pairs: np.ndarray, D: np.ndarray) -> None:
    """D[r, c] = some y has G[r, y] and both literals of pair c (a pair of
    one literal twice is that literal alone). Compiled by numba."""
    m, Y = G.shape
    for r in range(m):
        for c in range(pairs.shape[0]):
            i, j = pairs[c, 0], pairs[c, 1]
            for y in range(Y):
                if G[r, y] and L[r, y, i] and L[r, y, j]:
                    D[r, c] = True
                    break


_derive_compiled = None


def _derive(G: np.ndarray, L: np.ndarray, pairs: np.ndarray, D: np.ndarray) -> None:
    global _derive_compiled
    if _derive_compiled is None:
        import numba
        _derive_compiled = numba.njit(cache=True, nogil=True)(_derive_py)
    _derive_compiled(G, L, pairs, D)


def guard_as_atom(guard: ir.App, yt: Template) -> Atom:
    from paxcheck.infer.atoms import _uses
    return Atom(guard, _uses(yt, guard), text(guard))
