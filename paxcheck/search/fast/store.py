"""An exact, compact state store for the fast BFS engine: tree compression.

A state is a row of W 64-bit words (uint64 or int64: only the bits matter).
Stored as they are, rows cost 8W bytes each (paxos_tla_b3, W = 4: 32 bytes
before any hash-table overhead). Reachable states share most of their parts,
so the store keeps them *tree compressed* (Laarman, van de Pol, Weber:
"Parallel Recursive State Compression for Free", SPIN 2011; the idea of
SPIN's COLLAPSE mode). Nothing is lossy: every state is stored exactly.

* The vector is cut into K chunks of 32 bits (chunk 2k is the low half of
  word k; K = 2W, or ceil(bits/32) if the state width is given, the chunks
  above being zero), and a fixed tree is built over them (`tree_shape`).
  Each node is a table of distinct keys. The root's key is a pair: the
  indices of the state's two halves in the tables of the root's two
  children, 4 bytes each. Below the root, a segment of up to four chunks is
  a table keyed by the raw chunks (up to 16 bytes), a longer one is a pair
  node again. The root has an entry per state; the other tables only hold
  the distinct halves, quarters, ... (paxos_tla_b3: 393 K entries in all
  for 8.2 M states), so their key width hardly matters and a shallow tree
  means fewer lookups per state (3 tables for W = 4).
* A state's identity is its index in the root table. Root entries are
  numbered 0, 1, 2, ... in insertion order, so index ranges are BFS levels
  and `get(lo, hi)` decodes a level.
* Every table is an open-addressing hash set over a *dense* key array:
  entry i's key is at ``keys[koff + kw*i]`` (kw = 1 or 2 words; entries in
  insertion order), and a linear-probing uint32 slot array holds ``i + 1``
  in its low ``bits`` bits (0 = empty) and a tag of the key's hash in the
  other ``32 - bits``, so a probe reads the key array only when the tag
  matches. Slot counts need not be powers of two: the home slot is
  ``((h >> 32) * nslots) >> 32`` (Lemire's fast range reduction), which lets
  big tables grow by small factors.
* The root has arrays of its own, each in its own memory mapping, so that
  growing it is an mremap: no copy, and no page is faulted in twice. The
  other tables share one arena pair ``ikeys``/``islots`` at per-table
  offsets (numba reads arrays out of a tuple only with reference counting
  on every access; flat arrays avoid that).
* Batches are processed BLOCK rows at a time, node by node: one pass
  computes the keys and prefetches the home slots of the big tables, a
  second probes (and inserts, in row order). The root lives in DRAM, and
  this way a block's cache misses overlap instead of coming one by one.

Memory: the root costs 8 bytes of key plus 4/load bytes of slot per state,
the other tables typically a byte or so more; `_KEY_GROWTH`, `_SLOT_GROWTH`
and `MAX_LOAD` bound the slack (paxos_tla_b3: 14.3 bytes per state).

Kernels (all ``@njit(cache=True, nogil=True)``), for callers that are numba
code themselves. The store's arrays are ``rkeys`` (uint64) and ``rslots``
(uint32) of the root, ``ikeys``/``islots`` of the other tables, ``meta``, an
int64 (T, 6) array (per table: count, limit, nslots, bits, key offset, slot
offset; the root is table T - 1) and ``tree``, the int64 (T, 7) array of
`tree_shape`. `StateStore.kernel_args()` returns
``(rkeys, rslots, ikeys, islots, meta, tree)``; fetch it again after any
growth, and do not hold on to it across one (growth replaces arrays). Rows
are (N, W) uint64 or int64 arrays; chunks past the tree's K must be zero.

    insert_rows(states, start, rkeys, rslots, ikeys, islots, meta, tree,
                out_idx, out_new) -> int64
        Insert rows start.. of states in order: out_idx[i] = root index,
        out_new[i] = whether row i added it (int64 and bool arrays of N).
        Returns N when done or else, without touching it, the first row of
        a block (<= BLOCK rows) some table lacks room for: grow
        (StateStore does) and call again from there.
    insert_row(row, rkeys, rslots, ikeys, islots, meta, tree) -> (int64, bool)
        One contiguous row of W words: (index, new), or (-1, False) with
        nothing inserted when some table is full (count == limit). Slower
        per row than insert_rows (no pipelining, small allocations).
    lookup_rows(states, rkeys, rslots, ikeys, islots, meta, tree, out_idx) -> None
        out_idx[i] = root index of row i or -1 if absent. Never inserts.
    decode_range(lo, hi, rkeys, ikeys, meta, tree, out) -> None
        out[i - lo] = state i for lo <= i < hi (out zeroed, (hi - lo, W)).
    decode_indices(idx, rkeys, ikeys, meta, tree, out) -> None
        out[j] = state idx[j] (out zeroed, (len(idx), W)).

Partitions (`StateStore(..., partitions=P, pool=...)`): an insert runs on
several threads and still numbers states exactly as one partition would.
It goes in three steps. The inner tables first, for the whole batch, a
table per thread, level by level (the leaves are independent; a node waits
for its children): `inner_rows`. Then the root, whose slots are cut into P
parts by a hash of the root key: the rows are grouped by part, a chunk of
rows per thread (`route_keys`, `route_place`), then each part is probed
on a thread of its own (`insert_part`), where a key new to the store gets
a provisional index (before + its row), so that later rows of the batch
find it. Last, the new keys get their final indices: one light pass in
row order ranks the new rows (`rank_new`), then a thread per part appends
its new keys to the shared dense key array at those indices and rewrites
its own slots (`number_part`). The root keys
are the same as with one partition, so decoding is unchanged, and nothing
is stored twice. What stays serial is `rank_new`, a light pass over the
batch's rows; the inner step uses at most as many threads as a level has
tables.

The store is not thread-safe: one writer at a time; lookups and decoding may
run concurrently with each other (the kernels release the GIL) but not with
an insert."""
from __future__ import annotations

