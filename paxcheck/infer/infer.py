"""`paxcheck infer`: auxiliary invariants that prove a spec's safety
properties for every instance size.

The pipeline, each stage a function of the one before:
1. explore every reachable state of each small instance (the fast
   engine), checking the safety properties: a violation ends inference
   with its trace (exit 1), since no invariant can prove a false property;
2. mine candidates from those states (`candidates`): per template, every
   minimal clause of a few literals true in all of them, and where an
   axiom says every element of a sort has a related element of another
   (quorum intersection), clauses with one existential atom
   `exists n. member(n, q) & L1 & L2`;
3. strengthening (`strengthen`): from the safety properties, for each
   counterexample to induction add the simplest candidate it violates,
   on the smallest universes first, then for every size with `prove`;
4. `support`: the few of those a proof of the safety properties needs;
5. `prove` re-checks the spec with exactly those invariants added, from
   their printed text re-parsed, so what is printed is what was proved.
If a safety property has a counterexample to induction that no candidate
blocks, the candidates were too weak: the result is undecided (exit 3)
with that counterexample and the set chosen so far."""
from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from paxcheck.budget import DEFAULT_RLIMIT, Limits, StopReason
from paxcheck.config.instance import Instance
from paxcheck.config.model import Model
from paxcheck.infer import candidates as C
from paxcheck.infer.atoms import Guard, Template, guards
from paxcheck.infer.houdini import support
from paxcheck.infer.samples import Sample, explore, widened
from paxcheck.infer.strengthen import Strengthening, strengthen
from paxcheck.lang import ir
from paxcheck.lang.show import show
from paxcheck.lang.typecheck import load_spec_text
from paxcheck.outcome import Verdict
from paxcheck.parallel import WorkerLost, default_workers, fork_context, ignore_interrupt
from paxcheck.semantics.evaluate import Evaluator
from paxcheck.smt.prove import CTI, ProofResult, prove
from paxcheck.traces import trace as T

# support's core queries get this fraction of an obligation's budget: with
# existential members a query that assumes all of them can come back
# undecided after the whole budget, and support is an economy (without
# it, every member chosen is printed, and `prove` checks them all the same)
SUPPORT_SHARE = 8


@dataclass(frozen=True)
class Settings:
    """How hard inference tries: template size and clause length, states
    read per instance and template, Z3 units per query, wall-clock net."""
    max_vars: int = 5
    max_literals: int = 3
    max_states: int | None = 20_000
    rlimit: int = DEFAULT_RLIMIT
    timeout: float | None = None
    # the spec's own `invariant` declarations as candidates (off: inference
    # starts from its safety properties alone, and they are left out of the
    # completed spec)
    given: bool = True
    # states explored of the wider instance (`samples.widened`); 0: none
    wide_states: int = 3_000_000
    # of those, the deepest kept, which a chosen candidate must hold on
    wide_keep: int = 500_000
    # templates of at most this many variables get one literal more: the
    # clauses of a template grow with its atoms to the power of the
    # literals, and its atoms with its variables, so a small template
    # affords a fourth literal (Paxos' "a promise reports the last vote",
    # `one_b(n, b, mb, _) & two_b(n, b2, _) & mb < b2 -> !(b2 < b)`, has
    # four literals over four variables)
    long_vars: int = 4
    # processes that mine templates (0: every core)
    workers: int = 0
    # states explored of each model: a larger one is read from its first
    # ones, breadth first (each reachable, so still a sample), rather than
    # held whole in memory (Multi-Paxos' largest model has 180M orbits)
    model_states: int = 3_000_000


