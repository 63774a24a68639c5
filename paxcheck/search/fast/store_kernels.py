"""The state store's kernels (numba): insertion, lookup, decoding and
rehashing over the store's flat arrays. store.py has the layout, and
StateStore, the Python side, calls the kernels compiled without loading
numba (fast/native.py), so none of them allocates or can raise: each takes
its working arrays, a thread's own, as parameters.

Numba code may call them too. The store's arrays are ``rkeys`` (uint64) and
``rslots`` (uint32) of the root, ``ikeys``/``islots`` of the other tables,
``meta``, an int64 (T, 6) array (per table: count, limit, nslots, bits, key
offset, slot offset; the root is table T - 1) and ``tree``, the int64 (T, 7)
array of `tree_shape`. `StateStore.kernel_args()` returns
``(rkeys, rslots, ikeys, islots, meta, tree)``; fetch it again after any
growth, and do not hold on to it across one (growth replaces arrays). Rows
are (N, W) uint64 arrays; chunks past the tree's K must be zero. The working
arrays: ``vals`` int64 (BLOCK, T), ``keys`` uint64 (BLOCK, 2), ``hashes``
uint64 (BLOCK), ``new`` bool (BLOCK), ``node`` int64 (T).

    insert_rows(states, start, rkeys, rslots, ikeys, islots, meta, tree,
                out_idx, out_new, vals, keys, hashes, new, parents, pnodes,
                srcs) -> int64
        Insert rows start.. of states in order: out_idx[i] = root index,
        out_new[i] = whether row i added it (int64 and bool arrays of N).
        Row i was generated from stored row srcs[i] of parents (uint64,
        (M, W)), whose inner tables' indices are pnodes[srcs[i]] (int64,
        (M, T), as decode_range gives them): the tables where the row's
        key is its parent's are not probed, the root included (a row equal
        to its parent). srcs empty: no parents.
        Returns N when done or else, without touching it, the first row of
        a block (<= BLOCK rows) some table lacks room for: grow
        (StateStore does) and call again from there.
    insert_row(row, rkeys, rslots, ikeys, islots, meta, tree) -> (int64, bool)
        One contiguous row of W words: (index, new), or (-1, False) with
        nothing inserted when some table is full (count == limit). Slower
        per row than insert_rows (no pipelining, small allocations); for
        numba callers only.
    lookup_rows(states, rkeys, rslots, ikeys, islots, meta, tree, out_idx,
                vals, keys, hashes, new) -> None
        out_idx[i] = root index of row i or -1 if absent. Never inserts.
    decode_range(lo, hi, rkeys, ikeys, meta, tree, out, node, nodes) -> None
        out[i - lo] = state i for lo <= i < hi (out zeroed, (hi - lo, W)),
        and nodes[i - lo, t] = its index in table t (the root's: i) unless
        nodes is empty (int64, (hi - lo, T) or (0, T)).
    decode_indices(idx, rkeys, ikeys, meta, tree, out, node, nodes) -> None
        out[j] = state idx[j] (out zeroed, (len(idx), W)); nodes likewise.

The partitioned store's kernels follow `rehash`; StateStore says how they
fit together."""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from paxcheck.search.fast.store import BITS, BLOCK, COUNT, KOFF, LIMIT, NPARTS, NSLOTS, PART0, RUN_LEN, RUN_START, SOFF

__all__ = ["insert_rows", "insert_row", "lookup_rows", "decode_range", "decode_indices",
           "rehash", "inner_rows", "route_keys", "route_place", "insert_part", "rank_new",
           "number_part", "rehash_parts"]

# Tables with slots this small stay in cache: prefetching them only costs.
_PREFETCH_SLOTS = 1 << 15
_REHASH_AHEAD = 32    # prefetch distance of `rehash`

_M32 = np.uint64(0xFFFFFFFF)
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_S32 = np.uint64(32)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


