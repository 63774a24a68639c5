"""What a Z3 query may spend, in units that do not depend on the machine.

A wall-clock limit per query makes the verdict depend on load: the same
obligation proved on a quiet machine comes back unknown on a busy one. Z3
counts its own work in resource units (`rlimit`: one per basic step of its
engines, the same on every run of the same query in the same process
history), so each obligation gets a budget of units instead, and the
verdict is a function of the input. The whole run's wall-clock limit
(`--timeout`) stays only as a safety net: when it fires, what is left is
reported unknown with the reason "timeout", never silently proved.

Z3's counter is per context and cumulative; a check's own spending is the
difference across it, and `rlimit` on a solver is relative to the count at
the start of each check. What Z3 does with a query also depends on the
context's history (its terms' ids order its internal tables): the same
proof run twice in one context spends different units. `isolated` gives
each run a context of its own, so a verdict is a function of the input
alone, in a fresh process or the hundredth call of a test session."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import z3
import z3.z3 as _z3_api

from paxcheck.budget import DEFAULT_RLIMIT

__all__ = ["DEFAULT_RLIMIT", "Meter", "isolated", "units_spent"]


@contextmanager
def isolated() -> Iterator[None]:
    """Run the body with a fresh Z3 context as the default one. Every
    encoder builds its terms in the default context; the alternative,
    threading an explicit `ctx=` through every constructor call of every
    encoder, would touch each line that makes a term. Nothing built inside
    may be used outside: results leave as Python values."""
    saved = _z3_api._main_ctx
    _z3_api._main_ctx = z3.Context()
    try:
        yield
    finally:
        _z3_api._main_ctx = saved


def units_spent() -> int:
    """Z3's resource counter now (per context, monotone)."""
    return int(z3.Solver().statistics().get_key_value("rlimit count"))


@dataclass
class Meter:
    """The units one obligation has spent, against its budget and the run's
    deadline (a `time.monotonic()` value, or None)."""
    limit: int
    deadline: float | None = None
    used: int = 0

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def exhausted(self) -> bool:
        return self.left <= 0 or self.out_of_time()

    def why(self) -> str:
        """Why a query came back unknown, in the user's terms."""
        if self.out_of_time():
            return "timeout (the run's --timeout)"
        if self.left <= 0:
            return f"resource limit of {self.limit:,} Z3 units reached"
        return ""

    def check(self, solver: z3.Solver, *assumptions: z3.ExprRef,
              units: int | None = None) -> z3.CheckSatResult:
        """`solver.check()` within `units` (default: all that is left),
        counted against the budget."""
        allowed = self.left if units is None else min(units, self.left)
        if allowed <= 0 or self.out_of_time():
            return z3.unknown
        solver.set("rlimit", allowed)
        if self.deadline is not None:
            solver.set("timeout", max(1, int((self.deadline - time.monotonic()) * 1000)))
        before = units_spent()
        try:
            return solver.check(*assumptions)
        finally:
            self.used += units_spent() - before

    def share(self, fraction: float) -> Meter:
        """A sub-budget of this one (same deadline) whose spending the caller
        adds back with `absorb`."""
        return Meter(max(1, int(self.left * fraction)), self.deadline)

    def absorb(self, other: Meter) -> None:
        self.used += other.used
