"""models/*.toml -> a Model: the spec, finite sorts, interpretations of the
immutable symbols (one or several Instances) and what to check."""
from __future__ import annotations

import itertools
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from paxcheck.budget import checkpoint
from paxcheck.config import expect
from paxcheck.config.expect import Expectation
from paxcheck.config.instance import Instance
from paxcheck.errors import PaxError, Span, read_input
from paxcheck.lang import ir
from paxcheck.lang.typecheck import load_spec
from paxcheck.semantics.evaluate import Evaluator

_MAX_ANY_BITS = 20


@dataclass(frozen=True)
class FairnessSetting:
    """A model's setting of one fairness assumption: its kind ('weak',
    'strong' or 'off'), and optionally the values of its forall variables
    it is restricted to (`only`: variable -> element names)."""
    kind: str
    only: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class CheckConfig:
    """A model's [check] settings: properties, limits, deadlock, symmetry."""
    properties: tuple[str, ...]  # names of the properties to check
    deadlock: bool = False
    max_states: int | None = None
    timeout: float | None = None
    # sorts declared symmetric (`symmetry = [...]`, top level or in [check]);
    # validated against every instance at load (paxcheck/symmetry.py)
    symmetry: tuple[str, ...] = ()
    symmetry_span: Span | None = field(default=None, compare=False)
    liveness: tuple[str, ...] = ()   # liveness properties to check
    # the [fairness] table: assumption name -> its setting
    fairness: tuple[tuple[str, FairnessSetting], ...] = ()


@dataclass(frozen=True)
class Model:
    """A model file: its spec, every instance it describes, its settings."""
    path: str
    spec: ir.Spec
    instances: tuple[Instance, ...]
    config: CheckConfig
    expect: Expectation | None = None   # the model's [expect] table (config/expect.py)


class _Locator:
    """Finds the line of a TOML key, since tomllib keeps no positions."""

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text
        self.lines = text.splitlines()

    def span(self, table: str | None, key: str | None = None) -> Span:
        current = None
        fallback: Span | None = None
        for i, line in enumerate(self.lines, 1):
            m = re.match(r"\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]", line)
            if m:
                current = m.group(1)
                if key is None and current == table:
                    return Span(self.path, i, 1, i, len(line) + 1)
                # a top-level key may be a table header: `[chekc]`
                if key is not None and table is None and current.split(".")[0] == key:
                    return Span(self.path, i, m.start(1) + 1, i, m.start(1) + 1 + len(key))
                continue
            if key is not None and current == table:
                m = re.match(r"\s*(\"?)" + re.escape(key) + r"\1\s*=", line)
                if m:
                    col = line.index(key) + 1
                    return Span(self.path, i, col, i, col + len(key))
            if key is not None and fallback is None and (table is None or table in line):
                # inline tables (`sorts = { node = 3 }`) and dotted keys (`sorts.node = 3`)
                m = re.search(r"(?:^|[\s{,.])(\"?)(" + re.escape(key) + r")\1\s*=", line)
                if m:
                    fallback = Span(self.path, i, m.start(2) + 1, i, m.end(2) + 1)
        return fallback or Span(self.path, 1, 1, 1, 2)

    def error(self, message: str, table: str | None, key: str | None = None,
              expected: str | None = None) -> PaxError:
        return PaxError(message, self.span(table, key), expected, self.text)


def load_model(path: str | Path) -> Model:
    """Read and validate a model file; errors point at its lines."""
    data, text = read_toml(path, "model")
    return build_model(data, str(path), text)


def read_toml(path: str | Path, what: str) -> tuple[dict[str, Any], str]:
    """A TOML file (a model, a project file) as (table, text); invalid TOML
    is a PaxError at the line and column tomllib names."""
    text = read_input(path, what)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        if m:
            line, col = int(m.group(1)), int(m.group(2))
        elif "(at end of document)" in str(exc):  # e.g. an unterminated string or array
            lines = text.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
        else:
            line, col = 1, 1
        msg = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        raise PaxError(f"invalid TOML: {msg}", Span(str(path), line, col, line, col + 1),
                       "a TOML file (key = value, [table])", text) from None


# subsets "majority" / { subsets = K } may make (each becomes an element)
MAX_SUBSETS = 100_000
# elements of one sort (far beyond what grounding can cover: see ground.check_size)
MAX_ELEMENTS = 100_000


def _clip(text: str, n: int = 200) -> str:
    return text if len(text) <= n else text[:n] + "..."


