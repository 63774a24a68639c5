"""The project file (`paxcheck.toml`): what `paxcheck test` runs and what it
expects of each run.

    [test]                      # defaults for every entry (all optional)
    engine = "fast"
    max_states = 5000000
    timeout = 600

    [[check]]                   # explore models
    models = ["models/*.toml"]  # globs, relative to the project file
    exclude = ["models/big.toml"]
    expect = "holds"            # or none: each model's own [expect] table

    [[prove]]                   # prove a spec's invariants for every size
    spec = "specs/paxos.pax"
    without = ["proposals_safe"]
    cti = "accept_safe"

    [[mutate]]                  # mutation testing, with a score floor
    spec = "specs/paxos.pax"
    model = "models/paxos.toml"
    min_score = 0.8

An entry may say `slow = true` (run only with `paxcheck test --slow`).
Expectation keys are those of config/expect.py. A model's own [expect]
table is more specific than a `models` glob's expectation and wins over
it; an entry for one `model` may not disagree with it."""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paxcheck.config import expect
from paxcheck.config.expect import Expectation
from paxcheck.config.model import read_toml
from paxcheck.errors import PaxError, Span

PROJECT_FILE = "paxcheck.toml"
KINDS = ("check", "prove", "mutate")
_COMMON = {"slow", "name", "engine", "max_states", "timeout"}
_KEYS = {
    "check": {"model", "models", "exclude"} | _COMMON,
    "prove": {"spec", "model", "without", "rlimit"} | _COMMON,
    "mutate": {"spec", "model", "workers"} | _COMMON,
}
_DEFAULTS = {"engine", "max_states", "timeout", "rlimit", "cache"}


@dataclass(frozen=True)
class Item:
    """One run with its expectation. Paths are relative to the project
    root; `expect` is None for a check whose model states its own (read when
    the model is loaded)."""
    kind: str                       # 'check' | 'prove' | 'mutate'
    name: str
    path: str                       # the model (check, mutate) or the spec (prove)
    expect: Expectation | None
    model: str | None = None        # prove: --model; mutate: the model
    without: tuple[str, ...] = ()
    engine: str = "fast"
    max_states: int | None = None
    timeout: float | None = None
    rlimit: int | None = None
    slow: bool = False
    # the expectation was stated for this one model (`model = `), not for a
    # glob of them: a model's [expect] that differs is then a contradiction,
    # where under a glob the model's own [expect] is the more specific
    explicit: bool = False
    origin: Span = field(default=Span("paxcheck.toml", 1, 1, 1, 2), compare=False)

    def key(self) -> dict[str, Any]:
        """What the item's result depends on besides file contents."""
        return {"kind": self.kind, "path": self.path, "expect": repr(self.expect),
                "model": self.model, "without": list(self.without), "engine": self.engine,
                "max_states": self.max_states, "timeout": self.timeout, "rlimit": self.rlimit,
                "explicit": self.explicit}


@dataclass(frozen=True)
class Project:
    root: Path
    file: str | None                # None: no project file, items from model files
    items: tuple[Item, ...]
    cache: Path


def find(start: Path) -> Path | None:
    """The nearest paxcheck.toml at or above `start`."""
    for d in [start, *start.parents]:
        if (d / PROJECT_FILE).is_file():
            return d / PROJECT_FILE
    return None


class _Entries:
    """Positions of the project file's [[kind]] entries, for errors."""

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text
        self.starts: dict[str, list[int]] = {k: [] for k in KINDS}
        self.lines = text.splitlines()
        for i, line in enumerate(self.lines, 1):
            m = re.match(r"\s*\[\[\s*([A-Za-z_]+)\s*\]\]", line)
            if m and m.group(1) in self.starts:
                self.starts[m.group(1)].append(i)

    def span(self, kind: str | None, n: int, key: str | None = None) -> Span:
        if kind is None or n >= len(self.starts.get(kind, [])):
            line = 1
            if kind is not None:   # a [table] header
                line = next((i for i, t in enumerate(self.lines, 1)
                             if re.match(rf"\s*\[\s*{kind}\s*\]", t)), 1)
        else:
            line = self.starts[kind][n]
        if key is not None:
            for i in range(line, len(self.lines) + 1):
                t = self.lines[i - 1]
                if i > line and re.match(r"\s*\[", t):
                    break
                m = re.match(rf"\s*({re.escape(key)})\s*=", t)
                if m:
                    return Span(self.path, i, m.start(1) + 1, i, m.end(1) + 1)
        return Span(self.path, line, 1, line, len(self.lines[line - 1]) + 1 if self.lines else 2)

    def error(self, message: str, kind: str | None, n: int, key: str | None = None,
              expected: str | None = None) -> PaxError:
        return PaxError(message, self.span(kind, n, key), expected, self.text)


def load(path: Path) -> Project:
    """Read a project file; every path in it must exist."""
    data, text = read_toml(path, "project")
    ent = _Entries(str(path), text)
    root = path.resolve().parent
    for key in data:
        if key not in KINDS and key != "test":
            raise ent.error(f"unknown table '{key}'", None, 0, key,
                            "[test], [[check]], [[prove]] or [[mutate]]")
    defaults = data.get("test", {})
    if not isinstance(defaults, dict):
        raise ent.error("[test] must be a table", None, 0, "test")
    for key in defaults:
        if key not in _DEFAULTS:
            raise ent.error(f"unknown key '{key}' in [test]", "test", 0, key,
                            ", ".join(sorted(_DEFAULTS)))
    items: list[Item] = []
    for kind in KINDS:
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            raise ent.error(f"'{kind}' must be an array of tables", None, 0, kind,
                            f"[[{kind}]] entries")
        for n, entry in enumerate(entries):
            items += _entry(ent, root, kind, n, entry, defaults)
    cache = defaults.get("cache", ".paxcheck-cache")
    if not isinstance(cache, str):
        raise ent.error("cache must be a directory name", "test", 0, "cache")
    return Project(root, str(path), tuple(items), root / cache)


