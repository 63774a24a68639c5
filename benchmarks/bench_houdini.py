"""Houdini's query shapes on one bounded instance: why the bounded stage
uses Z3's QF_FD solver and asks a few goals per query.

    python benchmarks/bench_houdini.py [SPEC] [--sizes node=3,...] [--mined N]

The candidates are the spec's own one-state properties (for Paxos, its
safety properties and eleven auxiliary invariants: all inductive together,
so every query is unsat, the case Houdini's last round is made of); with
`--mined N`, the first N candidates `paxcheck infer` mines from the spec's
models join them, all assumed in every query as in Houdini, and the goals
timed are the first 64 per action. Per action, it times asking each goal
alone, eight at a time in one disjunction, and all in one disjunction, on
the default SMT solver and on QF_FD, and prints seconds and Z3 units (the
units repeat on any machine; the seconds are this machine's)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import z3

from paxcheck.lang.typecheck import load_spec
from paxcheck.smt.prove import _BoundedStep, _reads, _writes
from paxcheck.smt.resources import isolated, units_spent

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", nargs="?", default=str(ROOT / "specs/paxos.pax"))
    ap.add_argument("--sizes", default="node=3,value=2,quorum=3,ballot=3")
    ap.add_argument("--mined", type=int, default=0)
    args = ap.parse_args()
    spec = load_spec(args.spec)
    sizes = {k: int(v) for k, v in (kv.split("=") for kv in args.sizes.split(","))}
    cands = [p for p in spec.properties if p.kind in ("safety", "invariant")]
    timed = {c.name for c in cands}
    if args.mined:
        cands += _mined(spec, args.spec)[:args.mined]
    print(f"{args.spec}: {len(cands)} candidates, sizes {sizes}")
    print(f"{'solver':8} {'action':12} {'goals':>5} {'alone s':>8} {'by 8 s':>8} {'all s':>8} "
          f"{'alone units':>12} {'by 8 units':>12} {'all units':>12}")
    with isolated():
        for name, make in (("default", z3.Solver), ("QF_FD", lambda: z3.SolverFor("QF_FD"))):
            step = _BoundedStep(spec, sizes, cands, True, make())
            assume = step.lits
            for action in spec.actions:
                step.act(action)
                w = _writes(action.body)
                goals = [step.goal(c) for c in cands if _reads(spec, c.formula) & w
                         and (c.name in timed or not args.mined)]
                if args.mined:
                    goals += [step.goal(c) for c in cands if _reads(spec, c.formula) & w
                              and c.name not in timed][:64 - len(goals)]
                if not goals:
                    continue
                figs = []
                for size in (1, 8, len(goals)):
                    t0, u0 = time.perf_counter(), units_spent()
                    for i in range(0, len(goals), size):
                        step.solver.push()
                        step.solver.add(z3.Or(goals[i:i + size]))
                        res = step.solver.check(*assume)
                        step.solver.pop()
                        assert res != z3.unknown, (action.name, res)
                    figs.append((time.perf_counter() - t0, units_spent() - u0))
                print(f"{name:8} {action.name:12} {len(goals):5} "
                      + " ".join(f"{s:8.2f}" for s, _ in figs) + " "
                      + " ".join(f"{u:12,}" for _, u in figs), flush=True)


def _mined(spec, path: str) -> list:
    """What `paxcheck infer --ignore-invariants` mines from the spec's models."""
    import dataclasses

    from paxcheck.budget import Limits
    from paxcheck.cli.infer import models_of
    from paxcheck.config.model import load_model
    from paxcheck.infer.infer import Inference, Settings, mine_candidates
    from paxcheck.infer.samples import explore
    samples = []
    for m in models_of(path)[:1]:
        for inst in load_model(m).instances:
            ex = explore(dataclasses.replace(inst, spec=spec), (), Limits())
            assert ex.sample is not None
            samples.append(ex.sample)
    return mine_candidates(spec, samples, Settings(max_states=5000), Inference(spec))


if __name__ == "__main__":
    main()
