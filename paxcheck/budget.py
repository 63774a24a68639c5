"""The limits of one command, in force from its first moment.

`Limits` (states, seconds, memory) are checked by the search loops, and,
through `checkpoint`, by every stage before the search: building the
model's instances, grounding, computing the initial states and generating
code. A stage that runs out raises `LimitReached` with the `Stop` and the
stage's name, which the command reports as an incomplete run (exit 3).
`in_force` starts the clock: the timeout is the whole command's, not each
stage's."""
from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator, Sequence
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


def process_age() -> float | None:
    """Seconds since this process started (the interpreter's own start-up
    included), or None where /proc does not say (Linux only)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        # field 22, counted after the command name in parentheses
        ticks = int(stat[stat.rindex(b")") + 2:].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


# Without --max-memory a search stops at this share of the machine's
# memory: an incomplete result with its figures, rather than the kernel's
# out-of-memory killer ending the process with nothing to show.
MACHINE_SHARE = 0.9


def memory_limit(limits: Limits) -> int | None:
    """The peak RSS a search may reach: --max-memory, else MACHINE_SHARE of
    the machine's physical memory (None where that is unknown)."""
    if limits.max_memory is not None:
        return limits.max_memory
    try:
        return int(MACHINE_SHARE * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def over_limit(limits: Limits, deadline: float | None, now: float) -> Stop | None:
    """Why a search must stop now (timeout, memory), if it must."""
    if deadline is not None and now > deadline:
        return Stop(StopReason.TIMEOUT, f"timeout after {limits.timeout:g} s")
    limit = memory_limit(limits)
    if limit is not None and peak_rss_bytes() > limit:
        whose = "" if limits.max_memory is not None else \
            f" ({MACHINE_SHARE:.0%} of this machine's memory; --max-memory sets another)"
        return Stop(StopReason.MEMORY, f"memory limit of {limit / 2**20:,.0f} MB reached{whose}")
    return None


def memory_forecast(levels: Sequence[int], store_bytes: int, rss: int, limit: int
                    ) -> str | None:
    """A warning, when a breadth-first search's next level, growing as
    the last one did, would take the process past `limit` (bytes):
    `levels` are the store's sizes at the level boundaries, `store_bytes`
    what the store takes now, `rss` the process's memory. Said while the
    level is still to come, so a user can stop early and re-plan
    (symmetry, a smaller instance, --cluster) instead of waiting for it."""
    if len(levels) < 3 or levels[-1] <= 0:
        return None
    last, prev = levels[-1] - levels[-2], levels[-2] - levels[-3]
    if prev <= 0 or last <= prev:
        return None     # the levels have stopped growing
    per_state = store_bytes / levels[-1]
    coming = last * last / prev
    need = rss + coming * per_state
    if need <= limit:
        return None
    return (f"the levels grow {last / prev:.2f}x: the next, about {coming:,.0f} states at "
            f"{per_state:.1f} bytes each, would take the run to about {need / 2**30:.1f} GB, "
            f"past its memory limit of {limit / 2**30:.1f} GB; it will stop there (exit 3) "
            "with what it has explored")


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
