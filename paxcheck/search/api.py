"""Choosing an explicit-state engine for one instance.

`fast` (the default) compiles the instance to machine code and keeps its
states in a compressed store (paxcheck/fast/); `python` is the engine of
explicit.py, per-state generated Python. Both give the same counts,
verdicts and traces; the test suite holds them to it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from paxcheck.ground.grounder import CompiledInstance
from paxcheck.search.python import Limits, Progress, RunResult, explore

if TYPE_CHECKING:
    from paxcheck.config.symmetry import Symmetry

ENGINES = ("fast", "python")


def run_instance(compiled: CompiledInstance, limits: Limits = Limits(), *,
                 engine: str = "fast", workers: int | None = None,
                 symmetry: "Symmetry | None" = None,
                 progress: Progress | None = None) -> RunResult:
    if engine == "python":
        return explore(compiled, limits, progress, symmetry=symmetry)
    from paxcheck.search.fast.engine import (explore_fast)  # numpy, numba and llvmlite load only here
    return explore_fast(compiled, limits, progress, workers=workers, symmetry=symmetry)