@intrinsic
def _prefetch(typingctx, arr, idx):
    """Hint the cache line of arr[idx] into cache (LLVM's prefetch: read,
    high locality). Not a load: it never faults and never stalls."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@njit(cache=True, nogil=True)
def _mix(x):  # pragma: no cover - compiled
    """MurmurHash3's 64-bit finaliser: every input bit affects every output
    bit, so both the high half (home slot) and the low bits (tag) are good."""
    x ^= x >> _S33
    x *= _C1
    x ^= x >> _S33
    x *= _C2
    x ^= x >> _S33
    return x


@njit(cache=True, nogil=True)
def _hash(k0, k1, kw):  # pragma: no cover - compiled
    """Hash of a key of kw (1 or 2) words."""
    if kw == 1:
        return _mix(k0)
    return _mix(k0 ^ _mix(k1))


@njit(cache=True, nogil=True)
def _home(h, nslots):  # pragma: no cover - compiled
    return np.int64(((h >> _S32) * np.uint64(nslots)) >> _S32)


# The per-row loops below are written out in full, without helper functions
# that take arrays: numba increments and decrements the reference count of
# every array passed to a call, and where the callee branches these atomic
# operations stay in the loop even after LLVM has inlined the call (which
# made the key computation alone cost 15 ns a row). Helpers of scalars only
# (_mix, _hash, _home) cost nothing.

@njit(cache=True, nogil=True)
def _child(states, vals, j, r, a):  # pragma: no cover - compiled
    """A pair node's half of row r (at vals[j] for the row's node values):
    the child table's entry (a >= 0) or the raw chunk -1 - a."""
    if a >= 0:
        return vals[j, a]
    x = np.uint64(states[r, (-1 - a) >> 1])
    return np.int64((x >> _S32) if (-1 - a) & 1 else (x & _M32))


@njit(cache=True, nogil=True)
def _run_key(states, r, w, odd, run):  # pragma: no cover - compiled
    """The key of a leaf whose chunks are the run of `run` chunks starting
    at chunk 2w + odd of row r: read as whole words."""
    k1 = _ZERO
    if odd == 0:
        k0 = np.uint64(states[r, w])
        if run > 2:
            k1 = np.uint64(states[r, w + 1])
            if run == 3:
                k1 &= _M32
    else:
        x = np.uint64(states[r, w + 1])
        k0 = (np.uint64(states[r, w]) >> _S32) | (x << _S32)
        if run > 2:
            k1 = x >> _S32
            if run == 4:
                k1 |= np.uint64(states[r, w + 2]) << _S32
    return k0, k1


