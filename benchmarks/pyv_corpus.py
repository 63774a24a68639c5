"""What of mypyvy's corpus paxcheck reads: every `.pyv` under a directory
(mypyvy's `examples/`), translated and type-checked, and for each file
that is refused the first error (a `file:line:col` and what is not
supported). With --prove, each file read is also proved (every size).

    python benchmarks/pyv_corpus.py PATH/mypyvy/examples [--prove]
"""
from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

from paxcheck.errors import PaxError
from paxcheck.lang.typecheck import load_spec
from paxcheck.smt.prove import prove, validate_cti


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("directory")
    ap.add_argument("--prove", action="store_true")
    args = ap.parse_args()
    files = sorted(Path(args.directory).rglob("*.pyv"))
    if not files:
        sys.exit(f"no .pyv files under {args.directory}")
    reasons: collections.Counter[str] = collections.Counter()
    read = 0
    for f in files:
        try:
            spec = load_spec(f)
        except PaxError as err:
            first = str(err).splitlines()[0]
            print(f"refused  {first}")
            # the kind of refusal, without the position and the names
            kind = re.sub(r"^\S+: error: ", "", first)
            reasons[re.sub(r"'[^']*'", "'…'", kind)] += 1
            continue
        read += 1
        verdict = ""
        if args.prove:
            res = prove(spec, timeout=120)
            bad = [o.name for o in res.obligations
                   if o.cti is not None and validate_cti(spec, o.cti, res.invariants) is not None]
            verdict = f"  {res.status}, {len(res.obligations)} obligations"
            if res.status == "cti":
                verdict += f", CTIs {'SPURIOUS: ' + ', '.join(bad) if bad else 'validated'}"
        print(f"read     {f}{verdict}")
    print(f"\n{read} of {len(files)} files read; refusals by kind:")
    for kind, n in reasons.most_common():
        print(f"  {n:4d}  {kind}")


if __name__ == "__main__":
    main()
