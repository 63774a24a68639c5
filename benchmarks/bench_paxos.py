"""Lamport's TLA+ Paxos (specs/paxos_tla.pax) at ballots 0..1, 0..2, 0..3,
with and without symmetry, on the fast engine: the figures of issue #6.

    python benchmarks/bench_paxos.py [--workers N] [--ballots 1,2,3] [--python]

Each configuration runs in a fresh process, so its peak RSS is its own.
Columns: distinct states (orbits with symmetry), generated (successor
states computed, i.e. transitions, plus the initial states: TLC's
"states generated"), wall seconds of the search and of the whole process
(imports and compiling the kernel included), distinct states per second of
search, peak RSS, and the state store's bytes per distinct state (every
array the store holds, slack included; exact states, no hash compaction).
The throughput curve samples the search every half second: states per
second over each interval, against the number of states so far.

TLC's figures for this model (2 worker threads, on this kind of 2-core
machine), from the issue: ballots 0..3, 8,220,065 distinct states in about
11 minutes and 3.8 GB; ballots 0..2, 185,369 in about 14 s."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one(model: str, symmetric: bool, workers: int | None, engine: str) -> dict:
    t0 = time.monotonic()
    from paxcheck.config.model import load_model
    from paxcheck.config.symmetry import Symmetry
    from paxcheck.ground.ground import ground
    from paxcheck.search.api import Checks, Limits, make_engine, peak_rss_bytes

    m = load_model(ROOT / model)
    (inst,) = m.instances
    compiled = ground(inst)
    sym = Symmetry.build(inst, compiled.layout, ("acceptor", "value")) if symmetric else None
    curve: list[tuple[int, int, float]] = []

    def progress(stats, _queued) -> None:
        curve.append((stats.distinct, stats.transitions, stats.elapsed))

    eng = make_engine(engine, compiled, workers=workers, symmetry=sym)
    t1 = time.monotonic()
    res = eng.run(Limits(), Checks(("agreement",)), progress, progress_every=0.5)
    store = getattr(eng, "store", None)
    store_bytes = store.nbytes if store is not None else None
    eng.close()
    t2 = time.monotonic()
    return {
        "model": model, "symmetry": symmetric, "engine": engine,
        "status": res.status, "distinct": res.stats.distinct,
        "generated": res.stats.transitions + len(compiled.initial_states),
        "search_s": res.stats.elapsed, "setup_s": t1 - t0, "process_s": t2 - t0,
        "rate": res.stats.distinct / res.stats.elapsed if res.stats.elapsed else 0.0,
        "rss_mb": peak_rss_bytes() / 2**20,
        "bytes_per_state": store_bytes / res.stats.distinct if store_bytes else None,
        "curve": curve,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--ballots", default="1,2,3")
    ap.add_argument("--python", action="store_true", help="the Python engine instead")
    ap.add_argument("--one", nargs=2, metavar=("MODEL", "SYM"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    engine = "python" if args.python else "fast"
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1] == "1", args.workers, engine)))
        return
    rows = []
    for b in args.ballots.split(","):
        for sym in (False, True):
            cmd = [sys.executable, __file__, "--one", f"models/paxos_tla_b{b}.toml",
                   "1" if sym else "0"] + (["--workers", str(args.workers)] if args.workers else []) \
                + (["--python"] if args.python else [])
            out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"  done: ballots 0..{b}, symmetry {'on' if sym else 'off'}: "
                  f"{r['distinct']:,} in {r['search_s']:.2f} s", file=sys.stderr, flush=True)
    print(f"engine: {engine}, workers: {args.workers or 'all cores'} ({os.cpu_count()} here)")
    print(f"{'ballots':8} {'sym':4} {'distinct':>10} {'generated':>11} {'search s':>9} "
          f"{'process s':>10} {'states/s':>10} {'peak RSS':>9} {'B/state':>8}")
    for r in rows:
        b = int(r["model"].split("_b")[1].split(".")[0])
        bps = f"{r['bytes_per_state']:.1f}" if r["bytes_per_state"] else "-"
        print(f"0..{b:<5} {'on' if r['symmetry'] else 'off':4} {r['distinct']:>10,} "
              f"{r['generated']:>11,} {r['search_s']:>9.2f} {r['process_s']:>10.2f} "
              f"{r['rate']:>10,.0f} {r['rss_mb']:>7.0f}MB {bps:>8}")
    print("\nthroughput curve (symmetry off), every half second of search: "
          "states so far: distinct states/s, generated/s over the interval")
    for r in rows:
        if r["symmetry"] or not r["curve"]:
            continue
        prev = (0, 0, 0.0)
        pts = []
        for n, g, t in r["curve"]:
            if t > prev[2] and n > prev[0]:
                dt = t - prev[2]
                pts.append(f"{n:,}: {(n - prev[0]) / dt:,.0f}, {(g - prev[1]) / dt:,.0f}")
            prev = (n, g, t)
        print(f"  {r['model']}:")
        for p in pts:
            print(f"    {p}")

if __name__ == "__main__":
    main()
