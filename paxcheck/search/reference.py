"""The reference engine: the breadth-first loop of search/python.py driven
by the tree-walking evaluator (semantics/evaluate.py) instead of generated
code: no packing and no code generation. Deliberately simple and slow; the
tests check the compiled engines against it. Its states are RefStates, not
packed ints; its ground action ids are those of the GroundInstance."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from paxcheck.ground.ground import GroundInstance
from paxcheck.ground.temporal import Atom
from paxcheck.lang import ir
from paxcheck.search.python import LoopEngine
from paxcheck.semantics.evaluate import Evaluator, RefState, successors


class ReferenceKernel:
    """The evaluator as a search kernel (see search/python.Kernel)."""

    def __init__(self, ground: GroundInstance) -> None:
        self.ground = ground
        self.ev = Evaluator(ground.inst)
        self.initial_states: Sequence[RefState] = list(dict.fromkeys(self.ev.initial_states()))
        self.gid = {(ga.action.name, ga.args): i for i, ga in enumerate(ground.ground_actions)}

    def successors(self, s: RefState) -> list[tuple[int, RefState]]:
        return [(self.gid[(name, args)], t) for name, args, t in successors(self.ev, s)]

    def labeller(self, atoms: Sequence[Atom]) -> Callable[[RefState], int]:
        """The bit mask of the atoms that hold in a state, by the evaluator."""
        ev = self.ev
        return lambda s: sum(1 << a for a, (e, env) in enumerate(atoms)
                             if ev.eval(e, dict(env), s))

    def predicate(self, prop: ir.Property) -> Callable[..., bool]:
        """prop's test by the evaluator: f(s), or f(p, s) for a two-state one."""
        ev, f = self.ev, prop.checked
        if prop.two_state:
            return lambda p, s: bool(ev.eval(f, {}, s, pre=p))
        return lambda s: bool(ev.eval(f, {}, s))


class ReferenceEngine(LoopEngine):
    """The tree-walking oracle: the same loop, the evaluator as kernel."""
    name = "reference"

    def __init__(self, ground: GroundInstance) -> None:
        super().__init__(ground, ReferenceKernel(ground))
