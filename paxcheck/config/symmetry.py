"""Symmetry reduction: canonical representatives of states under permutations
of the elements of sorts declared symmetric.

The model declares `symmetry = ["acceptor", "value"]` (top level or in
`[check]`). The group G is the product, over the declared sorts, of all
permutations of each sort's elements (n1! * n2! * ... elements).

Derived sorts. A sort that is not declared but appears in an immutable symbol
together with a symmetric sort (the quorums of `member(a: acceptor, q:
quorum)`) is *derived*: each group element is extended to it by a
permutation that leaves every immutable interpretation unchanged (for
quorums, the permutation of the sets induced by the permutation of their
members). The extension is found by search; none -> the symmetry is refused.
When a derived sort occurs in the state (a parameter or result of a mutable
symbol) its extension must be unique, or the group would not act on states in
one well-defined way; if the derived sort does not occur in the state, any
extension will do. Derived sorts are found transitively (a sort linked by an
immutable to a derived sort is derived too). Ordered sorts are never
symmetric nor derived. Every other sort is fixed pointwise.

Soundness. Every group element (with its extension) is an automorphism of
the instance: it preserves each sort (ordered sorts pointwise, hence their
order), `none`, and every immutable interpretation; the spec language has no
element constants (only variables, symbols, definitions and `none`), so the
axioms, init, actions and properties are then invariant too: g(init) = init,
succ(g s) = g succ(s) (as sets of states), and a property holds in s iff it
holds in g s (two-state: on (s, t) iff on (g s, g t)). Immutable individuals
are immutable symbols, so an individual that names one element (`noop =
"noop"`) is checked like any other interpretation and refuses the symmetry
of its sort.

Action on states. A mutable symbol's point (args) moves to (g args) (`none`
stays `none` at option parameters) and a function's value v becomes g v when
its result sort is moved (`none` stays `none`). On the packed int of
`layout.py` this is a permutation of the relation bits plus a permutation of
the function fields with a relabelling of their raw values.

canon(s) = min over g in G of g(s), as integers. `Symmetry.canon(s)` works
on a Python int (the Python engine), with per-element chunk tables of
Python ints; the fast engine compiles the same per-element moves
(`point_maps`, `raw_maps`) to machine code (search/fast/canon.py), and the
tests hold the two to the same representatives.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from math import factorial, prod
from operator import getitem

from paxcheck.config.instance import Instance
from paxcheck.errors import PaxError, Span
from paxcheck.ground.layout import Layout
from paxcheck.lang import ir

MAX_GROUP = 40320      # 8!: refuse bigger groups
MAX_SEARCH_NODES = 1_000_000  # backtracking budget when extending to derived sorts
CHUNK_BITS = 8         # preferred chunk width of the tables
MAX_CHUNK_BITS = 12

Perm = tuple[int, ...]
Element = dict[str, Perm]  # sort -> permutation (p[i] is the image of i); moved sorts only


# ---- the group ------------------------------------------------------------------
@dataclass(frozen=True)
class GroupSpec:
    """A validated symmetry: declared sorts, derived sorts and generators
    (adjacent transpositions of each declared sort, extended to the derived
    sorts)."""
    declared: tuple[str, ...]
    derived: tuple[str, ...]
    in_state: tuple[str, ...]            # moved sorts that occur in the mutable state
    order: int
    generators: tuple[Element, ...]


def _fail(message: str, span: Span | None, source: str | None,
          expected: str | None = None) -> PaxError:
    return PaxError(message, span, expected, source)


def _rows(inst: Instance, sym: ir.Symbol) -> tuple[tuple[str, ...], frozenset]:
    """An immutable interpretation as a set of rows (args, or args + result),
    with the sort of each position."""
    sorts = tuple(p.name for p in sym.params) + ((sym.result.name,) if sym.result else ())
    val = inst.interp[sym.name]
    if sym.kind == "relation":
        rows = frozenset(val)
    elif sym.kind == "function":
        rows = frozenset(tuple(k) + (v,) for k, v in val.items())
    else:
        rows = frozenset({(val,)})
    return sorts, rows


def _map_row(row: tuple[int, ...], sorts: tuple[str, ...], perm: dict[str, Perm]) -> tuple:
    return tuple(v if v < 0 or s not in perm else perm[s][v] for v, s in zip(row, sorts))


def _swap(n: int, i: int, j: int) -> Perm:
    p = list(range(n))
    p[i], p[j] = j, i
    return tuple(p)


def _compose(a: Element, b: Element) -> Element:
    """a after b."""
    return {s: tuple(a[s][x] for x in b[s]) for s in a}


def describe_perm(inst: Instance, sort: str, p: Perm) -> str:
    moved = [i for i, x in enumerate(p) if x != i]
    names = inst.elements[sort]
    if len(moved) == 2:
        return f"swapping {sort} {names[moved[0]]} and {names[moved[1]]}"
    return f"the permutation of {sort} " + ", ".join(f"{names[i]}->{names[p[i]]}" for i in moved)


class _Extender:
    """Finds permutations of the derived sorts that, together with given
    permutations of the declared sorts, leave immutable interpretations
    invariant (a small constraint search)."""

    def __init__(self, inst: Instance, derived: list[str],
                 rowsets: dict[str, tuple[tuple[str, ...], frozenset]]) -> None:
        self.inst, self.derived, self.rowsets = inst, derived, rowsets

    def solutions(self, gmap: dict[str, Perm], symbols: list[str] | None = None
                  ) -> Iterator[dict[str, Perm]]:
        names = list(self.rowsets) if symbols is None else symbols
        rowsets = {n: self.rowsets[n] for n in names}
        derived = [d for d in self.derived
                   if any(d in sorts for sorts, _ in rowsets.values())]
        # symbols over no derived sort: a direct check
        for sorts, rows in rowsets.values():
            if not any(s in derived for s in sorts):
                if any(_map_row(r, sorts, gmap) not in rows for r in rows):
                    return
        if not derived:
            yield {}
            return
        # signatures: rows through an element, derived components masked
        def sig(sort: str, t: int, perm: dict[str, Perm]) -> tuple:
            out = []
            for name, (sorts, rows) in rowsets.items():
                for i, s in enumerate(sorts):
                    if s != sort:
                        continue
                    for r in rows:
                        if r[i] == t:
                            out.append((name, i, tuple(
                                "*" if s2 in derived and v >= 0 else
                                (v if v < 0 or s2 not in perm else perm[s2][v])
                                for v, s2 in zip(r, sorts))))
            return tuple(sorted(out, key=repr))
        cands: dict[tuple[str, int], list[int]] = {}
        for d in derived:
            n = self.inst.size(d)
            plain = [sig(d, u, {}) for u in range(n)]
            for t in range(n):
                want = sig(d, t, gmap)
                cands[(d, t)] = [u for u in range(n) if plain[u] == want]
                if not cands[(d, t)]:
                    return
        # rows through each variable, checked once all their derived parts are set
        through: dict[tuple[str, int], list[tuple[tuple[str, ...], frozenset, tuple]]] = {}
        for sorts, rows in rowsets.values():
            for r in rows:
                for v, s in zip(r, sorts):
                    if s in derived and v >= 0:
                        through.setdefault((s, v), []).append((sorts, rows, r))
        order = [(d, t) for d in derived for t in range(self.inst.size(d))]
        assign: dict[str, list[int]] = {d: [-1] * self.inst.size(d) for d in derived}
        used: dict[str, set[int]] = {d: set() for d in derived}
        nodes = [0]

        def image(r: tuple, sorts: tuple[str, ...]) -> tuple | None:
            out = []
            for v, s in zip(r, sorts):
                if v < 0:
                    out.append(v)
                elif s in assign:
                    if assign[s][v] < 0:
                        return None
                    out.append(assign[s][v])
                else:
                    out.append(gmap[s][v] if s in gmap else v)
            return tuple(out)

        def rec(k: int) -> Iterator[dict[str, Perm]]:
            if k == len(order):
                yield {d: tuple(assign[d]) for d in derived}
                return
            d, t = order[k]
            for u in cands[(d, t)]:
                if u in used[d]:
                    continue
                nodes[0] += 1
                if nodes[0] > MAX_SEARCH_NODES:
                    raise _SearchTooBig()
                assign[d][t] = u
                used[d].add(u)
                ok = True
                for sorts, rows, r in through.get((d, t), ()):
                    img = image(r, sorts)
                    if img is not None and img not in rows:
                        ok = False
                        break
                if ok:
                    yield from rec(k + 1)
                assign[d][t] = -1
                used[d].discard(u)

        yield from rec(0)


class _SearchTooBig(Exception):
    pass


def validate(inst: Instance, sorts: tuple[str, ...] | list[str], span: Span | None = None,
             source: str | None = None) -> GroupSpec:
    """Check a declared symmetry on one instance and return its group; a
    PaxError (at `span`) when it is not a symmetry of the instance."""
    spec = inst.spec
    where = f" ({inst.label})" if inst.label else ""
    unordered = [s.name for s in spec.sorts if not s.ordered]
    seen: set[str] = set()
    for name in sorts:
        if name not in spec.sort_map:
            raise _fail(f"unknown sort '{name}' in symmetry (not in {spec.file})", span, source,
                        ", ".join(f"'{n}'" for n in sorted(unordered)) or "no unordered sort")
        if spec.sort_map[name].ordered:
            raise _fail(f"'{name}' is an ordered sort; an ordered sort cannot be symmetric: "
                        "its order distinguishes elements", span, source,
                        "sorts declared without 'ordered'")
        if name in seen:
            raise _fail(f"sort '{name}' is listed twice in symmetry", span, source)
        seen.add(name)
    declared = tuple(sorts)
    order = prod(factorial(inst.size(s)) for s in declared)
    if order > MAX_GROUP:
        raise _fail(f"the symmetry group has {order:,} elements, more than {MAX_GROUP:,}: "
                    "declare fewer or smaller sorts symmetric", span, source)
    immutables = [s for s in spec.immutable_symbols]
    sym_sorts = {s.name: tuple(p.name for p in s.params) + ((s.result.name,) if s.result else ())
                 for s in immutables}
    # derived sorts: the closure over immutables, never ordered, never declared
    moved = set(declared)
    derived: list[str] = []
    changed = True
    while changed:
        changed = False
        for sym in immutables:
            ss = sym_sorts[sym.name]
            if not any(s in moved for s in ss):
                continue
            for s in ss:
                if s not in moved and not spec.sort_map[s].ordered:
                    moved.add(s)
                    derived.append(s)
                    changed = True
    derived.sort(key=[s.name for s in spec.sorts].index)
    relevant = {sym.name: _rows(inst, sym) for sym in immutables
                if any(s in moved for s in sym_sorts[sym.name])}
    state_sorts = {p.name for sym in spec.mutable_symbols for p in
                   (sym.params + ((sym.result,) if sym.result else ()))}
    in_state = tuple(s for s in [*declared, *derived] if s in state_sorts)
    # derived sorts in the state first: the uniqueness search then decides early
    derived_order = sorted(derived, key=lambda s: s not in state_sorts)
    ext = _Extender(inst, derived_order, relevant)

    def first(gmap: dict[str, Perm], symbols: list[str] | None = None) -> dict[str, Perm] | None:
        try:
            return next(ext.solutions(gmap, symbols), None)
        except _SearchTooBig:
            raise _fail(f"cannot decide how the symmetry permutes {', '.join(derived)}: "
                        f"the search gave up after {MAX_SEARCH_NODES:,} steps", span,
                        source) from None

    generators: list[Element] = []
    for s in declared:
        n = inst.size(s)
        for i, j in itertools.combinations(range(n), 2):
            gmap = {s: _swap(n, i, j)}
            sol = first(gmap)
            if sol is None:
                what = describe_perm(inst, s, gmap[s])
                culprit = [name for name in relevant if first(gmap, [name]) is None]
                if culprit:
                    name = culprit[0]
                    with_ = [d for d in derived if d in relevant[name][0]]
                    extra = (f" (with any permutation of {', '.join(with_)})" if with_ else "")
                    msg = f"immutable '{name}' is not invariant under {what}{extra}{where}"
                else:
                    names = " and ".join(f"'{n}'" for n in relevant)
                    msg = (f"immutables {names} are not jointly invariant under {what} "
                           f"(with any permutation of {', '.join(derived)}){where}")
                raise _fail(msg, span, source,
                            "symmetric sorts whose elements no immutable interpretation "
                            "tells apart")
            if j == i + 1:
                generators.append({**{x: tuple(range(inst.size(x))) for x in declared},
                                   **{d: tuple(range(inst.size(d))) for d in derived},
                                   **gmap, **sol})
    # a derived sort in the state must be permuted in one way only
    if any(d in state_sorts for d in derived):
        ident = {d: tuple(range(inst.size(d))) for d in derived}
        try:
            for sol in ext.solutions({}):
                bad = [d for d in derived if d in state_sorts and sol[d] != ident[d]]
                if bad:
                    d = bad[0]
                    users = [m.name for m in spec.mutable_symbols
                             if d in [p.name for p in m.params] or
                             (m.result is not None and m.result.name == d)]
                    links = [f"'{n}'" for n in relevant if d in relevant[n][0]]
                    raise _fail(
                        f"sort '{d}' occurs in the state ('{users[0]}') and is permuted with "
                        f"the symmetric sorts through immutable {' and '.join(links)}, but not "
                        f"in one way: {describe_perm(inst, d, sol[d])} alone also leaves every "
                        f"immutable unchanged, so the group would not act on states as one "
                        f"permutation{where}", span, source,
                        f"declare '{d}' symmetric too, or an interpretation of "
                        f"{' and '.join(links)} that tells the elements of '{d}' apart")
        except _SearchTooBig:
            raise _fail(f"cannot decide whether the symmetry permutes {', '.join(derived)} "
                        f"in one way: the search gave up after {MAX_SEARCH_NODES:,} steps",
                        span, source) from None
    return GroupSpec(declared, tuple(derived), in_state, order, tuple(generators))


def enumerate_group(inst: Instance, group: GroupSpec) -> list[Element]:
    """Every element of the group, the identity first (closure of the
    generators; each element carries a valid extension to the derived sorts,
    the unique one for derived sorts that occur in the state)."""
    ident: Element = {s: tuple(range(inst.size(s))) for s in (*group.declared, *group.derived)}
    key = lambda e: tuple(e[s] for s in group.declared)  # noqa: E731
    out = [ident]
    seen = {key(ident)}
    i = 0
    while i < len(out):
        cur = out[i]
        for gen in group.generators:
            new = _compose(gen, cur)
            k = key(new)
            if k not in seen:
                seen.add(k)
                out.append(new)
        i += 1
    assert len(out) == group.order, (len(out), group.order)
    return out


# ---- the action on packed states ---------------------------------------------------
@dataclass(frozen=True)
class _Unit:
    """A relation bit or a function field of the layout."""
    slot: int      # index of the slot
    k: int         # point index within the slot
    lo: int        # first bit
    width: int


class Symmetry:
    """A symmetry group acting on the packed states of one instance.

    Build with `Symmetry.build(inst, layout, sorts, span, source)` (span and
    source locate PaxErrors, e.g. the model's `symmetry` key).

    * `order`, `elements` (each a dict sort -> permutation tuple over the
      moved sorts, identity first), `declared`, `derived`;
    * `apply(g, s)` the image of packed state s under element index g;
    * `canon(s)` min over the group of g(s) (a Python int);
    * the per-element moves, for engines that generate their own code:
      `slots` (the layout's slots in bit order), `point_maps[g][si][k]` (the
      point index that point k of slot si moves to) and `raw_maps[g][si][r]`
      (the raw value that raw r of a field of slot si becomes; 2^width
      entries, identity for relations and for raws that encode no value).
      Element 0 is the identity.
    """

    def __init__(self, inst: Instance, layout: Layout, group: GroupSpec) -> None:
        self.inst, self.layout, self.group = inst, layout, group
        self.declared, self.derived = group.declared, group.derived
        self.elements: list[Element] = enumerate_group(inst, group)
        self.order = len(self.elements)
        slots = list(layout.slots.values())
        self._slots = slots
        units: list[_Unit] = []
        for si, slot in enumerate(slots):
            for k in range(slot.npoints):
                units.append(_Unit(si, k, slot.base + slot.width * k, slot.width))
        self._units = units
        widest = max((u.width for u in units), default=1)
        if widest > MAX_CHUNK_BITS:
            raise PaxError(f"a function field of {widest} bits is too wide for symmetry tables "
                           f"(at most {MAX_CHUNK_BITS})")
        # per element and slot: point index map and raw value map
        self._pk: list[list[list[int]]] = []
        self._rmap: list[list[list[int]]] = []
        for e in self.elements:
            pks, rms = [], []
            for slot in slots:
                sym = slot.symbol
                pts = layout.points[sym.name]
                sorts = [p.name for p in sym.params]
                pks.append([(slot.offset(_map_row(p, sorts, e)) - slot.base) // slot.width
                            for p in pts])
                raw = list(range(1 << slot.width))
                if not sym.is_relation and sym.value_sort.name in e:
                    perm = e[sym.value_sort.name]
                    for r in range(slot.nvalues):
                        v = r - slot.bias
                        raw[r] = (perm[v] if v >= 0 else v) + slot.bias
                rms.append(raw)
            self._pk.append(pks)
            self._rmap.append(rms)
        self._py: list[list[list[int]]] | None = None

    @property
    def slots(self) -> list:
        return self._slots

    @property
    def point_maps(self) -> list[list[list[int]]]:
        return self._pk

    @property
    def raw_maps(self) -> list[list[list[int]]]:
        return self._rmap

    @classmethod
    def build(cls, inst: Instance, layout: Layout | None, sorts: tuple[str, ...] | list[str],
              span: Span | None = None, source: str | None = None) -> Symmetry:
        group = validate(inst, tuple(sorts), span, source)
        return cls(inst, layout if layout is not None else Layout(inst), group)

    # ---- Python ints
    def _unit_images(self, g: int, u: _Unit) -> list[int]:
        slot = self._slots[u.slot]
        dest = slot.base + slot.width * self._pk[g][u.slot][u.k]
        return [r << dest for r in self._rmap[g][u.slot]]

    def _python_tables(self) -> list[tuple[list[tuple[int, int]], list[list[list[int]]]]]:
        """Per slot, most significant first: its chunks [(lo, mask)] (cut at
        the slot's boundaries, unlike the numpy tables) and per element g the
        chunk tables; a slot's image lies within the slot's own bits."""
        if self._py is None:
            limit = max(CHUNK_BITS, max((u.width for u in self._units), default=1))
            out = []
            for si in reversed(range(len(self._slots))):
                units = [u for u in self._units if u.slot == si]
                groups: list[list[_Unit]] = []
                cw = limit + 1
                for u in units:
                    if cw + u.width > limit:
                        groups.append([])
                        cw = 0
                    groups[-1].append(u)
                    cw += u.width
                if not groups:
                    continue
                chunks = [(grp[0].lo, (1 << sum(u.width for u in grp)) - 1) for grp in groups]
                tabs = [[[sum(t) for t in itertools.product(
                            *(self._unit_images(g, u) for u in reversed(grp)))]
                         for grp in groups] for g in range(self.order)]
                out.append((chunks, tabs))
            self._py = out
        return self._py

    def apply(self, g: int, s: int) -> int:
        """The image of packed state s under element g."""
        return sum(t[(s >> lo) & m] for chunks, tabs in self._python_tables()
                   for t, (lo, m) in zip(tabs[g], chunks))

    def canon(self, s: int) -> int:
        """The representative of s's orbit: min over the group of g(s).

        Slot by slot from the most significant, keeping only the elements
        whose image is smallest so far (so the cost is about the size of the
        state's stabilizer once the top slots tell the elements apart)."""
        cands: list[int] | range = range(self.order)
        result = 0
        for chunks, tabs in self._python_tables():
            parts = [(s >> lo) & m for lo, m in chunks]
            if len(cands) == 1:
                result += sum(map(getitem, tabs[cands[0]], parts))
                continue
            best = -1
            keep: list[int] = []
            for g in cands:
                x = sum(map(getitem, tabs[g], parts))
                if x < best or best < 0:
                    best, keep = x, [g]
                elif x == best:
                    keep.append(g)
            result += best
            cands = keep
        return result

    def orbit(self, s: int) -> set[int]:
        return {self.apply(g, s) for g in range(self.order)}

    def describe(self) -> str:
        out = ", ".join(f"{s}={self.inst.size(s)}" for s in self.declared)
        if self.derived:
            out += " (derived: " + ", ".join(self.derived) + ")"
        return f"{out}: {self.order:,} permutations"
