"""The smallest configuration of a model that still violates a property.

`minimize(model)` first checks the model as given. If it violates a property
(the first one the search meets, or the ones asked for), every smaller
configuration is tried: each sort whose size the model sets in [sorts] takes
every size from 1 to the given one (a list of element names is cut to its
first k names); everything else in the model stays as written, so derived
sorts (quorums from "majority" or { subsets = K }) are derived again. A
configuration the model cannot be built for (an axiom breaks, a table names
an element that is gone, K exceeds the size, ...) is skipped. Candidates are
tried smallest first: fewest elements in the [sorts]-sized sorts, ties broken
by comparing their sizes lexicographically in the order of [sorts]; the
first that violates the property is the answer, with a shortest trace (over
all its interpretations, when the model has several)."""
from __future__ import annotations

import functools
import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from paxcheck.config.model import Model, build_model
from paxcheck.errors import PaxError, read_input
from paxcheck.ground.ground import ground
from paxcheck.search.api import Checks, Limits, run
from paxcheck.traces import trace as T


@dataclass(frozen=True)
class Candidate:
    """One configuration tried."""
    sizes: tuple[tuple[str, int], ...]  # the [sorts]-sized sorts, in model order
    status: str  # 'violated' | 'holds' | 'incomplete' | 'skipped'
    instance: str | None = None  # Instance.describe() of the violating (or first) instance
    length: int | None = None    # length of the shortest violating trace
    prop: str | None = None      # the property it violates
    states: int = 0              # distinct states explored, over all interpretations
    reason: str | None = None    # why skipped / incomplete

    @property
    def total(self) -> int:
        return sum(n for _, n in self.sizes)

    def describe(self) -> str:
        return " ".join(f"{s}={n}" for s, n in self.sizes)


@dataclass(frozen=True)
class MinimizeResult:
    """The given configuration, the smallest violating one and its trace."""
    properties: tuple[str, ...]   # what was minimized for
    given: Candidate              # the model as written
    smallest: Candidate | None    # the smallest violating configuration
    trace: T.Trace | None         # its shortest trace
    tried: tuple[Candidate, ...] = field(default_factory=tuple)  # every smaller candidate

    @property
    def status(self) -> str:
        """'violated', 'holds' (the given model holds) or 'incomplete' (it hit a limit)."""
        if self.smallest is not None:
            return "violated"
        return "holds" if self.given.status == "holds" else "incomplete"

    @property
    def undecided(self) -> tuple[Candidate, ...]:
        """Smaller candidates that hit a limit: the answer is smallest only among the rest."""
        return tuple(c for c in self.tried if c.status == "incomplete")


Progress = Callable[[Candidate], None]


def minimize(model: Model, properties: tuple[str, ...] | None = None,
             limits: Limits = Limits(), data: dict[str, Any] | None = None,
             progress: Progress | None = None, engine: str = "python",
             workers: int | None = None) -> MinimizeResult:
    """`data` is the model's TOML table; read from `model.path` when not
    given. Each configuration is checked with `engine` (search/api.py)."""
    if data is None:
        data = _read(model.path)
    props = tuple(properties) if properties else model.config.properties
    model.spec.properties_named(props)
    check = functools.partial(_check, engine=engine, workers=workers)
    sorts = data.get("sorts", {})
    given_sizes = tuple((s, len(v) if isinstance(v, list) else v) for s, v in sorts.items())
    given, tr = check(model, given_sizes, props, limits)
    if progress:
        progress(given)
    if given.status != "violated":
        return MinimizeResult(props, given, None, None)
    if not properties:  # minimize for the property the model violates first
        assert given.prop is not None
        props = (given.prop,)
    best, best_trace = given, tr
    tried = []
    for sizes in _candidates(given_sizes):
        try:
            cand_model = build_model(_resize(data, sizes), model.path)
        except PaxError as err:
            cand = Candidate(sizes, "skipped", reason=err.message)
        else:
            cand, ctr = check(cand_model, sizes, props, limits)
            if cand.status == "violated":
                best, best_trace = cand, ctr
        tried.append(cand)
        if progress:
            progress(cand)
        if cand.status == "violated":
            break
    return MinimizeResult(props, given, best, best_trace, tuple(tried))


def _read(path: str) -> dict[str, Any]:
    text = read_input(path, "model")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PaxError(f"cannot read model file {path}: {exc}") from None


def _candidates(given: tuple[tuple[str, int], ...]):
    """Every configuration below the given one, smallest first."""
    names = [s for s, _ in given]
    full = tuple(n for _, n in given)
    combos = [c for c in itertools.product(*(range(1, n + 1) for n in full)) if c != full]
    combos.sort(key=lambda c: (sum(c), c))
    return [tuple(zip(names, c)) for c in combos]


def _resize(data: dict[str, Any], sizes) -> dict[str, Any]:
    out = dict(data)
    out["sorts"] = dict(data["sorts"])
    for s, n in sizes:
        v = data["sorts"][s]
        out["sorts"][s] = v[:n] if isinstance(v, list) else n
    return out


def _check(model: Model, sizes: tuple[tuple[str, int], ...], props: tuple[str, ...],
           limits: Limits, engine: str, workers: int | None
           ) -> tuple[Candidate, T.Trace | None]:
    """Explore every interpretation; keep a shortest violation."""
    best = None  # (length, index, instance, trace)
    states = 0
    incomplete = None
    for k, inst in enumerate(model.instances):
        g = ground(inst)
        res = run(g, limits, Checks(props), engine=engine, workers=workers)
        states += res.stats.distinct
        if res.violations:
            v = res.violations[0]
            if best is None or v.length < best[0]:
                best = (v.length, k, inst, T.from_violation(g, v))
        elif not res.complete and incomplete is None:
            incomplete = res.stop_reason
    if best is not None:
        length, _, inst, tr = best
        return Candidate(sizes, "violated", inst.describe(), length, tr.property, states), tr
    first = model.instances[0].describe()
    if incomplete is not None:
        return Candidate(sizes, "incomplete", first, states=states, reason=incomplete), None
    return Candidate(sizes, "holds", first, states=states), None