def build_model(data: dict[str, Any], path: str, text: str = "") -> Model:
    """A Model from a model file's parsed TOML table (`text` locates errors)."""
    loc = _Locator(path, text)
    known = {"spec", "sorts", "immutable", "check", "symmetry", "fairness", "expect"}
    for key in data:
        if key not in known:
            raise loc.error(f"unknown key '{key}'", None, key, _keys(known))
    if "spec" not in data or not isinstance(data["spec"], str):
        raise loc.error("the model names no spec", None, "spec",
                        "spec = \"path/to/spec.pax\" (relative to the model file)")
    spec_path = Path(os.path.normpath(Path(path).parent / data["spec"]))
    try:
        found = spec_path.is_file()
    except (OSError, ValueError) as exc:   # a name too long, a NUL byte, ...
        raise loc.error(f"cannot use the spec path: {getattr(exc, 'strerror', None) or exc}",
                        None, "spec", "the path of a .pax file, relative to the model file") \
            from None
    if not found:
        raise loc.error(f"spec file not found: {_clip(str(spec_path))}", None, "spec",
                        "the path of a .pax file, relative to the model file")
    spec = load_spec(spec_path)

    sorts_tbl = data.get("sorts", {})
    if not isinstance(sorts_tbl, dict):
        raise loc.error("[sorts] must be a table", None, "sorts", "[sorts] with name = size")
    elements: dict[str, tuple[str, ...]] = {}
    for name, val in sorts_tbl.items():
        if name not in spec.sort_map:
            raise loc.error(f"unknown sort '{name}' (not in {spec.file})", "sorts", name,
                            _keys(spec.sort_map))
        elements[name] = _elements(loc, spec.sort_map[name], val)

    interp_tbl = data.get("immutable", {})
    if not isinstance(interp_tbl, dict):
        raise loc.error("[immutable] must be a table", None, "immutable")
    for name in interp_tbl:
        sym = spec.symbol_map.get(name)
        if sym is None or sym.mutable:
            raise loc.error(f"'{name}' is not an immutable symbol of {spec.file}", "immutable",
                            name, _keys(s.name for s in spec.immutable_symbols))
    # builtins such as "majority" also fix the size of the sort they range over
    choices: dict[str, list[Any]] = {}
    for sym in spec.immutable_symbols:
        if sym.name in interp_tbl:
            choices[sym.name] = _interpret(loc, spec, sym, interp_tbl[sym.name], elements)
    for s in spec.sorts:
        if s.name not in elements:
            raise loc.error(f"sort '{s.name}' has no size", "sorts", None,
                            f"{s.name} = N in [sorts]")
    for sym in spec.immutable_symbols:
        if sym.name not in interp_tbl:
            raise loc.error(f"immutable {sym.kind} '{sym.name}' has no interpretation",
                            "immutable", None,
                            f"{sym.name} = ... in [immutable] (a built-in, a table or \"any\")")
        if choices[sym.name] is None:  # "any": every interpretation, filtered by the axioms
            choices[sym.name] = _all_interpretations(loc, Instance(spec, elements), sym)

    instances = []
    names = [s.name for s in spec.immutable_symbols]
    many = any(len(c) > 1 for c in choices.values())
    for n, combo in enumerate(itertools.product(*(choices[x] for x in names))):
        checkpoint("building the model's instances")
        inst = Instance(spec, elements, dict(zip(names, combo)),
                        label=f"interpretation {n + 1}" if many else "")
        broken = [ax for ax in spec.axioms if not Evaluator(inst).axiom_holds(ax)]
        if broken:
            if not many:
                ax = broken[0]
                raise loc.error(f"the interpretation breaks axiom '{ax.name}' "
                                f"({ax.span.file}:{ax.span.line})", "immutable", None,
                                "interpretations that satisfy every axiom")
            continue
        instances.append(inst)
    if not instances:
        raise loc.error("no interpretation of the immutable symbols satisfies the axioms",
                        "immutable", None)
    config = _check_config(loc, spec, data.get("check", {}), data, elements)
    if config.symmetry:
        from paxcheck.config import symmetry  # loaded only by models that use symmetry
        for inst in instances:
            symmetry.validate(inst, config.symmetry, config.symmetry_span, text or None)
    return Model(path, spec, tuple(instances), config, _expectation(loc, spec, data))


def _expectation(loc: _Locator, spec: ir.Spec, data: dict[str, Any]) -> Expectation | None:
    """The model's [expect] table: what `paxcheck test` requires of it."""
    tbl = data.get("expect")
    if tbl is None:
        return None
    if not isinstance(tbl, dict):
        raise loc.error("[expect] must be a table", None, "expect",
                        '[expect] with violates = "NAME" or expect = "holds"')
    for key in tbl:
        if key not in expect.KEYS or key in ("min_score", "cti"):
            raise loc.error(f"unknown key '{key}' in [expect]", "expect", key,
                            "'allow_unfired', 'expect', 'max_steps', 'violates'")
    exp = expect.read(tbl, lambda msg, key, want: loc.error(msg, "expect", key, want))
    check_names(exp, spec, lambda msg, key, want: loc.error(msg, "expect", key, want))
    return exp


