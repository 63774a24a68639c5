"""The cluster engine against one process: `paxcheck check MODEL
--no-liveness` whole-process wall seconds on one machine (the fast engine,
--workers N) and on a local Ray cluster of N workers (`--cluster local:N`),
the median of --runs; then, from one in-process cluster run, the search
time, the figures (which must equal one machine's) and the bytes the
workers sent each other per level, with what that volume would be on M
workers (a state's successors go to their owner: (M-1)/M of them leave
the worker).

    python benchmarks/bench_cluster.py [--model models/paxos_tla_b3.toml]
        [--workers 2] [--runs 3] [--project 10]

Needs Ray (pip install '.[cluster]'). CPU seconds are not shown: Ray's
worker processes are not children the driver waits for."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ci import median_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/paxos_tla_b3.toml")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--project", type=int, default=10, help="project the traffic onto M workers")
    args = ap.parse_args()
    os.chdir(ROOT)
    py = [sys.executable, "-m", "paxcheck", "check", args.model, "--no-progress", "--no-liveness"]
    print(f"machine: {os.cpu_count()} cores; median of {args.runs} runs; whole processes")
    one, _, c1 = median_of(py + ["--workers", str(args.workers)], args.runs)
    many, _, c2 = median_of(py + ["--cluster", f"local:{args.workers}"], args.runs)
    print(f"{'one process, --workers ' + str(args.workers):<36} {one:8.2f} s  (exit {c1})")
    print(f"{'local cluster of ' + str(args.workers):<36} {many:8.2f} s  (exit {c2})"
          f"  overhead {many / one:.2f}x")

    import ray

    from paxcheck.config.model import load_model
    from paxcheck.ground.ground import ground
    from paxcheck.search.api import Checks, Limits, run
    from paxcheck.search.cluster import LOCAL_OBJECT_STORE, ClusterEngine
    m = load_model(args.model)
    g = ground(m.instances[0])
    checks = Checks(m.config.properties)
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
             object_store_memory=LOCAL_OBJECT_STORE, configure_logging=False)
    eng = ClusterEngine(g, f"local:{args.workers}")
    t = time.monotonic()
    res = eng.run(Limits(), checks)
    wall = time.monotonic() - t
    eng.close()
    ray.shutdown()
    ref = run(g, Limits(), checks, workers=args.workers)
    same = (res.stats.distinct, res.stats.transitions, res.stats.depth, res.verdict) == \
           (ref.stats.distinct, ref.stats.transitions, ref.stats.depth, ref.verdict)
    print(f"\ncluster search {res.stats.elapsed:.2f} s (run {wall:.2f} s with the workers' start), "
          f"one process {ref.stats.elapsed:.2f} s")
    print(f"{res.stats.distinct:,} states, {res.stats.transitions:,} transitions, depth "
          f"{res.stats.depth}, {res.verdict.value}; one machine's figures: {'same' if same else 'DIFFERENT'}")
    row = eng.row_bytes
    M = args.project
    print(f"\nper level: a successor is {row} bytes (its words and a parent reference)")
    print("(a worker drops a round's repeated successors before sending; on M workers "
          "(M-1)/M of the rest leave it)")
    print(f"{'level':>5} {'expanded':>12} {'successors':>14} {'sent once':>12} {'sent MB':>9} "
          f"{'on ' + str(M) + ' workers MB':>18}")
    total = kept_all = 0
    for lv, (n, succ, kept, sent) in enumerate(eng.traffic):
        total += sent
        kept_all += kept
        print(f"{lv:>5} {n:>12,} {succ:>14,} {kept:>12,} {sent / 2**20:>9.1f} "
              f"{kept * row * (M - 1) / M / 2**20:>18.1f}")
    widest = max(eng.traffic, key=lambda t: t[2], default=(0, 0, 0, 0))
    print(f"total sent {total / 2**20:,.0f} MB; on {M} workers {kept_all * row * (M - 1) / M / 2**20:,.0f} MB; "
          f"repeats dropped: {1 - kept_all / max(1, res.stats.transitions):.0%} of the successors; "
          f"the widest level has {widest[1] / max(1, res.stats.transitions):.0%} of them")


if __name__ == "__main__":
    main()
