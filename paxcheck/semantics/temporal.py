"""The reference semantics of liveness on one lasso, by definition: what
`paxcheck replay` and the checker's own re-validation use, and what the
tests' brute-force checker is held to.

A lasso is states s_0 .. s_m with s_m = s_loop: the behaviour
s_0 .. s_{loop-1} (s_loop .. s_{m-1})^omega, or, when loop == m (no step
after s_loop), s_0 .. s_{loop-1} s_loop^omega (stuttering forever)."""
from __future__ import annotations

from collections.abc import Sequence


def positions(n_states: int, loop: int) -> tuple[range, range]:
    """(stem, cycle) positions of a lasso of n_states states."""
    last = n_states - 1
    return range(0, loop), (range(loop, last) if loop < last else range(loop, loop + 1))


def violates(kind: str, p: Sequence[bool], q: Sequence[bool], loop: int) -> bool:
    """Does the lasso's behaviour violate the obligation? p, q: the truth of
    its atoms in each of the lasso's states."""
    stem, cycle = positions(len(p), loop)
    word = list(stem) + list(cycle)
    if kind == "always":
        return any(not p[i] for i in word)
    if kind == "eventually":
        return all(not p[i] for i in word)
    if kind == "infinitely":
        return all(not p[i] for i in cycle)
    if kind == "stable":
        return any(not p[i] for i in cycle)
    if kind == "leads_to":
        never_q_in_cycle = all(not q[i] for i in cycle)
        if not never_q_in_cycle:
            return False
        if any(p[i] and not q[i] for i in cycle):
            return True
        # a P & ~Q state in the stem from which Q never holds again
        for i in stem:
            if p[i] and not q[i] and all(not q[j] for j in range(i, loop)):
                return True
        return False
    raise ValueError(f"unknown temporal kind {kind!r}")


def fair(kind: str, taken: bool, enabled: Sequence[bool]) -> bool:
    """Is a fairness condition met on a cycle? `taken`: a step of the cycle
    is one of its actions (and changes the state); `enabled`: whether one of
    its actions can change each cycle state."""
    if taken:
        return True
    if kind == "weak":
        return not all(enabled)
    return not any(enabled)