@dataclass
class Inference:
    """What `infer` found, and the figures of each stage."""
    spec: ir.Spec
    verdict: Verdict = Verdict.UNKNOWN
    invariants: list[ir.Property] = field(default_factory=list)
    text: str = ""                     # the invariants as declarations
    completed: str = ""                # the spec text with them added
    violation: T.Trace | None = None   # a safety property fails on an instance
    violation_model: str = ""          # of this model
    cti: CTI | None = None             # the one no candidate blocks (undecided)
    reason: str = ""
    states: int = 0
    templates: int = 0
    mined: int = 0                     # minimal clauses before filtering
    candidates: int = 0                # after filtering, deduplicated
    strengthening: Strengthening | None = None
    best: list[ir.Property] = field(default_factory=list)   # undecided: the set chosen so far
    support_queries: int = 0
    proof: ProofResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    stage: str = ""                    # what it was doing (when interrupted)


def goals(spec: ir.Spec) -> list[ir.Property]:
    return [p for p in spec.properties if p.kind == "safety"]


def infer(spec: ir.Spec, models: list[Model], settings: Settings = Settings(),
          say: Callable[[str], None] = lambda _: None) -> Inference:
    """Invariants for `spec`, learnt from every instance of `models` (each
    a model of this spec)."""
    from paxcheck.errors import read_input
    text = read_input(spec.file, "spec")
    if not settings.given:
        text = without_invariants(text, spec)
        spec = load_spec_text(text, spec.file)
    return _infer(spec, text, [(m.path, inst) for m in models for inst in m.instances], settings,
                  say)


def without_invariants(text: str, spec: ir.Spec) -> str:
    """The spec text with its `invariant` declarations cut out (by their spans)."""
    lines = text.split("\n")
    for p in sorted((p for p in spec.properties if p.kind == "invariant"),
                    key=lambda p: (p.span.line, p.span.col), reverse=True):
        sp = p.span
        head, tail = lines[sp.line - 1][:sp.col - 1], lines[sp.end_line - 1][sp.end_col - 1:]
        lines[sp.line - 1:sp.end_line] = [head + tail] if (head + tail).strip() else []
    return "\n".join(lines)


def _infer(spec: ir.Spec, text: str, instances: list[tuple[str, Instance]], settings: Settings,
           say: Callable[[str], None]) -> Inference:
    """The stages; Ctrl-C ends inference undecided, with the figures of the
    stages done (an interrupted exploration is never a sample: its states
    would be too few to trust what is mined from them)."""
    out = Inference(spec)
    try:
        return _stages(out, spec, text, instances, settings, say)
    except KeyboardInterrupt:
        out.verdict = Verdict.UNKNOWN
        out.reason = f"interrupted while {out.stage}"
        return out
    except WorkerLost as e:
        out.verdict = Verdict.UNKNOWN
        out.reason = f"{e}, while {out.stage}"
        return out