import mmap
from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["StateStore", "tree_shape", "insert_rows", "insert_row", "lookup_rows",
           "decode_range", "decode_indices", "rehash", "route_keys", "route_place", "insert_part",
           "rank_new", "number_part",
           "rehash_parts", "BLOCK", "MAX_LOAD"]

# meta columns
COUNT, LIMIT, NSLOTS, BITS, KOFF, SOFF = range(6)
# tree columns
NPARTS, PART0, RUN_START, RUN_LEN = 0, 1, 5, 6

# Rows per block. Throughput on paxos_tla_b3 rose up to about 128 (more
# misses in flight, less per-pass overhead) and was flat beyond.
BLOCK = 128
# Fill linear-probing tables up to this load. High, because a probe scans
# contiguous uint32 slots and the tag spares nearly all key reads, while
# each 0.1 of load costs about half a byte per state in the root.
MAX_LOAD = 0.9
# Tables with slots this small stay in cache: prefetching them only costs.
_PREFETCH_SLOTS = 1 << 15
# Tables up to this many entries grow by doubling (few rebuilds, and their
# slack is small in absolute terms); bigger ones by the factors below.
_SMALL = 1 << 16
_KEY_GROWTH = 1.0625  # dense keys: the root's grow by mremap (cheap), so small steps
_SLOT_GROWTH = 1.25   # slots: every growth is a rehash, so bigger steps
_MAX_ENTRIES = (1 << 32) - 2  # indices and i + 1 must fit 32 bits
_REHASH_AHEAD = 32    # prefetch distance of `rehash`
_LEAF_CHUNKS = 4      # chunks of the widest table key (two words)
_MIN_SHARE = 4096     # rows below which a pass over rows is not split over the pool

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
def _node_block(states, r0, b, ks, sl, meta, tree, t, vals, keys, hashes, new, insert):
    # pragma: no cover - compiled
    """Table t's part of rows r0..r0+b-1: vals[j, t] = entry index of row
    r0+j's key at node t (-1 if absent, or if a child is absent); new[j] =
    whether it was added. The children's vals must be filled in."""
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
    # pass 1: keys and hashes, prefetching the home slots. Every branch goes
    # the same way for all rows of the node; a run of raw chunks is read as
    # whole words.
    for j in range(b):
        r = r0 + j
        k1 = _ZERO
        if run > 0:
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
        else:
            x0 = _child(states, vals, j, r, a)
            x1 = _child(states, vals, j, r, c)
            if x0 < 0 or x1 < 0:
                vals[j, t] = -1  # (lookup) a part of the row is absent
                continue
            k0 = np.uint64(x0) | (np.uint64(x1) << _S32)
        vals[j, t] = 0
        h = _hash(k0, k1, kw)
        keys[j, 0] = k0
        keys[j, 1] = k1
        hashes[j] = h
        if big:
            _prefetch(sl, soff + _home(h, nslots))
    # pass 2: probe, and insert in row order
    for j in range(b):
        new[j] = False
        if vals[j, t] < 0:
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
                 insert):  # pragma: no cover - compiled
    ntab = tree.shape[0]
    root = ntab - 1
    vals = np.empty((BLOCK, ntab), np.int64)
    keys = np.empty((BLOCK, 2), np.uint64)
    hashes = np.empty(BLOCK, np.uint64)
    new = np.empty(BLOCK, np.bool_)
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
                        insert)
        _node_block(states, r, b, rkeys, rslots, meta, tree, root, vals, keys, hashes, new,
                    insert)
        for j in range(b):
            out_idx[r + j] = vals[j, root]
            out_new[r + j] = new[j]
        r += b
    return np.int64(n)