def check_names(exp: Expectation | None, spec: ir.Spec, error: expect.Error) -> None:
    """The properties and actions an expectation names are the spec's."""
    if exp is None:
        return
    for p in exp.properties:
        known = spec.property_map if exp.outcome == "cti" else \
            {**spec.property_map, **spec.liveness_map, "deadlock": None}
        if p not in known:
            raise error(f"unknown property '{p}' (not in {spec.file})",
                        "violates" if exp.outcome == "violated" else "cti", _keys(known))
    for a in exp.allow_unfired:
        if a != "*" and a not in spec.action_map:
            raise error(f"unknown action '{a}' (not in {spec.file})", "allow_unfired",
                        _keys(spec.action_map))


def _keys(names) -> str:
    return ", ".join(f"'{n}'" for n in sorted(names)) or "nothing"


def _elements(loc: _Locator, sort: ir.Sort, val: Any) -> tuple[str, ...]:
    if isinstance(val, bool) or not isinstance(val, (int, list)):
        raise loc.error(f"sort '{sort.name}': size must be a positive integer or a list of "
                        "element names", "sorts", sort.name, f"{sort.name} = 3")
    if isinstance(val, int):
        if val < 1:
            raise loc.error(f"sort '{sort.name}' must have at least one element", "sorts",
                            sort.name, "a size >= 1")
        if val > MAX_ELEMENTS:
            raise loc.error(f"sort '{sort.name}' of {val:,} elements is too big (at most "
                            f"{MAX_ELEMENTS:,})", "sorts", sort.name, "a size a search can cover")
        if sort.ordered:
            return tuple(str(i) for i in range(val))
        return tuple(f"{sort.name}{i}" for i in range(val))
    names = tuple(str(x) for x in val)
    if not names or len(set(names)) != len(names) or "none" in names:
        raise loc.error(f"sort '{sort.name}': element names must be distinct, non-empty "
                        "and not 'none'", "sorts", sort.name)
    return names


def _interpret(loc: _Locator, spec: ir.Spec, sym: ir.Symbol, val: Any,
               elements: dict[str, tuple[str, ...]]) -> list[Any] | None:
    """The candidate interpretations of one symbol (None = all of them)."""
    if val == "any":
        return None
    if sym.kind == "relation" and (val == "majority" or (isinstance(val, dict) and "subsets" in val)):
        if len(sym.params) != 2 or sym.params[0].option or sym.params[1].option:
            raise loc.error(f"'{val}' interprets a membership relation r(element, set)",
                            "immutable", sym.name)
        elem, setsort = sym.params[0].name, sym.params[1].name
        if elem not in elements:
            raise loc.error(f"'{sym.name} = {val!r}' needs the size of sort '{elem}'",
                            "immutable", sym.name, f"{elem} = N in [sorts]")
        n = len(elements[elem])
        k = n // 2 + 1 if val == "majority" else val["subsets"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
            raise loc.error(f"subset size must be an integer from 1 to {n}", "immutable", sym.name)
        if math.comb(n, k) > MAX_SUBSETS:
            raise loc.error(f"'{sym.name} = {val!r}' over sort '{elem}' of {n} elements makes "
                            f"{math.comb(n, k):,} subsets of {k} (at most {MAX_SUBSETS:,})",
                            "immutable", sym.name, f"fewer elements in '{elem}', or a table")
        subsets = list(itertools.combinations(range(n), k))
        if setsort in elements and len(elements[setsort]) != len(subsets):
            raise loc.error(f"sort '{setsort}' has {len(elements[setsort])} elements but "
                            f"{sym.name} = {val!r} makes {len(subsets)} subsets", "sorts",
                            setsort, f"{setsort} = {len(subsets)}, or leave it out")
        if setsort not in elements:
            elements[setsort] = tuple("{" + ",".join(elements[elem][i] for i in sub) + "}"
                                      for sub in subsets)
        return [frozenset((i, q) for q, sub in enumerate(subsets) for i in sub)]
    if sym.kind == "relation" and val in ("lt", "le"):
        if len(sym.params) != 2 or sym.params[0] != sym.params[1] or sym.params[0].option:
            raise loc.error(f"'{val}' interprets a binary relation over one sort", "immutable",
                            sym.name)
        n = _size(loc, sym.params[0].name, elements, sym.name)
        return [frozenset((a, b) for a in range(n) for b in range(n)
                          if (a < b if val == "lt" else a <= b))]
    if isinstance(val, dict) and set(val) == {"table"}:
        return [_table(loc, sym, val["table"], elements)]
    if sym.kind == "individual" and isinstance(val, (str, int)) and not isinstance(val, bool):
        return [_element(loc, sym, sym.value_sort, val, elements)]
    raise loc.error(f"cannot interpret '{sym.name}' from {val!r}", "immutable", sym.name,
                    "\"majority\", { subsets = K }, \"lt\", \"le\", { table = [...] }, "
                    "an element (individuals), or \"any\"")


