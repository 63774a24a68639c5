"""Action coverage: for each action of a spec, how many of its ground
instances ever fired in a run. An action that never fires makes every
"holds" about it vacuous (a guard that can never be true, a typo in a
quorum test), so `check` warns of it and `paxcheck test` fails on it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paxcheck.errors import NO_SPAN, Span
from paxcheck.search.api import RunResult


@dataclass(frozen=True)
class ActionCoverage:
    """One action over a model's runs: its ground instances, how many of
    them generated a transition, and the transitions they generated."""
    action: str
    ground: int
    fired: int
    transitions: int
    span: Span = NO_SPAN

    @property
    def never(self) -> bool:
        return self.fired == 0


def action_coverage(results: Sequence[RunResult]) -> tuple[ActionCoverage, ...]:
    """Coverage of each action of the spec over the runs (one per instance
    of a model), in spec order; a ground action counts as fired if it fired
    in any run."""
    if not results:
        return ()
    spec = results[0].ground.spec
    ground = {a.name: 0 for a in spec.actions}
    fired = dict(ground)
    moves = dict(ground)
    for r in results:
        for ga, n in zip(r.ground.ground_actions, r.fired):
            ground[ga.action.name] += 1
            fired[ga.action.name] += n > 0
            moves[ga.action.name] += n
    return tuple(ActionCoverage(a.name, ground[a.name], fired[a.name], moves[a.name], a.span)
                 for a in spec.actions)


def unfired(coverage: Sequence[ActionCoverage], allowed: Sequence[str] = ()
            ) -> list[ActionCoverage]:
    """The actions that never fired, less those allowed not to (`"*"`: any)."""
    if "*" in allowed:
        return []
    return [c for c in coverage if c.never and c.action not in allowed]


def describe(coverage: Sequence[ActionCoverage], indent: str = "  ") -> str:
    """One line per action: `name  fired/ground instances, N transitions`."""
    width = max((len(c.action) for c in coverage), default=0)
    return "".join(f"{indent}{c.action:<{width}}  {c.fired}/{c.ground} fired, {c.transitions:,} "
                   f"transitions{'  (never fires)' if c.never else ''}\n" for c in coverage)
