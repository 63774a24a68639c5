"""The tree-compressed state store (paxcheck/fast/store.py) against a dict:
indices are 0, 1, 2, ... in first-insertion order, `new` marks exactly the
first occurrence, lookups never insert, and decoding gives the rows back.
The same for a store of several partitions, on threads or not: its indices
must be exactly those of one partition."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from paxcheck.search.fast import store as st
from paxcheck.search.fast import store_kernels as sk
from paxcheck.search.fast.store import StateStore

M64 = (1 << 64) - 1
POOL = ThreadPoolExecutor(2)
# partitions, and whether they run on threads
PARTS = [(1, False), (2, True), (3, False), (4, True)]
PART_IDS = ["1", "2-threads", "3", "4-threads"]


def make(words: int, parts: tuple[int, bool] = (1, False), **kw) -> StateStore:
    n, threads = parts
    return StateStore(words, partitions=n, pool=POOL if threads else None, **kw)


class Reference:
    """The store's contract, with a dict."""

    def __init__(self) -> None:
        self.index: dict[tuple[int, ...], int] = {}
        self.rows: list[tuple[int, ...]] = []

    def insert(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx, new = [], []
        for r in map(tuple, rows.tolist()):
            i = self.index.get(r)
            new.append(i is None)
            if i is None:
                i = self.index[r] = len(self.rows)
                self.rows.append(r)
            idx.append(i)
        return np.array(idx, dtype=np.int64), np.array(new, dtype=bool)


def check_insert(store: StateStore, ref: Reference, rows: np.ndarray) -> None:
    idx, new = store.insert(rows)
    ridx, rnew = ref.insert(rows)
    assert idx.dtype == np.int64 and new.dtype == np.bool_
    assert np.array_equal(idx, ridx)
    assert np.array_equal(new, rnew)
    assert len(store) == len(ref.rows)


def check_contents(store: StateStore, ref: Reference, rng: np.random.Generator) -> None:
    n = len(ref.rows)
    expect = np.array(ref.rows, dtype=np.uint64).reshape(n, store.words)
    assert np.array_equal(store.get(0, n), expect)
    if n:
        lo = int(rng.integers(0, n))
        hi = int(rng.integers(lo, n + 1))
        assert np.array_equal(store.get(lo, hi), expect[lo:hi])
        pick = rng.integers(0, n, size=min(n, 500))
        assert np.array_equal(store.get_indices(pick), expect[pick])
    assert np.array_equal(store.lookup(expect), np.arange(n))


def random_rows(rng: np.random.Generator, n: int, words: int, alphabet: int) -> np.ndarray:
    """Rows whose 32-bit chunks come from a small alphabet of wide values:
    plenty of duplicates and of shared parts, and high bits in use."""
    values = rng.integers(0, 1 << 32, size=alphabet, dtype=np.uint64)
    values[0] = 0
    values[-1] = 0xFFFFFFFF
    chunks = values[rng.integers(0, alphabet, size=(n, 2 * words))]
    return chunks[:, 0::2] | (chunks[:, 1::2] << np.uint64(32))


@pytest.mark.parametrize("parts", PARTS, ids=PART_IDS)
@pytest.mark.parametrize("words", [1, 2, 3, 4, 7])
def test_random_batches_match_reference(words: int, parts: tuple[int, bool]) -> None:
    rng = np.random.default_rng(words)
    store, ref = make(words, parts, capacity_hint=1), Reference()
    previous = np.zeros((0, words), np.uint64)
    for size in [0, 1, 7, 300, 1000, 5000, 20000]:
        rows = random_rows(rng, size, words, alphabet=6 if words > 1 else 300)
        if size > 10:
            rows[size // 2:size // 2 + 10] = rows[:10]      # duplicates within the batch
            k = min(len(previous), size // 4)                 # and of earlier batches
            if k:
                rows[-k:] = previous[rng.integers(0, len(previous), size=k)]
        check_insert(store, ref, rows)
        check_contents(store, ref, rng)
        previous = np.concatenate([previous, rows])


@pytest.mark.parametrize("words,bits", [(1, 20), (1, 64), (2, 90), (3, 153), (3, 160),
                                        (4, 240), (5, 300), (6, 352), (7, 411), (8, 512)])
@pytest.mark.parametrize("parts", [(1, False), (3, True)], ids=["1", "3-threads"])
def test_tree_shapes_for_state_widths(words: int, bits: int, parts: tuple[int, bool]) -> None:
    """Every shape `bits` leads to (runs of 2-4 chunks starting on even and
    odd chunks, pairs of raw chunks and of indices) against the reference."""
    rng = np.random.default_rng(bits)
    rows = random_rows(rng, 6000, words, alphabet=4)
    top = bits - 64 * (words - 1)
    if top < 64:
        rows[:, -1] &= np.uint64((1 << top) - 1)
    rows[3000:] = rows[rng.integers(0, 3000, size=3000)]
    store, ref = make(words, parts, capacity_hint=1, bits=bits), Reference()
    for lo in range(0, len(rows), 1000):
        check_insert(store, ref, rows[lo:lo + 1000])
    check_contents(store, ref, rng)


@pytest.mark.parametrize("parts", PARTS, ids=PART_IDS)
@pytest.mark.parametrize("words", [1, 2, 4, 7])
def test_absent_rows_are_not_found_nor_added(words: int, parts: tuple[int, bool]) -> None:
    rng = np.random.default_rng(10 + words)
    store, ref = make(words, parts), Reference()
    rows = random_rows(rng, 3000, words, alphabet=5)
    check_insert(store, ref, rows)
    # half of them stored, half new (one chunk changed)
    probe = rows[rng.permutation(3000)[:2000]].copy()
    probe[1000:, -1] ^= np.uint64(1 << 35)
    expect = np.array([ref.index.get(r, -1) for r in map(tuple, probe.tolist())])
    assert (expect == -1).any() and (expect >= 0).any()
    before = len(store)
    assert np.array_equal(store.lookup(probe), expect)
    assert len(store) == before
    check_contents(store, ref, rng)


@pytest.mark.parametrize("parts", [(1, False), (2, True)], ids=["1", "2-threads"])
def test_growth_across_many_resizes(parts: tuple[int, bool]) -> None:
    """From the smallest tables up past the point where growth switches from
    doubling to small factors, every table rebuilt many times over (with
    partitions, the root's slots rehashed a partition per thread)."""
    rng = np.random.default_rng(5)
    store, ref = make(3, parts, capacity_hint=1), Reference()
    base = rng.integers(0, 1 << 63, size=(200_000, 3), dtype=np.uint64)
    # the third word varies little, the first two a lot: inner tables of
    # very different sizes
    base[:, 2] &= np.uint64(0xF0000000F)
    for lo in range(0, len(base), 30_000):
        check_insert(store, ref, base[lo:lo + 40_000])  # overlapping batches
    check_contents(store, ref, rng)
    assert len(store) == len(np.unique(base, axis=0))


def test_structured_rows_successor_like() -> None:
    """Rows that differ from a parent in one word or one bit, as successors do."""
    rng = np.random.default_rng(7)
    words = 4
    parents = rng.integers(0, 1 << 64, size=(500, words), dtype=np.uint64)
    rows = []
    for p in parents:
        for k in range(words):
            for bit in (0, 31, 32, 63):
                q = p.copy()
                q[k] ^= np.uint64(1 << bit)
                rows.append(q)
        rows.append(p)
    rows = np.array(rows)
    rows = np.concatenate([rows, np.zeros((3, words), np.uint64),
                           np.full((2, words), M64, np.uint64)])
    store, ref = StateStore(words, capacity_hint=4), Reference()
    check_insert(store, ref, rows)
    check_insert(store, ref, rows[::-1].copy())
    check_contents(store, ref, rng)


def test_int64_rows_are_their_bit_patterns() -> None:
    rng = np.random.default_rng(3)
    u = random_rows(rng, 2000, 2, alphabet=9)
    s = u.view(np.int64)
    assert (s < 0).any()
    a, b = StateStore(2), StateStore(2)
    ia, na = a.insert(u)
    ib, nb = b.insert(s)
    assert np.array_equal(ia, ib) and np.array_equal(na, nb)
    assert np.array_equal(b.get(0, len(b)), a.get(0, len(a)))
    assert np.array_equal(b.lookup(s), a.lookup(u))


def test_non_contiguous_input() -> None:
    rng = np.random.default_rng(4)
    wide = random_rows(rng, 1000, 6, alphabet=4)
    rows = wide[::2, 1:4]          # strided rows and columns
    store, ref = StateStore(3), Reference()
    check_insert(store, ref, rows)
    check_contents(store, ref, rng)


def test_width_in_bits() -> None:
    """With `bits` the store keeps ceil(bits/32) chunks; wider rows are refused."""
    rng = np.random.default_rng(8)
    bits = 411                                   # 13 chunks of 7 words
    rows = random_rows(rng, 5000, 7, alphabet=5)
    rows[:, 6] &= np.uint64((1 << (bits - 6 * 64)) - 1)
    store, ref = StateStore(7, bits=bits), Reference()
    chunks = lambda tree: {-1 - c for row in tree for c in row[1:1 + row[0]] if c < 0}
    assert chunks(st.tree_shape(7, bits)) == set(range(13))
    assert chunks(st.tree_shape(7)) == set(range(14))
    check_insert(store, ref, rows)
    check_contents(store, ref, rng)
    wide = rows[:3].copy()
    wide[1, 6] |= np.uint64(1 << 40)
    with pytest.raises(ValueError):
        store.insert(wide)
    assert len(store) == len(ref.rows)
    found = store.lookup(wide)
    assert found[1] == -1 and found[0] == ref.index[tuple(wide[0].tolist())]
    # one chunk: the root pairs it with the next one, which is then stored too
    small = StateStore(1, bits=20)
    idx, new = small.insert(np.array([[5], [7], [5], [1 << 32]], dtype=np.uint64))
    assert idx.tolist() == [0, 1, 0, 2] and new.tolist() == [True, True, False, True]
    # two chunks of two words: the second word must be zero
    two = StateStore(2, bits=40)
    two.insert(np.array([[M64, 0]], dtype=np.uint64))
    with pytest.raises(ValueError):
        two.insert(np.array([[1, 1]], dtype=np.uint64))
    assert two.lookup(np.array([[M64, 0], [M64, 1]], dtype=np.uint64)).tolist() == [0, -1]


def work_arrays(store: StateStore) -> tuple[np.ndarray, ...]:
    """The working arrays of the row kernels: vals, keys, hashes, new."""
    ntab = len(store.tree)
    return (np.empty((st.BLOCK, ntab), np.int64), np.empty((st.BLOCK, 2), np.uint64),
            np.empty(st.BLOCK, np.uint64), np.empty(st.BLOCK, np.bool_))


NO_PARENTS = (np.zeros((0, 1), np.uint64), np.zeros((0, 1), np.int64), np.zeros(0, np.int64))


@pytest.mark.parametrize("parts", PARTS, ids=PART_IDS)
@pytest.mark.parametrize("words, bits", [(1, 40), (2, 128), (4, 256), (6, 339), (7, 448)])
def test_inserting_with_parents_gives_the_same_indices(words: int, bits: int,
                                                       parts: tuple[int, bool]) -> None:
    """Successors inserted with their parents (the tables where a row's key
    is its parent's are not probed) get exactly the indices and new flags
    of an insert without them, level after level: rows that change one
    chunk, several, none (a stutter), or whose key in a table changes back
    to one stored long ago."""
    rng = np.random.default_rng(words * 100 + parts[0])
    top = np.uint64((1 << (bits - 64 * (words - 1))) - 1) if bits % 64 else M64
    plain, fast = make(words, parts, capacity_hint=1, bits=bits), \
        make(words, parts, capacity_hint=1, bits=bits)
    seed = random_rows(rng, 50, words, alphabet=5)
    seed[:, -1] &= top
    assert np.array_equal(plain.insert(seed)[0], fast.insert(seed)[0])
    lo = 0
    for _ in range(4):
        hi = len(fast)
        rows, nodes = fast.get_with_nodes(lo, hi)
        assert np.array_equal(rows, plain.get(lo, hi))
        srcs = np.repeat(np.arange(hi - lo), 6)
        kids = rows[srcs].copy()
        for j in range(len(kids)):
            for _ in range(int(rng.integers(0, 3))):   # 0, 1 or 2 words changed
                w = int(rng.integers(0, words))
                kids[j, w] ^= np.uint64(1) << np.uint64(int(rng.integers(0, 64)))
        kids[:, -1] &= top
        want = plain.insert(kids)
        got = fast.insert(kids, st.Parents(rows, nodes, srcs))
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        lo = hi
    assert np.array_equal(fast.get(0, len(fast)), plain.get(0, len(plain)))


def test_parents_are_checked() -> None:
    store = StateStore(2)
    store.insert(np.array([[1, 2], [3, 4]], np.uint64))
    rows, nodes = store.get_with_nodes(0, 2)
    kids = rows.copy()
    with pytest.raises(ValueError, match="srcs must be 2 rows of the 2 parents"):
        store.insert(kids, st.Parents(rows, nodes, np.array([0, 2])))
    with pytest.raises(ValueError, match="node indices"):
        store.insert(kids, st.Parents(rows, nodes[:, :1], np.array([0, 1])))


def test_reserve_means_no_growth() -> None:
    rng = np.random.default_rng(9)
    store = StateStore(4, capacity_hint=1)
    store.insert(random_rows(rng, 1000, 4, alphabet=8))
    rows = np.unique(random_rows(rng, 5000, 4, alphabet=8), axis=0)
    store.reserve(len(rows))
    before = len(store)
    args = store.kernel_args()
    out_idx = np.empty(len(rows), np.int64)
    out_new = np.empty(len(rows), np.bool_)
    assert sk.insert_rows(rows, 0, *args, out_idx, out_new, *work_arrays(store),
                          *NO_PARENTS) == len(rows)
    assert len(store) == before + int(out_new.sum())
    assert np.array_equal(store.get_indices(out_idx), rows)


def test_raw_kernels() -> None:
    """insert_row / insert_rows / lookup_rows / decode_* as numba code calls them
    (numba's dispatch, not the store's native entry points), with the
    grow-and-retry protocol done by hand."""
    rng = np.random.default_rng(11)
    store, ref = StateStore(3, capacity_hint=1), Reference()
    rows = random_rows(rng, 3000, 3, alphabet=6).view(np.int64)
    for r in rows:
        while True:
            i, new = sk.insert_row(r, *store.kernel_args())
            if i >= 0:
                break
            assert not new
            store.reserve(1)
        ri, rn = ref.insert(r[None, :].view(np.uint64))
        assert (i, new) == (ri[0], rn[0])
    rkeys, rslots, ikeys, islots, meta, tree = store.kernel_args()
    out = np.empty(len(rows), np.int64)
    sk.lookup_rows(rows, rkeys, rslots, ikeys, islots, meta, tree, out, *work_arrays(store))
    assert np.array_equal(out, ref.insert(rows.view(np.uint64))[0])
    dec = np.zeros((len(store), 3), np.int64)
    sk.decode_range(0, len(store), rkeys, ikeys, meta, tree, dec, np.empty(len(tree), np.int64),
                    np.empty((0, len(tree)), np.int64))
    assert np.array_equal(dec.view(np.uint64), np.array(ref.rows, np.uint64))
    # insert_rows stops at a block that does not fit, touching nothing
    small = StateStore(2, capacity_hint=1)
    fresh = np.unique(random_rows(rng, 4000, 2, alphabet=50), axis=0)
    oi = np.full(len(fresh), -7, np.int64)
    on = np.zeros(len(fresh), np.bool_)
    r = sk.insert_rows(fresh, 0, *small.kernel_args(), oi, on, *work_arrays(small), *NO_PARENTS)
    assert 0 < r < len(fresh) and r % st.BLOCK == 0
    assert len(small) == r and (oi[r:] == -7).all()
    assert np.array_equal(oi[:r], np.arange(r))


def test_growth_while_a_view_is_held() -> None:
    """Growth replaces arrays; one still held by a caller stays valid memory
    (the store then copies instead of moving its mapping)."""
    rng = np.random.default_rng(12)
    store, ref = StateStore(2, capacity_hint=1), Reference()
    check_insert(store, ref, random_rows(rng, 500, 2, alphabet=30))
    held = store.kernel_args()
    snapshot = held[0][:len(store)].copy()
    check_insert(store, ref, random_rows(rng, 100_000, 2, alphabet=30))
    assert np.array_equal(held[0][:len(snapshot)], snapshot)
    check_contents(store, ref, rng)


def test_small_cases_and_errors() -> None:
    store = StateStore(2)
    assert len(store) == 0 and store.get(0, 0).shape == (0, 2)
    idx, new = store.insert(np.zeros((0, 2), np.uint64))
    assert idx.shape == (0,) and new.shape == (0,)
    assert store.lookup(np.zeros((1, 2), np.uint64)).tolist() == [-1]
    idx, new = store.insert(np.zeros((3, 2), np.uint64))
    assert idx.tolist() == [0, 0, 0] and new.tolist() == [True, False, False]
    assert store.nbytes > 0
    with pytest.raises(ValueError):
        store.insert(np.zeros((1, 3), np.uint64))
    with pytest.raises(TypeError):
        store.insert(np.zeros((1, 2), np.float64))
    with pytest.raises(IndexError):
        store.get(0, 2)
    with pytest.raises(IndexError):
        store.get_indices(np.array([1]))
    with pytest.raises(ValueError):
        StateStore(0)


def test_paxos_tla_b1_state_set_round_trips(root) -> None:
    """The 3,921 reachable states of models/paxos_tla_b1.toml, inserted in BFS
    order as successor batches, come back in that order."""
    from paxcheck.config.model import load_model
    from support.engines import Compiled
    m = load_model(str(root / "models" / "paxos_tla_b1.toml"))
    ci = Compiled(m.instances[0], m.config.properties)
    words = (ci.layout.bits + 63) // 64

    def pack(states: list[int]) -> np.ndarray:
        return np.array([[(s >> (64 * k)) & M64 for k in range(words)] for s in states],
                        dtype=np.uint64).reshape(len(states), words)

    order: list[int] = []
    seen: dict[int, int] = {}
    store = StateStore(words, capacity_hint=16, bits=ci.layout.bits)
    init = sorted(set(ci.initial_states))
    idx, new = store.insert(pack(init))
    for s in init:
        seen[s] = len(order)
        order.append(s)
    assert idx.tolist() == list(range(len(init))) and new.all()
    i = 0
    while i < len(order):
        succ = [t for _, t in ci.successors(order[i])]
        idx, new = store.insert(pack(succ))
        for t, j, n in zip(succ, idx.tolist(), new.tolist()):
            assert n == (t not in seen)
            if t not in seen:
                seen[t] = len(order)
                order.append(t)
            assert j == seen[t]
        i += 1
    assert len(store) == len(order) == 3921
    assert np.array_equal(store.get(0, len(store)), pack(order))
    assert np.array_equal(store.lookup(pack(order)), np.arange(len(order)))


def test_partitioned_store_refuses_the_raw_kernels() -> None:
    """insert_rows and lookup_rows know one partition: handing them a
    partitioned store's arrays would break it, so kernel_args says no."""
    with pytest.raises(ValueError, match="one partition"):
        make(2, (2, False)).kernel_args()


def test_partitions_share_the_root_evenly() -> None:
    """The root's partitions are chosen by a hash of the root key: on 50,000
    distinct states each of 4 holds about a quarter (binomial spread: a
    standard deviation of about 100, so 500 either way is never reached by
    chance), and the counts add up."""
    rng = np.random.default_rng(11)
    store = make(3, (4, True))
    rows = np.unique(rng.integers(0, 1 << 40, size=(50_000, 3), dtype=np.uint64), axis=0)
    store.insert(rows)
    counts = store.pmeta[:, 0]
    assert counts.sum() == len(store) == len(rows)
    assert np.all(np.abs(counts - len(rows) / 4) < 500), counts
