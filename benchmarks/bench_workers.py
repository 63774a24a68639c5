"""Whole-process `paxcheck check` with 1 and 2 workers: wall and CPU
seconds, the median of --runs, and the speed-up. The fast engine splits
expansion, invariant checking and (with a partitioned state store) insertion
over its workers; what stays serial is the engine's loop in Python and the
store's two passes over each batch (`route`, `number`).

    python benchmarks/bench_workers.py [--model models/paxos_tla_b3.toml ...]
        [--workers 1 2] [--runs 3] [--liveness]

Safety only by default (--no-liveness): the liveness phase is serial."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ci import median_of  # noqa: E402

DEFAULT_MODELS = ["models/paxos_tla_b3.toml", "models/multi_paxos_small.toml"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help=f"default: {' '.join(DEFAULT_MODELS)}")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--liveness", action="store_true", help="check the models' liveness too")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; median of {args.runs} runs; whole processes")
    print(f"{'model':<36} {'workers':>7} {'wall s':>8} {'cpu s':>8} {'speed-up':>9}")
    for model in args.model or DEFAULT_MODELS:
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