@njit(cache=True, nogil=True)
def _node_block(states, r0, b, ks, sl, meta, tree, t, vals, keys, hashes, new, insert,
                parents, pnodes, srcs):  # pragma: no cover - compiled
    """Table t's part of rows r0..r0+b-1: vals[j, t] = entry index of row
    r0+j's key at node t (-1 if absent, or if a child is absent); new[j] =
    whether it was added. The children's vals must be filled in.

    With parents (srcs not empty): row r was generated from row srcs[r] of
    `parents`, stored, whose node indices are pnodes[srcs[r]]. Where the
    row's key at t is its parent's, the index is the parent's, and the
    table is not probed: a successor changes a few chunks of its state, so
    most of its subtrees are its parent's."""
    kw = (tree[t, NPARTS] + 1) >> 1
    run = tree[t, RUN_LEN]
    w = tree[t, RUN_START] >> 1
    odd = tree[t, RUN_START] & 1
    a = tree[t, PART0]
    c = tree[t, PART0 + 1]
    koff = meta[t, KOFF]
    soff = meta[t, SOFF]
    nslots = meta[t, NSLOTS]
    bits = np.uint64(meta[t, BITS])
    lomask = (_ONE << bits) - _ONE
    himask = _M32 ^ lomask
    big = nslots > _PREFETCH_SLOTS
    use_parents = srcs.shape[0] > 0
    # pass 1: keys and hashes, prefetching the home slots; -2 marks a row
    # to probe. Every branch goes the same way for all rows of the node.
    for j in range(b):
        r = r0 + j
        if run > 0:
            k0, k1 = _run_key(states, r, w, odd, run)
        else:
            x0 = _child(states, vals, j, r, a)
            x1 = _child(states, vals, j, r, c)
            if x0 < 0 or x1 < 0:
                vals[j, t] = -1  # (lookup) a part of the row is absent
                continue
            k0 = np.uint64(x0) | (np.uint64(x1) << _S32)
            k1 = _ZERO
        if use_parents:
            q = srcs[r]
            if run > 0:
                p0, p1 = _run_key(parents, q, w, odd, run)
            else:
                p0 = (np.uint64(_child(parents, pnodes, q, q, a))
                      | (np.uint64(_child(parents, pnodes, q, q, c)) << _S32))
                p1 = _ZERO
            if p0 == k0 and p1 == k1:
                vals[j, t] = pnodes[q, t]
                continue
        vals[j, t] = -2
        h = _hash(k0, k1, kw)
        keys[j, 0] = k0
        keys[j, 1] = k1
        hashes[j] = h
        if big:
            _prefetch(sl, soff + _home(h, nslots))
    # pass 1b, for a table out of cache: with the home slots in, prefetch
    # the key of each row's first tag match, so that the probes' key reads
    # (a duplicate's match) overlap too
    if big:
        for j in range(b):
            if vals[j, t] != -2:
                continue
            h = hashes[j]
            tag = (h << bits) & himask
            pos = _home(h, nslots)
            while True:
                v = np.uint64(sl[soff + pos])
                if v == _ZERO:
                    break
                if (v & himask) == tag:
                    _prefetch(ks, koff + (np.int64(v & lomask) - 1) * kw)
                    break
                pos += 1
                if pos == nslots:
                    pos = 0
    # pass 2: probe, and insert in row order
    for j in range(b):
        new[j] = False
        if vals[j, t] != -2:
            continue
        k0 = keys[j, 0]
        k1 = keys[j, 1]
        h = hashes[j]
        tag = (h << bits) & himask
        pos = _home(h, nslots)
        i = np.int64(-1)
        while True:
            v = np.uint64(sl[soff + pos])
            if v == _ZERO:
                break
            if (v & himask) == tag:
                e = np.int64(v & lomask) - 1
                at = koff + e * kw
                if ks[at] == k0 and (kw == 1 or ks[at + 1] == k1):
                    i = e
                    break
            pos += 1
            if pos == nslots:
                pos = 0
        if i < 0 and insert:
            i = meta[t, COUNT]
            at = koff + i * kw
            ks[at] = k0
            if kw == 2:
                ks[at + 1] = k1
            sl[soff + pos] = np.uint32(tag | np.uint64(i + 1))
            meta[t, COUNT] = i + 1
            new[j] = True
        vals[j, t] = i


@njit(cache=True, nogil=True)
def _rows_kernel(states, start, rkeys, rslots, ikeys, islots, meta, tree, out_idx, out_new,
                 insert, vals, keys, hashes, new, parents, pnodes, srcs):
    # pragma: no cover - compiled
    ntab = tree.shape[0]
    root = ntab - 1
    n = states.shape[0]
    r = start
    while r < n:
        b = min(BLOCK, n - r)
        if insert:
            for t in range(ntab):
                if meta[t, COUNT] + b > meta[t, LIMIT]:
                    return np.int64(r)
        for t in range(root):
            _node_block(states, r, b, ikeys, islots, meta, tree, t, vals, keys, hashes, new,
                        insert, parents, pnodes, srcs)
        _node_block(states, r, b, rkeys, rslots, meta, tree, root, vals, keys, hashes, new,
                    insert, parents, pnodes, srcs)
        for j in range(b):
            out_idx[r + j] = vals[j, root]
            if insert:
                out_new[r + j] = new[j]
        r += b
    return np.int64(n)


@njit(cache=True, nogil=True)
def insert_rows(states, start, rkeys, rslots, ikeys, islots, meta, tree, out_idx, out_new,
                vals, keys, hashes, new, parents, pnodes, srcs):  # pragma: no cover - compiled
    return _rows_kernel(states, start, rkeys, rslots, ikeys, islots, meta, tree, out_idx,
                        out_new, True, vals, keys, hashes, new, parents, pnodes, srcs)


@njit(cache=True, nogil=True)
def lookup_rows(states, rkeys, rslots, ikeys, islots, meta, tree, out_idx, vals, keys, hashes,
                new):  # pragma: no cover - compiled
    _rows_kernel(states, 0, rkeys, rslots, ikeys, islots, meta, tree, out_idx, new, False,
                 vals, keys, hashes, new, states[:0], vals[:0], out_idx[:0])


