"""paxcheck against mypyvy on mypyvy's own Paxos-family examples, whole
process, CPU seconds (user + sys of the child: fair on a loaded machine).

    python benchmarks/bench_mypyvy.py [--mypyvy PATH/TO/mypyvy/src/mypyvy.py] [--runs N]

paxcheck reads the `.pyv` files directly (specs/mypyvy/, copied unchanged).
mypyvy is run when its script is given (or named by $MYPYVY) and its
example directory sits beside it (`../examples`); otherwise the figures
of issue 14 (measured with the same Z3, 5.4.1) stand in, marked `*`. The
second table puts paxcheck's own specs beside mypyvy's nearest model.
Each figure is the median of --runs runs. benchmarks/prove_analysis.md
reads these figures.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYV = ROOT / "specs" / "mypyvy"

# issue 14's mypyvy figures (CPU seconds), used when mypyvy is not installed
ISSUE_FIGURES = {"paxos_epr": 0.63, "flexible_paxos_epr": 0.72, "multi_paxos_epr": 1.20,
                 "fast_paxos_epr": 1.64, "stoppable_paxos_epr": 2.4}
MODELS = ["paxos_epr", "flexible_paxos_epr", "multi_paxos_epr", "fast_paxos_epr",
          "stoppable_paxos_epr", "lockserv"]
# our specs and the mypyvy model nearest each
OWN = [("paxos.pax", "paxos_epr"), ("flexible_paxos.pax", "flexible_paxos_epr"),
       ("multi_paxos.pax", "multi_paxos_epr")]


def cpu_of(cmd: list[str], cwd: Path | None = None) -> tuple[float, str, int]:
    """CPU seconds of one child process, its stdout and exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, out.stdout, out.returncode


def median_cpu(cmd: list[str], runs: int, cwd: Path | None = None) -> tuple[float, str, int]:
    results = [cpu_of(cmd, cwd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), results[-1][1], results[-1][2]


def paxcheck(spec: Path, runs: int) -> tuple[float, str]:
    cpu, out, code = median_cpu([sys.executable, "-m", "paxcheck", "prove", str(spec), "--json"],
                                runs)
    if code not in (0, 1, 3):
        return cpu, f"error (exit {code})"
    data = json.loads(out)
    return cpu, f"{data['status']}, {len(data['obligations'])} checks"


def mypyvy(script: Path | None, name: str, runs: int) -> tuple[float | None, str]:
    if script is None:
        fig = ISSUE_FIGURES.get(name)
        return fig, "*" if fig is not None else ""
    example = script.parent.parent / "examples" / f"{name}.pyv"
    cpu, out, code = median_cpu([sys.executable, str(script), "verify", str(example)], runs,
                                cwd=script.parent.parent)
    return cpu, "" if code == 0 and "all ok" in out else f" (exit {code})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mypyvy", default=os.environ.get("MYPYVY"), metavar="mypyvy.py")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    script = Path(args.mypyvy).resolve() if args.mypyvy else None
    if script is not None and not script.is_file():
        sys.exit(f"no mypyvy script at {script}")
    print(f"CPU seconds, median of {args.runs}; mypyvy: "
          + (str(script) if script else "issue 14's figures (*), mypyvy not given"))
    print(f"\n{'model':<22} {'paxcheck':>9} {'mypyvy':>9} {'ratio':>7}  paxcheck verdict")
    for name in MODELS:
        ours, verdict = paxcheck(PYV / f"{name}.pyv", args.runs)
        theirs, note = mypyvy(script, name, args.runs)
        ratio = f"{ours / theirs:6.2f}x" if theirs else "     -"
        shown = f"{theirs:8.2f}{note or ' '}" if theirs is not None else f"{'-':>9}"
        print(f"{name:<22} {ours:9.2f} {shown:>9} {ratio:>7}  {verdict}")
    print(f"\n{'own spec':<22} {'paxcheck':>9} {'nearest mypyvy':>24} {'ratio':>7}  verdict")
    for spec, near in OWN:
        ours, verdict = paxcheck(ROOT / "specs" / spec, 1)  # tens of seconds: one run
        theirs, note = mypyvy(script, near, args.runs)
        ratio = f"{ours / theirs:6.2f}x" if theirs else "     -"
        shown = f"{near} {theirs:.2f}{note}" if theirs is not None else "-"
        print(f"{spec:<22} {ours:9.2f} {shown:>24} {ratio:>7}  {verdict}")


if __name__ == "__main__":
    main()