def _size(loc: _Locator, sort: str, elements: dict[str, tuple[str, ...]], key: str) -> int:
    if sort not in elements:
        raise loc.error(f"'{key}' needs the size of sort '{sort}'", "immutable", key)
    return len(elements[sort])


def _element(loc: _Locator, sym: ir.Symbol, sort: ir.SortT, val: Any,
             elements: dict[str, tuple[str, ...]]) -> int:
    names = elements.get(sort.name)
    if names is None:
        raise loc.error(f"'{sym.name}' needs the size of sort '{sort.name}'", "immutable", sym.name)
    if val == "none" and sort.option:
        return -1
    if isinstance(val, int) and not isinstance(val, bool) and 0 <= val < len(names):
        return val
    if isinstance(val, str) and val in names:
        return names.index(val)
    raise loc.error(f"'{val}' is not an element of sort {sort}", "immutable", sym.name,
                    _keys(names) + (" or 'none'" if sort.option else ""))


def _table(loc: _Locator, sym: ir.Symbol, rows: Any, elements) -> Any:
    if not isinstance(rows, list):
        raise loc.error(f"table of '{sym.name}' must be a list of rows", "immutable", sym.name)
    if sym.kind == "individual":
        raise loc.error("an individual takes an element, not a table", "immutable", sym.name)
    width = len(sym.params) + (0 if sym.result is None else 1)
    sorts = list(sym.params) + ([sym.result] if sym.result is not None else [])
    parsed = []
    for row in rows:
        if not isinstance(row, list) or len(row) != width:
            raise loc.error(f"each row of '{sym.name}' needs {width} entries", "immutable",
                            sym.name, f"[{', '.join(str(s) for s in sorts)}]")
        parsed.append(tuple(_element(loc, sym, s, v, elements) for s, v in zip(sorts, row)))
    if sym.result is None:
        return frozenset(parsed)
    out: dict[tuple[int, ...], int] = {}
    for row in parsed:
        out[row[:-1]] = row[-1]
    missing = [p for p in itertools.product(*(range(-1 if s.option else 0, len(elements[s.name]))
                                                for s in sym.params)) if p not in out]
    if missing:
        raise loc.error(f"table of function '{sym.name}' has no row for arguments {missing[0]}",
                        "immutable", sym.name, "one row per argument tuple")
    return out


def _all_interpretations(loc: _Locator, inst: Instance, sym: ir.Symbol) -> list[Any]:
    points = inst.points(sym)
    if sym.kind == "relation":
        if len(points) > _MAX_ANY_BITS:
            raise loc.error(f"'{sym.name} = \"any\"' would enumerate 2^{len(points)} relations",
                            "immutable", sym.name, f"at most {_MAX_ANY_BITS} points")
        return [frozenset(p for p, b in zip(points, bits) if b)
                for bits in itertools.product([False, True], repeat=len(points))]
    dom = list(inst.domain(sym.value_sort))
    if len(dom) ** len(points) > 1 << _MAX_ANY_BITS:
        raise loc.error(f"'{sym.name} = \"any\"' has too many interpretations", "immutable",
                        sym.name)
    if sym.kind == "individual":
        return dom
    return [dict(zip(points, vals)) for vals in itertools.product(dom, repeat=len(points))]


