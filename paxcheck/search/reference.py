"""The reference engine: breadth-first search driven by the tree-walking
evaluator, with no grounding, packing or code generation. Deliberately
simple and slow; the tests use it to cross-check the compiled engine."""
from __future__ import annotations

from dataclasses import dataclass, field

from paxcheck.semantics.evaluate import Evaluator, RefState
from paxcheck.config.instance import Instance


@dataclass
class ReferenceResult:
    distinct: int
    transitions: int
    depth: int
    states: set[RefState]
    # property name -> length of a shortest violating trace
    violations: dict[str, int] = field(default_factory=dict)
    deadlocks: int | None = None  # length of a shortest trace to a deadlock


def successors(ev: Evaluator, state: RefState) -> list[tuple[str, tuple[int, ...], RefState]]:
    out = []
    for action in ev.spec.actions:
        names = [p.name for p in action.params]
        for args in ev.valuations(action.params):
            posts = ev.execute(action.body, dict(zip(names, args)), state)
            for post in dict.fromkeys(posts):
                out.append((action.name, args, post))
    return out


def explore_reference(inst: Instance, properties: tuple[str, ...],
                      max_states: int = 2_000_000) -> ReferenceResult:
    ev = Evaluator(inst)
    props = [inst.spec.property_map[p] for p in properties]
    one_state = [p for p in props if not p.two_state]
    two_state = [p for p in props if p.two_state]
    level = {s: 0 for s in ev.initial_states()}
    frontier = list(level)
    result = ReferenceResult(0, 0, 0, set())

    def note(name: str, depth: int) -> None:
        result.violations.setdefault(name, depth)

    for s in frontier:
        for p in one_state:
            if not ev.eval(p.formula, {}, s):
                note(p.name, 0)
    depth = 0
    while frontier:
        nxt = []
        for s in frontier:
            succ = successors(ev, s)
            result.transitions += len(succ)
            if not succ and result.deadlocks is None:
                result.deadlocks = depth
            for _, _, t in succ:
                for p in two_state:
                    if not ev.eval(p.formula, {}, t, pre=s):
                        note(p.name, depth + 1)
                if t not in level:
                    level[t] = depth + 1
                    nxt.append(t)
                    for p in one_state:
                        if not ev.eval(p.formula, {}, t):
                            note(p.name, depth + 1)
            if len(level) > max_states:
                raise RuntimeError("reference engine: state limit exceeded")
        if nxt:
            depth += 1
        frontier = nxt
    result.distinct = len(level)
    result.depth = depth
    result.states = set(level)
    return result
