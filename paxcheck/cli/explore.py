"""The explicit-state commands: check, parse, graph, mutate, minimize, replay."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from typing import Any

from paxcheck import budget
from paxcheck.cli.options import output_dir, write_output
from paxcheck.config.model import FairnessSetting, load_model
from paxcheck.errors import PaxError, read_input
from paxcheck.ground.temporal import FAIRNESS_SETTINGS
from paxcheck.lang import ir
from paxcheck.lang.typecheck import load_spec
from paxcheck.outcome import EXIT_OK, Verdict, exit_code
from paxcheck.search.api import Checks, Limits, Stats, Stop, peak_rss_bytes
from paxcheck.tools.check import EarlyStop, ModelCheck, check_model
from paxcheck.tools.coverage import describe as coverage_text
from paxcheck.tools.coverage import unfired
from paxcheck.traces import slicing
from paxcheck.traces import trace as T
from paxcheck.traces.replay import replay


def _peak_rss_mb() -> float:
    return peak_rss_bytes() / 2**20


def _progress(stats: Stats, queued: int) -> None:
    print(f"  ... {stats.distinct:,} states, {stats.transitions:,} transitions, depth "
          f"{stats.depth}, {queued:,} queued, {stats.elapsed:.0f} s "
          f"({stats.rate:,.0f} states/s)", file=sys.stderr, flush=True)


def cmd_check(args: argparse.Namespace) -> int:
    """`paxcheck check`: every instance of a model through one engine."""
    t0 = time.monotonic()
    try:
        with budget.in_force(Limits(None, args.timeout, args.max_memory), t0):
            model = load_model(args.model)
    except budget.LimitReached as lr:
        return _report_early(args, EarlyStop(None, lr.stop, lr.stage))
    except KeyboardInterrupt:
        return _report_early(args, EarlyStop(None, Stop.interrupted(), "loading the model"))
    spec = model.spec
    props = tuple(args.properties) if args.properties else model.config.properties
    spec.properties_named(props)
    limits = Limits(args.max_states or model.config.max_states,
                    args.timeout or model.config.timeout, args.max_memory)
    checks = Checks(props, args.deadlock or model.config.deadlock, args.keep_going)
    live_names = () if args.no_liveness else \
        tuple(args.liveness) if args.liveness else model.config.liveness
    for name in live_names:
        if name not in spec.liveness_map:
            raise PaxError(f"unknown liveness property '{name}' (spec has: "
                           f"{', '.join(spec.liveness_map) or 'none'})")
    fairness = _fairness(args, model)
    sym_sorts = _symmetry_sorts(args, model)
    skipped = None
    if args.cluster and live_names:
        if args.liveness:
            raise PaxError("liveness is not checked on a cluster: it needs the whole state "
                           "graph in one process", expected="--no-liveness with --cluster")
        skipped = "not checked on a cluster (check it on one machine)"
        live_names = ()
    if sym_sorts and live_names and not args.liveness:
        # the model's default liveness list meets symmetry: check safety only,
        # and say so (asked for by name, run() refuses the pair instead)
        skipped = "not checked under symmetry reduction (--no-symmetry checks it)"
        live_names = ()
    show = args.progress or (sys.stderr.isatty() and not args.no_progress and not args.json)
    progress = _progress if show else None
    say = (lambda *a: None) if args.json else print
    say(f"model:     {model.path}")
    say(f"spec:      {spec.file}")
    say(f"checking:  {', '.join(props) or '(no property)'}"
        f"{' + deadlock' if checks.deadlock else ''}")
    if live_names:
        kinds = {f.name: fairness[f.name].kind if f.name in fairness else f.kind
                 for f in spec.fairness}
        in_force = [f"{name} ({kind}" + (", only " + "; ".join(
                        f"{v} in {','.join(xs)}" for v, xs in fairness[name].only)
                        if name in fairness and fairness[name].only else "") + ")"
                    for name, kind in kinds.items() if kind != "off"]
        say(f"liveness:  {', '.join(live_names)}; fairness: {', '.join(in_force) or 'none'}")
        if not in_force:
            print("warning: no fairness assumption is in force, so a liveness property fails "
                  "as soon as some state can stutter forever (declare `fairness` in the spec)",
                  file=sys.stderr)
    if skipped is not None:
        say(f"liveness:  {skipped}")
        print(f"warning: liveness {skipped}", file=sys.stderr)
    if sym_sorts and args.engine == "reference":
        raise PaxError("the reference engine has no symmetry reduction",
                       expected="--no-symmetry, or --engine fast or python")
    say(f"engine:    {args.engine}"
        + (f", on the cluster {args.cluster}" if args.cluster else "")
        + (f", symmetry over {', '.join(sym_sorts)}" if sym_sorts else ""))
    checked = check_model(model, props, limits, checks, liveness=live_names, fairness=fairness,
                          symmetry=sym_sorts, symmetry_span_from_model=not args.symmetry,
                          engine=args.engine, workers=args.workers, cluster=args.cluster,
                          progress=progress,
                          say=say, start=t0)
    results, early, traces = checked.results, checked.early, checked.traces
    verdict = checked.verdict
    code = exit_code(verdict)
    coverage = checked.coverage
    never = [c.action for c in unfired(coverage)]
    if never and verdict is Verdict.HOLDS:
        print(f"warning: action{'s' if len(never) > 1 else ''} {', '.join(never)} never "
              "fired: what holds may hold vacuously", file=sys.stderr)
    if traces:
        _, first = traces[0]
        data = T.dumps(T.to_json(first, spec.file, model.path))
        if args.trace_out:
            write_output(args.trace_out, data)
        if args.emit:
            from paxcheck.traces import itf, msc  # the picture's XML escaping loads urllib
            out = output_dir(args.emit)
            write_output(out / "trace.json", data)
            write_output(out / "trace.txt", T.to_text(first))
            write_output(out / "trace.itf.json", itf.dumps(itf.to_itf(first, spec.file, model.path)))
            write_output(out / "msc.svg", msc.to_svg(first))
    if args.json:
        out_json = _result_json(checked, verdict, args.engine, sym_sorts)
        out_json["liveness"] = list(live_names)
        out_json["fairness"] = {f.name: (fairness[f.name].kind if f.name in fairness else f.kind)
                                for f in spec.fairness}
        if skipped is not None:
            out_json["liveness_skipped"] = skipped
        if args.slice:
            for v, (_, tr) in zip(out_json["violations"], traces):
                v["unneeded_steps"] = list(slicing.unneeded_steps(tr))
        print(json.dumps(out_json, indent=2))
        return code
    for _, tr in traces:
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
        names = ", ".join(checked.violated + [f"{p} (never reached)" for p in checked.unreached])
        print(f"Result: VIOLATED: {names}")
    elif early is not None:
        print(f"Result: INCOMPLETE ({early.stop.text} while {early.stage} instance "
              f"{early.instance}): no violation among the states explored so far")
    else:
        print(f"Result: INCOMPLETE ({results[-1].stop_reason}): no violation among the states "
              "explored so far")
    print(f"  distinct states  {total.distinct:,}")
    print(f"  transitions      {total.transitions:,}")
    print(f"  depth            {total.depth}")
    age = budget.process_age()
    whole = f"; {age:.2f} s since the process started" if age is not None else ""
    print(f"  time             {total.elapsed:.2f} s search ({total.rate:,.0f} states/s){whole}")
    print(f"  peak memory      {_peak_rss_mb():,.0f} MB")
    if checked.witnesses:
        print("  reached          " + ", ".join(f"{tr.property} ({tr.length} steps)"
                                              for _, tr in checked.witnesses)
              + "; shortest witness traces in --json")
    if coverage:
        print("  actions          (ground instances that fired / all)")
        print(coverage_text(coverage, "    "), end="")
    if args.trace_out and traces:
        print(f"  trace written to {args.trace_out}")
    if args.emit and traces:
        print(f"  counterexample written to {args.emit}/")
    return code


def _fairness(args: argparse.Namespace, model) -> dict[str, FairnessSetting]:
    """The model's [fairness] settings, then --fairness NAME=KIND on top
    (it keeps a model's `only`)."""
    out = dict(model.config.fairness)
    for item in args.fairness:
        name, sep, kind = item.partition("=")
        if not sep or kind not in FAIRNESS_SETTINGS:
            raise PaxError(f"--fairness {item!r}",
                           expected="NAME=weak, NAME=strong or NAME=off")
        if name not in model.spec.fairness_map:
            raise PaxError(f"unknown fairness assumption '{name}' (spec has: "
                           f"{', '.join(model.spec.fairness_map) or 'none'})")
        out[name] = replace(out.get(name, FairnessSetting(kind)), kind=kind)
    return out


def _symmetry_sorts(args: argparse.Namespace, model) -> tuple[str, ...]:
    if args.no_symmetry:
        return ()
    if args.symmetry:
        return tuple(x.strip() for x in args.symmetry.split(",") if x.strip())
    return model.config.symmetry


def _report_early(args: argparse.Namespace, early: EarlyStop) -> int:
    """A check that stopped before any instance was built: exit 3."""
    code = exit_code(Verdict.INCOMPLETE)
    if args.json:
        print(json.dumps({"status": Verdict.INCOMPLETE.value, "exit_code": code,
                          "model": args.model, "stop_reason": early.stop.text,
                          "stage": early.stage, "instances": [], "violations": [],
                          "peak_memory_mb": round(_peak_rss_mb(), 1)}, indent=2))
    else:
        print(f"Result: INCOMPLETE ({early.stop.text} while {early.stage}): nothing explored")
    return code


def _result_json(checked: ModelCheck, verdict: Verdict, engine: str = "fast",
                 symmetry: tuple[str, ...] = ()) -> dict[str, Any]:
    results, early = checked.results, checked.early
    spec, model = checked.model.spec.file, checked.model.path
    instances = [{
        "instance": r.instance.describe(),
        "status": r.status,
        "complete": r.complete,
        "stop_reason": r.stop_reason,
        "distinct_states": r.stats.distinct,
        "transitions": r.stats.transitions,
        "depth": r.stats.depth,
        "seconds": round(r.stats.elapsed, 4),
        "states_per_second": round(r.stats.rate, 1),
    } for r in results]
    if early is not None:
        instances.append({"instance": early.instance, "status": Verdict.INCOMPLETE.value,
                          "complete": False, "stop_reason": early.stop.text,
                          "stage": early.stage, "distinct_states": 0, "transitions": 0,
                          "depth": 0, "seconds": 0.0, "states_per_second": 0.0})
    return {
        "status": verdict.value,
        "exit_code": exit_code(verdict),
        "model": model,
        "spec": spec,
        "properties": list(checked.properties),
        "engine": engine,
        "symmetry": list(symmetry),
        "instances": instances,
        "violations": [T.to_json(tr, spec, model) for _, tr in checked.traces],
        "witnesses": [T.to_json(tr, spec, model) for _, tr in checked.witnesses],
        "unreached": checked.unreached,
        "coverage": [{"action": c.action, "ground": c.ground, "fired": c.fired,
                      "transitions": c.transitions} for c in checked.coverage],
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
        "liveness": [{"name": lv.name, "obligations": [t.show() for t in lv.parts]}
                     for lv in spec.liveness],
        "fairness": [{"name": f.name, "kind": f.kind,
                      "actions": [r.action for r in f.actions]} for f in spec.fairness],
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
    for lv in spec.liveness:
        print(f"  liveness    {lv.name}: {', '.join(t.show() for t in lv.parts)}")
    for f in spec.fairness:
        print(f"  fairness    {f.name}: {f.kind}, {' | '.join(r.action for r in f.actions)}")
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
    tty = sys.stderr.isatty()
    progress = (M.print_progress if tty else M.Progress()) \
        if args.progress or (tty and not args.json and not args.no_progress) else None
    report = M.run_mutants(args.spec, args.model, budget, args.workers,
                           tuple(args.operators) if args.operators else M.OPERATORS, progress,
                           tuple(args.properties) if args.properties else None, args.engine)
    text = read_input(args.spec, "spec")
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
