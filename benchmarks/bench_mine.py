"""Mining on one process and on several: seconds, minimal clauses and
candidates per worker count, and whether the candidate lists are equal.

    python benchmarks/bench_mine.py [--spec specs/paxos.pax] [--model models/paxos.toml]
                                    [--workers 1,2] [--max-vars N] [--long-vars N]

The spec's `invariant` declarations are cut first (as `infer
--ignore-invariants` does), every reachable state of each instance of the
model is explored once, and the same samples are mined for each worker
count. Peak memory is not printed: measure it from outside (the workers
are forked, and share the parent's samples)."""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from paxcheck.budget import Limits
from paxcheck.config.model import load_model
from paxcheck.infer.infer import Inference, Settings, mine_candidates, without_invariants
from paxcheck.infer.samples import explore
from paxcheck.lang.show import show
from paxcheck.lang.typecheck import load_spec_text

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="specs/paxos.pax")
    ap.add_argument("--model", default="models/paxos.toml")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--max-vars", type=int, default=Settings().max_vars)
    ap.add_argument("--long-vars", type=int, default=Settings().long_vars)
    args = ap.parse_args()
    path = str(ROOT / args.spec)
    text = Path(path).read_text()
    spec = load_spec_text(without_invariants(text, load_spec_text(text, path)), path)
    samples = []
    for inst in load_model(ROOT / args.model).instances:
        smp = explore(dataclasses.replace(inst, spec=spec), (), Limits()).sample
        assert smp is not None, "a safety property is violated"
        samples.append(smp)
    print(f"{args.spec}: {sum(s.count for s in samples):,} states")
    first = None
    for w in (int(x) for x in args.workers.split(",")):
        out = Inference(spec)
        t0 = time.perf_counter()
        found = mine_candidates(spec, samples, Settings(given=False, workers=w, max_vars=args.max_vars,
                                                         long_vars=args.long_vars), out)
        secs = time.perf_counter() - t0
        texts = [(p.name, show(p.formula)) for p in found]
        first = texts if first is None else first
        print(f"  workers {w}: {secs:7.1f} s, {out.templates} templates, {out.mined:,} minimal "
              f"clauses, {len(found):,} candidates, same as the first: {texts == first}",
              flush=True)


if __name__ == "__main__":
    main()
