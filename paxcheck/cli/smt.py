"""The Z3-backed commands: `paxcheck prove` and `paxcheck bmc`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from paxcheck.cli.options import write_output
from paxcheck.errors import PaxError
from paxcheck.lang.typecheck import load_spec
from paxcheck.outcome import Verdict, exit_code
from paxcheck.semantics.state import immutable_view, views_json
from paxcheck.smt.prove import CTI, ProofResult, prove, validate_ctis
from paxcheck.traces import trace as T


# ---- prove ------------------------------------------------------------------
def _immutables(cti: CTI) -> dict[str, Any]:
    return views_json(immutable_view(cti.instance))


def _wrapped(items: list[str], indent: str, width: int = 100) -> list[str]:
    """Comma-separated items on as few lines of `width` as they fit."""
    lines, line = [], ""
    for item in items:
        if line and len(indent) + len(line) + len(item) + 2 > width:
            lines.append(indent + line + ",")
            line = item
        else:
            line = f"{line}, {item}" if line else item
    return lines + [indent + line] if line else lines


def cti_text(cti: CTI, spec) -> str:
    """A counterexample to induction, for people."""
    head = {"initiation": f"an initial state violates '{cti.property}'",
            "consecution": f"{cti.action} breaks invariant '{cti.property}'",
            "transition": f"{cti.action} breaks two-state property '{cti.property}'"}[cti.kind]
    lines = [f"Counterexample to induction: {head}",
             f"  instance: {cti.instance.describe()}"]
    views = immutable_view(cti.instance)
    if views:
        lines.append("  immutable:")
        for view in views:
            lines += _wrapped(view.facts(), "    ")
    body = T.to_text(T.from_cti(cti)).splitlines()[1:]
    body = [ln.replace("State 0 (initial)", "Pre-state" if cti.kind != "initiation"
                       else "Initial state") for ln in body]
    return "\n".join(lines + body) + "\n"


def cti_json(cti: CTI, spec, spec_path: str) -> dict[str, Any]:
    """A counterexample to induction in the JSON of `prove --json`."""
    tr = T.to_json(T.from_cti(cti), spec_path, "")
    return {"kind": cti.kind, "property": cti.property, "action": cti.action,
            "instance": tr["instance"], "immutable": _immutables(cti),
            "pre": tr["initial"] if cti.kind != "initiation" else None,
            "initial": tr["initial"] if cti.kind == "initiation" else None,
            "step": tr["steps"][0] if tr["steps"] else None}


def cmd_prove(args: argparse.Namespace) -> int:
    """`paxcheck prove`: the spec's invariants inductive, validated CTIs otherwise."""
    spec = load_spec(args.spec)
    spec.properties_named(args.without)
    instance = None
    if args.model:
        from paxcheck.config.model import load_model  # only here: a model costs its imports
        model = load_model(args.model)
        if Path(model.spec.file).resolve() != Path(spec.file).resolve():
            raise PaxError(f"model {args.model} is for {model.spec.file}, not {spec.file}")
        if len(model.instances) != 1:
            raise PaxError("prove --model needs a model with one interpretation")
        instance = model.instances[0]
    res = prove(spec, instance, args.rlimit, args.timeout, tuple(args.without),
                not args.no_minimize)
    validate_ctis(res)   # never print a CTI the reference semantics refutes
    code = exit_code(res.verdict)
    if args.json:
        print(json.dumps(_proof_json(res, spec, code, args.rlimit), indent=2))
        return code
    scope = f"instance {instance.describe()}" if instance else "every instance size"
    print(f"spec:       {spec.file}")
    print(f"scope:      {scope}")
    print(f"invariant:  {' & '.join(res.invariants) or '(none)'}")
    for note in spec.notes:   # what a front end read but paxcheck does not check
        print(f"note:       {note}")
    if not res.consistent:
        what = "UNKNOWN" if res.consistency_unknown else "INCONSISTENT"
        print(f"\nResult: {what}: {res.consistency_reason}; nothing is proved.")
        return code
    print()
    print(f"  {'obligation':<44} {'kind':<12} {'EPR':<4} {'verdict':<8} {'Z3 units':>12} {'time':>8}")
    for ob in res.obligations:
        epr = "yes" if ob.epr else "no"
        print(f"  {ob.name:<44} {ob.kind:<12} {epr:<4} {ob.verdict:<8} {ob.units:>12,}"
              f" {ob.seconds:>7.2f}s"
              + (f"  ({ob.reason})" if ob.reason and ob.verdict != "proved" else ""))
    for ob in res.obligations:
        if ob.verdict == "cti" and ob.cti is not None:
            print()
            print(cti_text(ob.cti, spec), end="")
    total = sum(o.seconds for o in res.obligations)
    units = sum(o.units for o in res.obligations)
    non_epr = sorted({o.epr_reason for o in res.obligations if not o.epr})
    print()
    if non_epr:
        print(f"  outside EPR (tried anyway, within the resource limit): {'; '.join(non_epr)}")
    verdict = {"proved": "PROVED: the invariant is inductive and implies every property",
               "cti": "NOT PROVED: counterexamples to induction above",
               "unknown": "UNKNOWN: some obligations ran out of budget or Z3 gave up"}[res.status]
    print(f"Result: {verdict} ({len(res.obligations)} obligations, {units:,} Z3 units, {total:.2f} s)")
    return code


