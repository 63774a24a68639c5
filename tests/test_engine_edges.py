"""The edges of the engines: limits that hold before the search starts,
code generation that stays linear and shallow on deep but legal specs, the
same stopping point on every engine for every state limit, trace files
whose function points hold commas, and clean errors for bad output paths
and limit values."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.ground.ground import ground
from paxcheck.search.api import Checks, Limits, run
from paxcheck.search.python import PythonKernel
from paxcheck.traces.replay import replay
from support.interrupt import spawn

ROOT = Path(__file__).resolve().parent.parent
HEAD = ("sort s\nmutable relation r(x: s)\nmutable relation q(x: s)\n"
        "init { r(X) := false\n q(X) := false }\n")


def _write(tmp_path: Path, body: str, sizes: str = "s = 2", name: str = "d") -> Path:
    (tmp_path / f"{name}.pax").write_text(HEAD + body + "\ninvariant inv: true\n")
    (tmp_path / f"{name}.toml").write_text(f'spec = "{name}.pax"\n[sorts]\n{sizes}\n')
    return tmp_path / f"{name}.toml"


def _counts(model: Path, engine: str) -> tuple:
    m = load_model(model)
    r = run(ground(m.instances[0]), checks=Checks(m.config.properties), engine=engine,
            workers=1)
    return r.verdict, r.stats.distinct, r.stats.transitions, r.stats.depth


# ---- generated code: linear and shallow --------------------------------------------
def test_sequential_ifs_generate_linear_code(tmp_path: Path) -> None:
    """20 ifs in a row: each branch joins the next statement, so the code
    grows by a few lines per if (copying the rest into both branches made
    2^20 copies)."""
    body = "action a(x: s) {\n" + "".join(
        "if r(x) { q(x) := !q(x) } else { r(x) := true }\n" for _ in range(20)) + "}\n"
    model = _write(tmp_path, body)
    kernel = PythonKernel(ground(load_model(model).instances[0]))
    lines = sum(src.count("\n") for src in kernel.source_lines)
    assert lines < 20 * 2 * 12, lines   # 2 ground actions, ~10 lines per if
    assert _counts(model, "python") == _counts(model, "fast") == _counts(model, "reference")


def test_many_requires_after_updates(tmp_path: Path) -> None:
    """500 update/require pairs: guards that abandon the path, not 500
    nested blocks (Python allows 100 levels of indentation)."""
    body = "action a(x: s) {\n" + "r(x) := !r(x)\nrequire r(x) | q(x)\n" * 250 + \
        "q(x) := true\n}\n"
    model = _write(tmp_path, body)
    # r(x) flips 250 times (an even number): after the first flip r(x) must
    # hold, after the second q(x) must: so only from q(x) can the action fire
    assert _counts(model, "python") == _counts(model, "fast") == _counts(model, "reference")
    assert _counts(model, "python")[1] == 1    # the initial state, and no step


def test_nested_ifs_to_the_limit_work_and_beyond_it_are_refused(tmp_path: Path, capsys) -> None:
    def nested(n: int) -> str:
        return ("action a(x: s) {\n" + "if r(x) | !q(x) {\n" * n + "q(x) := true\n"
                + "}\n" * n + "}\n")
    ok = _write(tmp_path, nested(40), name="ok")
    assert _counts(ok, "python") == _counts(ok, "fast") == (_counts(ok, "python")[0], 4, 8, 2)
    deep = _write(tmp_path, nested(200), name="deep")
    assert main(["check", str(deep), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "deep.pax:" in err and "nested too deeply: more than 48 levels" in err
    assert len(max(err.splitlines(), key=len)) < 200   # the excerpt is cut around the caret


def test_huge_quantifier_expansion_in_one_formula_compiles(tmp_path: Path) -> None:
    """Mutual exclusion over 40 processes grounds to one conjunction of
    1,560 parts: the fast engine's expressions are balanced trees, not a
    chain as deep as it is long (llvm.py walks expressions recursively)."""
    model = tmp_path / "mutex40.toml"
    model.write_text(f'spec = "{ROOT / "specs/examples/mutex.pax"}"\n[sorts]\nproc = 40\n')
    m = load_model(model)
    g = ground(m.instances[0])
    checks = Checks(m.config.properties)
    got = [run(g, Limits(max_states=2000), checks, engine=e, workers=1) for e in ("python", "fast")]
    assert [(r.stats.distinct, r.stats.transitions, r.stop_reason) for r in got] == \
        [(2000, got[0].stats.transitions, "state limit of 2000 reached")] * 2


# ---- the same stopping point everywhere -------------------------------------------------
@pytest.mark.parametrize("model", ["examples/counter.toml", "examples/mutex_broken.toml",
                                   "broken/paxos_any_value.toml"])
def test_every_state_limit_stops_every_engine_alike(model: str) -> None:
    m = load_model(ROOT / "models" / model)
    g = ground(m.instances[0])
    checks = Checks(m.config.properties, deadlock=True)
    engines = ("python", "fast", "reference") if "paxos" not in model else ("python", "fast")
    limits = list(range(1, 25)) + [40, 100, 257] + ([1000] if "paxos" in model else [])
    for n in limits:
        got = {}
        for e in engines:
            r = run(g, Limits(max_states=n), checks, engine=e, workers=2)
            got[e] = (r.verdict, r.stats.distinct, r.stats.transitions, r.stats.depth,
                      r.stop_reason, [(v.property, v.steps) for v in r.violations])
        assert len(set(map(repr, got.values()))) == 1, (model, n, got)


# ---- limits before the search ----------------------------------------------------------------
def _mutex(tmp_path: Path, n: int) -> Path:
    model = tmp_path / "mutex.toml"
    model.write_text(f'spec = "{ROOT / "specs/examples/mutex.pax"}"\n[sorts]\nproc = {n}\n')
    return model


def test_a_timeout_while_grounding_is_reported(tmp_path: Path, capsys) -> None:
    """2,000 processes: the mutual-exclusion property grounds to 4 million
    pairs, far more than a tenth of a second of work."""
    model = _mutex(tmp_path, 2000)
    start = time.monotonic()
    assert main(["check", str(model), "--timeout", "0.1", "--json"]) == 3
    assert time.monotonic() - start < 30
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "incomplete" and data["exit_code"] == 3
    (inst,) = data["instances"]
    assert inst["stop_reason"] == "timeout after 0.1 s"
    assert inst["stage"] in ("grounding", "generating code")   # the properties ground in the kernel


def test_a_memory_limit_holds_before_the_search(tmp_path: Path, capsys) -> None:
    # the process alone is over 1 MB: the first checkpoint stops it
    model = _mutex(tmp_path, 2000)
    assert main(["check", str(model), "--max-memory", "1M"]) == 3
    out = capsys.readouterr().out
    assert "Result: INCOMPLETE (memory limit of 1 MB reached while" in out


def test_ctrl_c_while_grounding_reports_valid_json(tmp_path: Path) -> None:
    model = _mutex(tmp_path, 2000)
    proc = spawn(["check", str(model), "--json"])
    time.sleep(2.5)   # imports and model loading take about a second; grounding far longer
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    data = json.loads(out)
    assert data["status"] == "incomplete"
    assert data["instances"][-1]["stop_reason"] == "interrupted"
    assert "Traceback" not in err


def test_sizes_that_cannot_be_grounded_are_refused_at_once(tmp_path: Path, capsys) -> None:
    start = time.monotonic()
    assert main(["check", str(_mutex(tmp_path, 100_000))]) == 2
    err = capsys.readouterr().err
    assert "mutex.pax:" in err and "'waiting' alone 100,000 (proc=100000)" in err
    model = tmp_path / "huge.toml"
    model.write_text(f'spec = "{ROOT / "specs/paxos.pax"}"\n[sorts]\nnode = 40\nvalue = 2\n'
                     'ballot = 2\n[immutable]\nmember = "majority"\n')
    assert main(["check", str(model)]) == 2
    err = capsys.readouterr().err
    assert "huge.toml:7:1:" in err and "131,282,408,400 subsets of 21" in err
    assert time.monotonic() - start < 20


# ---- traces whose function points hold commas --------------------------------------------
QUORUM_SPEC = """\
sort node
sort quorum
immutable relation member(n: node, q: quorum)
mutable function used(q: quorum): node?
mutable relation done(q: quorum)
init {
  used(Q) := none
  done(Q) := false
}
action pick(q: quorum, n: node) {
  require member(n, q) & used(q) = none
  used(q) := n
}
action finish(q: quorum) {
  require used(q) != none
  done(q) := true
}
invariant never_two: forall q1, q2: quorum. done(q1) & done(q2) -> q1 = q2
"""


def test_a_trace_with_quorum_valued_points_replays(tmp_path: Path) -> None:
    (tmp_path / "q.pax").write_text(QUORUM_SPEC)
    (tmp_path / "q.toml").write_text('spec = "q.pax"\n[sorts]\nnode = 3\n'
                                     '[immutable]\nmember = "majority"\n')
    for engine in ("python", "fast"):
        out = tmp_path / f"{engine}.json"
        assert main(["check", str(tmp_path / "q.toml"), "--engine", engine, "--trace-out",
                     str(out), "--no-progress"]) == 1
        data = json.loads(out.read_text())
        keys = [k for st in data["steps"] for k in st["changes"].get("used", {})]
        assert keys and all(k.startswith("{") and "," in k for k in keys), keys
        res = replay(out)
        assert res.ok, res.message
        assert data["violation"]["length"] == 4


def test_an_ambiguous_point_key_is_refused(tmp_path: Path) -> None:
    from paxcheck.errors import PaxError
    from paxcheck.traces.tracefile import state_from_json
    spec = tmp_path / "k.pax"
    spec.write_text("sort a\nmutable function f(x: a, y: a): a?\ninit { f(X, Y) := none }\n"
                    "action s(x: a) { f(x, x) := x }\ninvariant t: true\n")
    (tmp_path / "k.toml").write_text('spec = "k.pax"\n[sorts]\na = ["p", "p,p", "q"]\n')
    inst = load_model(tmp_path / "k.toml").instances[0]
    names = ["p", "p,p", "q"]
    table = {f"{x},{y}": "none" for x in names for y in names}
    assert len(table) == 8            # "p,p,p" is both (p, p,p) and (p,p, p)
    with pytest.raises(PaxError, match="more than one reading"):
        state_from_json(inst, {"f": table})


# ---- output paths and limit values ------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["check", "models/broken/paxos_any_value.toml", "--trace-out", "/nonexistent/t.json"],
     "cannot write /nonexistent/t.json"),
    (["check", "models/broken/paxos_any_value.toml", "--emit", "README.md"],
     "cannot make the folder README.md"),
    (["check", "models/paxos.toml", "--max-memory", "infG"], "expected a positive finite size"),
    (["bmc", "models/paxos.toml", "--depth", "2", "--timeout", "nan"],
     "expected a positive number of seconds"),
    (["prove", "specs/paxos.pax", "--timeout", "inf"], "expected a positive number of seconds"),
    (["bmc", "models/paxos.toml", "--depth", "-1"], "expected 0 or more"),
])
def test_bad_output_paths_and_limits_exit_2(argv, message, capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as exc:
        code = main(argv + ["--no-progress"] if argv[0] == "check" else argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_closed_stdout_is_a_quiet_exit() -> None:
    proc = subprocess.run(f"{sys.executable} -m paxcheck parse specs/paxos.pax --json | head -c 10",
                          shell=True, cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout == '{\n  "spec":'[:10]
    assert proc.stderr == "", proc.stderr


def test_the_committed_counterexamples_replay_fast() -> None:
    """Every committed trace is decided from its first state, without
    enumerating the model's initial states (is_initial's first try)."""
    from paxcheck.semantics.evaluate import Evaluator
    from paxcheck.traces.tracefile import state_from_json, trace_instance
    for path in sorted((ROOT / "counterexamples").glob("*/trace.json")):
        data, inst = trace_instance(path)
        ev = Evaluator(inst)
        ev.initial_states = None   # type: ignore[assignment, method-assign]  # must not be needed
        assert ev.is_initial(state_from_json(inst, data["initial"])), path


def test_too_many_havocs_on_one_path_are_refused(tmp_path: Path, capsys) -> None:
    ok = _write(tmp_path, "action a(x: s) {\n" + "r(x) := *\n" * 12 + "}\n", name="ok")
    assert _counts(ok, "python") == _counts(ok, "fast")
    bad = _write(tmp_path, "action a(x: s) {\n" + "r(x) := *\n" * 17 + "}\n", name="bad")
    assert main(["check", str(bad), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "bad.pax:" in err and "more than 16 havocs" in err


def test_a_leading_require_in_init_enumerates_no_start_values(tmp_path: Path) -> None:
    """`require true` before the assignments reads nothing: init still
    overwrites r and q whole, so 2^24 start states are not enumerated."""
    (tmp_path / "i.pax").write_text("sort s\nmutable relation r(x: s)\nmutable relation q(x: s)\n"
                                    "init {\n  require true\n  r(X) := false\n  q(X) := false\n}\n"
                                    "action a(x: s) { r(x) := true }\ninvariant t: true\n")
    (tmp_path / "i.toml").write_text('spec = "i.pax"\n[sorts]\ns = 12\n')
    g = ground(load_model(tmp_path / "i.toml").instances[0])
    assert len(g.initial_states) == 1
    # 2^12 subsets of r, 12 * 2^11 steps setting a new element, 4096 * 12 in all
    assert _counts(tmp_path / "i.toml", "python") == _counts(tmp_path / "i.toml", "fast") \
        == (_counts(tmp_path / "i.toml", "python")[0], 4096, 49_152, 12)


def test_an_init_that_leaves_too_much_open_is_refused(tmp_path: Path, capsys) -> None:
    (tmp_path / "o.pax").write_text("sort s\nmutable relation r(x: s)\nmutable relation q(x: s)\n"
                                    "init { require forall x: s. r(x) | q(x) }\n"
                                    "action a(x: s) { r(x) := true }\ninvariant t: true\n")
    (tmp_path / "o.toml").write_text('spec = "o.pax"\n[sorts]\ns = 12\n')
    assert main(["check", str(tmp_path / "o.toml"), "--no-progress"]) == 2
    assert "'init' leaves more than 65,536 start states open" in capsys.readouterr().err
