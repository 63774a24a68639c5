"""The promise on bad input, fuzzed: any spec text, model file or path gives
exit 0, 1, 2 or 3; exit 2 always comes with `file:line:col` or a named file;
nothing raises past the command line (no traceback), and nothing runs past
the limits given. On random well-typed specs the engines agree exactly.

Inputs are mutations of the repo's own specs and models (token deletion,
duplication and swap, truncation, random bytes, deep nesting, huge numbers,
unicode, odd paths) and random well-typed specs. The default run tries a few
hundred inputs; with PAXCHECK_SLOW=1 (the `slow` tests) tens of thousands.
Hypothesis' database is off: every run draws afresh from its seed, and a
failure prints the input that caused it."""
from __future__ import annotations

import io
import os
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paxcheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").rglob("*.pax"))
MODELS = sorted((ROOT / "models").rglob("*.toml"))
SLOW = os.environ.get("PAXCHECK_SLOW") == "1"
SPEC_TEXTS = [p.read_text() for p in SPECS]
MODEL_TEXTS = [p.read_text() for p in MODELS]
MODEL_DIRS = sorted({str(p.parent.relative_to(ROOT)) for p in MODELS})

POSITION = re.compile(r"^\S.*?:\d+:\d+: error: ", re.M)
TOKEN = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_]*|\d+|:=|<->|->|!=|<=|>=|\S")

FAST = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
SLOWLY = settings(max_examples=10_000, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_clean(code: int, err: str, *files: Path) -> None:
    assert code in (0, 1, 2, 3), code
    assert "Traceback" not in err
    if code == 2:
        named = any(str(f)[:150] in err or f.name[:150] in err for f in files)
        assert POSITION.search(err) or named or err.startswith("paxcheck: error:"), err


# ---- mutations of text ----------------------------------------------------------
@st.composite
def mutated(draw, texts: list[str]) -> str:
    text = draw(st.sampled_from(texts))
    toks = TOKEN.findall(text)
    for _ in range(draw(st.integers(1, 4))):
        if not toks:
            break
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "insert",
                                   "bytes", "nest", "number", "unicode"]))
        i = draw(st.integers(0, len(toks) - 1))
        if op == "delete":
            del toks[i]
        elif op == "duplicate":
            toks.insert(i, toks[i])
        elif op == "swap":
            j = draw(st.integers(0, len(toks) - 1))
            toks[i], toks[j] = toks[j], toks[i]
        elif op == "truncate":
            toks = toks[:i]
        elif op == "insert":
            toks.insert(i, draw(st.sampled_from(list(SPEC_WORDS))))
        elif op == "bytes":
            toks.insert(i, draw(st.text(min_size=1, max_size=8)))
        elif op == "nest":
            k = draw(st.integers(1, 3000))
            opener, closer = draw(st.sampled_from([("(", ")"), ("!", ""), ("true & ", ""),
                                                   ("forall z: node. ", ""),
                                                   ("if true { ", " }")]))
            toks.insert(i, opener * k)
            toks.insert(i + 2, closer * k)
        elif op == "number":
            toks.insert(i, str(draw(st.sampled_from([0, -1, 10**6, 10**18, 2**64]))))
        else:
            toks.insert(i, draw(st.sampled_from(["é", "∀", "\u0000", "\ufeff", "😀", "\r"])))
    return "".join(toks)


SPEC_WORDS = ("sort", "ordered", "mutable", "immutable", "relation", "function", "individual",
              "message", "from", "action", "by", "init", "require", "if", "else", "forall",
              "exists", "old", "none", "true", "false", "axiom", "definition", "safety",
              "invariant", "transition", ":=", "*", "?", ",", ";", "{", "}", "(", ")", "=",
              "__import__", "'", '"', "\\", "\n")


def _check_spec_text(tmp_path: Path, text: str) -> None:
    spec = tmp_path / "fuzz.pax"
    spec.write_text(text, encoding="utf-8", errors="surrogatepass")
    code, _, err = run_cli(["parse", str(spec)])
    assert_clean(code, err, spec)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    """A copy of specs/ and of the models' folders, so that a mutated model
    written there finds its spec by the same relative path."""
    import shutil
    root = tmp_path_factory.mktemp("mirror")
    shutil.copytree(ROOT / "specs", root / "specs")
    for d in MODEL_DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    return root


def _check_model_text(root: Path, where: str, text: str) -> None:
    model = root / where / "fuzz_model.toml"
    model.write_text(text, encoding="utf-8", errors="surrogatepass")
    code, _, err = run_cli(["check", str(model), "--engine", "python", "--max-states", "300",
                            "--timeout", "5", "--max-memory", "4G", "--no-progress"])
    assert_clean(code, err, model)


@FAST
@given(text=mutated(SPEC_TEXTS))
def test_mutated_specs_fail_cleanly(tmp_path_factory, text: str) -> None:
    _check_spec_text(tmp_path_factory.mktemp("spec"), text)


