"""Mutation testing on both explicit engines: the whole `paxcheck mutate`
process (every mutant checked, survivors compared with the original), per
engine, with the report's figures.

    python benchmarks/bench_mutate.py [--spec specs/paxos.pax]
        [--model models/paxos.toml] [--engines python,fast] [--workers N]

Prints, per engine: wall seconds of the process, mutants, killed,
survived, out of budget, score, and the per-mutant budget. The two engines
must report the same verdict for every mutant (checked here: the script
exits 1 otherwise)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one(spec: str, model: str, engine: str, workers: int | None) -> dict:
    cmd = [sys.executable, "-m", "paxcheck", "mutate", spec, "--model", model, "--json",
           "--engine", engine]
    if workers:
        cmd += ["--workers", str(workers)]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{engine}: exit {proc.returncode}\n{proc.stderr}")
    return {"wall": wall, "report": json.loads(proc.stdout)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="specs/paxos.pax")
    ap.add_argument("--model", default="models/paxos.toml")
    ap.add_argument("--engines", default="python,fast")
    ap.add_argument("--workers", type=int)
    args = ap.parse_args()
    runs = {e: one(args.spec, args.model, e, args.workers) for e in args.engines.split(",")}
    print(f"{'engine':<8} {'wall':>8} {'mutants':>8} {'killed':>7} {'survived':>9} "
          f"{'budget':>7} {'score':>6}")
    verdicts = {}
    for engine, r in runs.items():
        rep = r["report"]
        counts = rep["counts"]
        print(f"{engine:<8} {r['wall']:>7.1f}s {len(rep['mutants']):>8} {counts['killed']:>7} "
              f"{counts['survived']:>9} {counts['out-of-budget']:>7} "
              f"{(rep['score'] or 0):>6.3f}")
        verdicts[engine] = [(m["id"], m["status"], m.get("property"), m.get("length"),
                             m.get("states"), m.get("behaviour"), m.get("new_states"),
                             m.get("new_steps"), m.get("lost_states"), m.get("lost_steps"))
                            for m in rep["mutants"]]
    first = next(iter(verdicts.values()))
    same = all(v == first for v in verdicts.values())
    print("verdicts identical across engines" if same else "VERDICTS DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
