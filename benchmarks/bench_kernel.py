"""The successor kernel at LLVM -O1 and -O2 (paxcheck/search/fast/llvm.py):
compile seconds, and the kernel's own seconds over a real frontier:
expanding it, and checking the spec's invariants on every successor.

    python benchmarks/bench_kernel.py [--model models/paxos_tla_b3.toml ...] [--runs 5]

The frontier is a batch of the widest level of a run cut at --states
distinct states;
the kernel is timed alone (one thread, no store), the median of --runs,
each over PASSES sweeps. Compile time is one fresh build (no kernel cache)."""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from paxcheck.budget import Limits
from paxcheck.config.model import load_model
from paxcheck.ground.ground import ground
from paxcheck.search.api import Checks
from paxcheck.search.fast import codegen
from paxcheck.search.fast.engine import FastEngine
from paxcheck.search.fast.llvm import Compiled, Unit

DEFAULT_MODELS = ["models/paxos.toml", "models/paxos_tla_b3.toml",
                  "models/multi_paxos_small.toml", "models/paxos_commit.toml"]
PASSES = 5
LEVELS = (1, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help=f"default: {' '.join(DEFAULT_MODELS)}")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--states", type=int, default=1_000_000)
    args = ap.parse_args()
    print(f"{'model':<32} {'opt':>3} {'compile s':>9} {'expand s':>9} {'check s':>9} "
          f"{'kernel s':>9}")
    for model in args.model or DEFAULT_MODELS:
        loaded = load_model(model)
        g = ground(loaded.instances[0])
        props = loaded.config.properties   # what `check` checks by default
        eng = FastEngine(g, workers=1)
        eng.run(Limits(max_states=args.states), Checks())
        bounds = eng.levels + [len(eng.store)]
        w = max(range(len(bounds) - 1), key=lambda i: bounds[i + 1] - bounds[i])
        frontier = eng.store.get(bounds[w], min(bounds[w + 1], bounds[w] + eng.batch)
                                 ).view(np.int64)
        eng.close()
        for opt in LEVELS:
            src, facts, tables = codegen.generate(g.inst, props, g.layout)
            t0 = time.perf_counter()
            Compiled.build(Unit(src, facts["nwords"], tables, codegen._SIGNATURES), opt)
            compile_s = time.perf_counter() - t0
            k = codegen.load(g.inst, props, g.layout, opt=opt)
            out, gids, srcs, fan, tmp = k.buffers(len(frontier))
            res = np.zeros(len(out), np.int64)
            expand, check = [], []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                for _ in range(PASSES):
                    n = k.expand(frontier, 0, len(frontier), out, gids, srcs, fan, tmp)
                t1 = time.perf_counter()
                for _ in range(PASSES):
                    k.invariants(out, 0, n, res)
                t2 = time.perf_counter()
                expand.append(t1 - t0)
                check.append(t2 - t1)
            e, c = statistics.median(expand), statistics.median(check)
            print(f"{model:<32} {opt:>3} {compile_s:>9.2f} {e:>9.3f} {c:>9.3f} {e + c:>9.3f}")


if __name__ == "__main__":
    main()
