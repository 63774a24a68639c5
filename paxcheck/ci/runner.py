"""Run a project's items and hold each outcome to its expectation.

An item runs in a worker process (one pool for the whole `paxcheck test`,
so the interpreter and imports are paid once per core, not once per
model), and its outcome is plain data: what the reports (ci/reports.py),
the cache (ci/cache.py) and the pytest plugin read."""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paxcheck.ci.project import Item
from paxcheck.config.expect import Expectation
from paxcheck.errors import PaxError, Span
from paxcheck.outcome import Verdict
from paxcheck.parallel import fork_context


@dataclass
class Location:
    """A place in an input file, 1-based (a report's pointer)."""
    file: str
    line: int = 1
    col: int = 1

    @staticmethod
    def of(span: Span, root: Path) -> Location:
        return Location(_rel(span.file, root), max(1, span.line), max(1, span.col))


@dataclass
class Step:
    """One step of a counterexample, at the action it runs."""
    text: str
    at: Location


@dataclass
class Finding:
    """Something a run found that a report points at: a violated (or
    reached) property with its trace, an action that never fired, an
    expectation not met. `expected`: the item's expectation asked for it."""
    rule: str
    message: str
    at: Location
    expected: bool = False
    steps: list[Step] = field(default_factory=list)
    trace: str = ""


@dataclass
class Outcome:
    """An item's result, checked against its expectation."""
    kind: str
    name: str
    path: str
    expectation: str
    ok: bool
    verdict: str
    message: str
    findings: list[Finding] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    cached: bool = False
    inputs: dict[str, str] = field(default_factory=dict)   # file -> sha256, for the cache

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> Outcome:
        findings = [Finding(f["rule"], f["message"], Location(**f["at"]), f["expected"],
                            [Step(s["text"], Location(**s["at"])) for s in f["steps"]],
                            f["trace"]) for f in d["findings"]]
        return Outcome(**{**d, "findings": findings})


def _rel(path: str, root: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), root)).as_posix()
    except ValueError:
        return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- one item ------------------------------------------------------------------------
def run_item(item: Item, root: Path) -> Outcome:
    """Run one item and judge it; bad input is a failed outcome, not an
    exception (one broken model must not hide the others' results)."""
    t0 = time.monotonic()
    try:
        out = {"check": _check, "prove": _prove, "mutate": _mutate}[item.kind](item, root)
    except PaxError as err:
        span = err.span
        at = Location.of(span, root) if span is not None else Location(item.path)
        out = Outcome(item.kind, item.name, item.path, _shown(item.expect), False, "error",
                      f"bad input: {err.message}",
                      [Finding("paxcheck/bad-input", err.render(), at)])
    out.seconds = time.monotonic() - t0
    return out


def _shown(exp: Expectation | None) -> str:
    return exp.show() if exp is not None else "(none)"


def _trace_finding(tr: Any, root: Path, expected: bool) -> Finding:
    from paxcheck.traces import trace as T
    spec = tr.spec
    prop = spec.property_map.get(tr.property) if tr.property else None
    at = Location.of(prop.span, root) if prop is not None else Location(_rel(spec.file, root))
    steps = [Step(f"step {i}: {st.action}({', '.join(f'{k}={v}' for k, v in st.args)})",
                  Location.of(spec.action_map[st.action].span, root))
             for i, st in enumerate(tr.steps, 1)]
    why = T.explanation(tr)
    what = T.describe_violation(tr.kind, tr.property, spec, tr.binding)
    verb = "reached" if tr.kind == "witness" else "violated"
    msg = f"{what} {verb} after {tr.length} steps" + (
        f" ({'; '.join(b.show() for b in why)})" if why else "")
    return Finding(tr.property or "deadlock", msg, at, expected, steps, T.to_text(tr))