def _stages(out: Inference, spec: ir.Spec, text: str, instances: list[tuple[str, Instance]],
            settings: Settings, say: Callable[[str], None]) -> Inference:
    t0 = time.monotonic()
    deadline = t0 + settings.timeout if settings.timeout else None
    safety = goals(spec)
    if not safety:
        out.reason = "the spec has no safety property to prove"
        return out
    # what must be proved is checked on the way; a given invariant that is
    # false is merely a bad candidate, which is never chosen
    checked = tuple(p.name for p in spec.properties if p.kind in ("safety", "transition"))
    samples: list[Sample] = []
    for path, inst in instances:
        inst = dataclasses.replace(inst, spec=spec)
        say(f"exploring {inst.describe()}")
        smp = _explore(out, path, inst, checked,
                       Limits(max_states=settings.model_states, timeout=settings.timeout))
        if smp is None:
            return out
        if smp.count >= settings.model_states:
            say(f"read the first {smp.count:,} states of {inst.describe()}, breadth first")
        samples.append(smp)
        out.states += smp.count
    out.seconds["explore"] = time.monotonic() - t0

    t1 = time.monotonic()
    out.stage = "mining candidates"
    candidates = mine_candidates(spec, samples, settings, out, deadline, say)
    say(f"mined {out.mined:,} clauses over {out.templates} templates: "
        f"{len(candidates):,} candidates")
    out.candidates = len(candidates)
    out.seconds["mine"] = time.monotonic() - t1

    t2 = time.monotonic()
    out.stage = f"choosing among {len(candidates):,} candidates"
    given = [p for p in spec.properties if not p.two_state and p.inductive
             and p.kind != "safety"]
    filters = _wide_samples(spec, instances, checked, settings, out, say)
    if out.violation is not None:
        return out
    st = strengthen(spec, safety, given + candidates, settings.rlimit, deadline, say=say,
                    filters=tuple(filters))
    out.strengthening = st
    out.seconds["strengthen"] = time.monotonic() - t2
    if st.failed:
        out.cti = st.cti
        out.best = [p for p in st.kept if p.kind != "safety"]
        out.reason = f"no inductive invariant found among the candidates: {st.failed}"
        return out
    kept = st.kept

    t3 = time.monotonic()
    out.stage = "choosing the invariants a proof needs"
    names, q = support(spec, kept, [p.name for p in safety],
                       settings.rlimit // SUPPORT_SHARE, deadline)
    out.support_queries = q
    out.seconds["support"] = time.monotonic() - t3
    chosen = [p for p in kept if p.name in names and p.kind != "safety"]
    if not names:   # the cores did not close within the budget: all chosen
        chosen = [p for p in kept if p.kind != "safety"]

    t4 = time.monotonic()
    out.stage = "proving the invariants found"
    out.invariants = _named(spec, chosen)
    out.text = "".join(f"invariant {p.name}: {show(p.formula)}\n" for p in out.invariants)
    if spec.file.endswith(".pyv"):
        # the invariants print as .pax: proved as IR, no completed text
        checked_spec = dataclasses.replace(spec, properties=spec.properties + tuple(
            dataclasses.replace(p, kind="invariant") for p in out.invariants))
    else:
        out.completed = text.rstrip("\n") + "\n\n# ---- Inferred by paxcheck infer\n" + out.text
        checked_spec = load_spec_text(out.completed, spec.file)
    out.proof = prove(checked_spec, rlimit=settings.rlimit,
                      timeout=max(1.0, deadline - time.monotonic()) if deadline else None)
    out.seconds["prove"] = time.monotonic() - t4
    out.verdict = out.proof.verdict
    if out.verdict is not Verdict.PROVED:
        out.reason = f"the invariant found did not prove: {out.proof.status}"
        out.verdict = Verdict.UNKNOWN
    return out


def _wide_samples(spec: ir.Spec, instances: list[tuple[str, Instance]], checked: tuple[str, ...],
                  settings: Settings, out: Inference, say: Callable[[str], None]) -> list[Sample]:
    """The deepest states of instances wider than any model's: the largest
    instance with two more elements of each sort a quorum-intersection
    axiom quantifies existentially (`guards`), and, apart, with two more
    of each ordered sort. A few elements of such a sort make facts hold by
    accident, which the samples cannot refute and strengthening would
    otherwise choose: with three nodes, every two of them are a majority;
    with three ballots, no ballot lies strictly between two others and a
    third (`!(b1 < b2 & max_bal(n) < b1 & b3 < max_bal(n))`). Each is
    explored breadth first up to `wide_states`: every state is reachable,
    so a candidate false on one is no invariant. A violation here is a
    violation (`out` gets it)."""
    if not settings.wide_states or not instances:
        return []
    widenings: list[list[str]] = []
    for sorts in (sorted({g.sort for g in guards(spec)}),
                  sorted(s.name for s in spec.sorts if s.ordered)):
        if sorts and sorts not in widenings:
            widenings.append(sorts)
    path, inst = max(instances, key=lambda pi: sum(len(v) for v in pi[1].elements.values()))
    found: list[Sample] = []
    for sorts in widenings:
        wide = widened(path, dataclasses.replace(inst, spec=spec), sorts)
        if wide is None:
            continue
        wide = dataclasses.replace(wide, spec=spec)
        say(f"exploring {wide.describe()} (the first {settings.wide_states:,} states)")
        smp = _explore(out, path, wide, checked,
                       Limits(max_states=settings.wide_states, timeout=settings.timeout),
                       keep=settings.wide_keep)
        if smp is None:
            break
        found.append(smp)
    return found


def _explore(out: Inference, path: str, inst: Instance, checked: tuple[str, ...],
             limits: Limits, keep: int | None = None) -> Sample | None:
    """`inst`'s reachable states as a sample, or None with the violation
    of a checked property in `out` (validated, exit 1)."""
    out.stage = f"exploring {inst.describe()}"
    ex = explore(inst, checked, limits, keep=keep)
    if ex.result.stop is not None and ex.result.stop.reason is StopReason.INTERRUPTED:
        raise KeyboardInterrupt
    if ex.sample is None:
        v = ex.result.violations[0]
        out.violation = T.from_violation(ex.result.ground, v)
        out.violation_model = path
        _validate(out.violation)
        out.verdict = Verdict.VIOLATED
        out.reason = f"{v.property} is violated on {inst.describe()}"
    return ex.sample


def mine_candidates(spec: ir.Spec, samples: list[Sample], settings: Settings, out: Inference,
                    deadline: float | None = None,
                    say: Callable[[str], None] = lambda _: None) -> list[ir.Property]:
    """Stage 2: the candidates, deduplicated by their text (named c1, c2,
    ...), mined from every template; `out` gets the templates' and
    clauses' counts. Templates are mined apart, on `settings.workers`
    processes; their results are taken in template order, so the
    candidates, their names and their order do not depend on how many.
    A name the spec gives a property is skipped: candidates and the
    spec's own invariants are told apart by name from here on."""
    runs = C.runs(spec, settings.max_vars)
    found: dict[str, ir.Property] = {}
    taken = {p.name for p in spec.properties}
    names = (n for n in (f"c{i}" for i in itertools.count(1)) if n not in taken)
    for mined in _mine_all(_Mining(spec, samples, runs, settings, deadline),
                           settings.workers or default_workers(), say):
        if mined is None:       # the deadline passed before this template
            break
        clauses, formulas = mined
        out.templates += 1
        out.mined += clauses
        for f in formulas:
            key = show(f)
            if key not in found:
                found[key] = ir.Property(next(names), "invariant", f)
    return list(found.values())


@dataclass(frozen=True)
class _Mining:
    """What every template's mining reads: forked workers inherit it."""
    spec: ir.Spec
    samples: list[Sample]
    runs: list[tuple[Template, Guard | None]]
    settings: Settings
    deadline: float | None

    def literals(self, i: int) -> int:
        tmpl, guard = self.runs[i]
        st = self.settings
        return st.max_literals + (guard is None and len(tmpl.vars) <= st.long_vars)

    def cost(self, i: int) -> tuple[int, int, bool]:
        """What orders templates by their mining time, roughly: the walk
        grows with the atoms (so the variables) to the power of the
        literals, and an existential template mines once per guard
        variable."""
        tmpl, guard = self.runs[i]
        return self.literals(i), len(tmpl.vars), guard is not None

    def one(self, i: int) -> tuple[int, list[ir.Expr]] | None:
        """Template `i`'s minimal clauses counted and its candidates'
        formulas; None once the deadline has passed (the monotonic clock
        is the machine's, the same in every process)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            return None
        tmpl, guard = self.runs[i]
        st = self.settings
        m = (C.mine(self.spec, self.samples, tmpl, self.literals(i), st.max_states)
             if guard is None else
             C.mine_exists(self.spec, self.samples, tmpl, guard, st.max_literals, st.max_states))
        return m.clauses, [c.formula() for c in m.kept]


_job: _Mining | None = None     # a worker's share of the parent's memory


def _start_worker(job: _Mining, started: Any) -> None:
    global _job
    ignore_interrupt()
    with started.get_lock():
        started.value += 1
    _job = job


def _mine_indexed(i: int) -> tuple[int, tuple[int, list[ir.Expr]] | None]:
    assert _job is not None
    return i, _job.one(i)


def _mine_all(job: _Mining, workers: int, say: Callable[[str], None]
              ) -> Iterator[tuple[int, list[ir.Expr]] | None]:
    """Each template's result, in template order, saying every 10 s how
    many are done. With more than one worker, the templates are handed
    out one at a time, costliest first (their costs differ by orders of
    magnitude, and the costliest come last in template order, which would
    leave one worker finishing them alone); leaving the loop early, or
    Ctrl-C, terminates the workers."""
    n = len(job.runs)
    shown = time.monotonic()

    def progress(done: int) -> None:
        nonlocal shown
        if time.monotonic() - shown >= 10:
            shown = time.monotonic()
            say(f"mining templates: {done} of {n} done")

    if workers <= 1 or n <= 1:
        for i in range(n):
            progress(i)
            yield job.one(i)
        return
    order = sorted(range(n), key=job.cost, reverse=True)
    done: dict[int, tuple[int, list[ir.Expr]] | None] = {}
    finished = 0
    ctx = fork_context()
    size = min(workers, n)
    started = ctx.Value("i", 0)
    with ctx.Pool(size, _start_worker, (job, started)) as pool:
        results = pool.imap_unordered(_mine_indexed, order, chunksize=1)
        for i in range(n):
            while i not in done:
                try:
                    j, r = results.next(timeout=1.0)
                except multiprocessing.TimeoutError:
                    if started.value > size:
                        raise WorkerLost(
                            "a mining worker was killed (most often by the system, out of "
                            "memory): try fewer --workers, or a smaller --max-states, "
                            "--max-vars or --max-literals") from None
                    progress(finished)
                    continue
                done[j] = r
                finished += 1
                progress(finished)
            yield done.pop(i)


def _named(spec: ir.Spec, props: list[ir.Property]) -> list[ir.Property]:
    """Names from what an invariant relates: `two_a_proposed` for
    `two_a(b, v) -> proposed(v)`; a number where two would clash."""
    taken = {p.name for p in spec.properties} | {d.name for d in spec.definitions} | \
        {s.name for s in spec.symbols}
    out = []
    for p in props:
        if not p.name.startswith("c") or not p.name[1:].isdigit():
            out.append(p)    # a given invariant keeps its name
            continue
        base = "_".join(_symbols(p.formula)[:3]) or "inv"
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        out.append(dataclasses.replace(p, name=name))
    return out


def _symbols(e: ir.Expr) -> list[str]:
    from paxcheck.lang.walk import subexprs
    seen: list[str] = []
    for x in subexprs(e):
        if isinstance(x, ir.App) and x.symbol not in seen:
            seen.append(x.symbol)
    return seen


def _validate(tr: T.Trace) -> None:
    """The reference evaluator re-checks a violation before it is shown."""
    ev = Evaluator(tr.instance)
    if not ev.is_initial(tr.initial):
        raise AssertionError("internal error: a violation trace's first state is not initial")
    state, prev = tr.initial, tr.initial
    spec = tr.spec
    for step in tr.steps:
        action = spec.action_map[step.action]
        env = {p: tr.instance.value_of(a.sort, v) for (p, v), a in zip(step.args, action.params)}
        if step.state not in ev.execute(action.body, env, state):
            raise AssertionError(f"internal error: step {step.action} of a violation trace "
                                 "does not re-validate")
        prev, state = state, step.state
    prop = spec.property_map[tr.property] if tr.property else None
    if prop is not None and ev.eval(prop.formula, {}, state, pre=prev):
        raise AssertionError("internal error: a violation trace's last state satisfies "
                             f"{prop.name}")