@FAST
@given(where=st.sampled_from(MODEL_DIRS), text=mutated(MODEL_TEXTS))
def test_mutated_models_fail_cleanly(mirror: Path, where: str, text: str) -> None:
    _check_model_text(mirror, where, text)


@pytest.mark.slow
@SLOWLY
@given(text=mutated(SPEC_TEXTS))
def test_many_mutated_specs_fail_cleanly(tmp_path_factory, text: str) -> None:
    _check_spec_text(tmp_path_factory.mktemp("spec"), text)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(where=st.sampled_from(MODEL_DIRS), text=mutated(MODEL_TEXTS))
def test_many_mutated_models_fail_cleanly(mirror: Path, where: str, text: str) -> None:
    _check_model_text(mirror, where, text)


# ---- odd paths --------------------------------------------------------------------
@pytest.mark.parametrize("path", ["", "/", "\x00bad", "a" * 5000 + ".toml", "/dev/null",
                                  "/proc/self/mem", str(ROOT / "models"), "-", "é∀.toml"])
def test_odd_model_paths(path: str) -> None:
    code, _, err = run_cli(["check", path, "--no-progress"]) if path else (2, "", "x")
    assert_clean(code, err, Path(path or "x"))
    assert code == 2


@pytest.mark.parametrize("spec", ['"a' + "b" * 5000 + '.pax"', '"/dev/zero"', '"\\u0000"',
                                  '"../models"', "3", '"specs/paxos.pax\\n"'])
def test_odd_spec_paths_in_a_model(tmp_path: Path, spec: str) -> None:
    model = tmp_path / "m.toml"
    model.write_text(f"spec = {spec}\n[sorts]\n")
    code, _, err = run_cli(["check", str(model), "--no-progress"])
    assert code == 2 and "Traceback" not in err
    assert POSITION.search(err), err


# ---- generated code never runs spec text --------------------------------------------
def test_dangerous_names_never_execute(tmp_path: Path) -> None:
    """Identifiers and element names that would mean something in generated
    Python or LLVM code: the canary file is never created, and the checks
    still count right on both engines."""
    canary = tmp_path / "canary"
    spec = tmp_path / "evil.pax"
    spec.write_text(
        "sort __import__\n"
        "mutable relation exec(x: __import__)\n"
        "mutable individual eval: __import__?\n"
        "init { exec(X) := false\n eval := none }\n"
        "action os(x: __import__) {\n  require !exec(x)\n  exec(x) := true\n  eval := x\n}\n"
        "invariant system: forall x: __import__. exec(x) | !exec(x)\n")
    names = [f"open('{canary}','w')", "x\\\"); __import__('os').system('touch " + str(canary)
             + "') #", "a\nb", "'; rm -rf /"]
    model = tmp_path / "evil.toml"
    model.write_text('spec = "evil.pax"\n[sorts]\n__import__ = ['
                     + ", ".join('"' + n.replace("\\", "\\\\").replace('"', '\\"')
                                 .replace("\n", "\\n") + '"' for n in names) + "]\n")
    for engine in ("python", "fast", "reference"):
        code, out, err = run_cli(["check", str(model), "--engine", engine, "--json"])
        assert code == 0, err
        # exec is any subset S of the 4 elements, eval the last one set (none
        # while S is empty): 1 + sum over k of C(4, k) * k = 1 + 4 + 12 + 12 + 4
        assert '"distinct_states": 33,' in out, out
        assert not canary.exists()