@njit(cache=True, nogil=True)
def insert_rows(states, start, rkeys, rslots, ikeys, islots, meta, tree, out_idx, out_new):
    # pragma: no cover - compiled
    return _rows_kernel(states, start, rkeys, rslots, ikeys, islots, meta, tree, out_idx,
                        out_new, True)


@njit(cache=True, nogil=True)
def lookup_rows(states, rkeys, rslots, ikeys, islots, meta, tree, out_idx):
    # pragma: no cover - compiled
    new = np.empty(states.shape[0], np.bool_)
    _rows_kernel(states, 0, rkeys, rslots, ikeys, islots, meta, tree, out_idx, new, False)


@njit(cache=True, nogil=True)
def insert_row(row, rkeys, rslots, ikeys, islots, meta, tree):  # pragma: no cover - compiled
    idx = np.empty(1, np.int64)
    new = np.empty(1, np.bool_)
    rows = row.reshape((1, row.shape[0]))
    if _rows_kernel(rows, 0, rkeys, rslots, ikeys, islots, meta, tree, idx, new, True) == 0:
        return np.int64(-1), False
    return idx[0], new[0]


@njit(cache=True, nogil=True)
def _decode(lo, idx, n, rkeys, ikeys, meta, tree, out):  # pragma: no cover - compiled
    """out[j] = state lo + j, or state idx[j] if idx is not empty (j < n).
    Reverse post-order visits every node before its children, so one pass
    over the nodes decodes a state."""
    root = tree.shape[0] - 1
    vals = np.empty(root + 1, np.int64)
    use_idx = idx.shape[0] > 0
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


@njit(cache=True, nogil=True)
def decode_range(lo, hi, rkeys, ikeys, meta, tree, out):  # pragma: no cover - compiled
    _decode(lo, np.empty(0, np.int64), hi - lo, rkeys, ikeys, meta, tree, out)


@njit(cache=True, nogil=True)
def decode_indices(idx, rkeys, ikeys, meta, tree, out):  # pragma: no cover - compiled
    _decode(0, idx, idx.shape[0], rkeys, ikeys, meta, tree, out)


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
def inner_rows(states, ikeys, islots, meta, tree, t, vals, insert):  # pragma: no cover - compiled
    """Inner table t's part of every row: vals[r, t] as _node_block gives
    it (the children's columns filled in). Counts are kept in a private
    copy of meta and written back to row t alone, so that threads working
    on other tables share no cache line of counts."""
    lm = meta.copy()
    keys = np.empty((BLOCK, 2), np.uint64)
    hashes = np.empty(BLOCK, np.uint64)
    new = np.empty(BLOCK, np.bool_)
    n = states.shape[0]
    for r0 in range(0, n, BLOCK):
        b = min(BLOCK, n - r0)
        _node_block(states, r0, b, ikeys, islots, lm, tree, t, vals[r0:r0 + b], keys, hashes,
                    new, insert)
    meta[t, COUNT] = lm[t, COUNT]


@njit(cache=True, nogil=True)
def route_keys(states, vals, tree, parts, lo, hi, rk, pid, counts):
    # pragma: no cover - compiled
    """Rows lo..hi-1's root keys into rk and partitions into pid, and how
    many rows go to each partition into counts (zeroed, parts + 1: the last
    counts rows with an absent part, a lookup's, which have no key). Chunks
    of the batch are routed at once, each on a thread."""
    root = tree.shape[0] - 1
    a = tree[root, PART0]
    c = tree[root, PART0 + 1]
    for r in range(lo, hi):
        x0 = _child(states, vals, r, r, a)
        x1 = _child(states, vals, r, r, c)
        if x0 < 0 or x1 < 0:
            k = _ZERO
            p = parts
        else:
            k = np.uint64(x0) | (np.uint64(x1) << _S32)
            p = _part_of(k, parts)
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
                out_new, insert):  # pragma: no cover - compiled
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
    hashes = np.empty(BLOCK, np.uint64)
    for r0 in range(lo, hi, BLOCK):
        b = min(BLOCK, hi - r0)
        for j in range(b):
            h = _mix(rk[order[r0 + j]])
            hashes[j] = h
            if big:
                _prefetch(rslots, soff + _home(h, nslots))
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