@njit(cache=True, nogil=True)
def insert_row(row, rkeys, rslots, ikeys, islots, meta, tree):  # pragma: no cover - compiled
    idx = np.empty(1, np.int64)
    new = np.empty(1, np.bool_)
    rows = row.reshape((1, row.shape[0]))
    vals = np.empty((BLOCK, tree.shape[0]), np.int64)
    keys = np.empty((BLOCK, 2), np.uint64)
    hashes = np.empty(BLOCK, np.uint64)
    bnew = np.empty(BLOCK, np.bool_)
    if _rows_kernel(rows, 0, rkeys, rslots, ikeys, islots, meta, tree, idx, new, True, vals,
                    keys, hashes, bnew, rows[:0], vals[:0], idx[:0]) == 0:
        return np.int64(-1), False
    return idx[0], new[0]


@njit(cache=True, nogil=True)
def _decode(lo, idx, n, rkeys, ikeys, meta, tree, out, vals, nodes):
    # pragma: no cover - compiled
    """out[j] = state lo + j, or state idx[j] if idx is not empty (j < n),
    and, if nodes is not empty, nodes[j, t] = its entry index in each
    table t (the root's: the state's index). Reverse post-order visits every node before its children, so
    one pass over the nodes decodes a state (vals: a value per node)."""
    root = tree.shape[0] - 1
    use_idx = idx.shape[0] > 0
    keep = nodes.shape[0] > 0
    for j in range(n):
        i = idx[j] if use_idx else lo + j
        for t in range(root, -1, -1):
            nparts = tree[t, NPARTS]
            if t == root:
                k0 = rkeys[i]
                k1 = _ZERO
            else:
                at = meta[t, KOFF] + vals[t] * ((nparts + 1) >> 1)
                k0 = ikeys[at]
                k1 = ikeys[at + 1] if nparts > 2 else _ZERO
            for p in range(nparts):
                k = k0 if p < 2 else k1
                v = (k >> _S32) if p & 1 else (k & _M32)
                c = tree[t, PART0 + p]
                if c >= 0:
                    vals[c] = np.int64(v)
                else:
                    c = -1 - c
                    out[j, c >> 1] |= v << np.uint64(32 * (c & 1))
        if keep:
            for t in range(root):
                nodes[j, t] = vals[t]
            nodes[j, root] = i


@njit(cache=True, nogil=True)
def decode_range(lo, hi, rkeys, ikeys, meta, tree, out, vals, nodes):
    # pragma: no cover - compiled
    _decode(lo, vals[:0], hi - lo, rkeys, ikeys, meta, tree, out, vals, nodes)


@njit(cache=True, nogil=True)
def decode_indices(idx, rkeys, ikeys, meta, tree, out, vals, nodes):
    # pragma: no cover - compiled
    _decode(0, idx, idx.shape[0], rkeys, ikeys, meta, tree, out, vals, nodes)


@njit(cache=True, nogil=True)
def rehash(ks, koff, kw, n, sl, soff, nslots, bits):  # pragma: no cover - compiled
    """Fill the zeroed slots sl[soff:soff+nslots] with entries 0..n-1 of the
    keys ks[koff:] (kw words each). The slot writes land at random;
    prefetching them _REHASH_AHEAD entries ahead about halves the time."""
    b = np.uint64(bits)
    himask = _M32 ^ ((_ONE << b) - _ONE)
    for i in range(-_REHASH_AHEAD, n):
        ahead = i + _REHASH_AHEAD
        if ahead < n:
            at = koff + ahead * kw
            h = _hash(ks[at], ks[at + kw - 1], kw)
            _prefetch(sl, soff + _home(h, nslots))
        if i < 0:
            continue
        at = koff + i * kw
        h = _hash(ks[at], ks[at + kw - 1], kw)
        pos = _home(h, nslots)
        while sl[soff + pos] != 0:
            pos += 1
            if pos == nslots:
                pos = 0
        sl[soff + pos] = np.uint32(((h << b) & himask) | np.uint64(i + 1))


# ---- partitions ---------------------------------------------------------
# A store of P > 1 partitions inserts a batch on several threads at once
# (see StateStore): first the inner tables, each table on a thread of its
# own (a node's children before it), then the root, whose slots are cut
# into P parts by a hash of the root key, one thread each. The root's dense
# keys stay in the one global insertion order, so indices and new flags are
# those of one partition, and the same for any number of threads.

