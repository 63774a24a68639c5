"""Process pools for work that is Python, not the kernel: each job holds
the GIL, so threads would take turns. Workers are forked, so they inherit
what the parent built (a spec, sampled states, compiled walks) without
pickling it, and only jobs and results cross the pipe."""
from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.context import BaseContext


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def fork_context() -> BaseContext:
    """Fork where the platform has it (workers share the parent's memory),
    the platform's default elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


class WorkerLost(RuntimeError):
    """A pool worker ended before its job did: killed, most often by the
    system when memory ran out. `multiprocessing.Pool` starts another in
    its place and loses the job, so whoever waits for that job's result
    would wait for ever; a pool's owner counts its workers' starts (more
    than the pool's size: one was lost) and raises this instead."""


def ignore_interrupt() -> None:
    """A worker's first step: Ctrl-C reaches the whole process group, and
    the parent, not each worker, says what was stopped (it terminates its
    workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
