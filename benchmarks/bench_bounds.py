"""What a bounded universe costs strengthening: the query for a CTI of one
obligation within every sort closed to a few elements, against one sort
at a time one element larger.

    python benchmarks/bench_bounds.py [--rlimit UNITS] [--drop NAME ...]

Asks `accept -> P` within 3 per sort, within 4 per sort, and within 3 per
sort with one sort at 4 (as `strengthen` does for an obligation `prove`
leaves undecided), assuming Basic Paxos' hand invariants
(specs/paxos.pax): for P a weaker variant of `proposals_safe` that
strengthening chose, with the other hand invariants; and for P
`proposals_safe` less each of `--drop` in turn (default: the facts it
leans on). Prints per bound the answer (sat: a CTI there; unsat: none),
seconds and Z3 units, first with the first-order encoding and each sort
closed by an axiom, then on the ground instances of those sizes (what
`strengthen` asks). The answers are deterministic (Z3 units bound each
query); the seconds are this machine's."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paxcheck.infer import strengthen as S  # noqa: E402
from paxcheck.lang.typecheck import load_spec_text  # noqa: E402
from paxcheck.smt.prove import _BoundedStep  # noqa: E402
from paxcheck.smt.resources import Meter  # noqa: E402

DROP = ["promises_below_max_bal", "votes_below_vbal", "last_vote_recorded",
        "promise_without_vote", "promise_with_vote"]


# a weaker variant of `proposals_safe` that strengthening chose on Paxos
WEAK = ("invariant weak_proposals_safe: forall v1, v2: value, q: quorum, b1, b2: ballot. "
        "two_a(b2, v1) -> two_a(b1, v1) | b2 < b1 | "
        "(exists n: node. !two_b(n, b1, v2) & b1 < max_bal(n) & member(n, q))\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rlimit", type=int, default=200_000_000)
    ap.add_argument("--drop", nargs="*", default=DROP)
    args = ap.parse_args()
    spec = load_spec_text((ROOT / "specs/paxos.pax").read_text() + WEAK, "specs/paxos.pax")
    accept = next(a for a in spec.actions if a.name == "accept")
    deeper = S.deeper_bounds(spec)
    bounds = [deeper[0], {s.name: 4 for s in spec.sorts}] + deeper[1:]
    print(f"{'obligation':44} " + " ".join(f"{S._within(b):>40}" for b in bounds))
    hand = [p for p in spec.properties if p.kind == "invariant" and p.name != "weak_proposals_safe"]
    rows = [("weak_proposals_safe", [p for p in hand if p.name != "proposals_safe"])] + [
        (f"proposals_safe without {d}", [p for p in hand if p.name != d]) for d in args.drop]
    for label, members in rows:
        target = spec.property_map[label.split()[0]]
        search = S._Search(spec, [target], [], args.rlimit, None, lambda _: None, ())
        search.members = members + [target]
        st = search.steps[accept.name]
        for m in search.members:
            search._assumable(m)
        cells = []
        for b in bounds:
            lit = search._bound(b)
            st.solver.push()
            st.solver.add(st.goal(target))
            meter = Meter(args.rlimit)
            t0 = time.perf_counter()
            res = meter.check(st.solver, *[st.lits[m.name] for m in search.members], lit)
            fo = f"{str(res)} {time.perf_counter() - t0:.1f}s {meter.used / 1e6:.1f}M"
            st.solver.pop()
            meter = Meter(args.rlimit)
            t0 = time.perf_counter()
            ground = _BoundedStep(spec, b, search.members, False).act(accept)
            ground.solver.add(ground.goal(target))
            res = meter.check(ground.solver)
            cells.append(fo + f" | {str(res)} {time.perf_counter() - t0:.1f}s "
                              f"{meter.used / 1e6:.1f}M")
        print(f"{label:44} " + " ".join(f"{c:>40}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
