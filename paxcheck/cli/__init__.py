"""Command line: paxcheck check | parse | replay | graph | mutate | minimize.

Exit codes: 0 holds, 1 violated, 2 bad input, 3 incomplete (limit, timeout,
interrupt)."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from paxcheck import __version__
from paxcheck.cli import smt as cli_smt
from paxcheck.config.model import load_model
from paxcheck.errors import PaxError
from paxcheck.ground.ground import ground
from paxcheck.lang import ir
from paxcheck.lang.typecheck import load_spec
from paxcheck.outcome import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK, Verdict, combine, exit_code
from paxcheck.search.api import ENGINES, Checks, Limits, RunResult, Stats, peak_rss_bytes, run
from paxcheck.traces import itf, msc, slicing
from paxcheck.traces import trace as T
from paxcheck.traces.replay import replay


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its format short
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
                   help="write the counterexample into DIR: trace.json, trace.txt, "
                        "trace.itf.json (ITF) and msc.svg (message-sequence chart)")
    c.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    c.add_argument("--progress", action="store_true",
                   help="progress lines on stderr even when it is not a terminal")
    c.add_argument("--slice", action="store_true",
                   help="mark the steps of the printed trace the violation does not need")
    _engine_option(c)
    _workers_option(c)
    c.add_argument("--max-memory", type=_memory, metavar="SIZE",
                   help="stop (exit 3, partial result) once the process uses more memory, "
                        "e.g. 2G or 512M")
    sym = c.add_mutually_exclusive_group()
    sym.add_argument("--symmetry", metavar="SORTS",
                     help="reduce by permutations of these sorts (comma-separated); "
                          "overrides the model's `symmetry`")
    sym.add_argument("--no-symmetry", action="store_true",
                     help="ignore the model's `symmetry` declaration")

    p = sub.add_parser("parse", help="parse and type-check a spec, print a summary")
    p.add_argument("spec")
    p.add_argument("--json", action="store_true")

    cli_smt.add_parsers(sub)

    r = sub.add_parser("replay", help="re-validate a JSON trace against its spec and model")
    r.add_argument("trace")

    mn = sub.add_parser("minimize", help="the smallest configuration that still violates a "
                                         "property, with its shortest trace")
    mn.add_argument("model", help="a models/*.toml file")
    mn.add_argument("--invariant", action="append", metavar="NAME", dest="properties",
                    help="the property to minimize for (repeatable; default: the first one "
                         "the given model violates)")
    mn.add_argument("--max-states", type=_positive_int, metavar="N",
                    help="state limit per configuration")
    mn.add_argument("--timeout", type=_positive_float, metavar="S",
                    help="time limit per configuration")
    mn.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    _engine_option(mn)
    _workers_option(mn)

    g = sub.add_parser("graph", help="export the reachable state graph (DOT or GraphML)")
    g.add_argument("model", help="a models/*.toml file")
    g.add_argument("--out", required=True, metavar="FILE")
    g.add_argument("--format", choices=("dot", "graphml"),
                   help="default: from the file extension (.graphml), else dot")
    g.add_argument("--max-states", type=_positive_int, metavar="N",
                   help="refuse graphs with more states (default 10000)")
    g.add_argument("--invariant", action="append", metavar="NAME", dest="properties",
                   help="mark violations of this property only (repeatable)")
    _engine_option(g, "python")
    _workers_option(g)

    m = sub.add_parser("mutate", help="mutation testing: do the properties catch broken actions?")
    m.add_argument("spec")
    m.add_argument("--model", required=True, metavar="MODEL.toml",
                   help="sorts, interpretations and properties to check the mutants with")
    m.add_argument("--max-states", type=_positive_int, metavar="N",
                   help="state budget per mutant (default 1000000)")
    m.add_argument("--timeout", type=_positive_float, metavar="S",
                   help="time budget per mutant in seconds (default 60)")
    m.add_argument("--workers", type=_positive_int, metavar="N",
                   help="parallel processes (default: the number of cores)")
    m.add_argument("--invariant", action="append", metavar="NAME", dest="properties",
                   help="kill mutants with these properties only (repeatable; default: the "
                        "model's list)")
    m.add_argument("--operator", action="append", metavar="OP", dest="operators",
                   help="only these mutation operators (repeatable)")
    m.add_argument("--fail-under", type=float, metavar="SCORE",
                   help="exit 1 when the mutation score is below SCORE (0 to 1)")
    m.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    _engine_option(m)
    return ap


def _workers_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_positive_int, metavar="N",
                   help="threads that expand states (fast engine; default: every core)")


def _engine_option(p: argparse.ArgumentParser, default: str = "fast") -> None:
    p.add_argument("--engine", choices=ENGINES, default=default,
                   help="fast: compiled to machine code, compressed state store (default); "
                        "python: per-state generated Python; reference: the tree-walking "
                        "evaluator (slow, the oracle)")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _memory(text: str) -> int:
    """Bytes, from e.g. 2G, 512M or a bare number of megabytes."""
    t = text.strip().upper().removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    mult = 1 << 20
    if t and t[-1] in scale:
        mult, t = scale[t[-1]], t[:-1]
    try:
        v = float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 2G or 512M, got {text!r}") \
            from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return int(v * mult)


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return v


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see outcome.py)."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "prove":
            return cli_smt.cmd_prove(args)
        if args.command == "bmc":
            return cli_smt.cmd_bmc(args)
        if args.command == "parse":
            return cmd_parse(args)
        if args.command == "graph":
            return cmd_graph(args)
        if args.command == "mutate":
            return cmd_mutate(args)
        if args.command == "minimize":
            return cmd_minimize(args)
        return cmd_replay(args)
    except PaxError as err:
        print(err.render(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # outside a search loop, which reports its own partial result
        print("paxcheck: interrupted", file=sys.stderr)
        return EXIT_INCOMPLETE


# ---- check ------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return peak_rss_bytes() / 2**20


def _progress(stats: Stats, queued: int) -> None:
    print(f"  ... {stats.distinct:,} states, {stats.transitions:,} transitions, depth "
          f"{stats.depth}, {queued:,} queued, {stats.elapsed:.0f} s "
          f"({stats.rate:,.0f} states/s)", file=sys.stderr, flush=True)


def cmd_check(args: argparse.Namespace) -> int:
    """`paxcheck check`: every instance of a model through one engine."""
    model = load_model(args.model)
    spec = model.spec
    props = tuple(args.properties) if args.properties else model.config.properties
    spec.properties_named(props)
    limits = Limits(args.max_states or model.config.max_states,
                    args.timeout or model.config.timeout, args.max_memory)
    checks = Checks(props, args.deadlock or model.config.deadlock, args.keep_going)
    show = args.progress or (sys.stderr.isatty() and not args.no_progress and not args.json)
    progress = _progress if show else None
    say = (lambda *a: None) if args.json else print
    say(f"model:     {model.path}")
    say(f"spec:      {spec.file}")
    say(f"checking:  {', '.join(props) or '(no property)'}"
        f"{' + deadlock' if checks.deadlock else ''}")
    sym_sorts = _symmetry_sorts(args, model)
    if sym_sorts and args.engine == "reference":
        raise PaxError("the reference engine has no symmetry reduction",
                       expected="--no-symmetry, or --engine fast or python")
    say(f"engine:    {args.engine}"
        + (f", symmetry over {', '.join(sym_sorts)}" if sym_sorts else ""))
    results: list[RunResult] = []
    for inst in model.instances:
        say(f"instance:  {inst.describe()}")
        g = ground(inst)
        symmetry = None
        if sym_sorts:
            from paxcheck.config.symmetry import Symmetry
            symmetry = Symmetry.build(inst, g.layout, sym_sorts,
                                      None if args.symmetry else model.config.symmetry_span)
            say(f"symmetry:  {symmetry.order} permutations; counts are orbits")
        res = run(g, limits, checks, engine=args.engine, workers=args.workers,
                  symmetry=symmetry, progress=progress)
        results.append(res)
        if res.verdict is not Verdict.HOLDS:
            break
    verdict = combine([r.verdict for r in results])
    code = exit_code(verdict)
    traces = [(r, v, T.from_violation(r.ground, v)) for r in results for v in r.violations]
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
            (out / "trace.itf.json").write_text(
                itf.dumps(itf.to_itf(first, spec.file, model.path)), encoding="utf-8")
            (out / "msc.svg").write_text(msc.to_svg(first), encoding="utf-8")
    if args.json:
        out_json = _result_json(model.path, spec.file, props, results, traces, verdict,
                                args.engine, sym_sorts)
        if args.slice:
            for v, (_, _, tr) in zip(out_json["violations"], traces):
                v["unneeded_steps"] = list(slicing.unneeded_steps(tr))
        print(json.dumps(out_json, indent=2))
        return code
    for _, _, tr in traces:
        print()
        print(slicing.to_text(tr) if args.slice else T.to_text(tr), end="")
    print()
    total = Stats()
    for r in results:
        total.distinct += r.stats.distinct
        total.transitions += r.stats.transitions
        total.depth = max(total.depth, r.stats.depth)
        total.elapsed += r.stats.elapsed
    if verdict is Verdict.HOLDS:
        print("Result: all properties hold (exhaustive search).")
    elif verdict is Verdict.VIOLATED:
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


def _symmetry_sorts(args: argparse.Namespace, model) -> tuple[str, ...]:
    if args.no_symmetry:
        return ()
    if args.symmetry:
        return tuple(x.strip() for x in args.symmetry.split(",") if x.strip())
    return model.config.symmetry


def _result_json(model: str, spec: str, props: tuple[str, ...], results: list[RunResult],
                 traces: list, verdict: Verdict, engine: str = "fast",
                 symmetry: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "status": verdict.value,
        "exit_code": exit_code(verdict),
        "model": model,
        "spec": spec,
        "properties": list(props),
        "engine": engine,
        "symmetry": list(symmetry),
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
    """`paxcheck parse`: type-check a spec and print its summary."""
    spec = load_spec(args.spec)
    summary: dict[str, Any] = {
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


def _signature(s: ir.Symbol) -> str:
    params = ", ".join((f"{n}: " if n else "") + str(t) for n, t in zip(s.param_names, s.params))
    head = f"{s.name}({params})" if s.kind != "individual" else s.name
    return head + (f": {s.result}" if s.result is not None else "")


# ---- graph ------------------------------------------------------------------
def cmd_graph(args: argparse.Namespace) -> int:
    """`paxcheck graph`: write the reachable state graph."""
    from paxcheck.tools.graph import DEFAULT_MAX_STATES, build_graph, write_dot, write_graphml
    model = load_model(args.model)
    props = tuple(args.properties) if args.properties else None
    fmt = args.format or ("graphml" if args.out.endswith(".graphml") else "dot")
    res = build_graph(model, props, args.max_states or DEFAULT_MAX_STATES, args.engine,
                      args.workers)
    try:
        (write_graphml if fmt == "graphml" else write_dot)(res.graph, args.out)
    except OSError as exc:
        raise PaxError(f"cannot write {args.out}: {exc}") from None
    print(f"{args.out}: {res.states:,} states, {res.transitions:,} transitions ({fmt})")
    if res.violation:
        print(f"  shortest violation ({res.violation}) marked: {len(res.path) - 1} steps, "
              f"{' -> '.join(res.path)}")
    return EXIT_OK


# ---- mutate -----------------------------------------------------------------
def cmd_mutate(args: argparse.Namespace) -> int:
    """`paxcheck mutate`: mutation testing of the spec's properties."""
    from paxcheck.tools import mutate as M
    for op in args.operators or ():
        if op not in M.OPERATORS:
            raise PaxError(f"unknown mutation operator '{op}' (one of: {', '.join(M.OPERATORS)})")
    budget = M.Budget(args.max_states or M.DEFAULT_MAX_STATES, args.timeout or M.DEFAULT_TIMEOUT)
    progress = M.print_progress if (sys.stderr.isatty() and not args.json) else None
    report = M.run_mutants(args.spec, args.model, budget, args.workers,
                           tuple(args.operators) if args.operators else M.OPERATORS, progress,
                           tuple(args.properties) if args.properties else None, args.engine)
    text = Path(args.spec).read_text(encoding="utf-8")
    if args.json:
        print(json.dumps(M.to_json(report, text), indent=2))
    else:
        print(M.to_text(report, text), end="")
    if args.fail_under is not None and (report.score or 0.0) < args.fail_under:
        return exit_code(Verdict.VIOLATED)
    return EXIT_OK


