"""Expected outcomes, as a model file's `[expect]` table or an entry of a
project file (`paxcheck.toml`) states them, and the one test of an outcome
against them.

    expect = "holds"                 # exhaustive, every property holds
    violates = "agreement"           # or a list: each must be violated,
    max_steps = 14                   #   with a shortest trace this short
    expect = "proved" | "cti"        # proofs
    cti = "proposals_safe"           # a CTI, for this invariant
    min_score = 0.8                  # mutation testing: the score floor
    allow_unfired = ["crash"]        # actions that may never fire ("*": any)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paxcheck.errors import PaxError

OUTCOMES = ("holds", "violated", "proved", "cti", "score")
KEYS = ("expect", "violates", "max_steps", "cti", "min_score", "allow_unfired")


@dataclass(frozen=True)
class Expectation:
    """What a run must give. `outcome` is one of OUTCOMES; `properties`
    the properties a violation (or CTI) must name, each of them."""
    outcome: str
    properties: tuple[str, ...] = ()
    max_steps: int | None = None
    min_score: float | None = None
    allow_unfired: tuple[str, ...] = ()

    def show(self) -> str:
        if self.outcome == "violated" and self.properties:
            text = "violates " + ", ".join(self.properties)
            return text + (f" within {self.max_steps} steps" if self.max_steps is not None else "")
        if self.outcome == "cti" and self.properties:
            return "cti for " + ", ".join(self.properties)
        if self.outcome == "score":
            return f"mutation score >= {self.min_score}"
        return self.outcome


Error = Callable[[str, str | None, str | None], PaxError]   # (message, key, expected)


def read(table: dict[str, Any], error: Error, default: str | None = None) -> Expectation | None:
    """The expectation stated by the keys of `table` (other keys are the
    caller's), or None when it states none and there is no default;
    `error(message, key, expected)` makes a positioned error."""
    given = {k: table[k] for k in KEYS if k in table}
    if not given:
        return Expectation(default) if default else None
    outcome = given.get("expect")
    if outcome is not None and outcome not in ("holds", "violated", "proved", "cti"):
        raise error(f"unknown expected outcome {outcome!r}", "expect",
                    '"holds", "violated", "proved" or "cti"')
    props: tuple[str, ...] = ()
    if "violates" in given:
        props = _names(given["violates"], "violates", error)
        if outcome not in (None, "violated"):
            raise error(f"expect = {outcome!r} contradicts violates", "violates", "one of them")
        outcome = "violated"
    if "cti" in given:
        props = _names(given["cti"], "cti", error)
        if outcome not in (None, "cti"):
            raise error(f"expect = {outcome!r} contradicts cti", "cti", "one of them")
        outcome = "cti"
    min_score = given.get("min_score")
    if min_score is not None:
        if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) \
                or not 0 <= min_score <= 1:
            raise error("min_score must be a number from 0 to 1", "min_score", "min_score = 0.8")
        if outcome is not None:
            raise error("min_score is the expectation of a mutation run", "min_score",
                        "min_score alone")
        outcome = "score"
    max_steps = given.get("max_steps")
    if max_steps is not None:
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
            raise error("max_steps must be a non-negative integer", "max_steps", "max_steps = 14")
        if outcome != "violated":
            raise error("max_steps bounds the trace of an expected violation", "max_steps",
                        'violates = "NAME" beside it')
    allow = given.get("allow_unfired", [])
    if not isinstance(allow, list) or not all(isinstance(x, str) for x in allow):
        raise error("allow_unfired must be a list of action names", "allow_unfired",
                    'allow_unfired = ["crash"]')
    if outcome is None:
        if default is None:
            raise error("no expected outcome", "allow_unfired" if allow else None,
                        'expect = "holds", violates = "NAME", expect = "proved", '
                        'expect = "cti" or min_score = X')
        outcome = default
    return Expectation(outcome, props, max_steps, min_score, tuple(allow))


def _names(val: Any, key: str, error: Error) -> tuple[str, ...]:
    if isinstance(val, str):
        return (val,)
    if isinstance(val, list) and val and all(isinstance(x, str) for x in val):
        return tuple(val)
    raise error(f"{key} must be a property name or a list of them", key, f'{key} = "agreement"')
