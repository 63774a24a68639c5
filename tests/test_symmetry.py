"""Symmetry reduction (paxcheck/symmetry.py) against brute force.

For every model (at a size where the whole reachable state set is at most
STATE_LIMIT states; the same decrement rule as tests/test_crosscheck.py),
with the sorts of SYMMETRIC declared symmetric:

* the representative `Symmetry.canon(s)` of every reachable state s equals
  min over the group of g(s) computed by brute force: the group built here
  from itertools.permutations (derived sorts: the permutation that keeps
  the immutables unchanged, found by trying them all), each g applied to
  the decoded state (Layout.decode -> permute the RefState -> Layout.encode),
  nothing shared with symmetry.py but the layout;
* so explore(..., symmetry=...) counts exactly the brute-force orbits;
* the fast engine's compiled canonicalization agrees with `canon` on every state;
* verdicts agree with symmetry off: the same violated properties with the
  same shortest trace lengths, the same deadlock depth and the same depth;
* every trace found under symmetry replays (`paxcheck.replay.replay`).

Then the errors: unknown sort, ordered sort, immutables that single out an
element, derived sorts that cannot be (or cannot uniquely be) permuted, a
group that is too big, with exact messages and positions."""
from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from paxcheck.cli import main
from paxcheck.config.instance import Instance
from paxcheck.config.model import Model, build_model, load_model
from paxcheck.config.symmetry import Symmetry
from paxcheck.errors import PaxError
from paxcheck.ground.layout import Layout
from paxcheck.traces import trace as T
from paxcheck.traces.replay import replay
from support.engines import Compiled, Mode, bfs, explore, fast_canon
from support.models import PAXOS, SYMMETRIC, TLA

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").rglob("*.toml"))
STATE_LIMIT = 30_000

# the sorts declared symmetric in each model: every unordered sort that no
# immutable singles out (quorums are derived from the acceptors; `noop`
# singles out a value of multi_paxos, `client`/`server` the procs of handshake)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT / "models"))


# ---- the full state set and brute-force orbits ------------------------------------
def reachable(compiled: Compiled, limit: int | None = None) -> set[int] | None:
    """Every reachable packed state (None when more than `limit`)."""
    found = bfs(compiled, limit)
    return set(found[0]) if found is not None else None


def brute_group(inst: Instance, sorts: tuple[str, ...]) -> list[dict[str, tuple[int, ...]]]:
    """Every element of the group as sort -> permutation: all permutations of
    the declared sorts; each other unordered sort that shares an immutable
    with a permuted sort gets the permutation (tried among all of them) that
    keeps those immutables unchanged. Derived sorts that occur in the state
    must get exactly one."""
    spec = inst.spec

    def rows(sym):
        v = inst.interp[sym.name]
        if sym.kind == "relation":
            return set(v)
        if sym.kind == "function":
            return {k + (x,) for k, x in v.items()}
        return {(v,)}

    def psorts(sym):
        return [p.name for p in sym.params] + ([sym.result.name] if sym.result else [])

    def same(sym, perm):
        ss = psorts(sym)
        return {tuple(x if x < 0 or s not in perm else perm[s][x] for x, s in zip(r, ss))
                for r in rows(sym)} == rows(sym)

    moved = set(sorts)
    derived: list[str] = []
    for sym in spec.immutable_symbols:
        ss = psorts(sym)
        if any(s in moved for s in ss):
            for s in ss:
                if s not in moved and not spec.sort_map[s].ordered:
                    moved.add(s)
                    derived.append(s)
    in_state = {p.name for m in spec.mutable_symbols
                for p in m.params + ((m.result,) if m.result else ())}
    out = []
    for combo in itertools.product(*(itertools.permutations(range(inst.size(s)))
                                     for s in sorts)):
        perm = dict(zip(sorts, combo))
        for d in derived:
            syms = [sym for sym in spec.immutable_symbols if d in psorts(sym)]
            # these models never link two derived sorts in one immutable
            assert all(s == d or s not in derived for sym in syms for s in psorts(sym))
            good = [p for p in itertools.permutations(range(inst.size(d)))
                    if all(same(sym, {**perm, d: p}) for sym in syms)]
            assert good, "brute force: no extension"
            if d in in_state:
                assert len(good) == 1
            perm[d] = good[0]
        assert all(same(sym, perm) for sym in spec.immutable_symbols)
        out.append(perm)
    return out


