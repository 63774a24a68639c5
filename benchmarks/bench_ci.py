"""CI-mode figures: `paxcheck test` over this repository's catalogue
(paxcheck.toml) cold and cached, and whole-process time of small checks.

    python benchmarks/bench_ci.py [--runs 3] [--skip-catalogue]

Each figure is a whole process (`python -m paxcheck ...`), wall and CPU
(user + sys of the children), the median of --runs. "Cold" runs with
--no-cache (every entry explored or proved); "cached" right after a run
that filled the cache, with nothing changed."""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall s, cpu s, exit code) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def median_of(cmd: list[str], runs: int, env: dict[str, str] | None = None
              ) -> tuple[float, float, int]:
    got = [timed(cmd, env) for _ in range(runs)]
    return (statistics.median(g[0] for g in got), statistics.median(g[1] for g in got),
            got[-1][2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-catalogue", action="store_true",
                    help="only the small checks (the catalogue takes minutes cold)")
    args = ap.parse_args()
    py = [sys.executable, "-m", "paxcheck"]
    print(f"machine: {os.cpu_count()} cores; median of {args.runs} runs; whole processes")
    print(f"{'what':<52} {'wall s':>8} {'cpu s':>8} {'exit':>5}")
    small = [("check models/examples/counter.toml (16 states)",
              ["check", "models/examples/counter.toml", "--no-progress"]),
             ("check models/paxos.toml (323,940 states)",
              ["check", "models/paxos.toml", "--no-progress"]),
             ("check models/paxos.toml --engine python",
              ["check", "models/paxos.toml", "--no-progress", "--engine", "python",
               "--no-liveness"]),
             ("parse specs/paxos.pax", ["parse", "specs/paxos.pax"])]
    for label, argv in small:
        wall, cpu, code = median_of(py + argv, args.runs)
        print(f"{label:<52} {wall:>8.2f} {cpu:>8.2f} {code:>5}")
    if args.skip_catalogue:
        return
    with tempfile.TemporaryDirectory() as cache:
        # a cache of its own, so the repository's is neither used nor touched
        cfg = Path(cache) / "paxcheck.toml"
        text = (ROOT / "paxcheck.toml").read_text()
        cfg.write_text(text.replace("[test]\n", f"[test]\ncache = \"{cache}/c\"\n", 1))
        # the project file's paths are relative to it: keep it at the root
        local = ROOT / ".bench-paxcheck.toml"
        local.write_text(cfg.read_text())
        try:
            base = py + ["test", "--config", str(local)]
            wall, cpu, code = median_of(base + ["--no-cache"], args.runs)
            print(f"{'paxcheck test, whole catalogue, cold (--no-cache)':<52} "
                  f"{wall:>8.2f} {cpu:>8.2f} {code:>5}")
            timed(base)   # fill the cache
            wall, cpu, code = median_of(base, args.runs)
            print(f"{'paxcheck test, whole catalogue, cached':<52} "
                  f"{wall:>8.2f} {cpu:>8.2f} {code:>5}")
        finally:
            local.unlink()


if __name__ == "__main__":
    main()
