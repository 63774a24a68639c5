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
from math import prod

from paxcheck.budget import checkpoint
from paxcheck.config.instance import Instance
from paxcheck.errors import PaxError, Span
from paxcheck.ground.grounder import MAX_HAVOC_CHOICES, Emitter, GroundAction, Grounder, ground_actions, run_generated
from paxcheck.ground.layout import Layout
from paxcheck.lang import ir, walk
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


# What paxcheck grounds at most: beyond these an instance is refused before
# any memory is spent on it (a state of 8 KiB, a million ground actions, and
# about 2^26 nodes of expanded formulas: minutes of grounding already).
MAX_STATE_BITS = 1 << 16
MAX_GROUND_ACTIONS = 1 << 20
MAX_GROUND_TERMS = 1 << 26
# havocs on one path of an action: each is a loop in generated code, and
# CPython compiles at most 20 nested loops
MAX_HAVOCS = 16


def ground(inst: Instance) -> GroundInstance:
    """Ground an instance: layout, ground actions and initial states."""
    check_size(inst)
    layout = Layout(inst)
    return GroundInstance(inst, layout, tuple(ground_actions(inst)),
                          tuple(_initial_states(inst, layout)))


def _sizes(inst: Instance, sorts: tuple[ir.SortT, ...]) -> str:
    return ", ".join(f"{s.name}={len(inst.domain(s))}" for s in dict.fromkeys(sorts))


def check_size(inst: Instance) -> None:
    """Refuse an instance too big to ground, naming what makes it so, from
    the sort sizes alone (nothing is allocated)."""
    spec = inst.spec
    bits = 0
    for sym in spec.mutable_symbols:
        points = prod(len(inst.domain(p)) for p in sym.params)
        width = 1 if sym.is_relation else max(1, (len(inst.domain(sym.value_sort)) - 1).bit_length())
        bits += points * width
        if bits > MAX_STATE_BITS:
            raise PaxError(f"instance {inst.describe()} is too big: a state needs more than "
                           f"{MAX_STATE_BITS:,} bits, '{sym.name}' alone {points * width:,} "
                           f"({_sizes(inst, sym.params) or 'one point'})", sym.span,
                           "smaller sorts in the model's [sorts]")
    actions = 0
    terms = 0
    worst: tuple[int, str, Span] | None = None
    for action in spec.actions:
        n = prod(len(inst.domain(p.sort)) for p in action.params)
        actions += n
        if actions > MAX_GROUND_ACTIONS:
            raise PaxError(f"instance {inst.describe()} is too big: more than "
                           f"{MAX_GROUND_ACTIONS:,} ground actions, '{action.name}' alone {n:,} "
                           f"({_sizes(inst, tuple(p.sort for p in action.params))})", action.span,
                           "smaller sorts in the model's [sorts]")
        if _havocs(action.body) > MAX_HAVOCS:
            raise PaxError(f"action '{action.name}' has more than {MAX_HAVOCS} havocs (':= *') "
                           "on one path", action.span,
                           f"at most {MAX_HAVOCS}: each is a loop in the generated code")
        size = n * _block_size(inst, action.body)
        terms += size
        if worst is None or size > worst[0]:
            worst = (size, f"action '{action.name}'", action.span)
    for prop in spec.properties:
        size = _expanded(inst, prop.checked)
        terms += size
        if worst is None or size > worst[0]:
            worst = (size, f"property '{prop.name}'", prop.span)
    if terms > MAX_GROUND_TERMS and worst is not None:
        raise PaxError(f"instance {inst.describe()} is too big to ground: about {terms:,} "
                       f"ground formula nodes (more than {MAX_GROUND_TERMS:,}), {worst[1]} "
                       f"alone {worst[0]:,}", worst[2], "smaller sorts in the model's [sorts]")


def _havocs(stmts: tuple[ir.Stmt, ...]) -> int:
    """The most havocs on one path through a block."""
    n = 0
    for st in stmts:
        if isinstance(st, ir.Havoc):
            n += 1
        elif isinstance(st, ir.If):
            n += max(_havocs(st.then), _havocs(st.els))
    return n


def _block_size(inst: Instance, stmts: tuple[ir.Stmt, ...]) -> int:
    total = 0
    for st in stmts:
        if isinstance(st, ir.If):
            total += _expanded(inst, st.cond) + _block_size(inst, st.then) + \
                _block_size(inst, st.els)
            continue
        points = prod(len(inst.domain(b.sort)) for b in getattr(st, "bound", ()))
        total += points * sum(_expanded(inst, e) for e in walk.stmt_exprs((st,)))
    return total


def _expanded(inst: Instance, e: ir.Expr) -> int:
    """About how many nodes grounding makes of e: a quantifier multiplies
    its body by its domain, a definition by the domains of its parameters."""
    total = 0
    stack: list[tuple[ir.Expr, int]] = [(e, 1)]
    while stack:
        x, mult = stack.pop()
        total += mult
        if isinstance(x, ir.Quant):
            mult *= prod(len(inst.domain(b.sort)) for b in x.binders)
        elif isinstance(x, ir.Call):
            d = inst.spec.definition_map[x.definition]
            stack.append((d.body, mult * prod(len(inst.domain(p.sort)) for p in d.params)))
        if total > MAX_GROUND_TERMS:
            return total
        stack.extend((c, mult) for c in walk.children(x))
    return total


def _initial_states(inst: Instance, layout: Layout) -> list[int]:
    spec = inst.spec
    grounder = Grounder(inst, layout)
    em = Emitter(grounder)
    em.line(0, "def _init(s, out):")
    em.line(1, "pass")
    em.body(spec.init, {}, 1, lambda cur, depth: em.line(depth, f"out.add({cur})"))
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
        if prod(len(c) for c in per_symbol) > MAX_HAVOC_CHOICES:
            raise PaxError(f"'init' leaves more than {MAX_HAVOC_CHOICES:,} start states open "
                           f"('{name}' among them)", slot.symbol.span,
                           "assign each mutable symbol in init before reading it")
    out: set[int] = set()
    for parts in itertools.product(*per_symbol):
        checkpoint("computing the initial states")
        fn(sum(parts), out)
    return sorted(out)