def _check(item: Item, root: Path) -> Outcome:
    from paxcheck.config.model import check_names, load_model
    from paxcheck.search.api import Checks, Limits
    from paxcheck.tools.check import check_model
    from paxcheck.tools.coverage import unfired
    model = load_model(root / item.path)
    # one model's entry, then the model's own [expect], then a glob's default
    exp = (item.expect if item.explicit else None) or model.expect or item.expect
    if exp is None:
        raise PaxError("no expectation: the model has no [expect] table and its project "
                       "entry states none", Span(str(root / item.path), 1, 1, 1, 2),
                       '[expect] in the model, or expect = "holds" in the project entry')
    if item.explicit and item.expect is not None and model.expect is not None \
            and item.expect != model.expect:
        raise PaxError(f"the project expects '{item.expect.show()}' but the model's [expect] "
                       f"says '{model.expect.show()}'", item.origin, "one of them")
    check_names(exp, model.spec, lambda m, k, w: PaxError(m, item.origin, w))
    cfg = model.config
    spec = model.spec
    limits = Limits(item.max_states or cfg.max_states, item.timeout or cfg.timeout, None)
    wants = exp.outcome == "violated"
    if wants and exp.properties:
        # check just the named properties: the search stops at the first
        # violation of the one named (each of them, keeping going for
        # several), with a shortest trace, instead of exploring a broken
        # model to the end
        props = tuple(p for p in exp.properties if p in spec.property_map)
        liveness = tuple(p for p in exp.properties if p in spec.liveness_map)
        checks = Checks(props, "deadlock" in exp.properties, keep_going=len(props) > 1)
    else:
        props, liveness = cfg.properties, (cfg.liveness if not cfg.symmetry else ())
        checks = Checks(props, cfg.deadlock, keep_going=False)
    res = check_model(model, props, limits, checks, liveness=liveness,
                      fairness=dict(cfg.fairness), symmetry=cfg.symmetry, engine=item.engine,
                      workers=1)
    verdict = res.verdict
    def as_expected(name: str, length: int) -> bool:
        return wants and name in exp.properties and (exp.max_steps is None
                                                     or length <= exp.max_steps)
    findings = [_trace_finding(tr, root, as_expected(v.property or "deadlock", tr.length))
                for v, tr in res.traces]
    for name in res.unreached:
        findings.append(Finding(name, f"sometimes property '{name}': no reachable state "
                                f"satisfies it", Location.of(spec.property_map[name].span, root),
                                wants and name in exp.properties))
    failed = set(res.violated) | set(res.unreached)
    problems: list[str] = []
    if verdict is Verdict.INCOMPLETE:
        why = res.early.stop.text if res.early else (res.results[-1].stop_reason or "a limit")
        problems.append(f"incomplete ({why})")
    elif exp.outcome == "holds":
        if failed:
            problems.append("expected every property to hold, but " + ", ".join(_failed_names(res)))
        for c in unfired(res.coverage, exp.allow_unfired):
            problems.append(f"action '{c.action}' never fired")
            findings.append(Finding("paxcheck/unfired-action",
                                    f"action '{c.action}' never fires in {item.path}: "
                                    "what holds may hold vacuously", Location.of(c.span, root)))
    else:
        for name in exp.properties:
            if name not in failed:
                problems.append(f"expected '{name}' to be violated, but it "
                                + ("holds" if verdict is Verdict.HOLDS else "was not violated"))
        for v, tr in res.traces:
            if exp.max_steps is not None and v.property in exp.properties \
                    and tr.length > exp.max_steps:
                problems.append(f"'{v.property}' is violated after {tr.length} steps, "
                                f"more than the expected {exp.max_steps}")
        if not exp.properties and verdict is not Verdict.VIOLATED:
            problems.append("expected a violation, but every property holds")
    stats = [r.stats for r in res.results]
    figures = {"states": sum(s.distinct for s in stats),
               "transitions": sum(s.transitions for s in stats),
               "depth": max((s.depth for s in stats), default=0),
               "violated": sorted(failed),
               "coverage": {c.action: [c.fired, c.ground] for c in res.coverage},
               "witnesses": {tr.property: tr.length for _, tr in res.witnesses}}
    found = ", ".join(_failed_names(res))
    message = "; ".join(problems) or (found if verdict is Verdict.VIOLATED else verdict.value)
    inputs = {item.path: digest(root / item.path), _rel(spec.file, root): digest(Path(spec.file))}
    return Outcome("check", item.name, item.path, exp.show(), not problems, verdict.value,
                   message, findings, figures, inputs=inputs)


def _failed_names(res: Any) -> list[str]:
    lengths = {v.property or "deadlock": tr.length for v, tr in res.traces}
    return [f"{p} violated ({lengths[p]} steps)" for p in res.violated] + \
        [f"{p} never reached" for p in res.unreached]


