"""Per-obligation and total time of `paxcheck prove specs/paxos.pax` (every
instance size), and of the same proof on the bounded instance of
models/paxos.toml.

    python benchmarks/bench_prove.py [--spec specs/paxos.pax] [--timeout S]

(--timeout is the whole run's wall-clock net; each obligation is bounded
by the default Z3 resource budget.)
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from paxcheck.config.model import load_model
from paxcheck.lang.typecheck import load_spec
from paxcheck.smt.prove import prove

ROOT = Path(__file__).resolve().parent.parent


def report(title: str, res, wall: float) -> None:
    print(f"== {title}: {res.status}, {len(res.obligations)} obligations, "
          f"sum {sum(o.seconds for o in res.obligations):.2f} s, "
          f"{sum(o.units for o in res.obligations):,} Z3 units, wall {wall:.2f} s")
    for o in sorted(res.obligations, key=lambda o: -o.seconds)[:15]:
        print(f"   {o.name:<44} {o.verdict:<8} {o.seconds:7.3f} s {o.units:>12,} units"
              f"  EPR={'yes' if o.epr else 'no'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default=str(ROOT / "specs" / "paxos.pax"))
    ap.add_argument("--model", default=str(ROOT / "models" / "paxos.toml"))
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    spec = load_spec(args.spec)
    t0 = time.perf_counter()
    res = prove(spec, timeout=args.timeout)
    report("unbounded (every size), 15 slowest", res, time.perf_counter() - t0)
    inst = load_model(args.model).instances[0]
    t0 = time.perf_counter()
    res = prove(spec, inst, timeout=args.timeout)
    report(f"instance {inst.describe()}, 15 slowest", res, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