# ---- minimize ---------------------------------------------------------------
def cmd_minimize(args: argparse.Namespace) -> int:
    """`paxcheck minimize`: the smallest violating configuration."""
    from paxcheck.tools.minimize import minimize
    model = load_model(args.model)
    props = tuple(args.properties) if args.properties else None
    limits = Limits(args.max_states or model.config.max_states,
                    args.timeout or model.config.timeout)
    say = (lambda *a: None) if args.json else print

    def show(c) -> None:
        what = {"violated": f"violated ({c.prop}) after {c.length} steps",
                "holds": "holds", "skipped": f"skipped: {c.reason}",
                "incomplete": f"incomplete: {c.reason}"}[c.status]
        say(f"  {c.describe():<30} {what}" + (f"  [{c.states:,} states]" if c.states else ""))

    say(f"model:     {model.path}")
    say(f"spec:      {model.spec.file}")
    say(f"property:  {', '.join(props or model.config.properties)}")
    say("configurations (the given one first, then smallest first):")
    res = minimize(model, props, limits, progress=show, engine=args.engine,
                   workers=args.workers)
    code = exit_code(Verdict(res.status))
    unneeded = slicing.unneeded_steps(res.trace) if res.trace is not None else ()
    if args.json:
        print(json.dumps(_minimize_json(model, res, unneeded, code), indent=2))
        return code
    print()
    if res.status == "holds":
        print("Result: the given model holds; nothing to minimize.")
        return code
    if res.status == "incomplete":
        print(f"Result: INCOMPLETE ({res.given.reason}) on the given model.")
        return code
    sm = res.smallest
    assert sm is not None and res.trace is not None
    print(slicing.to_text(res.trace, unneeded), end="")
    print()
    print(f"Result: VIOLATED: {sm.prop}; smallest configuration {sm.instance} "
          f"({sm.total} elements in [sorts]), shortest trace {sm.length} steps")
    if res.undecided:
        print("  not decided (limit reached), so possibly smaller: "
              + "; ".join(c.describe() for c in res.undecided))
    return code


def _minimize_json(model, res, unneeded, code: int) -> dict[str, Any]:
    def cand(c):
        if c is None:
            return None
        return {"sizes": dict(c.sizes), "total": c.total, "status": c.status,
                "instance": c.instance, "property": c.prop, "length": c.length,
                "distinct_states": c.states, "reason": c.reason}
    return {
        "status": res.status,
        "exit_code": code,
        "model": model.path,
        "spec": model.spec.file,
        "properties": list(res.properties),
        "given": cand(res.given),
        "smallest": cand(res.smallest),
        "tried": [cand(c) for c in res.tried],
        "undecided": [c.describe() for c in res.undecided],
        "trace": (T.to_json(res.trace, model.spec.file, model.path)
                  if res.trace is not None else None),
        "unneeded_steps": list(unneeded),
    }


# ---- replay -----------------------------------------------------------------
def cmd_replay(args: argparse.Namespace) -> int:
    """`paxcheck replay`: re-validate a trace file with the evaluator."""
    res = replay(args.trace)
    if res.ok:
        print(f"{args.trace}: {res.message}")
        return 0
    print(f"{args.trace}: INVALID: {res.message}", file=sys.stderr)
    return exit_code(Verdict.VIOLATED)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
