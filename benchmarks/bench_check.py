"""Explicit-engine figures for Basic Paxos: distinct states, transitions,
wall time, states/s and peak memory, for models/paxos.toml (3 ballots) and
the same model with 4 ballots. Each run is a fresh process, so peak RSS is
that run's own.

    python benchmarks/bench_check.py [--ballots 3 4] [--timeout S]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_one(ballots: int, timeout: float | None) -> dict:
    text = (ROOT / "models" / "paxos.toml").read_text()
    text = text.replace('"../specs/paxos.pax"', json.dumps(str(ROOT / "specs" / "paxos.pax")))
    text = text.replace("ballot = 3", f"ballot = {ballots}")
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / f"paxos_b{ballots}.toml"
        model.write_text(text)
        cmd = [sys.executable, "-m", "paxcheck", "check", str(model), "--json"]
        if timeout:
            cmd += ["--timeout", str(timeout)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(proc.stderr)
    out = json.loads(proc.stdout)
    inst = out["instances"][0]
    return {"model": f"paxos, ballots={ballots}", "status": out["status"],
            "distinct": inst["distinct_states"], "transitions": inst["transitions"],
            "depth": inst["depth"], "search_s": inst["seconds"], "wall_s": wall,
            "states_per_s": inst["states_per_second"], "peak_mb": out["peak_memory_mb"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ballots", type=int, nargs="+", default=[3, 4])
    ap.add_argument("--timeout", type=float, default=None)
    args = ap.parse_args()
    print(f"{'model':<22} {'status':<10} {'distinct':>11} {'transitions':>12} {'depth':>5} "
          f"{'search s':>9} {'wall s':>8} {'states/s':>10} {'peak MB':>8}")
    for b in args.ballots:
        r = run_one(b, args.timeout)
        print(f"{r['model']:<22} {r['status']:<10} {r['distinct']:>11,} {r['transitions']:>12,} "
              f"{r['depth']:>5} {r['search_s']:>9.2f} {r['wall_s']:>8.2f} "
              f"{r['states_per_s']:>10,.0f} {r['peak_mb']:>8,.0f}")


if __name__ == "__main__":
    main()
