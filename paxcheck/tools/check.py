"""One model checked: every instance through one engine, in turn, with its
liveness set and symmetry group; the one loop `paxcheck check` and
`paxcheck test` share. It returns data (runs, traces, coverage); printing
is the caller's."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from paxcheck import budget
from paxcheck.config.model import FairnessSetting, Model
from paxcheck.ground.ground import ground
from paxcheck.ground.temporal import live_set
from paxcheck.outcome import Verdict, combine
from paxcheck.search.api import Checks, Limits, Progress, RunResult, Stop, Violation, run
from paxcheck.tools.coverage import ActionCoverage, action_coverage
from paxcheck.traces import trace as T
from paxcheck.traces.replay import validate_lasso


@dataclass(frozen=True)
class EarlyStop:
    """A limit or Ctrl-C before an instance's search could begin."""
    instance: str | None    # None: while the model itself was being built
    stop: Stop
    stage: str


@dataclass
class ModelCheck:
    """What checking one model found, instance by instance (a check stops at
    the first instance that does not hold)."""
    model: Model
    properties: tuple[str, ...]
    liveness: tuple[str, ...]
    results: list[RunResult] = field(default_factory=list)
    early: EarlyStop | None = None
    # every violation and witness as a Trace, re-validated where the
    # evaluator has not already built it (lassos)
    traces: list[tuple[Violation, T.Trace]] = field(default_factory=list)
    witnesses: list[tuple[Violation, T.Trace]] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        return combine([r.verdict for r in self.results]
                       + ([Verdict.INCOMPLETE] if self.early else []))

    @property
    def violated(self) -> list[str]:
        """The properties violated (deadlock as 'deadlock'), sorted."""
        return sorted({v.property or "deadlock" for r in self.results for v in r.violations})

    @property
    def unreached(self) -> list[str]:
        """The `sometimes` properties no state of a complete run satisfies."""
        return sorted({p for r in self.results for p in r.unreached})

    @cached_property   # read by the warning, the report and the JSON alike
    def coverage(self) -> tuple[ActionCoverage, ...]:
        return action_coverage(self.results)


def check_model(model: Model, properties: tuple[str, ...], limits: Limits, checks: Checks, *,
                liveness: tuple[str, ...] = (), fairness: dict[str, FairnessSetting] | None = None,
                symmetry: tuple[str, ...] = (), symmetry_span_from_model: bool = True,
                engine: str = "fast", workers: int | None = None, cluster: str | None = None,
                progress: Progress | None = None,
                say: Callable[[str], None] = lambda _: None,
                start: float | None = None) -> ModelCheck:
    """Check every instance of `model` in turn, stopping at the first that
    does not hold; `say` hears each instance (and its symmetry group) as it
    starts. Limits are in force from `start` (default: now)."""
    out = ModelCheck(model, properties, liveness)
    fairness = fairness or {}
    with budget.in_force(limits, start if start is not None else time.monotonic()):
        for inst in model.instances:
            say(f"instance:  {inst.describe()}")
            stage = "grounding"
            try:
                g = ground(inst)
                group = None
                if symmetry:
                    from paxcheck.config.symmetry import Symmetry
                    stage = "building the symmetry group"
                    group = Symmetry.build(inst, g.layout, symmetry,
                                           model.config.symmetry_span
                                           if symmetry_span_from_model else None)
                    say(f"symmetry:  {group.order} permutations; counts are orbits")
                live = live_set(g, liveness, fairness) if liveness else None
                stage = "generating code"   # the search reports its own stops
                res = run(g, limits, checks, engine=engine, workers=workers,
                          symmetry=group, progress=progress, live=live, cluster=cluster)
            except budget.LimitReached as lr:
                out.early = EarlyStop(inst.describe(), lr.stop, lr.stage)
                break
            except KeyboardInterrupt:
                out.early = EarlyStop(inst.describe(), Stop.interrupted(), stage)
                break
            out.results.append(res)
            if res.verdict is not Verdict.HOLDS:
                break
    for r in out.results:
        for v in r.violations:
            tr = T.from_violation(r.ground, v)
            if tr.loop is not None:   # soundness: the evaluator agrees before anything is shown
                ok = validate_lasso(tr, fairness)
                if not ok.ok:
                    raise AssertionError(f"internal error: a lasso the checker found fails "
                                         f"re-validation: {ok.message}")
            out.traces.append((v, tr))
        out.witnesses += [(w, T.from_violation(r.ground, w)) for w in r.witnesses]
    return out