@njit(cache=True, nogil=True)
def _part_of(key, parts):  # pragma: no cover - compiled
    """The partition of a root key: a second mix, so that it does not
    follow the home slot or the tag, which the same key's _mix decides."""
    return _home(_mix(key ^ _C2), parts)


@njit(cache=True, nogil=True)
def inner_rows(states, ikeys, islots, meta, tree, t, vals, insert, lm, keys, hashes, new,
               parents, pnodes, srcs):  # pragma: no cover - compiled
    """Inner table t's part of every row: vals[r, t] as _node_block gives
    it (the children's columns filled in; parents as there). Counts are kept in a private
    copy of meta (lm, of meta's shape) and written back to row t alone, so
    that threads working on other tables share no cache line of counts."""
    for i in range(meta.shape[0]):
        for c in range(meta.shape[1]):
            lm[i, c] = meta[i, c]
    n = states.shape[0]
    for r0 in range(0, n, BLOCK):
        b = min(BLOCK, n - r0)
        _node_block(states, r0, b, ikeys, islots, lm, tree, t, vals[r0:r0 + b], keys, hashes,
                    new, insert, parents, pnodes, srcs)
    meta[t, COUNT] = lm[t, COUNT]


@njit(cache=True, nogil=True)
def route_keys(states, vals, tree, parts, lo, hi, rk, pid, counts, parents, pnodes, srcs):
    # pragma: no cover - compiled
    """Rows lo..hi-1's root keys into rk and partitions into pid, and how
    many rows go to each partition into counts (zeroed, parts + 2). Group
    `parts` is the rows with an absent part (a lookup's), which have no
    key; group parts + 1 the rows whose key is their parent's (parents as
    in _node_block: a successor equal to its source state), with the
    parent's index in rk instead of the key. Chunks of the batch are routed
    at once, each on a thread."""
    root = tree.shape[0] - 1
    a = tree[root, PART0]
    c = tree[root, PART0 + 1]
    use_parents = srcs.shape[0] > 0
    for r in range(lo, hi):
        x0 = _child(states, vals, r, r, a)
        x1 = _child(states, vals, r, r, c)
        if x0 < 0 or x1 < 0:
            k = _ZERO
            p = parts
        else:
            k = np.uint64(x0) | (np.uint64(x1) << _S32)
            p = _part_of(k, parts)
            if use_parents:
                q = srcs[r]
                if (_child(parents, pnodes, q, q, a) == x0
                        and _child(parents, pnodes, q, q, c) == x1):
                    k = np.uint64(pnodes[q, root])
                    p = parts + 1
        rk[r] = k
        pid[r] = p
        counts[p] += 1


@njit(cache=True, nogil=True)
def route_place(lo, hi, n, pid, at, order):  # pragma: no cover - compiled
    """Group rows lo..hi-1 by partition, each group in row order: row r
    goes to order[at[p]] (at[p]: where this chunk's rows of partition p
    start, advanced as they are placed), and order[n + r] is that position.
    With the chunks placed at their offsets, partition p's rows are
    order[starts[p]:starts[p + 1]] in row order."""
    for r in range(lo, hi):
        p = pid[r]
        order[at[p]] = r
        order[n + r] = at[p]
        at[p] += 1