def _proof_json(res: ProofResult, spec, code: int, rlimit: int) -> dict[str, Any]:
    return {
        "status": res.status, "exit_code": code, "spec": spec.file, "mode": res.mode,
        "rlimit": rlimit, "notes": list(spec.notes),
        "invariants": list(res.invariants), "consistent": res.consistent,
        "consistency_reason": res.consistency_reason,
        "obligations": [{"name": o.name, "kind": o.kind, "property": o.property,
                         "action": o.action, "epr": o.epr, "epr_reason": o.epr_reason,
                         "verdict": o.verdict, "reason": o.reason,
                         "seconds": round(o.seconds, 4), "units": o.units,
                         "cti": cti_json(o.cti, spec, spec.file) if o.cti else None}
                        for o in res.obligations],
    }


# ---- bmc ----------------------------------------------------------------------
def cmd_bmc(args: argparse.Namespace) -> int:
    """`paxcheck bmc`: a shortest violation within K steps, with Z3."""
    from paxcheck.config.model import load_model
    from paxcheck.smt.bmc import bmc
    if args.depth < 0:
        raise PaxError("--depth must be 0 or more")
    model = load_model(args.model)
    spec = model.spec
    props = tuple(args.properties) if args.properties else model.config.properties
    spec.properties_named(props)
    deadlock = args.deadlock or model.config.deadlock
    results = []
    for inst in model.instances:
        r = bmc(inst, props, args.depth, deadlock, args.timeout)
        results.append(r)
        if r.trace is not None or r.unknown:
            break
    found = next((r.trace for r in results if r.trace is not None), None)
    verdict = (Verdict.VIOLATED if found else
               Verdict.UNKNOWN if any(r.unknown for r in results) else Verdict.NO_VIOLATION)
    code = exit_code(verdict)
    if found and args.trace_out:
        write_output(args.trace_out, T.dumps(T.to_json(found, spec.file, model.path)))
    if args.json:
        print(json.dumps({
            "status": verdict.value,
            "exit_code": code, "model": model.path, "depth": args.depth,
            "instances": [{"instance": r.instance.describe(), "depth_checked": r.depth_checked,
                           "seconds": round(r.elapsed, 3), "unknown": r.unknown}
                          for r in results],
            "violation": T.to_json(found, spec.file, model.path) if found else None,
        }, indent=2))
        return code
    print(f"model:     {model.path}")
    print(f"checking:  {', '.join(props)} up to depth {args.depth}")
    for r in results:
        print(f"instance:  {r.instance.describe()}  ({r.elapsed:.2f} s)")
    if found:
        print()
        print(T.to_text(found), end="")
        print(f"\nResult: VIOLATED at depth {found.length} (the shortest)")
    elif verdict is Verdict.UNKNOWN:
        bad = next(r for r in results if r.unknown)
        print(f"\nResult: UNKNOWN after depth {bad.depth_checked}: {bad.unknown}")
    else:
        print(f"\nResult: no violation within {args.depth} steps")
    return code
