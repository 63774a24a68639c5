"""The limits of one command, in force from its first moment.

`Limits` (states, seconds, memory) are checked by the search loops, and,
through `checkpoint`, by every stage before the search: building the
model's instances, grounding, computing the initial states and generating
code. A stage that runs out raises `LimitReached` with the `Stop` and the
stage's name, which the command reports as an incomplete run (exit 3).
`in_force` starts the clock: the timeout is the whole command's, not each
stage's."""
from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

# Z3 resource units one proof obligation may spend (smt/resources.py says
# why units and not seconds); benchmarks/prove_analysis.md has what the
# corpus needs.
DEFAULT_RLIMIT = 200_000_000


@dataclass(frozen=True)
class Limits:
    """When a search stops before it is exhaustive."""
    max_states: int | None = None
    timeout: float | None = None       # seconds of wall clock, a safety net
    max_memory: int | None = None      # bytes of peak RSS


class StopReason(str, Enum):
    STATE_LIMIT = "state limit"
    TIMEOUT = "timeout"
    MEMORY = "memory limit"
    INTERRUPTED = "interrupted"
    WORKER_LOST = "worker lost"


@dataclass(frozen=True)
class Stop:
    """Why an incomplete run stopped, with the limit's figure."""
    reason: StopReason
    text: str

    @staticmethod
    def state_limit(n: int) -> Stop:
        return Stop(StopReason.STATE_LIMIT, f"state limit of {n} reached")

    @staticmethod
    def interrupted() -> Stop:
        return Stop(StopReason.INTERRUPTED, "interrupted")


class LimitReached(Exception):
    """A limit ran out before the search began (or between searches)."""

    def __init__(self, stop: Stop, stage: str) -> None:
        super().__init__(f"{stop.text} while {stage}")
        self.stop, self.stage = stop, stage


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def over_limit(limits: Limits, deadline: float | None, now: float) -> Stop | None:
    """Why a search must stop now (timeout, memory), if it must."""
    if deadline is not None and now > deadline:
        return Stop(StopReason.TIMEOUT, f"timeout after {limits.timeout:g} s")
    if limits.max_memory is not None and peak_rss_bytes() > limits.max_memory:
        return Stop(StopReason.MEMORY,
                    f"memory limit of {limits.max_memory / 2**20:,.0f} MB reached")
    return None


@dataclass
class _Budget:
    limits: Limits
    deadline: float | None
    calls: int = 0


_active: list[_Budget] = []

# checkpoint() looks at the clock and the memory once per this many calls:
# cheap enough for the inner loops of grounding
_EVERY = 1024


@contextmanager
def in_force(limits: Limits, start: float | None = None) -> Iterator[None]:
    """Make `limits` the current command's, its clock starting at `start`
    (now, if not given)."""
    if start is None:
        start = time.monotonic()
    _active.append(_Budget(limits, start + limits.timeout if limits.timeout else None))
    try:
        yield
    finally:
        _active.pop()


def deadline(limits: Limits, start: float) -> float | None:
    """The moment a search started at `start` must stop: the command's
    deadline when limits are in force, else start + timeout."""
    if _active and _active[-1].limits is limits:
        return _active[-1].deadline
    return start + limits.timeout if limits.timeout else None


def checkpoint(stage: str, every: int = _EVERY) -> None:
    """Raise LimitReached if the command's time or memory is spent (looked
    at once per `every` calls: 1 for a caller between long steps)."""
    if not _active:
        return
    b = _active[-1]
    b.calls += 1
    if b.calls % every:
        return
    stop = over_limit(b.limits, b.deadline, time.monotonic())
    if stop is not None:
        raise LimitReached(stop, stage)
