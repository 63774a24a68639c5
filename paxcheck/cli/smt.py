"""The Z3-backed commands: `paxcheck prove` and `paxcheck bmc`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from paxcheck.traces import trace as T
from paxcheck.errors import PaxError
from paxcheck.config.model import load_model
from paxcheck.smt.bmc import bmc
from paxcheck.smt.prove import CTI, ProofResult, prove, validate_cti
from paxcheck.traces.trace import Step, Trace
from paxcheck.lang.typecheck import load_spec

EXIT_OK, EXIT_FAIL, EXIT_INCOMPLETE = 0, 1, 3


def add_parsers(sub) -> None:
    p = sub.add_parser("prove", help="prove the spec's invariants inductive with Z3")
    p.add_argument("spec")
    p.add_argument("--model", metavar="MODEL.toml",
                   help="prove for this bounded instance only (default: every size)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="seconds per proof obligation (default 60)")
    p.add_argument("--without", action="append", default=[], metavar="NAME",
                   help="leave this invariant out of the candidate invariant (repeatable)")
    p.add_argument("--no-minimize", action="store_true", help="print CTIs as Z3 found them")
    p.add_argument("--json", action="store_true")

    b = sub.add_parser("bmc", help="bounded model checking with Z3 up to a depth")
    b.add_argument("model")
    b.add_argument("--depth", type=int, required=True, metavar="K")
    b.add_argument("--invariant", action="append", dest="properties", metavar="NAME")
    b.add_argument("--deadlock", action="store_true")
    b.add_argument("--timeout", type=float, default=None, metavar="S")
    b.add_argument("--json", action="store_true")
    b.add_argument("--trace-out", metavar="FILE")


# ---- prove ------------------------------------------------------------------
def cti_trace(cti: CTI, spec) -> Trace:
    kind = "transition" if cti.kind == "transition" else "invariant"
    if cti.kind == "initiation":
        return Trace(spec, cti.instance, kind, cti.property, cti.post, ())
    action = spec.action_map[cti.action]
    named = tuple((p.name, cti.instance.name_of(p.sort, a)) for p, a in zip(action.params, cti.args))
    actor = named[action.actor][1] if action.actor is not None else None
    return Trace(spec, cti.instance, kind, cti.property, cti.pre,
                 (Step(action.name, named, actor, cti.post),))


def _immutables(cti: CTI) -> dict[str, Any]:
    inst = cti.instance
    out: dict[str, Any] = {}
    for sym in inst.spec.immutable_symbols:
        val = inst.interp[sym.name]
        if sym.is_relation:
            out[sym.name] = sorted([inst.name_of(s, x) for s, x in zip(sym.params, t)] for t in val)
        elif sym.kind == "individual":
            out[sym.name] = inst.name_of(sym.result, val)
        else:
            out[sym.name] = {",".join(inst.name_of(s, x) for s, x in zip(sym.params, k)):
                             inst.name_of(sym.result, v) for k, v in val.items()}
    return out


def cti_text(cti: CTI, spec) -> str:
    head = {"initiation": f"an initial state violates '{cti.property}'",
            "consecution": f"{cti.action} breaks invariant '{cti.property}'",
            "transition": f"{cti.action} breaks two-state property '{cti.property}'"}[cti.kind]
    lines = [f"Counterexample to induction: {head}",
             f"  instance: {cti.instance.describe()}"]
    for name, val in _immutables(cti).items():
        lines.append(f"  {name} = {val}")
    body = T.to_text(cti_trace(cti, spec)).splitlines()[1:]
    body = [ln.replace("State 0 (initial)", "Pre-state" if cti.kind != "initiation"
                       else "Initial state") for ln in body]
    return "\n".join(lines + body) + "\n"


def cti_json(cti: CTI, spec, spec_path: str) -> dict[str, Any]:
    tr = T.to_json(cti_trace(cti, spec), spec_path, "")
    return {"kind": cti.kind, "property": cti.property, "action": cti.action,
            "instance": tr["instance"], "immutable": _immutables(cti),
            "pre": tr["initial"] if cti.kind != "initiation" else None,
            "initial": tr["initial"] if cti.kind == "initiation" else None,
            "step": tr["steps"][0] if tr["steps"] else None}


def cmd_prove(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    for name in args.without:
        if name not in spec.property_map:
            raise PaxError(f"unknown property '{name}'")
    instance = None
    if args.model:
        model = load_model(args.model)
        if Path(model.spec.file).resolve() != Path(spec.file).resolve():
            raise PaxError(f"model {args.model} is for {model.spec.file}, not {spec.file}")
        if len(model.instances) != 1:
            raise PaxError("prove --model needs a model with one interpretation")
        instance = model.instances[0]
    res = prove(spec, instance, args.timeout, tuple(args.without), not args.no_minimize)
    problems = {}
    for ob in res.obligations:
        if ob.cti is not None:
            bad = validate_cti(spec, ob.cti, res.invariants)
            if bad:  # never print a CTI that the reference semantics refutes
                problems[ob.name] = bad
                ob.verdict, ob.reason = "unknown", f"spurious counterexample: {bad}"
    code = {"proved": EXIT_OK, "cti": EXIT_FAIL, "inconsistent": EXIT_FAIL,
            "unknown": EXIT_INCOMPLETE}[res.status]
    if args.json:
        print(json.dumps(_proof_json(res, spec, code), indent=2))
        return code
    scope = f"instance {instance.describe()}" if instance else "every instance size"
    print(f"spec:       {spec.file}")
    print(f"scope:      {scope}")
    print(f"invariant:  {' & '.join(res.invariants) or '(none)'}")
    if not res.consistent:
        what = "UNKNOWN" if res.consistency_unknown else "INCONSISTENT"
        print(f"\nResult: {what}: {res.consistency_reason}; nothing is proved.")
        return code
    print()
    print(f"  {'obligation':<44} {'kind':<12} {'EPR':<4} {'verdict':<8} {'time':>8}")
    for ob in res.obligations:
        epr = "yes" if ob.epr else "no"
        print(f"  {ob.name:<44} {ob.kind:<12} {epr:<4} {ob.verdict:<8} {ob.seconds:>7.2f}s"
              + (f"  ({ob.reason})" if ob.reason and ob.verdict != "proved" else ""))
    for ob in res.obligations:
        if ob.verdict == "cti":
            print()
            print(cti_text(ob.cti, spec), end="")
    total = sum(o.seconds for o in res.obligations)
    non_epr = sorted({o.epr_reason for o in res.obligations if not o.epr})
    print()
    if non_epr:
        print(f"  outside EPR (tried anyway, with a timeout): {'; '.join(non_epr)}")
    verdict = {"proved": "PROVED: the invariant is inductive and implies every property",
               "cti": "NOT PROVED: counterexamples to induction above",
               "unknown": "UNKNOWN: some obligations timed out or Z3 gave up"}[res.status]
    print(f"Result: {verdict} ({len(res.obligations)} obligations, {total:.2f} s)")
    return code


def _proof_json(res: ProofResult, spec, code: int) -> dict[str, Any]:
    return {
        "status": res.status, "exit_code": code, "spec": spec.file, "mode": res.mode,
        "invariants": list(res.invariants), "consistent": res.consistent,
        "consistency_reason": res.consistency_reason,
        "obligations": [{"name": o.name, "kind": o.kind, "property": o.property,
                         "action": o.action, "epr": o.epr, "epr_reason": o.epr_reason,
                         "verdict": o.verdict, "reason": o.reason,
                         "seconds": round(o.seconds, 4),
                         "cti": cti_json(o.cti, spec, spec.file) if o.cti else None}
                        for o in res.obligations],
    }


# ---- bmc ----------------------------------------------------------------------
def cmd_bmc(args: argparse.Namespace) -> int:
    if args.depth < 0:
        raise PaxError("--depth must be 0 or more")
    model = load_model(args.model)
    spec = model.spec
    props = tuple(args.properties) if args.properties else model.config.properties
    for name in props:
        if name not in spec.property_map:
            raise PaxError(f"unknown property '{name}'")
    deadlock = args.deadlock or model.config.deadlock
    results = []
    for inst in model.instances:
        r = bmc(inst, props, args.depth, deadlock, args.timeout)
        results.append(r)
        if r.trace is not None or r.unknown:
            break
    found = next((r for r in results if r.trace is not None), None)
    code = EXIT_FAIL if found else (EXIT_INCOMPLETE if any(r.unknown for r in results) else EXIT_OK)
    if found and args.trace_out:
        Path(args.trace_out).write_text(T.dumps(T.to_json(found.trace, spec.file, model.path)),
                                        encoding="utf-8")
    if args.json:
        print(json.dumps({
            "status": {EXIT_OK: "no violation", EXIT_FAIL: "violated",
                       EXIT_INCOMPLETE: "unknown"}[code],
            "exit_code": code, "model": model.path, "depth": args.depth,
            "instances": [{"instance": r.instance.describe(), "depth_checked": r.depth_checked,
                           "seconds": round(r.elapsed, 3), "unknown": r.unknown}
                          for r in results],
            "violation": T.to_json(found.trace, spec.file, model.path) if found else None,
        }, indent=2))
        return code
    print(f"model:     {model.path}")
    print(f"checking:  {', '.join(props)} up to depth {args.depth}")
    for r in results:
        print(f"instance:  {r.instance.describe()}  ({r.elapsed:.2f} s)")
    if found:
        print()
        print(T.to_text(found.trace), end="")
        print(f"\nResult: VIOLATED at depth {found.trace.length} (the shortest)")
    elif code == EXIT_INCOMPLETE:
        bad = next(r for r in results if r.unknown)
        print(f"\nResult: UNKNOWN after depth {bad.depth_checked}: {bad.unknown}")
    else:
        print(f"\nResult: no violation within {args.depth} steps")
    return code