def _check_config(loc: _Locator, spec: ir.Spec, tbl: Any, data: dict[str, Any],
                  elements: dict[str, tuple[str, ...]]) -> CheckConfig:
    if not isinstance(tbl, dict):
        raise loc.error("[check] must be a table", None, "check")
    allowed = {"properties", "liveness", "deadlock", "max_states", "timeout", "symmetry"}
    for key in tbl:
        if key not in allowed:
            raise loc.error(f"unknown key '{key}' in [check]", "check", key, _keys(allowed))
    props = _names(loc, tbl, "properties", "property", spec.property_map)
    deadlock = tbl.get("deadlock", False)
    if not isinstance(deadlock, bool):
        raise loc.error("deadlock must be true or false", "check", "deadlock")
    max_states = tbl.get("max_states")
    if max_states is not None and (isinstance(max_states, bool) or not isinstance(max_states, int)
                                   or max_states < 1):
        raise loc.error("max_states must be a positive integer", "check", "max_states")
    timeout = tbl.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout <= 0):
        raise loc.error("timeout must be a positive number of seconds", "check", "timeout")
    symmetry, span = _symmetry(loc, tbl, data)
    live = _names(loc, tbl, "liveness", "liveness property", spec.liveness_map)
    fair = data.get("fairness", {})
    if not isinstance(fair, dict):
        raise loc.error("[fairness] must be a table", None, "fairness",
                        '[fairness] with name = "weak", "strong" or "off"')
    settings = []
    for name, val in fair.items():
        if name not in spec.fairness_map:
            raise loc.error(f"unknown fairness assumption '{name}' (not in {spec.file})",
                            "fairness", name, _keys(spec.fairness_map))
        settings.append((name, _fairness_setting(loc, spec.fairness_map[name], val, elements)))
    return CheckConfig(tuple(props), deadlock, max_states, timeout, symmetry, span, tuple(live),
                       tuple(sorted(settings, key=lambda x: x[0])))


def _names(loc: _Locator, tbl: dict[str, Any], key: str, what: str, known: dict) -> list[str]:
    """[check]'s list `key` of property names (default: all of `known`)."""
    names = tbl.get(key, list(known))
    if not isinstance(names, list) or not all(isinstance(p, str) for p in names):
        raise loc.error(f"{key} must be a list of names", "check", key)
    for p in names:
        if p not in known:
            raise loc.error(f"unknown {what} '{p}'", "check", key, _keys(known))
    return names


_FAIRNESS_FORM = ('"weak", "strong", "off", or { kind = "weak", only = { x = ["e1", ...] } } '
                  'restricting the forall variable x')


def _fairness_setting(loc: _Locator, fair: ir.Fairness, val: Any,
                      elements: dict[str, tuple[str, ...]]) -> FairnessSetting:
    """`name = "weak"`, or `name = { kind = "weak", only = { b = ["b2"] } }`:
    the assumption for those values of its forall variables only."""
    if isinstance(val, str):
        val = {"kind": val}
    if not isinstance(val, dict) or set(val) - {"kind", "only"} or "kind" not in val:
        raise loc.error(f"cannot read fairness '{fair.name}' from {val!r}", "fairness",
                        fair.name, _FAIRNESS_FORM)
    kind, only = val["kind"], val.get("only", {})
    if kind not in ("weak", "strong", "off"):
        raise loc.error(f"fairness '{fair.name}' must be \"weak\", \"strong\" or \"off\"",
                        "fairness", fair.name, _FAIRNESS_FORM)
    if not isinstance(only, dict):
        raise loc.error(f"fairness '{fair.name}': only must be a table", "fairness", fair.name,
                        _FAIRNESS_FORM)
    binders = {b.name: b for b in fair.binders}
    out = []
    for var, names in only.items():
        if var not in binders:
            raise loc.error(f"fairness '{fair.name}' has no forall variable '{var}'", "fairness",
                            fair.name, _keys(binders))
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
            raise loc.error(f"fairness '{fair.name}': only.{var} must be a list of element names",
                            "fairness", fair.name, _FAIRNESS_FORM)
        sort = binders[var].sort
        known = elements[sort.name] + (("none",) if sort.option else ())
        for x in names:
            if x not in known:
                raise loc.error(f"fairness '{fair.name}': '{x}' is not an element of sort "
                                f"{sort}", "fairness", fair.name, _keys(known))
        out.append((var, tuple(names)))
    return FairnessSetting(kind, tuple(out))


def _symmetry(loc: _Locator, tbl: dict[str, Any], data: dict[str, Any]
              ) -> tuple[tuple[str, ...], Span | None]:
    """`symmetry = ["acceptor", "value"]`, at the top level or in [check]; the
    sorts themselves are checked by symmetry.validate."""
    if "symmetry" in tbl and "symmetry" in data:
        raise loc.error("symmetry is set both at the top level and in [check]", "check",
                        "symmetry", "one of them")
    table = "check" if "symmetry" in tbl else None
    val = tbl.get("symmetry", data.get("symmetry"))
    if val is None:
        return (), None
    span = loc.span(table, "symmetry")
    if not isinstance(val, list) or not all(isinstance(x, str) for x in val):
        raise loc.error("symmetry must be a list of sort names", table, "symmetry",
                        'symmetry = ["acceptor", "value"]')
    return tuple(val), span