# ---- random well-typed specs: the engines agree ------------------------------------------
@st.composite
def random_spec(draw) -> tuple[str, str]:
    """A small well-typed spec over sorts a (size 2) and b (ordered, size
    2 or 3): relations and functions of arity 0..2, actions of requires,
    updates, havocs and ifs, and one invariant; and its model."""
    rels = [("r", "x: a"), ("q", "x: a, y: b"), ("z", "")]
    funs = [("f", "x: a", "b?"), ("g", "", "a")]
    atoms = ["r(x)", "q(x, y)", "z", "f(x) = y", "f(x) = none", "g = x", "y <= y2",
             "exists w: a. r(w)", "forall w: a. q(w, y) -> r(w)", "f(g) != none"]

    def formula(depth: int) -> str:
        if depth == 0 or draw(st.booleans()):
            return draw(st.sampled_from(atoms))
        op = draw(st.sampled_from(["&", "|", "->"]))
        neg = "!" if draw(st.booleans()) else ""
        return f"{neg}({formula(depth - 1)} {op} {formula(depth - 1)})"

    uses = "((r(x) | !r(x)) & (y <= y2 | y2 <= y))"   # every variable used, as required

    def closed(f: str) -> str:
        return f"forall x: a, y, y2: b. {uses} -> ({f})"

    def stmts(depth: int) -> list[str]:
        out = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["require", "rel", "rel_all", "fun", "havoc", "if",
                                         "ind"]))
            if kind == "require":
                out.append(f"require {formula(1).replace('X', 'x')}")
            elif kind == "rel":
                out.append(f"r(x) := {formula(1).replace('X', 'x')}")
            elif kind == "rel_all":
                out.append(f"q(X, y) := {draw(st.sampled_from(['true', 'false', 'r(X)']))}")
            elif kind == "fun":
                out.append(f"f(x) := {draw(st.sampled_from(['y', 'none', 'f(g)']))}")
            elif kind == "havoc":
                out.append(draw(st.sampled_from(["z := *", "g := *", "f(x) := *"])))
            elif kind == "ind":
                out.append("g := x")
            elif depth > 0:
                then = "\n    ".join(stmts(depth - 1))
                els = "\n    ".join(stmts(depth - 1))
                out.append(f"if {formula(1).replace('X', 'x')} {{\n    {then}\n  }} "
                           f"else {{\n    {els}\n  }}")
        return out

    actions = []
    for k in range(draw(st.integers(1, 3))):
        body = "\n  ".join([f"require {uses}"] + stmts(1))
        actions.append(f"action act{k}(x: a, y, y2: b) {{\n  {body}\n}}")
    spec = ("sort a\nordered sort b\n"
            + "".join(f"mutable relation {n}({p})\n"
                      for n, p in rels)
            + "".join(f"mutable function {n}({p}): {r}\n" if p else
                      f"mutable individual {n}: {r}\n" for n, p, r in funs)
            + "init {\n  r(X) := false\n  q(X, Y) := false\n  z := false\n  f(X) := none\n"
            + "  g := *\n}\n" + "\n".join(actions) + "\n"
            + f"invariant inv: {closed(formula(2))}\n"
            + f"transition tr: {closed('old(r(x)) -> r(x) | z')}\n")
    model = f'spec = "s.pax"\n[sorts]\na = 2\nb = {draw(st.sampled_from([2, 3]))}\n'
    return spec, model


def _engines_agree(tmp_path: Path, spec: str, model: str, engines: tuple[str, ...]) -> None:
    from paxcheck.config.model import load_model
    from paxcheck.errors import PaxError
    from paxcheck.ground.ground import ground
    from paxcheck.search.api import Checks, Limits, run
    (tmp_path / "s.pax").write_text(spec)
    (tmp_path / "m.toml").write_text(model)
    try:
        m = load_model(tmp_path / "m.toml")
    except PaxError as err:     # e.g. a variable the random body leaves unused
        assert err.span is not None and err.span.line > 0, err.render()
        return
    g = ground(m.instances[0])
    for checks in (Checks(("inv", "tr"), deadlock=True, keep_going=True), Checks(("inv", "tr"))):
        got = {}
        for e in engines:
            r = run(g, Limits(max_states=3000), checks, engine=e, workers=1)
            got[e] = (r.verdict, r.stats.distinct, r.stats.transitions, r.stats.depth,
                      [(v.kind, v.property, v.length) for v in r.violations])
        assert len(set(map(repr, got.values()))) == 1, (spec, got)


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=random_spec())
def test_random_specs_python_equals_reference(tmp_path_factory, case) -> None:
    _engines_agree(tmp_path_factory.mktemp("r"), *case, ("python", "reference"))


@settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=random_spec())
def test_random_specs_fast_equals_python(tmp_path_factory, case) -> None:
    _engines_agree(tmp_path_factory.mktemp("r"), *case, ("python", "fast"))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=random_spec())
def test_many_random_specs_all_engines_agree(tmp_path_factory, case) -> None:
    _engines_agree(tmp_path_factory.mktemp("r"), *case, ("python", "fast", "reference"))


def _bmc_agrees(tmp_path: Path, spec: str, model: str) -> None:
    """BMC finds a violation at exactly the explicit engine's shortest
    depth (or none within it, when there is none)."""
    from paxcheck.config.model import load_model
    from paxcheck.errors import PaxError
    from paxcheck.ground.ground import ground
    from paxcheck.search.api import Checks, run
    from paxcheck.smt.bmc import bmc
    (tmp_path / "s.pax").write_text(spec)
    (tmp_path / "m.toml").write_text(model)
    try:
        m = load_model(tmp_path / "m.toml")
    except PaxError:
        return
    inst = m.instances[0]
    r = run(ground(inst), checks=Checks(("inv", "tr")), engine="python")
    depth = r.violations[0].length if r.violations else min(r.stats.depth, 3)
    b = bmc(inst, ("inv", "tr"), depth)
    assert b.unknown is None
    got = b.trace.length if b.trace is not None else None
    assert got == (r.violations[0].length if r.violations else None), spec


@settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=random_spec())
def test_random_specs_bmc_finds_the_shortest_depth(tmp_path_factory, case) -> None:
    _bmc_agrees(tmp_path_factory.mktemp("b"), *case)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=random_spec())
def test_many_random_specs_bmc_finds_the_shortest_depth(tmp_path_factory, case) -> None:
    _bmc_agrees(tmp_path_factory.mktemp("b"), *case)