def tree_shape(words: int, bits: int | None = None) -> np.ndarray:
    """The tree over the 32-bit chunks (2*words of them, or ceil(bits/32)):
    an int64 (T, 7) array, nodes in post-order (root last). Row t is
    [nparts, part codes (4 columns, nparts used), run start, run length]:
    node t's key is its parts' 32-bit values, low part first, where a code
    c >= 0 stands for an entry index of node c and c < 0 for raw chunk
    -1 - c; if the parts are the raw chunks start..start+length-1 (a run),
    the run columns say so (length 0 otherwise), for the kernels' fast path.

    The root pairs the two halves of the vector (a segment of n chunks
    splits after ceil(n/2)). Below it, a segment of at most _LEAF_CHUNKS
    chunks is one table keyed by its raw chunks (one or two words), and a
    longer one splits in two again. Tree compression saves its memory in
    the root, whose entries are just two indices; the tables below hold few
    entries (a few percent of the states on real models), so keying them by
    raw chunks costs little memory and saves the lookups of a deeper tree:
    3 tables instead of 7 for 4 words."""
    nchunks = _nchunks(words, bits)
    nodes: list[list[int]] = []

    def node(parts: list[int]) -> int:
        chunks = [-1 - p for p in parts]
        run = min(chunks) >= 0 and chunks == list(range(chunks[0], chunks[0] + len(chunks)))
        nodes.append([len(parts)] + parts + [0] * (_LEAF_CHUNKS - len(parts))
                     + ([chunks[0], len(chunks)] if run else [0, 0]))
        return len(nodes) - 1

    def build(i: int, j: int) -> int:
        if j - i == 1:
            return -1 - i
        if j - i <= _LEAF_CHUNKS:
            return node([-1 - c for c in range(i, j)])
        m = i + (j - i + 1) // 2
        return node([build(i, m), build(m, j)])

    m = (nchunks + 1) // 2
    left = build(0, m)
    node([left, build(m, nchunks)])
    return np.array(nodes, dtype=np.int64)


