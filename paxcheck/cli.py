"""Command line: paxcheck check | parse | replay.

Exit codes: 0 holds, 1 violated, 2 bad input, 3 incomplete (limit, timeout,
interrupt)."""
from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from . import trace as T
from .compiler import CompiledInstance
from .errors import PaxError
from .explicit import Limits, RunResult, Stats, explore
from .model import load_model
from .replay import replay
from .typecheck import load_spec

EXIT_HOLDS, EXIT_VIOLATED, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its format short
        self.print_usage(sys.stderr)
        print(f"paxcheck: error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="paxcheck", description="Model checking for Paxos-family protocols.")
    ap.add_argument("--version", action="version", version=f"paxcheck {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="explore every reachable state of a bounded model")
    c.add_argument("model", help="a models/*.toml file")
    c.add_argument("--invariant", action="append", metavar="NAME", dest="properties",
                   help="check only this property (repeatable; default: the model's list)")
    c.add_argument("--max-states", type=_positive_int, metavar="N")
    c.add_argument("--timeout", type=_positive_float, metavar="S")
    c.add_argument("--deadlock", action="store_true", help="also report states with no successor")
    c.add_argument("--all", action="store_true", dest="keep_going",
                   help="keep exploring after a violation; report each violated property")
    c.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    c.add_argument("--trace-out", metavar="FILE", help="write the counterexample as JSON")
    c.add_argument("--emit", metavar="DIR",
                   help="write the counterexample into DIR as trace.json and trace.txt")
    c.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")

    p = sub.add_parser("parse", help="parse and type-check a spec, print a summary")
    p.add_argument("spec")
    p.add_argument("--json", action="store_true")

    r = sub.add_parser("replay", help="re-validate a JSON trace against its spec and model")
    r.add_argument("trace")
    return ap


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return v


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "parse":
            return cmd_parse(args)
        return cmd_replay(args)
    except PaxError as err:
        print(err.render(), file=sys.stderr)
        return EXIT_BAD_INPUT


# ---- check ------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _progress(stats: Stats, queued: int) -> None:
    print(f"  ... {stats.distinct:,} states, {stats.transitions:,} transitions, depth "
          f"{stats.depth}, {queued:,} queued, {stats.elapsed:.0f} s "
          f"({stats.rate:,.0f} states/s)", file=sys.stderr, flush=True)


def cmd_check(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    spec = model.spec
    props = tuple(args.properties) if args.properties else model.config.properties
    for name in props:
        if name not in spec.property_map:
            raise PaxError(f"unknown property '{name}' (spec has: "
                           f"{', '.join(spec.property_map) or 'none'})")
    limits = Limits(args.max_states or model.config.max_states,
                    args.timeout or model.config.timeout,
                    args.deadlock or model.config.deadlock, args.keep_going)
    progress = _progress if (sys.stderr.isatty() and not args.no_progress and not args.json) else None
    say = (lambda *a: None) if args.json else print
    say(f"model:     {model.path}")
    say(f"spec:      {spec.file}")
    say(f"checking:  {', '.join(props) or '(no property)'}"
        f"{' + deadlock' if limits.deadlock else ''}")
    results: list[RunResult] = []
    for inst in model.instances:
        say(f"instance:  {inst.describe()}")
        compiled = CompiledInstance(inst, props)
        res = explore(compiled, limits, progress)
        results.append(res)
        if res.status != "holds":
            break
    code = _exit_code(results)
    traces = [(r, v, T.from_violation(r.compiled, v)) for r in results for v in r.violations]
    if traces:
        _, _, first = traces[0]
        data = T.dumps(T.to_json(first, spec.file, model.path))
        if args.trace_out:
            Path(args.trace_out).write_text(data, encoding="utf-8")
        if args.emit:
            out = Path(args.emit)
            out.mkdir(parents=True, exist_ok=True)
            (out / "trace.json").write_text(data, encoding="utf-8")
            (out / "trace.txt").write_text(T.to_text(first), encoding="utf-8")
    if args.json:
        print(json.dumps(_result_json(model.path, spec.file, props, results, traces, code),
                         indent=2))
        return code
    for _, _, tr in traces:
        print()
        print(T.to_text(tr), end="")
    print()
    total = Stats()
    for r in results:
        total.distinct += r.stats.distinct
        total.transitions += r.stats.transitions
        total.depth = max(total.depth, r.stats.depth)
        total.elapsed += r.stats.elapsed
    if code == EXIT_HOLDS:
        print("Result: all properties hold (exhaustive search).")
    elif code == EXIT_VIOLATED:
        names = ", ".join(sorted({v.property or "deadlock" for r in results for v in r.violations}))
        print(f"Result: VIOLATED: {names}")
    else:
        print(f"Result: INCOMPLETE ({results[-1].stop_reason}): no violation among the states "
              "explored so far")
    print(f"  distinct states  {total.distinct:,}")
    print(f"  transitions      {total.transitions:,}")
    print(f"  depth            {total.depth}")
    print(f"  time             {total.elapsed:.2f} s ({total.rate:,.0f} states/s)")
    print(f"  peak memory      {_peak_rss_mb():,.0f} MB")
    if args.trace_out and traces:
        print(f"  trace written to {args.trace_out}")
    if args.emit and traces:
        print(f"  counterexample written to {args.emit}/")
    return code


def _exit_code(results: list[RunResult]) -> int:
    if any(r.violations for r in results):
        return EXIT_VIOLATED
    if all(r.complete for r in results):
        return EXIT_HOLDS
    return EXIT_INCOMPLETE


def _result_json(model: str, spec: str, props, results: list[RunResult], traces,
                 code: int) -> dict[str, Any]:
    status = {EXIT_HOLDS: "holds", EXIT_VIOLATED: "violated",
              EXIT_INCOMPLETE: "incomplete"}[code]
    return {
        "status": status,
        "exit_code": code,
        "model": model,
        "spec": spec,
        "properties": list(props),
        "instances": [{
            "instance": r.instance.describe(),
            "status": r.status,
            "complete": r.complete,
            "stop_reason": r.stop_reason,
            "distinct_states": r.stats.distinct,
            "transitions": r.stats.transitions,
            "depth": r.stats.depth,
            "seconds": round(r.stats.elapsed, 4),
            "states_per_second": round(r.stats.rate, 1),
        } for r in results],
        "violations": [T.to_json(tr, spec, model) for _, _, tr in traces],
        "peak_memory_mb": round(_peak_rss_mb(), 1),
    }


# ---- parse ------------------------------------------------------------------
def cmd_parse(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    summary = {
        "spec": spec.file,
        "sorts": [{"name": s.name, "ordered": s.ordered} for s in spec.sorts],
        "symbols": [{"name": s.name, "kind": s.kind, "mutable": s.mutable, "message": s.message,
                     "signature": _signature(s)} for s in spec.symbols],
        "axioms": [a.name for a in spec.axioms],
        "definitions": [d.name for d in spec.definitions],
        "actions": [{"name": a.name, "params": [f"{p.name}: {p.sort}" for p in a.params],
                     "actor": a.params[a.actor].name if a.actor is not None else None}
                    for a in spec.actions],
        "properties": [{"name": p.name, "kind": p.kind} for p in spec.properties],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{spec.file}: ok")
    print(f"  sorts:       {', '.join(('ordered ' if s.ordered else '') + s.name for s in spec.sorts)}")
    for s in spec.symbols:
        tags = ("mutable" if s.mutable else "immutable") + (", message" if s.message else "")
        print(f"  {s.kind:<11} {_signature(s)}  [{tags}]")
    print(f"  axioms:      {', '.join(summary['axioms']) or '-'}")
    print(f"  definitions: {', '.join(summary['definitions']) or '-'}")
    for a in summary["actions"]:
        by = f" by {a['actor']}" if a["actor"] else ""
        print(f"  action      {a['name']}({', '.join(a['params'])}){by}")
    for p in spec.properties:
        print(f"  {p.kind:<11} {p.name}")
    return 0


def _signature(s) -> str:
    params = ", ".join((f"{n}: " if n else "") + str(t) for n, t in zip(s.param_names, s.params))
    head = f"{s.name}({params})" if s.kind != "individual" else s.name
    return head + (f": {s.result}" if s.result is not None else "")


# ---- replay -----------------------------------------------------------------
def cmd_replay(args: argparse.Namespace) -> int:
    res = replay(args.trace)
    if res.ok:
        print(f"{args.trace}: {res.message}")
        return 0
    print(f"{args.trace}: INVALID: {res.message}", file=sys.stderr)
    return EXIT_VIOLATED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
