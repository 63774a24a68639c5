"""The prover's time and Z3 units over several orderings of a spec's
properties: the same logical problem, in another Z3 context each time.

    python benchmarks/bench_prove_orders.py [--orders N] SPEC [SPEC ...]

Outside EPR, what Z3 spends on one query depends on its random seed and on
the order its terms were made in, by orders of magnitude; a single run of
one spec says little about a change to the prover. Ordering 0 is the
spec's own; ordering k > 0 shuffles the properties with seed k (so the
invariants are encoded, assumed and proved in another order). Each run is
in-process, in a fresh Z3 context (`smt.resources.isolated`); the figures
are wall seconds of the proof (median and worst) and, per ordering,
`seconds/units` (units in millions, the same on every machine).
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time

from paxcheck.lang.typecheck import load_spec
from paxcheck.smt.prove import prove


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--orders", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    for path in args.specs:
        spec = load_spec(path)
        rows = []
        for k in range(args.orders):
            props = list(spec.properties)
            if k:
                random.Random(k).shuffle(props)
            t0 = time.perf_counter()
            res = prove(dataclasses.replace(spec, properties=tuple(props)), timeout=args.timeout)
            rows.append((time.perf_counter() - t0, sum(o.units for o in res.obligations),
                         res.status))
        secs = [r[0] for r in rows]
        runs = " ".join(f"{s:.1f}/{u / 1e6:.0f}M{'' if st == 'proved' else ' ' + st}"
                        for s, u, st in rows)
        print(f"{path:38} median {statistics.median(secs):6.2f} s  worst {max(secs):6.2f} s"
              f"   {runs}", flush=True)


if __name__ == "__main__":
    main()
