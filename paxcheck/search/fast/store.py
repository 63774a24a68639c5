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
  computes the keys and prefetches the home slots of the big tables, then
  (big tables only) one prefetches the key of each row's first tag match,
  and a last one probes (and inserts, in row order). The root lives in
  DRAM, and this way a block's cache misses overlap instead of coming one
  by one, a duplicate's key read included.
* An insert may say where its rows come from (`Parents`: the decoded
  states a batch of successors was generated from, with their entries in
  every table, `get_with_nodes`). A node whose key in a row is its
  parent's takes the parent's entry without a probe, and a row equal to
  its parent takes the parent's index; successors change a few chunks of
  a state, so most of their subtrees are their parents'.

Memory: the root costs 8 bytes of key plus 4/load bytes of slot per state,
the other tables typically a byte or so more; `_KEY_GROWTH`, `_SLOT_GROWTH`
and `MAX_LOAD` bound the slack (paxos_tla_b3: 14.3 bytes per state).

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
an insert.

The kernels are numba code (store_kernels.py), run without numba: compiled
once per machine into the kernel cache and called through ctypes
(fast/native.py, `kernels()`)."""
from __future__ import annotations

import mmap
from collections.abc import Callable
from concurrent.futures import Executor
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

__all__ = ["StateStore", "Parents", "tree_shape", "kernels", "BLOCK", "MAX_LOAD"]

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
# Tables up to this many entries grow by doubling (few rebuilds, and their
# slack is small in absolute terms); bigger ones by the factors below.
_SMALL = 1 << 16
_KEY_GROWTH = 1.0625  # dense keys: the root's grow by mremap (cheap), so small steps
_SLOT_GROWTH = 1.25   # slots: every growth is a rehash, so bigger steps
_MAX_ENTRIES = (1 << 32) - 2  # indices and i + 1 must fit 32 bits
_LEAF_CHUNKS = 4      # chunks of the widest table key (two words)
_MIN_SHARE = 4096     # rows below which a pass over rows is not split over the pool

# The kernels StateStore calls (store_kernels.py), as fast/native.py builds them.
_ROWS = "u8[:,:]"
_TABLES = "u8[:], u4[:], u8[:], u4[:], i8[:,:], i8[:,:]"   # rkeys, rslots, ikeys, islots, meta, tree
_WORK = "i8[:,:], u8[:,:], u8[:], b1[:]"                   # vals, keys, hashes, new
_PARENTS = "u8[:,:], i8[:,:], i8[:]"                         # parents, pnodes, srcs
_NATIVE = {
    "insert_rows": f"i8({_ROWS}, i8, {_TABLES}, i8[:], b1[:], {_WORK}, {_PARENTS})",
    "lookup_rows": f"void({_ROWS}, {_TABLES}, i8[:], {_WORK})",
    "decode_range": "void(i8, i8, u8[:], u8[:], i8[:,:], i8[:,:], u8[:,:], i8[:], i8[:,:])",
    "decode_indices": "void(i8[:], u8[:], u8[:], i8[:,:], i8[:,:], u8[:,:], i8[:], i8[:,:])",
    "rehash": "void(u8[:], i8, i8, i8, u4[:], i8, i8, i8)",
    "inner_rows": f"void({_ROWS}, u8[:], u4[:], i8[:,:], i8[:,:], i8, i8[:,:], b1, i8[:,:], "
                  f"u8[:,:], u8[:], b1[:], {_PARENTS})",
    "route_keys": f"void({_ROWS}, i8[:,:], i8[:,:], i8, i8, i8, u8[:], i8[:], i8[:], {_PARENTS})",
    "route_place": "void(i8, i8, i8, i8[:], i8[:], i8[:])",
    "insert_part": "void(i8[:], i8, i8, i8, i8, u8[:], u8[:], u4[:], i8[:,:], i8[:,:], i8[:], "
                   "i8[:], b1[:], b1, u8[:])",
    "rank_new": "i8(i8, i8, i8[:], b1[:], i8[:])",
    "number_part": "void(i8[:], i8, i8, i8, u8[:], u8[:], u4[:], i8[:,:], i8[:], i8[:], b1[:], "
                   "i8[:], i8[:], b1[:])",
    "rehash_parts": "void(u8[:], i8, u4[:], i8, i8, i8, i8)",
}
_kernels: SimpleNamespace | None = None


def kernels() -> SimpleNamespace:
    """The store's kernels as StateStore calls them: compiled by numba once
    per machine, then loaded without it (fast/native.py)."""
    global _kernels
    if _kernels is None:
        from paxcheck.search.fast import native
        _kernels = native.library("paxcheck.search.fast.store_kernels", _NATIVE,
                                  depends=(__name__,))
    return _kernels


class Parents(NamedTuple):
    """Where the rows of an insert come from: row i was generated from
    parents.rows[parents.srcs[i]], a stored state whose inner tables'
    indices are parents.nodes (as `get_with_nodes` gives them). The store
    then skips the tables where a row's key is its parent's."""
    rows: np.ndarray    # uint64 (M, W)
    nodes: np.ndarray   # int64 (M, T)
    srcs: np.ndarray    # int64 (N,), each in 0..M-1


_NO_PARENTS = Parents(np.zeros((0, 1), np.uint64), np.zeros((0, 1), np.int64),
                      np.zeros(0, np.int64))


class _Work:
    """One thread's working arrays for the kernels, which allocate nothing
    (store_kernels.py): a call's own, so that lookups and decoding can run
    on several threads at once."""
    __slots__ = ("vals", "keys", "hashes", "new", "meta")

    def __init__(self, ntab: int) -> None:
        self.vals = np.empty((BLOCK, ntab), np.int64)
        self.keys = np.empty((BLOCK, 2), np.uint64)
        self.hashes = np.empty(BLOCK, np.uint64)
        self.new = np.empty(BLOCK, np.bool_)
        self.meta = np.empty((ntab, 6), np.int64)

    def rows(self) -> tuple[np.ndarray, ...]:
        """The arrays of a pass over rows: vals, keys, hashes, new."""
        return self.vals, self.keys, self.hashes, self.new


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
    docstring for the layout, and store_kernels.py for the raw kernels.

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
        k = kernels()
        if self.parts > 1:
            rkeys, n = self.rkeys, len(self)
            if self.pool is None:
                k.rehash_parts(rkeys, n, sl, nslots, bits, self.parts, -1)
            else:
                self._each(lambda p: k.rehash_parts(rkeys, n, sl, nslots, bits, self.parts, p),
                           list(range(self.parts)))
        else:
            k.rehash(self.rkeys, 0, 1, len(self), sl, 0, nslots, bits)
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
                kernels().rehash(ikeys, koff, kw[t], n, islots, soff, nslots, bits)
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

    def insert(self, states: np.ndarray, parents: Parents | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(index of each row, whether the row added it); rows are taken in
        order, so a state new to the store is new at its first row.
        `parents` (optional) says where each row comes from, which spares
        lookups; the result is the same."""
        a, over = self._rows(states)
        if over is not None:
            raise ValueError(f"row {int(np.argmax(over))} has bits set beyond the store's width")
        par = self._parents(parents, a.shape[0])
        if self.parts > 1:
            return self._by_partition(a, True, par)
        n = a.shape[0]
        out_idx = np.empty(n, dtype=np.int64)
        out_new = np.empty(n, dtype=np.bool_)
        work = _Work(self.root + 1).rows()
        r = 0
        while True:
            r = int(kernels().insert_rows(a, r, self.rkeys, self.rslots, self.ikeys, self.islots,
                                          self.meta, self.tree, out_idx, out_new, *work, *par))
            if r >= n:
                return out_idx, out_new
            # a block did not fit: grow the tables short of BLOCK free entries
            self._ensure([int(c) + BLOCK if c + BLOCK > lim else 0
                          for c, lim in self.meta[:, [COUNT, LIMIT]]])

    def _parents(self, parents: Parents | None, n: int) -> Parents:
        """The parents of n rows, checked: the kernels read parents.rows and
        parents.nodes at every src unchecked."""
        if parents is None:
            return _NO_PARENTS
        rows = np.ascontiguousarray(parents.rows).view(np.uint64)
        nodes = np.ascontiguousarray(parents.nodes, dtype=np.int64)
        srcs = np.ascontiguousarray(parents.srcs, dtype=np.int64)
        m = len(rows)
        if rows.shape != (m, self.words) or nodes.shape != (m, self.root + 1):
            raise ValueError(f"parents must be ({m}, {self.words}) rows and "
                             f"({m}, {self.root + 1}) node indices")
        if srcs.shape != (n,) or (n and (srcs.min() < 0 or srcs.max() >= m)):
            raise ValueError(f"parents.srcs must be {n} rows of the {m} parents")
        return Parents(rows, nodes, srcs)

    def _by_partition(self, a: np.ndarray, insert: bool, par: Parents = _NO_PARENTS
                      ) -> tuple[np.ndarray, np.ndarray]:
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
        k = kernels()
        work = [_Work(root + 1) for _ in range(max(root, parts))]

        def inner(t: int) -> None:
            w = work[t]
            k.inner_rows(a, ikeys, islots, meta, tree, t, vals, insert, w.meta, w.keys, w.hashes,
                         w.new, *par)

        for level in self._levels:
            self._each(inner, level)
        rk = self._scratch("rk", n, np.uint64)
        order = self._scratch("order", 2 * n, np.int64)
        starts = self._route(a, vals, n, rk, order, par)
        counts = np.diff(starts)[:parts]
        if insert:
            self._ensure([int(c) for c in self.meta[:root, COUNT]] + [before + n],
                         int((self.pmeta[:, COUNT] + counts).max()))
        pidx = self._scratch("pidx", n, np.int64)
        pnew = self._scratch("pnew", n, np.bool_)
        slotpos = self._scratch("slotpos", n, np.int64)
        rkeys, rslots = self.rkeys, self.rslots

        def run(p: int) -> None:
            k.insert_part(order, starts[p], starts[p + 1], p, before, rk, rkeys, rslots, meta,
                          self.pmeta, slotpos, pidx, pnew, insert, work[p].hashes)

        self._each(run, [p for p in range(parts) if counts[p]])
        if not insert:
            pidx[starts[parts]:starts[parts + 1]] = -1    # a part absent: not stored
            return pidx[order[n:2 * n]], np.zeros(n, np.bool_)
        out_idx = np.empty(n, dtype=np.int64)
        out_new = np.empty(n, dtype=np.bool_)
        final = self._scratch("final", n, np.int64)
        same = order[starts[parts + 1]:starts[parts + 2]]   # rows equal to their parents
        pnew[starts[parts + 1]:starts[parts + 2]] = False
        made = k.rank_new(n, before, order, pnew, final)

        def finish(p: int) -> None:
            k.number_part(order, starts[p], starts[p + 1], before, rk, rkeys, rslots, meta,
                          slotpos, pidx, pnew, final, out_idx, out_new)

        self._each(finish, [p for p in range(parts) if counts[p]])
        out_idx[same] = rk[same].view(np.int64)
        out_new[same] = False
        meta[root, COUNT] = before + made
        return out_idx, out_new

    def _route(self, a: np.ndarray, vals: np.ndarray, n: int, rk: np.ndarray,
               order: np.ndarray, par: Parents) -> np.ndarray:
        """Root keys into rk, and the rows grouped by partition into order
        (see route_place); returns the groups' starts (parts + 3 of them:
        after the partitions' groups come the rows with an absent part,
        then the rows equal to their parents, whose rk is that index). A
        chunk of rows per thread, in two passes: keys and counts, then
        placing."""
        parts = self.parts
        chunks = self._chunks(n)
        pid = self._scratch("pid", n, np.int64)
        counts = np.zeros((len(chunks), parts + 2), np.int64)
        tree, k = self.tree, kernels()
        self._each(lambda c: k.route_keys(a, vals, tree, parts, chunks[c][0], chunks[c][1], rk,
                                          pid, counts[c], *par), list(range(len(chunks))))
        starts = np.zeros(parts + 3, np.int64)
        np.cumsum(counts.sum(axis=0), out=starts[1:])
        # chunk c's rows of partition p follow the earlier chunks' rows of p
        at = starts[:-1] + np.cumsum(counts, axis=0) - counts
        self._each(lambda c: k.route_place(chunks[c][0], chunks[c][1], n, pid, at[c], order),
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
            kernels().lookup_rows(a, self.rkeys, self.rslots, self.ikeys, self.islots, self.meta,
                                  self.tree, out, *_Work(self.root + 1).rows())
        if over is not None:
            out[over] = -1  # the store cannot hold them
        return out

    def get(self, lo: int, hi: int) -> np.ndarray:
        """States lo..hi-1, as uint64 rows."""
        return self._get(lo, hi, False)[0]

    def get_with_nodes(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """States lo..hi-1, and each one's entry in every inner table (an
        int64 (hi - lo, T) array, the root's column unused): the `Parents`
        of the states generated from them."""
        return self._get(lo, hi, True)

    def _get(self, lo: int, hi: int, with_nodes: bool) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= lo <= hi <= len(self):
            raise IndexError(f"range {lo}..{hi} outside 0..{len(self)}")
        out = np.zeros((hi - lo, self.words), dtype=np.uint64)
        nodes = np.empty((hi - lo if with_nodes else 0, self.root + 1), np.int64)
        rkeys, ikeys, k = self.rkeys, self.ikeys, kernels()
        chunks = self._chunks(hi - lo)

        def run(c: int) -> None:
            at, end = chunks[c]
            k.decode_range(lo + at, lo + end, rkeys, ikeys, self.meta, self.tree, out[at:end],
                           np.empty(self.root + 1, np.int64),
                           nodes[at:end] if with_nodes else nodes)

        self._each(run, list(range(len(chunks))))
        return out, nodes

    def get_indices(self, idx: np.ndarray) -> np.ndarray:
        ix = np.ascontiguousarray(idx, dtype=np.int64)
        if ix.ndim != 1:
            raise ValueError("indices must be one-dimensional")
        if ix.size and (ix.min() < 0 or ix.max() >= len(self)):
            raise IndexError("state index out of range")
        out = np.zeros((ix.shape[0], self.words), dtype=np.uint64)
        kernels().decode_indices(ix, self.rkeys, self.ikeys, self.meta, self.tree, out,
                                 np.empty(self.root + 1, np.int64),
                                 np.empty((0, self.root + 1), np.int64))
        return out
