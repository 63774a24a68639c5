"""GroundInstance: what one instance is once grounded, the only input of
the explicit engines.

It holds the packed-state layout, the ground actions (an id per action and
parameter tuple, the same in every engine), the initial states, and how to
name and decode them. It holds no successor code: each engine generates its
own from the same Grounder (the Python engine per-state Python, the fast
engine machine code), so no engine pays for the other's kernel."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from paxcheck.config.instance import Instance
from paxcheck.errors import PaxError
from paxcheck.ground.grounder import MAX_HAVOC_CHOICES, Emitter, GroundAction, Grounder, ground_actions, run_generated
from paxcheck.ground.layout import Layout
from paxcheck.lang import ir
from paxcheck.lang.walk import assigned_whole
from paxcheck.semantics.evaluate import RefState


@dataclass(frozen=True, eq=False)
class GroundInstance:
    """An instance grounded: the packed-state layout, ground actions, initial states."""
    inst: Instance
    layout: Layout
    ground_actions: tuple[GroundAction, ...]
    initial_states: tuple[int, ...]   # packed, ascending, distinct

    @property
    def spec(self) -> ir.Spec:
        return self.inst.spec

    def label(self, gid: int) -> str:
        """`action(param=element, ...)` of a ground action id."""
        ga = self.ground_actions[gid]
        args = ", ".join(f"{p.name}={self.inst.name_of(p.sort, a)}"
                         for p, a in zip(ga.action.params, ga.args))
        return f"{ga.action.name}({args})"

    def named_args(self, gid: int) -> tuple[tuple[str, str], ...]:
        """(parameter, element name) pairs of a ground action."""
        ga = self.ground_actions[gid]
        return tuple((p.name, self.inst.name_of(p.sort, a))
                     for p, a in zip(ga.action.params, ga.args))

    def decode(self, s: int) -> RefState:
        return self.layout.decode(s)


def ground(inst: Instance) -> GroundInstance:
    """Ground an instance: layout, ground actions and initial states."""
    layout = Layout(inst)
    return GroundInstance(inst, layout, tuple(ground_actions(inst)),
                          tuple(_initial_states(inst, layout)))


def _initial_states(inst: Instance, layout: Layout) -> list[int]:
    spec = inst.spec
    grounder = Grounder(inst, layout)
    em = Emitter(grounder)
    em.line(0, "def _init(s, out):")
    em.line(1, "pass")
    em.block(spec.init, {}, "s", 1, lambda cur, depth: em.line(depth, f"out.add({cur})"))
    fn = run_generated("\n".join(em.lines) + "\n", "_init", grounder.consts)
    fixed = assigned_whole(spec, spec.init)
    # start states: symbols init overwrites start at 0; the rest take every value
    per_symbol: list[list[int]] = []
    for name, slot in layout.slots.items():
        if name in fixed:
            continue
        offs = [slot.offset(p) for p in layout.points[name]]
        combos = slot.nvalues ** len(offs)
        if combos > MAX_HAVOC_CHOICES:
            raise PaxError(f"'init' leaves '{name}' open, which has {combos} start values; "
                           f"assign it in init", slot.symbol.span)
        per_symbol.append([sum(r << o for r, o in zip(raws, offs))
                           for raws in itertools.product(range(slot.nvalues), repeat=len(offs))])
    out: set[int] = set()
    for parts in itertools.product(*per_symbol):
        fn(sum(parts), out)
    return sorted(out)
