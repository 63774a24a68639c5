"""Invariant inference figures: `paxcheck infer --ignore-invariants` on
specs whose hand-written invariants are known, each from its safety
properties alone.

    python benchmarks/bench_infer.py [--timeout S] [--workers N] [SPEC ...]

Prints per spec: the verdict, seconds by stage, reachable states read,
minimal clauses mined, candidates kept, those strengthening chose, Z3 queries,
and the number of invariants in the proof. Whole process, one run each
(inference is deterministic: the figures other than seconds repeat)."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPECS = ["specs/examples/mutex.pax", "specs/mypyvy/lockserv.pyv", "specs/paxos.pax",
         "specs/flexible_paxos.pax", "specs/multi_paxos.pax"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="*", default=SPECS)
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--max-states", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=0,
                    help="processes that mine (default: every core)")
    args = ap.parse_args()
    print(f"{'spec':32} {'verdict':8} {'wall s':>8} {'states':>9} {'mined':>8} "
          f"{'cands':>6} {'chosen':>6} {'queries':>8} {'invs':>5}  stages")
    for spec in args.specs:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "paxcheck", "infer", spec,
                               "--ignore-invariants", "--json", "--timeout", str(args.timeout),
                               "--max-states", str(args.max_states)]
                              + (["--workers", str(args.workers)] if args.workers else []),
                              cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        try:
            r = json.loads(proc.stdout)
        except json.JSONDecodeError:
            print(f"{spec:32} error (exit {proc.returncode}): {proc.stderr.strip()[-200:]}")
            continue
        stages = ", ".join(f"{k} {v:.0f}" for k, v in r["seconds"].items())
        print(f"{spec:32} {r['verdict']:8} {wall:8.1f} {r['states']:9,} {r['mined']:8,} "
              f"{r['candidates']:6,} {r['chosen'] or 0:6,} {r['queries']:8,} "
              f"{len(r['invariants']):5}  {stages}", flush=True)


if __name__ == "__main__":
    main()