def _entry(ent: _Entries, root: Path, kind: str, n: int, entry: dict[str, Any],
           defaults: dict[str, Any]) -> list[Item]:
    def err(msg: str, key: str | None = None, want: str | None = None) -> PaxError:
        return ent.error(msg, kind, n, key, want)

    for key in entry:
        if key not in _KEYS[kind] and key not in expect.KEYS:
            raise err(f"unknown key '{key}' in [[{kind}]]", key,
                      ", ".join(sorted(_KEYS[kind] | set(expect.KEYS))))
    opts = {**{k: v for k, v in defaults.items() if k != "cache"}, **entry}
    engine = opts.get("engine", "fast")
    if engine not in ("fast", "python", "reference"):
        raise err(f"unknown engine {engine!r}", "engine", '"fast", "python" or "reference"')
    for key in ("max_states", "rlimit"):
        v = opts.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise err(f"{key} must be a positive integer", key)
    timeout = opts.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout <= 0):
        raise err("timeout must be a positive number of seconds", "timeout")
    slow = opts.get("slow", False)
    if not isinstance(slow, bool):
        raise err("slow must be true or false", "slow")
    default = {"check": None, "prove": "proved", "mutate": None}[kind]
    exp = expect.read(entry, lambda m, k, w: err(m, k, w), default)
    if kind == "mutate" and (exp is None or exp.outcome != "score"):
        raise err("a mutation run needs a score floor", None, "min_score = 0.8")
    if kind == "prove" and exp is not None and exp.outcome not in ("proved", "cti"):
        raise err(f"a proof cannot be expected to give {exp.outcome!r}", "expect",
                  '"proved" or "cti"')
    if kind == "check" and exp is not None and exp.outcome not in ("holds", "violated"):
        raise err(f"a check cannot be expected to give {exp.outcome!r}", "expect",
                  '"holds" or violates = "NAME"')
    common = dict(engine=engine, max_states=opts.get("max_states"),
                  timeout=float(timeout) if timeout is not None else None,
                  rlimit=opts.get("rlimit"), slow=slow, origin=ent.span(kind, n))
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or "models" in entry):
        raise err("name must be a string, in an entry for one model or spec", "name")
    if kind == "check":
        paths = _globbed(root, entry, err)
        return [Item("check", name or p, p, exp, explicit="model" in entry,
                     **common) for p in paths]
    spec = _path(root, entry, "spec", err)
    model = _path(root, entry, "model", err) if ("model" in entry or kind == "mutate") else None
    without = entry.get("without", [])
    if not isinstance(without, list) or not all(isinstance(x, str) for x in without):
        raise err("without must be a list of invariant names", "without")
    if name is None:
        name = spec + (f" --model {model}" if kind == "prove" and model else "") \
            + (f" without {', '.join(without)}" if without else "")
        if kind == "mutate":
            name = f"mutate {spec} with {model}"
    return [Item(kind, name, spec, exp, model, tuple(without), **common)]


def _path(root: Path, entry: dict[str, Any], key: str, err) -> str:
    val = entry.get(key)
    if not isinstance(val, str):
        raise err(f"the entry needs {key} = \"PATH\"", key if key in entry else None)
    if not (root / val).is_file():
        raise err(f"file not found: {val}", key, "a path relative to the project file")
    return os.path.normpath(val)


def _globbed(root: Path, entry: dict[str, Any], err) -> list[str]:
    if ("model" in entry) == ("models" in entry):
        raise err("a [[check]] entry needs model = \"PATH\" or models = [globs]", None)
    if "model" in entry:
        return [_path(root, entry, "model", err)]
    pats = entry["models"]
    if not isinstance(pats, list) or not all(isinstance(p, str) for p in pats):
        raise err("models must be a list of paths or globs", "models")
    excl = entry.get("exclude", [])
    if not isinstance(excl, list) or not all(isinstance(p, str) for p in excl):
        raise err("exclude must be a list of paths or globs", "exclude")
    drop = {os.path.normpath(p) for pat in excl
            for p in glob.glob(pat, root_dir=root, recursive=True)}
    out: list[str] = []
    for pat in pats:
        found = sorted(os.path.normpath(p) for p in glob.glob(pat, root_dir=root, recursive=True))
        if not found:
            raise err(f"no file matches {pat!r}", "models")
        out += [p for p in found if p not in drop and p not in out]
    return out


def from_models(paths: list[Path]) -> Project:
    """No project file: each given model file (or every model under a given
    directory) whose [expect] table says what it must give."""
    items: list[Item] = []
    for p in paths:
        files = sorted(p.rglob("*.toml")) if p.is_dir() else [p]
        for f in files:
            items.append(Item("check", str(f), str(f), None,
                              origin=Span(str(f), 1, 1, 1, 2)))
    root = Path.cwd()
    return Project(root, None, tuple(items), root / ".paxcheck-cache")


def select(project: Project, paths: list[Path]) -> tuple[Item, ...]:
    """The project's items whose file (or model) lies at or under one of
    `paths` (all of them when none is given)."""
    if not paths:
        return project.items
    wanted = [p.resolve() for p in paths]

    def hit(rel: str | None) -> bool:
        if rel is None:
            return False
        f = (project.root / rel).resolve()
        return any(f == w or w in f.parents for w in wanted)
    return tuple(i for i in project.items if hit(i.path) or hit(i.model))