def _nchunks(words: int, bits: int | None) -> int:
    """Chunks the tree stores (at least two: the root is a pair)."""
    return 2 * words if bits is None else max(2, -(-bits // 32))


def _grown(cap: int, need: int, factor: float) -> int:
    """Next capacity >= need: double while small, else grow by `factor`."""
    step = 2.0 if cap <= _SMALL else factor
    return min(max(need, int(cap * step) + 1), _MAX_ENTRIES)


def _slot_layout(entries: int) -> tuple[int, int]:
    """(nslots, bits) for a table of up to `entries` entries at MAX_LOAD."""
    nslots = max(int(np.ceil(entries / MAX_LOAD)) + 1, entries + 1)
    return nslots, max(1, entries.bit_length())


_MAP_FLAGS = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)


class _Region:
    """A growable array in an anonymous private memory mapping. Growing it
    is mremap on Linux: pages move, nothing is copied or faulted in again.
    (Growing a numpy array copies it into fresh memory that faults in page
    by page; for the root of paxos_tla_b3 that took longer than all the
    inserts.) Where mappings do not grow, and while anyone holds a view of
    the array, it falls back to allocate-and-copy."""

    def __init__(self, dtype: type, n: int) -> None:
        self.dtype = np.dtype(dtype)
        self.map: mmap.mmap | None = None
        self.array = self._fresh(n)

    def _fresh(self, n: int) -> np.ndarray:
        self.map = None
        if _MAP_FLAGS and n > 0:
            try:
                self.map = mmap.mmap(-1, n * self.dtype.itemsize, flags=_MAP_FLAGS)
                return np.frombuffer(self.map, self.dtype, count=n)
            except (OSError, ValueError):
                self.map = None
        return np.zeros(n, self.dtype)

    def resize(self, n: int, keep: int) -> np.ndarray:
        """Resize to n elements, the first `keep` preserved."""
        if self.map is not None:
            self.array = None  # release our view, or the mapping cannot move
            try:
                self.map.resize(n * self.dtype.itemsize)
                self.array = np.frombuffer(self.map, self.dtype, count=n)
                return self.array
            except (BufferError, OSError, ValueError, SystemError):
                old = np.frombuffer(self.map, self.dtype, count=keep)
        else:
            old = self.array[:keep]
        self.array = self._fresh(n)
        self.array[:keep] = old
        return self.array


class StateStore:
    """Exact set of fixed-width states with dense insertion-order indices.

    `insert` returns each row's index (0, 1, 2, ... in first-insertion
    order) and whether the row added it; `get`/`get_indices` decode.
    `capacity_hint` is the number of states to allocate room for at first;
    the store grows as needed.

    `bits` (optional, the state width) lets the tree leave out 32-bit chunks
    that are always zero: it stores max(2, ceil(bits/32)) chunks instead of
    2*words, which saves a table when the last word is at most half used
    (multi_paxos: 411 bits). Rows with bits set above the stored chunks are
    then refused by `insert` and absent for `lookup`. See the module
    docstring for the layout and the raw kernels.

    `partitions` > 1 cuts the root's slots in that many parts, and `pool`
    runs the parts (and the inner tables) on its threads: indices and new
    flags are those of one partition whatever the number (see the module
    docstring)."""

    def __init__(self, words: int, capacity_hint: int = 1 << 16, bits: int | None = None,
                 partitions: int = 1, pool: Executor | None = None) -> None:
        if words < 1:
            raise ValueError("words must be >= 1")
        if bits is not None and not 0 < bits <= 64 * words:
            raise ValueError(f"bits must be in 1..{64 * words}")
        if partitions < 1:
            raise ValueError("partitions must be >= 1")
        self.words = words
        self.tree = tree_shape(words, bits)
        # chunks the tree stores; any chunk past them must be zero
        self._nchunks = _nchunks(words, bits)
        self.parts = partitions
        self.pool = pool
        self._scratch_arrays: dict[str, np.ndarray] = {}
        ntab = self.tree.shape[0]
        self.root = ntab - 1
        # the inner tables by height: each level's tables can be filled at
        # once, once the levels below are
        height = [0] * ntab
        for t in range(ntab):
            kids = [int(c) for c in self.tree[t, PART0:PART0 + self.tree[t, NPARTS]] if c >= 0]
            height[t] = 1 + max((height[c] for c in kids), default=-1)
        self._levels = [[t for t in range(self.root) if height[t] == h]
                        for h in range(max(height[:self.root], default=-1) + 1)]
        self.meta = np.zeros((ntab, 6), dtype=np.int64)
        # per partition of the root: entries, and how many its slots take
        self.pmeta = np.zeros((partitions, 2), dtype=np.int64)
        # capacities of each table: key entries, and entries its slots take
        # (the root's slots: per partition)
        self._kcap = [0] * ntab
        self._slot_entries = [0] * ntab
        cap = min(max(2 * BLOCK, capacity_hint), _MAX_ENTRIES)
        self._rkeys = _Region(np.uint64, cap)
        self._rslots = _Region(np.uint32, 0)
        self._kcap[self.root] = cap
        self._rebuild_root_slots(-(-cap // partitions))
        self.ikeys = np.empty(0, dtype=np.uint64)
        self.islots = np.empty(0, dtype=np.uint32)
        # the inner tables hold a small fraction of the states: start small
        inner = max(2 * BLOCK, min(cap, 1024))
        self._rebuild_inner({t: (inner, inner) for t in range(self.root)})

    # ---- sizes -------------------------------------------------------
    def __len__(self) -> int:
        return int(self.meta[self.root, COUNT])

    @property
    def rkeys(self) -> np.ndarray:
        return self._rkeys.array

    @property
    def rslots(self) -> np.ndarray:
        return self._rslots.array

    @property
    def nbytes(self) -> int:
        return (self.rkeys.nbytes + self.rslots.nbytes + self.ikeys.nbytes
                + self.islots.nbytes + self.meta.nbytes + self.pmeta.nbytes + self.tree.nbytes)

    def table_sizes(self) -> list[int]:
        """Entries per table, root last (for diagnostics)."""
        return [int(n) for n in self.meta[:, COUNT]]

    def kernel_args(self) -> tuple[np.ndarray, ...]:
        """(rkeys, rslots, ikeys, islots, meta, tree) for the raw kernels;
        stale after any growth. insert_rows, insert_row and lookup_rows
        know one partition only."""
        if self.parts > 1:
            raise ValueError("the raw insert and lookup kernels take a store of one partition")
        return self.rkeys, self.rslots, self.ikeys, self.islots, self.meta, self.tree

    # ---- growth ------------------------------------------------------
    def _set_limit(self, t: int) -> None:
        if t == self.root:
            self.pmeta[:, LIMIT] = self._slot_entries[t]
            slots = self._slot_entries[t] * self.parts
        else:
            slots = self._slot_entries[t]
        self.meta[t, LIMIT] = min(self._kcap[t], slots, _MAX_ENTRIES)

    def _rebuild_root_slots(self, entries: int) -> None:
        """Root slots for `entries` entries in each partition."""
        t = self.root
        nslots, bits = _slot_layout(entries)
        if self.parts > 1:
            # slots hold indices into the shared keys: room for every partition's
            bits = max(1, min(_MAX_ENTRIES, entries * self.parts).bit_length())
        sl = self._rslots.resize(nslots * self.parts, 0)
        sl.fill(0)
        self.meta[t, NSLOTS], self.meta[t, BITS] = nslots, bits
        if self.parts > 1:
            rkeys, n = self.rkeys, len(self)
            if self.pool is None:
                rehash_parts(rkeys, n, sl, nslots, bits, self.parts, -1)
            else:
                self._each(lambda p: rehash_parts(rkeys, n, sl, nslots, bits, self.parts, p),
                           list(range(self.parts)))
        else:
            rehash(self.rkeys, 0, 1, len(self), sl, 0, nslots, bits)
        self._slot_entries[t] = entries
        self._set_limit(t)

    def _rebuild_inner(self, grow: dict[int, tuple[int, int]]) -> None:
        """A new arena for the inner tables; grow[t] = (key capacity, slot
        entries) of the tables that change (their slots are rehashed)."""
        ntab = self.root
        kcap = [grow[t][0] if t in grow else self._kcap[t] for t in range(ntab)]
        sent = [grow[t][1] if t in grow else self._slot_entries[t] for t in range(ntab)]
        layout = [_slot_layout(sent[t]) if t in grow
                  else (int(self.meta[t, NSLOTS]), int(self.meta[t, BITS])) for t in range(ntab)]
        kw = [(int(self.tree[t, NPARTS]) + 1) // 2 for t in range(ntab)]  # key words
        ikeys = np.empty(sum(k * w for k, w in zip(kcap, kw)), dtype=np.uint64)
        islots = np.zeros(sum(ns for ns, _ in layout), dtype=np.uint32)
        koff = soff = 0
        for t in range(ntab):
            n = int(self.meta[t, COUNT])
            old_k, old_s = int(self.meta[t, KOFF]), int(self.meta[t, SOFF])
            ikeys[koff:koff + n * kw[t]] = self.ikeys[old_k:old_k + n * kw[t]]
            nslots, bits = layout[t]
            if t in grow:
                rehash(ikeys, koff, kw[t], n, islots, soff, nslots, bits)
            else:
                islots[soff:soff + nslots] = self.islots[old_s:old_s + nslots]
            self.meta[t, KOFF], self.meta[t, SOFF] = koff, soff
            self.meta[t, NSLOTS], self.meta[t, BITS] = nslots, bits
            self._kcap[t], self._slot_entries[t] = kcap[t], sent[t]
            self._set_limit(t)
            koff += kcap[t] * kw[t]
            soff += nslots
        self.ikeys, self.islots = ikeys, islots

    def _ensure(self, need: list[int], part_need: int = 0) -> None:
        """Make every table t hold need[t] entries without growing (and, with
        partitions, the root's slots part_need entries in each)."""
        if max(need) > _MAX_ENTRIES:
            raise OverflowError("a state store table would exceed 2**32 - 2 entries")
        grow: dict[int, tuple[int, int]] = {}
        for t, nd in enumerate(need):
            kcap, sent = self._kcap[t], self._slot_entries[t]
            new_k = kcap if kcap >= nd else _grown(kcap, nd, _KEY_GROWTH)
            if t == self.root:
                nd = max(part_need, -(-nd // self.parts))
            new_s = sent if sent >= nd else _grown(sent, nd, _SLOT_GROWTH)
            if t == self.root:
                if new_k != kcap:
                    self._rkeys.resize(new_k, len(self))
                    self._kcap[t] = new_k
                    self._set_limit(t)
                if new_s != sent:
                    self._rebuild_root_slots(new_s)
            elif new_k != kcap or new_s != sent:
                grow[t] = (new_k, new_s)
        if grow:
            self._rebuild_inner(grow)

    def reserve(self, n_more: int) -> None:
        """Room for n_more new states without growth: afterwards, inserting
        rows of which at most n_more are new never stops insert_rows. Any
        table may take n_more new entries, so this sizes all of them for
        it: keep n_more to a batch, or the small tables get over-allocated."""
        self._ensure([int(c) + n_more for c in self.meta[:, COUNT]],
                     int(self.pmeta[:, COUNT].max()) + n_more)

    # ---- operations --------------------------------------------------
    def _rows(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows as C-contiguous uint64, and a mask of the rows with bits
        set above the stored chunks (None if there are none)."""
        a = np.asarray(states)
        if a.ndim != 2 or a.shape[1] != self.words:
            raise ValueError(f"states must have shape (N, {self.words})")
        if a.dtype == np.int64:
            a = a.view(np.uint64)
        elif a.dtype != np.uint64:
            raise TypeError("states must be uint64 or int64")
        a = np.ascontiguousarray(a)
        k = self._nchunks
        if k == 2 * self.words:
            return a, None
        over = (a[:, k // 2] >> np.uint64(32)) != 0 if k & 1 else np.zeros(len(a), np.bool_)
        for w in range((k + 1) // 2, self.words):
            over |= a[:, w] != 0
        return a, (over if over.any() else None)

    def insert(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index of each row, whether the row added it); rows are taken in
        order, so a state new to the store is new at its first row."""
        a, over = self._rows(states)
        if over is not None:
            raise ValueError(f"row {int(np.argmax(over))} has bits set beyond the store's width")
        if self.parts > 1:
            return self._by_partition(a, True)
        n = a.shape[0]
        out_idx = np.empty(n, dtype=np.int64)
        out_new = np.empty(n, dtype=np.bool_)
        r = 0
        while True:
            r = int(insert_rows(a, r, self.rkeys, self.rslots, self.ikeys, self.islots,
                                self.meta, self.tree, out_idx, out_new))
            if r >= n:
                return out_idx, out_new
            # a block did not fit: grow the tables short of BLOCK free entries
            self._ensure([int(c) + BLOCK if c + BLOCK > lim else 0
                          for c, lim in self.meta[:, [COUNT, LIMIT]]])

    def _by_partition(self, a: np.ndarray, insert: bool) -> tuple[np.ndarray, np.ndarray]:
        """insert or lookup in a partitioned store: the inner tables level by
        level, a table per thread; then the root, a partition per thread;
        then the new states numbered in row order, so that indices and new
        flags are those of one partition (and the same for any number of
        threads)."""
        n, parts, root = a.shape[0], self.parts, self.root
        before = len(self)
        if insert:
            self._ensure([int(c) + n for c in self.meta[:root, COUNT]] + [before])
        vals = self._scratch("vals", n * (root + 1), np.int64).reshape(n, root + 1)
        ikeys, islots, meta, tree = self.ikeys, self.islots, self.meta, self.tree
        for level in self._levels:
            self._each(lambda t: inner_rows(a, ikeys, islots, meta, tree, t, vals, insert), level)
        rk = self._scratch("rk", n, np.uint64)
        order = self._scratch("order", 2 * n, np.int64)
        starts = self._route(a, vals, n, rk, order)
        counts = np.diff(starts)[:parts]
        if insert:
            self._ensure([int(c) for c in self.meta[:root, COUNT]] + [before + n],
                         int((self.pmeta[:, COUNT] + counts).max()))
        pidx = self._scratch("pidx", n, np.int64)
        pnew = self._scratch("pnew", n, np.bool_)
        slotpos = self._scratch("slotpos", n, np.int64)
        rkeys, rslots = self.rkeys, self.rslots

        def run(p: int) -> None:
            insert_part(order, starts[p], starts[p + 1], p, before, rk, rkeys, rslots, meta,
                        self.pmeta, slotpos, pidx, pnew, insert)

        self._each(run, [p for p in range(parts) if counts[p]])
        if not insert:
            pidx[starts[parts]:starts[parts + 1]] = -1    # a part absent: not stored
            return pidx[order[n:2 * n]], np.zeros(n, np.bool_)
        out_idx = np.empty(n, dtype=np.int64)
        out_new = np.empty(n, dtype=np.bool_)
        final = self._scratch("final", n, np.int64)
        made = rank_new(n, before, order, pnew, final)

        def finish(p: int) -> None:
            number_part(order, starts[p], starts[p + 1], before, rk, rkeys, rslots, meta,
                        slotpos, pidx, pnew, final, out_idx, out_new)

        self._each(finish, [p for p in range(parts) if counts[p]])
        meta[root, COUNT] = before + made
        return out_idx, out_new

    def _route(self, a: np.ndarray, vals: np.ndarray, n: int, rk: np.ndarray,
               order: np.ndarray) -> np.ndarray:
        """Root keys into rk, and the rows grouped by partition into order
        (see route_place); returns the groups' starts (parts + 2 of them:
        the last group is the rows with an absent part). A chunk of rows
        per thread, in two passes: keys and counts, then placing."""
        parts = self.parts
        chunks = self._chunks(n)
        pid = self._scratch("pid", n, np.int64)
        counts = np.zeros((len(chunks), parts + 1), np.int64)
        tree = self.tree
        self._each(lambda c: route_keys(a, vals, tree, parts, chunks[c][0], chunks[c][1], rk,
                                        pid, counts[c]), list(range(len(chunks))))
        starts = np.zeros(parts + 2, np.int64)
        np.cumsum(counts.sum(axis=0), out=starts[1:])
        # chunk c's rows of partition p follow the earlier chunks' rows of p
        at = starts[:-1] + np.cumsum(counts, axis=0) - counts
        self._each(lambda c: route_place(chunks[c][0], chunks[c][1], n, pid, at[c], order),
                   list(range(len(chunks))))
        return starts

    def _chunks(self, n: int) -> list[tuple[int, int]]:
        """Rows 0..n cut into a range per thread for a pass that can take
        them apart (one range without a pool, or below 2 * _MIN_SHARE)."""
        share = n if self.pool is None or n < 2 * _MIN_SHARE else -(-n // self.parts)
        return [(lo, min(n, lo + share)) for lo in range(0, n, share or 1)]

    def _scratch(self, name: str, n: int, dtype: type) -> np.ndarray:
        """A working array of n elements, kept between calls: allocated
        anew each time, a batch's arrays are fresh pages to fault in."""
        a = self._scratch_arrays.get(name)
        if a is None or len(a) < n:
            a = self._scratch_arrays[name] = np.empty(max(n, 1 << 16), dtype)
        return a[:n]

    def _each(self, work: Callable[[int], object], items: list[int]) -> None:
        """work(i) for each item: the first on this thread, the others on the
        pool if there is one (while this thread would only wait)."""
        if self.pool is not None and len(items) > 1:
            futures = [self.pool.submit(work, i) for i in items[1:]]
            work(items[0])
            for f in futures:
                f.result()
        else:
            for i in items:
                work(i)

    def lookup(self, states: np.ndarray) -> np.ndarray:
        a, over = self._rows(states)
        if self.parts > 1:
            out = self._by_partition(a, False)[0]
        else:
            out = np.empty(a.shape[0], dtype=np.int64)
            lookup_rows(a, self.rkeys, self.rslots, self.ikeys, self.islots, self.meta,
                        self.tree, out)
        if over is not None:
            out[over] = -1  # the store cannot hold them
        return out

    def get(self, lo: int, hi: int) -> np.ndarray:
        if not 0 <= lo <= hi <= len(self):
            raise IndexError(f"range {lo}..{hi} outside 0..{len(self)}")
        out = np.zeros((hi - lo, self.words), dtype=np.uint64)
        rkeys, ikeys = self.rkeys, self.ikeys
        chunks = self._chunks(hi - lo)

        def run(c: int) -> None:
            at, end = chunks[c]
            decode_range(lo + at, lo + end, rkeys, ikeys, self.meta, self.tree, out[at:end])

        self._each(run, list(range(len(chunks))))
        return out

    def get_indices(self, idx: np.ndarray) -> np.ndarray:
        ix = np.ascontiguousarray(idx, dtype=np.int64)
        if ix.ndim != 1:
            raise ValueError("indices must be one-dimensional")
        if ix.size and (ix.min() < 0 or ix.max() >= len(self)):
            raise IndexError("state index out of range")
        out = np.zeros((ix.shape[0], self.words), dtype=np.uint64)
        decode_indices(ix, self.rkeys, self.ikeys, self.meta, self.tree, out)
        return out
