"""Whole-process `paxcheck check` with 1 and 2 workers: wall and CPU
seconds, the median of --runs, and the speed-up. The fast engine splits
expansion, invariant checking and (with a partitioned state store) insertion
over its workers; what stays serial is the engine's loop in Python, the
store's ranking pass over each batch (`rank_new`) and its growth.

    python benchmarks/bench_workers.py [--model models/paxos_tla_b3.toml ...]
        [--workers 1 2] [--runs 3] [--liveness]

Safety only by default (--no-liveness): the liveness phase is serial.

First it measures this machine's ceiling: the successor kernel alone (no
shared state, no Python between calls, the most parallel work a search
has) over the same frontier on 1 and on 2 threads, interleaved, median of
--runs. No design gets more from 2 workers than that ratio: on a virtual
machine whose two cores share a physical one, or its caches and memory
bandwidth with neighbours, it is well below 2."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ci import median_of  # noqa: E402

PASSES = 20   # over the frontier per timing: seconds of work, not milliseconds
DEFAULT_MODELS = ["models/paxos_tla_b3.toml", "models/multi_paxos_small.toml"]


def ceiling(model: str, runs: int) -> tuple[float, float]:
    """(1-thread s, 2-thread s), medians: the kernel expanding the frontier
    of a run cut at 2,000,000 states, batch after batch, as the engine does,
    PASSES times."""
    from paxcheck.budget import Limits
    from paxcheck.config.model import load_model
    from paxcheck.ground.ground import ground
    from paxcheck.search.api import Checks
    from paxcheck.search.fast.engine import FastEngine

    g = ground(load_model(model).instances[0])
    engines = {w: FastEngine(g, workers=w) for w in (1, 2)}
    first = engines[1]
    first.run(Limits(max_states=2_000_000), Checks())
    lo, hi = first.levels[-2], len(first.store)
    frontier = first.store.get(lo, hi).view(np.int64)
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(runs):
        for w, eng in engines.items():
            eng.kernel_for(())
            t0 = time.perf_counter()
            for _ in range(PASSES):
                for b in range(0, len(frontier), eng.batch):
                    eng.expand(frontier[b:b + eng.batch], False)
            times[w].append(time.perf_counter() - t0)
    for eng in engines.values():
        eng.close()
    return statistics.median(times[1]), statistics.median(times[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help=f"default: {' '.join(DEFAULT_MODELS)}")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--liveness", action="store_true", help="check the models' liveness too")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the kernel-alone figure")
    args = ap.parse_args()
    models = args.model or DEFAULT_MODELS
    if not args.no_ceiling:
        one, two = ceiling(models[0], max(5, args.runs))
        print(f"ceiling ({models[0]}, the successor kernel alone, 1 vs 2 threads): "
              f"{one:.2f} s vs {two:.2f} s = {one / two:.2f}x")
    print(f"machine: {os.cpu_count()} cores; median of {args.runs} runs; whole processes")
    print(f"{'model':<36} {'workers':>7} {'wall s':>8} {'cpu s':>8} {'speed-up':>9}")
    for model in models:
        first = None
        for w in args.workers:
            cmd = [sys.executable, "-m", "paxcheck", "check", model, "--no-progress",
                   "--workers", str(w)] + ([] if args.liveness else ["--no-liveness"])
            wall, cpu, code = median_of(cmd, args.runs)
            first = first or wall
            print(f"{model:<36} {w:>7} {wall:>8.2f} {cpu:>8.2f} {first / wall:>8.2f}x"
                  + ("" if code in (0, 1) else f"  (exit {code})"))


if __name__ == "__main__":
    main()