def generators(inst: Instance, sorts: tuple[str, ...], group) -> list[dict]:
    """The elements of `group` that swap two adjacent elements of one declared
    sort and fix the other declared sorts."""
    out = []
    for s in sorts:
        n = inst.size(s)
        for i in range(n - 1):
            want = {x: tuple(range(inst.size(x))) for x in sorts}
            want[s] = tuple(i + 1 if k == i else i if k == i + 1 else k for k in range(n))
            out.append(next(g for g in group if all(g[x] == want[x] for x in sorts)))
    return out


def permute_state(inst: Instance, state: tuple, perm: dict[str, tuple[int, ...]]) -> tuple:
    def m(x: int, sort: str) -> int:
        return x if x < 0 or sort not in perm else perm[sort][x]

    out = []
    for sym, entry in zip(inst.spec.mutable_symbols, state):
        ps = [p.name for p in sym.params]
        if sym.is_relation:
            out.append(frozenset(tuple(m(x, s) for x, s in zip(t, ps)) for t in entry))
        else:
            points = inst.points(sym)
            where = {p: i for i, p in enumerate(points)}
            new = [None] * len(points)
            for p, v in zip(points, entry):
                new[where[tuple(m(x, s) for x, s in zip(p, ps))]] = m(v, sym.result.name)
            out.append(tuple(new))
    return tuple(out)


def brute_canon(inst: Instance, layout: Layout, group, s: int) -> int:
    state = layout.decode(s)
    return min(layout.encode(permute_state(inst, state, g)) for g in group)


# ---- the size rule (as tests/test_crosscheck.py, on the whole state set) -----------
def _fits(model: Model) -> bool:
    return all(reachable(Compiled(i, model.config.properties), STATE_LIMIT) is not None
               for i in model.instances)


