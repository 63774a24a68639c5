"""Liveness against safety on the same model: search time (the `time` line,
which for a liveness run includes the SCC and lasso phase), states/s and
the process's peak memory, each model checked twice in a fresh process
(`--no-liveness`, then with its liveness properties). The issue's floor:
liveness costs at most 3x the safety run's time and 2x its memory.

    python benchmarks/bench_liveness.py [--engine fast|python] [MODEL.toml ...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = [
    "models/two_phase_commit.toml",
    "models/two_phase_commit_crash.toml",
    "models/tcommit.toml",
    "models/paxos_commit_crash.toml",
    "models/paxos_commit.toml",
    "models/paxos_live.toml",
    "models/paxos_live_preempted.toml",
    "models/multi_paxos_live.toml",
    "models/multi_paxos_live_unstable.toml",
    "models/paxos_tla_b2.toml",
]


def one(model: str, engine: str, liveness: bool) -> dict:
    argv = [sys.executable, "-m", "paxcheck", "check", model, "--json", "--engine", engine]
    if not liveness:
        argv.append("--no-liveness")
    t0 = time.monotonic()
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - t0
    data = json.loads(out.stdout)
    inst = data["instances"][0]
    return {"status": data["status"], "states": inst["distinct_states"],
            "seconds": inst["seconds"], "rate": inst["states_per_second"],
            "mb": data["peak_memory_mb"], "wall": wall}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=MODELS)
    ap.add_argument("--engine", default="fast")
    args = ap.parse_args()
    print(f"engine {args.engine}; time = search (+ liveness) seconds; MB = peak RSS")
    print(f"{'model':40} {'states':>10} {'safety s':>9} {'live s':>8} {'x':>5} "
          f"{'safety MB':>9} {'live MB':>8} {'x':>5}  verdict")
    for m in args.models:
        s = one(m, args.engine, False)
        lv = one(m, args.engine, True)
        print(f"{m:40} {s['states']:>10,} {s['seconds']:>9.2f} {lv['seconds']:>8.2f} "
              f"{lv['seconds'] / max(s['seconds'], 1e-3):>5.1f} {s['mb']:>9.0f} {lv['mb']:>8.0f} "
              f"{lv['mb'] / s['mb']:>5.2f}  {lv['status']}")


if __name__ == "__main__":
    main()
