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

The store is not thread-safe: one writer at a time; lookups and decoding may
run concurrently with each other (the kernels release the GIL) but not with
an insert."""
from __future__ import annotations

import mmap

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["StateStore", "tree_shape", "insert_rows", "insert_row", "lookup_rows",
           "decode_range", "decode_indices", "rehash", "BLOCK", "MAX_LOAD"]

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
            if a >= 0:
                x0 = vals[j, a]
            else:
                x = np.uint64(states[r, (-1 - a) >> 1])
                x0 = np.int64((x >> _S32) if (-1 - a) & 1 else (x & _M32))
            if c >= 0:
                x1 = vals[j, c]
            else:
                x = np.uint64(states[r, (-1 - c) >> 1])
                x1 = np.int64((x >> _S32) if (-1 - c) & 1 else (x & _M32))
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
    docstring for the layout and the raw kernels."""

    def __init__(self, words: int, capacity_hint: int = 1 << 16, bits: int | None = None) -> None:
        if words < 1:
            raise ValueError("words must be >= 1")
        if bits is not None and not 0 < bits <= 64 * words:
            raise ValueError(f"bits must be in 1..{64 * words}")
        self.words = words
        self.tree = tree_shape(words, bits)
        # chunks the tree stores; any chunk past them must be zero
        self._nchunks = _nchunks(words, bits)
        ntab = self.tree.shape[0]
        self.root = ntab - 1
        self.meta = np.zeros((ntab, 6), dtype=np.int64)
        # capacities of each table: key entries, and entries its slots take
        self._kcap = [0] * ntab
        self._slot_entries = [0] * ntab
        cap = min(max(2 * BLOCK, capacity_hint), _MAX_ENTRIES)
        self._rkeys = _Region(np.uint64, cap)
        self._rslots = _Region(np.uint32, 0)
        self._kcap[self.root] = cap
        self._rebuild_root_slots(cap)
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
                + self.islots.nbytes + self.meta.nbytes + self.tree.nbytes)

    def table_sizes(self) -> list[int]:
        """Entries per table, root last (for diagnostics)."""
        return [int(n) for n in self.meta[:, COUNT]]

    def kernel_args(self) -> tuple[np.ndarray, ...]:
        """(rkeys, rslots, ikeys, islots, meta, tree) for the raw kernels;
        stale after any growth."""
        return self.rkeys, self.rslots, self.ikeys, self.islots, self.meta, self.tree

    # ---- growth ------------------------------------------------------
    def _set_limit(self, t: int) -> None:
        self.meta[t, LIMIT] = min(self._kcap[t], self._slot_entries[t], _MAX_ENTRIES)

    def _rebuild_root_slots(self, entries: int) -> None:
        t = self.root
        nslots, bits = _slot_layout(entries)
        sl = self._rslots.resize(nslots, 0)
        sl.fill(0)
        self.meta[t, NSLOTS], self.meta[t, BITS] = nslots, bits
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

    def _ensure(self, need: list[int]) -> None:
        """Make every table t hold need[t] entries without growing."""
        if max(need) > _MAX_ENTRIES:
            raise OverflowError("a state store table would exceed 2**32 - 2 entries")
        grow: dict[int, tuple[int, int]] = {}
        for t, nd in enumerate(need):
            kcap, sent = self._kcap[t], self._slot_entries[t]
            new_k = kcap if kcap >= nd else _grown(kcap, nd, _KEY_GROWTH)
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
        self._ensure([int(c) + n_more for c in self.meta[:, COUNT]])

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
        a, over = self._rows(states)
        if over is not None:
            raise ValueError(f"row {int(np.argmax(over))} has bits set beyond the store's width")
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

    def lookup(self, states: np.ndarray) -> np.ndarray:
        a, over = self._rows(states)
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
        decode_range(lo, hi, self.rkeys, self.ikeys, self.meta, self.tree, out)
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
