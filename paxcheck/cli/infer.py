"""`paxcheck infer`: print (and with --out write) the invariants found."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from paxcheck.cli.options import write_output
from paxcheck.config.model import Model, load_model, read_toml
from paxcheck.errors import PaxError
from paxcheck.infer.infer import Inference, Settings, infer
from paxcheck.lang import ir
from paxcheck.lang.show import show
from paxcheck.lang.typecheck import load_spec
from paxcheck.outcome import Verdict, exit_code
from paxcheck.traces import trace as T


def models_of(spec_path: str) -> list[Path]:
    """The model files of a spec in the nearest `models/` folder above it
    (as this repository lays them out), by the `spec` key of each."""
    spec = Path(spec_path).resolve()
    root = next((d / "models" for d in spec.parents if (d / "models").is_dir()), None)
    found: list[Path] = []
    if root is None:
        return found
    for path in sorted(root.rglob("*.toml")):
        try:
            data, _ = read_toml(path, "model")
        except PaxError:
            continue
        ref = data.get("spec")
        if isinstance(ref, str) and (path.parent / ref).resolve() == spec:
            found.append(path)
    return found


def _models(args: argparse.Namespace, spec: ir.Spec) -> list[Model]:
    """The models to learn from. A model of another spec serves when it
    declares the same sorts and immutable symbols (a broken variant learns
    from its original's instances)."""
    paths = [Path(p) for p in args.model] or models_of(args.spec)
    if not paths:
        raise PaxError(f"no model of {args.spec} found in the models/ folder beside it",
                       expected="--model MODEL.toml (a small instance of the spec)")
    spec_file = Path(args.spec).resolve()
    out, seen = [], set()
    for p in paths:
        m = load_model(p)
        if Path(m.spec.file).resolve() != spec_file and _signature(m.spec) != _signature(spec):
            raise PaxError(f"{p} is a model of {m.spec.file}, whose sorts or immutable "
                           f"symbols differ from those of {args.spec}",
                           expected=f"a model of {args.spec}, or of a spec with its sorts "
                                    "and immutable symbols")
        key = tuple((tuple(sorted(i.elements.items())), repr(sorted(i.interp.items())))
                    for i in m.instances)
        if key not in seen:   # the same instances (a liveness variant): explored once
            seen.add(key)
            out.append(m)
    return out


def _signature(spec: ir.Spec) -> tuple:
    return (tuple((s.name, s.ordered) for s in spec.sorts),
            tuple((s.name, s.kind, s.params, s.result)
                                     for s in spec.immutable_symbols))


def cmd_infer(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    models = _models(args, spec)
    settings = Settings(args.max_vars, args.max_literals, args.max_states, args.rlimit,
                        args.timeout, not args.ignore_invariants, args.wide_states,
                        long_vars=args.long_vars, workers=args.workers or 0,
                        model_states=args.model_states)
    res = infer(spec, models, settings,
                say=lambda s: print(f"  ... {s}", file=sys.stderr, flush=True))
    if args.out and res.verdict is Verdict.PROVED:
        if not res.completed:
            raise PaxError(f"--out writes a .pax spec; {args.spec} is mypyvy's language",
                           expected="the printed invariants, added by hand")
        write_output(args.out, res.completed)
    if args.json:
        print(json.dumps(_json(res, models), indent=2))
    else:
        print(_text(res, models), end="")
    return exit_code(res.verdict)


def _figures(res: Inference) -> list[str]:
    st = res.strengthening
    lines = [f"  states        {res.states:,} (every reachable state of each instance)",
             f"  candidates    {res.candidates:,} (of {res.mined:,} minimal clauses over "
             f"{res.templates} templates)"]
    if st is not None:
        lines.append(f"  chosen        {len(st.kept):,} with the safety properties "
                     f"({st.queries:,} Z3 queries, {st.rounds} prove runs, "
                     f"{len(st.dropped):,} candidates dropped)")
    if res.proof is not None:
        lines.append(f"  proof         {res.proof.status}: {len(res.proof.obligations)} "
                     f"obligations, with {len(res.invariants)} auxiliary invariants "
                     f"({res.support_queries:,} queries to choose them)")
    lines.append("  time          " + ", ".join(f"{k} {v:.1f} s" for k, v in res.seconds.items()))
    return lines


def _text(res: Inference, models: list[Model]) -> str:
    lines = [f"infer: {res.spec.file}",
             "  models        " + ", ".join(m.path for m in models)]
    if res.violation is not None:
        lines += [f"VIOLATED: {res.reason}: no invariant can prove it", ""]
        return "\n".join(lines) + "\n" + T.to_text(res.violation)
    lines += _figures(res)
    if res.verdict is Verdict.PROVED:
        n = len(res.invariants)
        lines += [f"PROVED for every size with {n} auxiliary invariant{'s' if n != 1 else ''}"
                  + (":" if n else " (the safety properties are inductive)"),
                  "", res.text.rstrip("\n")]
        return "\n".join(lines) + "\n"
    lines.append(f"UNKNOWN: {res.reason}")
    if res.best:
        lines += ["", "the invariants chosen so far:"] + [
            f"invariant {p.name}: {show(p.formula)}" for p in res.best]
    if res.cti is not None:
        from paxcheck.cli.smt import cti_text
        lines += ["", cti_text(res.cti, res.spec).rstrip("\n")]
    return "\n".join(lines) + "\n"


def _json(res: Inference, models: list[Model]) -> dict[str, Any]:
    st = res.strengthening
    return {
        "spec": res.spec.file,
        "models": [m.path for m in models],
        "verdict": res.verdict.value,
        "reason": res.reason,
        "invariants": [{"name": p.name, "text": line}
                       for p, line in zip(res.invariants, res.text.splitlines())],
        "states": res.states,
        "templates": res.templates,
        "mined": res.mined,
        "candidates": res.candidates,
        "chosen": len(st.kept) if st is not None else None,
        "queries": (st.queries if st is not None else 0) + res.support_queries,
        "seconds": res.seconds,
        "violation": (T.to_json(res.violation, res.spec.file, res.violation_model)
                      if res.violation is not None else None),
    }