def sized(path: Path, sorts: tuple[str, ...]) -> tuple[Model, dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data = {**data, "symmetry": list(sorts)}
    model = build_model(data, str(path), text)
    while not _fits(model):
        tbl = data["sorts"]
        order = sorted((n for n, v in tbl.items() if isinstance(v, int) and v > 1),
                       key=lambda n: (-tbl[n], not model.spec.sort_map[n].ordered,
                                      list(tbl).index(n)))
        for name in order:
            trial = {**data, "sorts": {**tbl, name: tbl[name] - 1}}
            try:
                smaller = build_model(trial, str(path), text)
            except PaxError:
                continue
            data, model = trial, smaller
            break
        else:
            pytest.fail(f"{path}: no smaller instance fits")
    return model, data


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


def write_model(path: Path, data: dict[str, Any], tmp: Path) -> Path:
    """The (possibly shrunk) model as a file, so that replay can load it."""
    data = {**data, "spec": str((path.parent / data["spec"]).resolve())}
    lines = [f"{k} = {_toml(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"[{k}]")
            lines += [f"{kk} = {_toml(vv)}" for kk, vv in v.items()]
    out = tmp / path.name
    out.write_text("\n".join(lines) + "\n")
    return out


def _verdicts(run) -> dict[str, int]:
    return {f"{v.kind}:{v.property}": v.length for v in run.violations}


def check_orbits(inst: Instance, props: tuple[str, ...], sorts: tuple[str, ...]):
    """The whole comparison on one instance; returns (states, orbits,
    compiled, symmetry, run without symmetry, run with symmetry)."""
    compiled = Compiled(inst, props)
    layout = compiled.layout
    sym = Symmetry.build(inst, layout, sorts)
    group = brute_group(inst, sorts)
    assert sym.order == len(group)
    states = reachable(compiled)
    reps = {s: sym.canon(s) for s in states}
    # brute-force orbits: classes of "t = h(s)" over a generating set of
    # the group (the adjacent transpositions of each declared sort, with
    # their extension), by union-find on the whole state set
    gens = generators(inst, sorts, group)
    parent = {s: s for s in states}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for s in states:
        state = layout.decode(s)
        for h in gens:
            t = layout.encode(permute_state(inst, state, h))
            assert t in states  # the reachable set is closed under the group
            assert reps[t] == reps[s]  # canon is constant on orbits ...
            parent[find(t)] = find(s)
    n_orbits = len({find(s) for s in states})
    # ... and tells them apart; it is the minimum over the whole group
    assert len(set(reps.values())) == n_orbits
    for s in sorted(states)[:: max(1, len(states) // 300)]:
        assert reps[s] == brute_canon(inst, layout, group, s), layout.decode(s)
    orbits = set(reps.values())
    assert orbits <= states  # representatives are reachable states
    # the fast engine's machine code agrees with canon
    ordered = sorted(states)
    assert fast_canon(compiled, sym, ordered) == [reps[s] for s in ordered]
    # the reduced search counts the orbits; verdicts agree with symmetry off
    limits = Mode(keep_going=True, deadlock=True)
    plain = explore(compiled, limits)
    reduced = explore(compiled, limits, symmetry=sym)
    assert reduced.stop_reason is None and plain.stop_reason is None
    assert reduced.stats.distinct == len(orbits) == n_orbits
    # (keep_going: both searches run to the end, through violations)
    assert plain.stats.distinct == len(states)
    assert _verdicts(reduced) == _verdicts(plain)
    assert reduced.stats.depth == plain.stats.depth
    return len(states), n_orbits, compiled, sym, plain, reduced


# ---- the sweep ---------------------------------------------------------------------
def test_every_model_has_a_symmetry_entry() -> None:
    assert sorted(_rel(p) for p in MODELS) == sorted(SYMMETRIC)


# (reachable states, orbits) at the size the rule picks, as both the brute
# force and the reduced search find them
ORBITS: dict[str, tuple[int, int]] = {
    # node=2 value=2 ballot=2 (quorum=1) unless noted; Basic Paxos node=3
    # value=2 ballot=2 has 7,364 states (tests/test_crosscheck.py) in 845 orbits
    "broken/flexible_paxos_q2_q2.toml": (3921, 443),        # acceptor=3 value=2 ballot=2
    "broken/multi_paxos_partial_recovery.toml": (11382, 6714),  # acceptor=2 learner=1 slot=2
    "broken/multi_paxos_skip_phase1.toml": (5950, 3470),    # acceptor=2 learner=1 slot=1
    "broken/paxos_accept_below_promise.toml": (1552, 450),
    "broken/paxos_any_value.toml": (8772, 979),             # node=3
    "broken/paxos_crash_restart.toml": (9514, 2535),
    "broken/paxos_lowest_promise.toml": (7364, 845),        # node=3
    "broken/paxos_mixed_ballots.toml": (7364, 845),         # node=3
    "broken/paxos_no_intersection_1of3.toml": (21044, 2131),  # node=3
    "broken/paxos_no_intersection_2of4.toml": (7364, 845),  # node=3: 2-of-3 = majority
    "broken/paxos_promise_no_value.toml": (8772, 979),      # node=3
    "broken/paxos_promise_not_recorded.toml": (668, 218),
    "broken/paxos_same_ballot.toml": (993, 322),
    "broken/paxos_unproposed_value.toml": (15684, 1743),    # node=3
    "broken/paxos_vote_overwrites.toml": (6500, 763),       # node=3
    "examples/handshake.toml": (16, 9),                     # as is
    "examples/mutex.toml": (20, 7),                         # as is
    "examples/mutex_broken.toml": (111, 29),                # as is
    "flexible_paxos.toml": (20609, 834),                    # as is: acceptor=4, 48 elements
    "multi_paxos.toml": (9622, 5762),                       # acceptor=2 learner=1 slot=2
    "multi_paxos_b2.toml": (21226, 9498),                   # the same instance
    "multi_paxos_medium.toml": (9622, 5762),                # acceptor=2 learner=1 value=3
    "multi_paxos_small.toml": (1577, 947),                  # acceptor=2 learner=1 value=2
    "paxos.toml": (7364, 845),                              # node=3 ballot=2
    "paxos_tla_b1.toml": (3921, 443),                       # as is
    "paxos_tla_b2.toml": (3921, 443),                       # ballot=2: paxos_tla_b1
    "paxos_tla_b3.toml": (3921, 443),                       # ballot=2: paxos_tla_b1
    "paxos_tla_b4.toml": (3921, 443),                       # ballot=2: paxos_tla_b1
}
_checked: dict[str, tuple[int, int]] = {}  # instance -> (states, orbits)


@pytest.mark.parametrize("path", [p for p in MODELS if SYMMETRIC.get(_rel(p))], ids=_rel)
def test_orbits_equal_brute_force(path: Path, tmp_path: Path) -> None:
    sorts = SYMMETRIC[_rel(path)]
    model, data = sized(path, sorts)
    assert model.config.symmetry == sorts
    model_file = write_model(path, data, tmp_path)
    file_model = load_model(model_file)
    props = model.config.properties
    for inst, file_inst in zip(model.instances, file_model.instances):
        key = repr((model.spec.file, sorted(inst.elements.items()),
                    sorted((k, repr(v)) for k, v in inst.interp.items()), props, sorts))
        if key in _checked:  # e.g. paxos_tla_b1/b2/b3 shrink to the same instance
            assert ORBITS.get(_rel(path)) == _checked[key]
            continue
        n_states, n_orbits, compiled, sym, plain, reduced = check_orbits(inst, props, sorts)
        _checked[key] = (n_states, n_orbits)
        assert ORBITS.get(_rel(path)) == (n_states, n_orbits), inst.describe()
        # traces under symmetry are real runs that replay
        for v in reduced.violations:
            assert v.states[0] in compiled.initial_states
            for pre, gid, post in zip(v.states, v.steps, v.states[1:]):
                assert (gid, post) in compiled.successors(pre)
            tr = T.from_violation(compiled.ground, v)
            f = tmp_path / "trace.json"
            f.write_text(T.dumps(T.to_json(T.from_violation(
                Compiled(file_inst, props).ground, v), model.spec.file, str(model_file))))
            res = replay(f)
            assert res.ok, (v, res.message)
            assert tr.length == v.length


# ---- exact orbit counts ---------------------------------------------------------------
def test_paxos_tla_b1_orbits() -> None:
    model = load_model(ROOT / "models" / "paxos_tla_b1.toml")
    (inst,) = model.instances
    compiled = Compiled(inst, model.config.properties)
    sym = Symmetry.build(inst, compiled.layout, TLA)
    assert (sym.order, sym.derived) == (12, ("quorum",))
    plain = explore(compiled)
    reduced = explore(compiled, symmetry=sym)
    assert (plain.stats.distinct, plain.status) == (3_921, "holds")
    # both the brute force above and the reduced search give this count
    assert (reduced.stats.distinct, reduced.stats.depth, reduced.status) == (443, 16, "holds")
    assert len({sym.canon(s) for s in reachable(compiled)}) == 443


def test_paxos_tla_b2_orbits() -> None:
    """185,369 states (TLC's count) in 17,153 orbits; a brute-force union-find
    over the whole state set with the generators (as in the sweep above, about
    a minute, so not run here) finds the same 17,153."""
    model = load_model(ROOT / "models" / "paxos_tla_b2.toml")
    (inst,) = model.instances
    compiled = Compiled(inst, model.config.properties)
    sym = Symmetry.build(inst, compiled.layout, TLA)
    reduced = explore(compiled, symmetry=sym)
    assert (reduced.stats.distinct, reduced.stats.depth, reduced.status) == (17_153, 24, "holds")


def test_symmetry_key_in_check_table(tmp_path: Path) -> None:
    spec = (ROOT / "specs" / "paxos_tla.pax").resolve()
    p = tmp_path / "m.toml"
    p.write_text(f'spec = "{spec}"\n[sorts]\nacceptor = 3\nvalue = 2\nballot = 2\n'
                 f'[immutable]\nmember = "majority"\n[check]\nsymmetry = ["value"]\n')
    assert load_model(p).config.symmetry == ("value",)
    p.write_text(f'spec = "{spec}"\nsymmetry = []\n[sorts]\nacceptor = 3\nvalue = 2\n'
                 f'ballot = 2\n[immutable]\nmember = "majority"\n')
    assert load_model(p).config.symmetry == ()


# ---- states that straddle 64-bit words ----------------------------------------------
def test_chunks_across_word_boundaries() -> None:
    """Basic Paxos with 4 nodes, 3 values, 1 ballot packs into 67 bits, and a
    2-bit field sits on bits 63..64; with 3 acceptors, 3 values and 3
    ballots, paxos_tla's 201 bits have one on bits 191..192."""
    data = {"spec": "../specs/paxos.pax", "sorts": {"node": 4, "value": 3, "ballot": 1},
            "immutable": {"member": "majority"}, "symmetry": list(PAXOS)}
    model = build_model(data, str(ROOT / "models" / "paxos_4_3_1.toml"))
    (inst,) = model.instances
    sym = Symmetry.build(inst, None, PAXOS)
    assert ((sym.layout.bits + 63) // 64, sym.order) == (2, 144)
    n_states, n_orbits, *_ = check_orbits(inst, model.config.properties, PAXOS)
    assert (n_states, n_orbits) == (1096, 63)
    # any packed int: the compiled canonicalization and canon are the same function
    data = {"spec": "../specs/paxos_tla.pax", "sorts": {"acceptor": 3, "value": 3, "ballot": 3},
            "immutable": {"member": "majority"}}
    (inst,) = build_model(data, str(ROOT / "models" / "paxos_tla_3_3_3.toml")).instances
    sym = Symmetry.build(inst, None, TLA)
    assert ((sym.layout.bits + 63) // 64, sym.order) == (4, 36)
    rng = np.random.default_rng(6)
    ints = [int.from_bytes(rng.bytes(26), "little") >> 7 for _ in range(2000)]
    assert fast_canon(Compiled(inst), sym, ints) == [sym.canon(s) for s in ints]
    assert all(sym.canon(s) == min(sym.orbit(s)) for s in ints[:200])


# ---- a derived sort that occurs in the state -----------------------------------------
PICK = """\
sort node
sort quorum
sort color
immutable relation member(n: node, q: quorum)
mutable relation picked(q: quorum)
mutable function seen(n: node): quorum?
mutable function paint(q: quorum): color?
init {
  picked(Q) := false
  seen(N) := none
  paint(Q) := none
}
action pick(q: quorum) {
  require forall q2: quorum. !picked(q2) | q2 = q
  picked(q) := true
}
action see(n: node, q: quorum) {
  require picked(q) & member(n, q)
  seen(n) := q
}
action dye(q: quorum, c: color) {
  require picked(q)
  paint(q) := c
}
safety one: forall q1, q2: quorum. picked(q1) & picked(q2) -> q1 = q2
transition keep: forall q: quorum. old(picked(q)) -> picked(q)
"""


def _pick_model(tmp_path: Path, immutable: str, symmetry: str, sorts: str = "") -> Path:
    (tmp_path / "pick.pax").write_text(PICK)
    p = tmp_path / "pick.toml"
    p.write_text(f'spec = "pick.pax"\nsymmetry = {symmetry}\n[sorts]\nnode = 3\ncolor = 2\n'
                 f'{sorts}[immutable]\n{immutable}\n')
    return p


def test_derived_sort_in_the_state_is_permuted_with_the_nodes(tmp_path: Path) -> None:
    path = _pick_model(tmp_path, 'member = "majority"', '["node", "color"]')
    model = load_model(path)
    (inst,) = model.instances
    compiled = Compiled(inst, model.config.properties)
    sym = Symmetry.build(inst, compiled.layout, model.config.symmetry)
    assert sym.derived == ("quorum",) and sym.order == 12
    group = brute_group(inst, model.config.symmetry)
    states = reachable(compiled)
    assert all(sym.canon(s) == brute_canon(inst, compiled.layout, group, s) for s in states)
    orbits = {sym.canon(s) for s in states}
    reduced = explore(compiled, Mode(deadlock=True), symmetry=sym)
    assert reduced.status == "holds"
    # by hand: the empty state, then one picked quorum q (3 ways) with seen(n)
    # in {none, q} for its 2 members and paint(q) in {none, c0, c1}: 1 + 3*4*3
    # = 37 states. Orbits: every q is alike; for q = {n0, n1} swapping n0, n1
    # leaves 3 seen patterns (no one, one, both) and swapping the colors 2
    # paints (none, a color): 1 + 3*2 = 7.
    assert (len(states), len(orbits), reduced.stats.distinct) == (37, 7, 7)


# ---- a transition property violated under symmetry: the trace is a real run -----------
FLIP = """\
sort proc
mutable relation on(p: proc)
mutable relation done(p: proc)
init { on(P) := false ; done(P) := false }
action start(p: proc) { require !done(p) ; on(p) := true ; done(p) := true }
action stop(p: proc) { require on(p) ; on(p) := false }
safety at_most_two: forall p, q, r: proc. on(p) & on(q) & on(r) -> p = q | q = r | p = r
transition stays_on: forall p: proc. old(on(p)) & done(p) -> on(p)
"""


def test_transition_violation_under_symmetry_replays(tmp_path: Path) -> None:
    (tmp_path / "flip.pax").write_text(FLIP)
    p = tmp_path / "flip.toml"
    p.write_text('spec = "flip.pax"\nsymmetry = ["proc"]\n[sorts]\nproc = 3\n')
    model = load_model(p)
    (inst,) = model.instances
    compiled = Compiled(inst, model.config.properties)
    sym = Symmetry.build(inst, compiled.layout, ("proc",))
    limits = Mode(keep_going=True, deadlock=True)
    plain, reduced = explore(compiled, limits), explore(compiled, limits, symmetry=sym)
    assert _verdicts(reduced) == _verdicts(plain) == {
        "transition:stays_on": 2, "invariant:at_most_two": 3, "deadlock:None": 6}
    # each proc is off/not done, on/done or off/done: 3^3 = 27 states, and up
    # to permutation a multiset of 3 of the 3 kinds: C(5, 2) = 10 orbits
    assert (plain.stats.distinct, reduced.stats.distinct) == (27, 10)
    for v in reduced.violations:
        f = tmp_path / f"{v.kind}.json"
        f.write_text(T.dumps(T.to_json(T.from_violation(compiled.ground, v), str(tmp_path / "flip.pax"),
                                       str(p))))
        assert replay(f).ok, v


# ---- errors ---------------------------------------------------------------------------
def _err(path: Path) -> PaxError:
    with pytest.raises(PaxError) as info:
        load_model(path)
    return info.value


def _tla(tmp_path: Path, top: str = "", check: str = "", immutable: str = 'member = "majority"',
         sorts: str = "acceptor = 3\nvalue = 2\nballot = 2\n") -> Path:
    spec = (ROOT / "specs" / "paxos_tla.pax").resolve()
    p = tmp_path / "m.toml"
    p.write_text(f'spec = "{spec}"\n{top}[sorts]\n{sorts}[immutable]\n{immutable}\n'
                 + (f"[check]\n{check}" if check else ""))
    return p


def _where(err: PaxError, path: Path) -> tuple[str, int, int]:
    return (err.span.file, err.span.line, err.span.col)


def test_unknown_sort(tmp_path: Path) -> None:
    p = _tla(tmp_path, top='symmetry = ["acceptor", "values"]\n')
    err = _err(p)
    assert err.message == f"unknown sort 'values' in symmetry (not in {ROOT / 'specs' / 'paxos_tla.pax'})"
    assert err.expected == "'acceptor', 'quorum', 'value'"
    assert _where(err, p) == (str(p), 2, 1)


def test_ordered_sort(tmp_path: Path) -> None:
    p = _tla(tmp_path, check='properties = ["agreement"]\nsymmetry = ["ballot"]\n')
    err = _err(p)
    assert err.message == ("'ballot' is an ordered sort; an ordered sort cannot be symmetric: "
                           "its order distinguishes elements")
    assert _where(err, p) == (str(p), 10, 1)
    assert "  10 | symmetry = [\"ballot\"]" in err.render()


def test_not_a_list_and_twice(tmp_path: Path) -> None:
    err = _err(_tla(tmp_path, top='symmetry = "acceptor"\n'))
    assert err.message == "symmetry must be a list of sort names"
    assert err.expected == 'symmetry = ["acceptor", "value"]'
    err = _err(_tla(tmp_path, top='symmetry = ["acceptor"]\n', check='symmetry = ["value"]\n'))
    assert err.message == "symmetry is set both at the top level and in [check]"
    assert err.span.line == 10
    err = _err(_tla(tmp_path, top='symmetry = ["value", "value"]\n'))
    assert err.message == "sort 'value' is listed twice in symmetry"


def test_table_that_singles_out_an_acceptor(tmp_path: Path) -> None:
    # quorums {a0,a1} and {a0,a2}: a0 is in both, so swapping a0 and a1 moves
    # {a0,a2} to {a1,a2}, which is no quorum
    table = 'member = { table = [["a0", "q01"], ["a1", "q01"], ["a0", "q02"], ["a2", "q02"]] }'
    p = _tla(tmp_path, top='symmetry = ["acceptor", "value"]\n', immutable=table,
             sorts='acceptor = ["a0", "a1", "a2"]\nvalue = 2\nballot = 2\nquorum = ["q01", "q02"]\n')
    err = _err(p)
    assert err.message == ("immutable 'member' is not invariant under swapping acceptor a0 and "
                           "a1 (with any permutation of quorum)")
    assert err.expected == ("symmetric sorts whose elements no immutable interpretation tells "
                            "apart")
    assert _where(err, p) == (str(p), 2, 1)
    assert main(["check", str(p)]) == 2
    # swapping a1 and a2 alone would be fine: value symmetry alone is accepted
    p = _tla(tmp_path, top='symmetry = ["value"]\n', immutable=table,
             sorts='acceptor = ["a0", "a1", "a2"]\nvalue = 2\nballot = 2\nquorum = ["q01", "q02"]\n')
    assert load_model(p).config.symmetry == ("value",)


def test_individual_that_names_an_element(tmp_path: Path) -> None:
    err = _err_from(tmp_path, "multi_paxos_small.toml", '["acceptor", "value"]')
    assert err.message == "immutable 'noop' is not invariant under swapping value noop and v1"
    err = _err_from(tmp_path, "examples/handshake.toml", '["proc"]')
    assert err.message == ("immutable 'client' is not invariant under swapping proc client and "
                           "server")


def _err_from(tmp_path: Path, model: str, symmetry: str) -> PaxError:
    src = ROOT / "models" / model
    text = src.read_text()
    data = tomllib.loads(text)
    spec = (src.parent / data["spec"]).resolve()
    p = tmp_path / "m.toml"
    p.write_text(f"symmetry = {symmetry}\n" + text.replace(f'"{data["spec"]}"', f'"{spec}"'))
    err = _err(p)
    assert _where(err, p) == (str(p), 1, 1)
    return err


def test_derived_sort_in_the_state_must_be_determined(tmp_path: Path) -> None:
    # no member rows: every permutation of quorum keeps member, and quorum is
    # in the state, so a permutation of the nodes does not say how to move it
    p = _pick_model(tmp_path, "member = { table = [] }", '["node"]', "quorum = 2\n")
    err = _err(p)
    assert err.message == (
        "sort 'quorum' occurs in the state ('picked') and is permuted with the symmetric sorts "
        "through immutable 'member', but not in one way: swapping quorum quorum0 and quorum1 "
        "alone also leaves every immutable unchanged, so the group would not act on states as "
        "one permutation")
    assert err.expected == ("declare 'quorum' symmetric too, or an interpretation of 'member' "
                            "that tells the elements of 'quorum' apart")
    assert _where(err, p) == (str(p), 2, 1)
    # declaring it symmetric too is a symmetry
    p.write_text(p.read_text().replace('symmetry = ["node"]', 'symmetry = ["node", "quorum"]'))
    assert load_model(p).config.symmetry == ("node", "quorum")


def test_group_too_big(tmp_path: Path) -> None:
    p = _tla(tmp_path, top='symmetry = ["acceptor", "value"]\n',
             sorts="acceptor = 7\nvalue = 8\nballot = 1\n", immutable="member = { subsets = 7 }")
    err = _err(p)
    assert err.message == ("the symmetry group has 203,212,800 elements, more than 40,320: "
                           "declare fewer or smaller sorts symmetric")