@njit(cache=True, nogil=True)
def insert_part(order, lo, hi, p, before, rk, rkeys, rslots, meta, pmeta, slotpos, out_idx,
                out_new, insert, hashes):  # pragma: no cover - compiled
    """Insert (or, without insert, look up) the root keys of partition p's
    rows order[lo:hi] (as `_route` grouped them) in p's slots. Results go to
    the rows' positions in order, where one partition's are contiguous
    (written at the rows themselves, the threads would share every cache
    line of them): out_idx[pos], out_new[pos]. A key new to the store gets
    the provisional index before + r (r its row), and its slot's position
    is kept in slotpos[pos]: `rank_new` and `number_part` give the final
    indices, in row order, once every partition is done."""
    count = pmeta[p, COUNT]
    root = meta.shape[0] - 1
    nslots = meta[root, NSLOTS]
    soff = p * nslots
    bits = np.uint64(meta[root, BITS])
    lomask = (_ONE << bits) - _ONE
    himask = _M32 ^ lomask
    big = nslots > _PREFETCH_SLOTS
    for r0 in range(lo, hi, BLOCK):
        b = min(BLOCK, hi - r0)
        for j in range(b):
            h = _mix(rk[order[r0 + j]])
            hashes[j] = h
            if big:
                _prefetch(rslots, soff + _home(h, nslots))
        if big:   # the keys of the first tag matches, as in _node_block
            for j in range(b):
                h = hashes[j]
                tag = (h << bits) & himask
                pos = _home(h, nslots)
                while True:
                    v = np.uint64(rslots[soff + pos])
                    if v == _ZERO:
                        break
                    if (v & himask) == tag:
                        e = np.int64(v & lomask) - 1
                        if e < before:
                            _prefetch(rkeys, e)
                        break
                    pos += 1
                    if pos == nslots:
                        pos = 0
        for j in range(b):
            at = r0 + j
            r = order[at]
            k0 = rk[r]
            out_new[at] = False
            h = hashes[j]
            tag = (h << bits) & himask
            pos = _home(h, nslots)
            i = np.int64(-1)
            while True:
                v = np.uint64(rslots[soff + pos])
                if v == _ZERO:
                    break
                if (v & himask) == tag:
                    e = np.int64(v & lomask) - 1
                    if (rk[e - before] if e >= before else rkeys[e]) == k0:
                        i = e
                        break
                pos += 1
                if pos == nslots:
                    pos = 0
            if i < 0 and insert:
                i = before + r
                slotpos[at] = soff + pos
                rslots[soff + pos] = np.uint32(tag | np.uint64(i + 1))
                count += 1
                out_new[at] = True
            out_idx[at] = i
    pmeta[p, COUNT] = count


@njit(cache=True, nogil=True)
def rank_new(n, before, order, pnew, final):  # pragma: no cover - compiled
    """The final index of each row that insert_part found new: before,
    before + 1, ... in row order (the order one partition would have
    numbered them in), into final[r]. Returns the number of new states.
    The one serial pass of a partitioned insert, and a light one: it reads
    the new flags in two or so sequential streams and writes sequentially."""
    k = 0
    for r in range(n):
        if pnew[order[n + r]]:
            final[r] = before + k
            k += 1
    return k


@njit(cache=True, nogil=True)
def number_part(order, lo, hi, before, rk, rkeys, rslots, meta, slotpos, pidx, pnew, final,
                out_idx, out_new):  # pragma: no cover - compiled
    """For partition p's rows order[lo:hi], once rank_new has run: store the
    keys of its new states at their final indices and rewrite their slots
    (p's own: partitions run at once, each on a thread), replace a
    provisional index before + r by row r's final index, and write out_idx
    and out_new by row."""
    root = meta.shape[0] - 1
    lomask = (_ONE << np.uint64(meta[root, BITS])) - _ONE
    for at in range(lo, hi):
        r = order[at]
        fresh = pnew[at]
        out_new[r] = fresh
        if fresh:
            g = final[r]
            rkeys[g] = rk[r]
            s = slotpos[at]
            rslots[s] = np.uint32((np.uint64(rslots[s]) & ~lomask) | np.uint64(g + 1))
            out_idx[r] = g
        else:
            i = pidx[at]
            out_idx[r] = final[i - before] if i >= before else i


@njit(cache=True, nogil=True)
def rehash_parts(rkeys, n, sl, nslots, bits, parts, p):  # pragma: no cover - compiled
    """rehash for the root of a partitioned store: the keys of partition p
    (of every partition if p < 0) to its slots (zeroed, nslots per
    partition). Partitions can be rehashed at once, each on a thread:
    each reads every key but writes only its own slots."""
    b = np.uint64(bits)
    himask = _M32 ^ ((_ONE << b) - _ONE)
    for i in range(-_REHASH_AHEAD, n):
        ahead = i + _REHASH_AHEAD
        if ahead < n:
            k = rkeys[ahead]
            q = _part_of(k, parts)
            if p < 0 or q == p:
                _prefetch(sl, q * nslots + _home(_mix(k), nslots))
        if i < 0:
            continue
        k = rkeys[i]
        q = _part_of(k, parts)
        if p >= 0 and q != p:
            continue
        h = _mix(k)
        soff = q * nslots
        pos = _home(h, nslots)
        while sl[soff + pos] != 0:
            pos += 1
            if pos == nslots:
                pos = 0
        sl[soff + pos] = np.uint32(((h << b) & himask) | np.uint64(i + 1))