def _prove(item: Item, root: Path) -> Outcome:
    from paxcheck.budget import DEFAULT_RLIMIT
    from paxcheck.lang.typecheck import load_spec
    from paxcheck.smt.prove import prove, validate_ctis
    from paxcheck.traces import trace as T
    spec = load_spec(root / item.path)
    spec.properties_named(item.without)
    exp = item.expect or Expectation("proved")
    spec.properties_named(exp.properties)
    inputs = {item.path: digest(root / item.path)}
    instance = None
    if item.model is not None:
        from paxcheck.config.model import load_model
        model = load_model(root / item.model)
        if len(model.instances) != 1:
            raise PaxError("prove --model needs a model with one instance", item.origin)
        instance = model.instances[0]
        inputs[item.model] = digest(root / item.model)
    res = prove(spec, instance, item.rlimit or DEFAULT_RLIMIT, item.timeout, item.without)
    validate_ctis(res)
    verdict = res.verdict
    ctis = [o for o in res.obligations if o.verdict == "cti"]
    findings = []
    for o in ctis:
        assert o.cti is not None
        tr = T.from_cti(o.cti)
        f = _trace_finding(tr, root, exp.outcome == "cti" and (
            not exp.properties or o.property in exp.properties))
        f.message = f"counterexample to induction: {o.name}"
        findings.append(f)
    problems = []
    if exp.outcome == "proved" and verdict is not Verdict.PROVED:
        problems.append(f"expected proved, got {verdict.value}"
                        + (": " + ", ".join(o.name for o in ctis) if ctis else ""))
    if exp.outcome == "cti":
        if verdict is not Verdict.CTI:
            problems.append(f"expected a counterexample to induction, got {verdict.value}")
        for p in exp.properties:
            if not any(o.property == p for o in ctis):
                problems.append(f"expected a counterexample to induction for '{p}'")
    figures = {"obligations": len(res.obligations),
               "proved": sum(o.verdict == "proved" for o in res.obligations),
               "units": sum(o.units for o in res.obligations)}
    message = "; ".join(problems) or verdict.value + (
        ": " + ", ".join(o.name for o in ctis) if ctis else "")
    return Outcome("prove", item.name, item.path, exp.show(), not problems, verdict.value,
                   message, findings, figures, inputs=inputs)


def _mutate(item: Item, root: Path) -> Outcome:
    from paxcheck.tools.mutate import DEFAULT_MAX_STATES, DEFAULT_TIMEOUT, Budget, run_mutants
    assert item.model is not None and item.expect is not None \
        and item.expect.min_score is not None
    budget = Budget(item.max_states or DEFAULT_MAX_STATES, item.timeout or DEFAULT_TIMEOUT)
    report = run_mutants(root / item.path, root / item.model, budget, workers=1,
                         engine=item.engine)
    score = report.score
    ok = score is not None and score >= item.expect.min_score
    figures = {"mutants": len(report.mutants), "killed": report.count("killed"),
               "survived": report.count("survived"), "score": score}
    shown = f"{score:.3f}" if score is not None else "none"
    message = (f"score {shown} ({report.count('killed')} killed, "
               f"{report.count('survived')} survived)")
    if not ok:
        message = f"mutation score {shown} below the floor {item.expect.min_score}: " + message
    findings = [] if ok else [Finding("paxcheck/mutation-score", message, Location(item.path))]
    inputs = {item.path: digest(root / item.path), item.model: digest(root / item.model)}
    return Outcome("mutate", item.name, item.path, item.expect.show(), ok,
                   "holds" if ok else "violated", message, findings, figures, inputs=inputs)


# ---- many items ----------------------------------------------------------------------
def _worker(job: tuple[Item, str]) -> dict[str, Any]:
    item, root = job
    return run_item(item, Path(root)).to_json()


def run_all(items: Sequence[Item], root: Path, jobs: int,
            cache: Any | None = None,
            done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Every item's outcome, in the items' order; cached outcomes whose
    inputs are unchanged are reused, the rest run on `jobs` processes."""
    outcomes: dict[int, Outcome] = {}
    todo: list[int] = []
    for i, item in enumerate(items):
        hit = cache.get(item, root) if cache is not None else None
        if hit is not None:
            outcomes[i] = hit
            if done:
                done(hit)
        else:
            todo.append(i)

    def finish(i: int, out: Outcome) -> None:
        outcomes[i] = out
        if cache is not None:
            cache.put(items[i], out)
        if done:
            done(out)

    if jobs <= 1 or len(todo) <= 1:
        for i in todo:
            finish(i, run_item(items[i], root))
    else:
        with ProcessPoolExecutor(min(jobs, len(todo)), mp_context=fork_context()) as pool:
            futures = {pool.submit(_worker, (items[i], str(root))): i for i in todo}
            from concurrent.futures import as_completed
            for f in as_completed(futures):
                finish(futures[f], Outcome.from_json(f.result()))
    return [outcomes[i] for i in range(len(items))]
