"""The one verdict vocabulary and the one exit-code table.

Every result type (a search, a proof, a bounded check, a minimization)
exposes a `Verdict`; the command line maps it to an exit code here and
nowhere else. The enum's values are the strings the JSON output has always
used, so `Verdict.HOLDS == "holds"` and JSON stays as it was."""
from __future__ import annotations

from enum import Enum


class Verdict(str, Enum):
    HOLDS = "holds"                 # exhaustive search, no violation
    VIOLATED = "violated"           # a counterexample was found
    INCOMPLETE = "incomplete"       # a limit stopped the search first
    PROVED = "proved"               # every proof obligation discharged
    CTI = "cti"                     # a counterexample to induction
    INCONSISTENT = "inconsistent"   # the axioms contradict each other
    UNKNOWN = "unknown"             # the solver gave up or ran out of budget
    NO_VIOLATION = "no violation"   # bounded model checking up to its depth
    SKIPPED = "skipped"             # a configuration that could not be built

    def __str__(self) -> str:
        return self.value


EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3

_EXIT = {
    Verdict.HOLDS: EXIT_OK,
    Verdict.PROVED: EXIT_OK,
    Verdict.NO_VIOLATION: EXIT_OK,
    Verdict.VIOLATED: EXIT_VIOLATED,
    Verdict.CTI: EXIT_VIOLATED,
    Verdict.INCONSISTENT: EXIT_VIOLATED,
    Verdict.INCOMPLETE: EXIT_INCOMPLETE,
    Verdict.UNKNOWN: EXIT_INCOMPLETE,
    Verdict.SKIPPED: EXIT_INCOMPLETE,
}


def exit_code(verdict: Verdict) -> int:
    """The process exit code for a verdict: 0 good, 1 bad, 3 undecided
    (2 is bad input, raised as PaxError before any verdict exists)."""
    return _EXIT[verdict]


def combine(verdicts: list[Verdict]) -> Verdict:
    """The verdict of several instances of one model, checked in turn: a
    violation anywhere wins, then an undecided one, else all hold."""
    if any(v is Verdict.VIOLATED for v in verdicts):
        return Verdict.VIOLATED
    if all(v is Verdict.HOLDS for v in verdicts):
        return Verdict.HOLDS
    return Verdict.INCOMPLETE
