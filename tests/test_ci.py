"""`paxcheck test`: project files, expectations, reports (JUnit read back by
junitparser, SARIF validated against the 2.1.0 schema, GitHub annotations),
the result cache and the pytest plugin.

The projects here are built in tmp_path from the small example specs, so
every figure is the example's: mutex_broken violates mutual_exclusion after
6 steps (models/examples/mutex_broken.toml says so), counter holds with
16 states (tests/test_counts.py derives them)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml

from paxcheck.ci import project as P
from paxcheck.ci.runner import run_item
from paxcheck.cli import main
from paxcheck.errors import PaxError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text())


def _project(tmp_path: Path, body: str) -> Path:
    """A project with copies of the example specs and models, and `body` as
    its paxcheck.toml."""
    for d in ("specs/examples", "models/examples"):
        shutil.copytree(ROOT / d, tmp_path / d)
    # the project file states the expectations here, not the model
    broken = tmp_path / "models/examples/mutex_broken.toml"
    text = broken.read_text()
    broken.write_text(text[:text.index("[expect]")])
    (tmp_path / "paxcheck.toml").write_text(body)
    return tmp_path


GOOD = """
[[check]]
models = ["models/examples/counter.toml", "models/examples/mutex.toml"]
expect = "holds"

[[check]]
model = "models/examples/mutex_broken.toml"
violates = "mutual_exclusion"
max_steps = 6
"""

# mutex_broken's shortest violation has 6 steps: a bound of 5 is wrong
WRONG = GOOD + """
[[check]]
model = "models/examples/mutex_broken.toml"
name = "too short"
violates = "mutual_exclusion"
max_steps = 5

[[check]]
model = "models/examples/mutex.toml"
name = "mutex cannot fail"
violates = "mutual_exclusion"
"""


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


def test_expectations_met_exit_0(cwd, capsys):
    _project(cwd, GOOD)
    assert main(["test", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 expectations met (0 cached" in out
    assert "mutual_exclusion violated (6 steps)" in out


def test_wrong_expectations_name_model_and_property(cwd, capsys):
    _project(cwd, WRONG)
    junit, sarif = cwd / "j.xml", cwd / "s.sarif"
    assert main(["test", "--jobs", "2", "--junit", str(junit), "--sarif", str(sarif)]) == 1
    out = capsys.readouterr().out
    assert "3 of 5 expectations met, 2 not" in out
    assert ("too short: expected violates mutual_exclusion within 6 steps" not in out)
    assert ("too short: expected violates mutual_exclusion within 5 steps; "
            "'mutual_exclusion' is violated after 6 steps, more than the expected 5") in out
    assert ("mutex cannot fail: expected violates mutual_exclusion; expected "
            "'mutual_exclusion' to be violated, but it holds") in out

    # JUnit, read back by a JUnit parser
    xml = JUnitXml.fromfile(str(junit))
    suites = list(xml)
    assert [s.name for s in suites] == ["paxcheck"]
    cases = {c.name: c for c in suites[0]}
    assert set(cases) == {"models/examples/counter.toml", "models/examples/mutex.toml",
                          "models/examples/mutex_broken.toml", "too short",
                          "mutex cannot fail"}
    assert suites[0].tests == 5 and suites[0].failures == 2 and suites[0].errors == 0
    assert cases["models/examples/counter.toml"].is_passed
    (failure,) = cases["too short"].result
    assert "mutual_exclusion" in failure.message and "too short" in failure.message
    assert "Counterexample: safety property 'mutual_exclusion' violated after 6 steps" \
        in failure.text

    # SARIF, valid against the 2.1.0 schema, pointing at the property
    data = json.loads(sarif.read_text())
    jsonschema.validate(data, SCHEMA)
    results = data["runs"][0]["results"]
    spec_text = (cwd / "specs/examples/mutex_broken.pax").read_text().splitlines()
    errors = [r for r in results if r["level"] == "error"]
    assert {r["properties"]["item"] for r in errors} == {"too short", "mutex cannot fail"}
    short = next(r for r in errors if r["properties"]["item"] == "too short")
    loc = short["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "specs/examples/mutex_broken.pax"
    line = spec_text[loc["region"]["startLine"] - 1]
    assert "mutual_exclusion" in line[loc["region"]["startColumn"] - 1:]
    flow = short["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(flow) == 6   # one location per step, at the step's action
    for step in flow:
        where = step["location"]["physicalLocation"]["region"]
        assert spec_text[where["startLine"] - 1].lstrip().startswith("action ")
    # the expected violations are findings too, at level note
    notes = [r for r in results if r["level"] == "note"]
    assert {r["properties"]["item"] for r in notes} == {"models/examples/mutex_broken.toml"}


def test_cache_reuses_unchanged_and_reruns_changed(cwd, capsys):
    _project(cwd, GOOD)
    assert main(["test", "--jobs", "1"]) == 0
    capsys.readouterr()
    assert main(["test", "--jobs", "1"]) == 0
    assert "3 of 3 expectations met (3 cached" in capsys.readouterr().out
    spec = cwd / "specs/examples/counter.pax"
    spec.write_text(spec.read_text() + "\n# an edit\n")
    assert main(["test", "--jobs", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    cached = {i["name"]: i["cached"] for i in data["items"]}
    assert cached == {"models/examples/counter.toml": False,
                      "models/examples/mutex.toml": True,
                      "models/examples/mutex_broken.toml": True}
    assert main(["test", "--jobs", "1", "--no-cache", "--json"]) == 0
    assert not any(i["cached"] for i in json.loads(capsys.readouterr().out)["items"])


def test_select_by_path_and_list(cwd, capsys):
    _project(cwd, GOOD)
    assert main(["test", "--list", "models/examples/mutex_broken.toml"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "check   models/examples/mutex_broken.toml  [violates mutual_exclusion within 6 steps]"]
    assert main(["test", "nowhere.toml"]) == 2


def test_a_model_expect_table_that_disagrees_with_its_entry(cwd):
    _project(cwd, "[[check]]\nmodel = \"models/examples/mutex_broken.toml\"\n"
                  "violates = \"mutual_exclusion\"\nmax_steps = 5\n")
    shutil.copy(ROOT / "models/examples/mutex_broken.toml", cwd / "models/examples")
    (item,) = P.load(cwd / "paxcheck.toml").items
    out = run_item(item, cwd)
    assert not out.ok and out.verdict == "error"
    assert ("the project expects 'violates mutual_exclusion within 5 steps' but the model's "
            "[expect] says 'violates mutual_exclusion within 6 steps'") in out.message
    # under a glob, the model's own [expect] is the more specific: it applies
    (cwd / "paxcheck.toml").write_text("[[check]]\nmodels = [\"models/examples/mutex_*.toml\"]\n"
                                       "expect = \"holds\"\n")
    items = P.load(cwd / "paxcheck.toml").items
    assert [(i.name, run_item(i, cwd).ok) for i in items] == [
        ("models/examples/mutex_broken.toml", True)]


def test_models_without_project_file_use_their_expect_table(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "specs/examples", tmp_path / "specs/examples")
    shutil.copytree(ROOT / "models/examples", tmp_path / "models/examples")
    # models/examples/mutex_broken.toml has [expect] violates = "mutual_exclusion", max_steps 6
    assert main(["test", "--jobs", "1", "models/examples/mutex_broken.toml"]) == 0
    assert "1 of 1 expectations met" in capsys.readouterr().out
    # counter.toml states no expectation: an error, not a pass
    assert main(["test", "--jobs", "1", "models/examples/counter.toml"]) == 1
    assert "no expectation" in capsys.readouterr().out


def test_github_annotations_and_step_summary(cwd, capsys, monkeypatch):
    _project(cwd, WRONG)
    summary = cwd / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["test", "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("::error ")]
    assert len(errors) == 2
    assert errors[0].startswith("::error file=specs/examples/mutex_broken.pax,line=")
    assert "title=paxcheck%3A too short::" in errors[0]
    text = summary.read_text()
    assert "### paxcheck test: 3 of 5 expectations met, 2 not" in text
    assert "| :x: | check | `too short` |" in text


def test_project_file_errors_have_positions(cwd):
    _project(cwd, "[[check]]\nmodels = [\"models/examples/*.toml\"]\nexpct = \"holds\"\n")
    with pytest.raises(PaxError) as e:
        P.load(cwd / "paxcheck.toml")
    assert e.value.span is not None and (e.value.span.line, e.value.span.col) == (3, 1)
    assert "unknown key 'expct'" in e.value.message
    (cwd / "paxcheck.toml").write_text("[[check]]\nmodel = \"models/nope.toml\"\n")
    with pytest.raises(PaxError, match="file not found: models/nope.toml"):
        P.load(cwd / "paxcheck.toml")
    (cwd / "paxcheck.toml").write_text("[[check]]\nmodels = [\"x/*.toml\"]\n")
    with pytest.raises(PaxError, match="no file matches 'x/\\*.toml'"):
        P.load(cwd / "paxcheck.toml")
    (cwd / "paxcheck.toml").write_text(
        "[[check]]\nmodel = \"models/examples/mutex.toml\"\nexpect = \"holds\"\nmax_steps = 3\n")
    with pytest.raises(PaxError, match="max_steps bounds the trace of an expected violation"):
        P.load(cwd / "paxcheck.toml")
    (cwd / "paxcheck.toml").write_text(
        "[[mutate]]\nspec = \"specs/examples/mutex.pax\"\nmodel = \"models/examples/mutex.toml\"\n")
    with pytest.raises(PaxError, match="needs a score floor"):
        P.load(cwd / "paxcheck.toml")


def test_a_model_expectation_naming_an_unknown_property(cwd):
    _project(cwd, "[[check]]\nmodel = \"models/examples/mutex.toml\"\nviolates = \"nope\"\n")
    (item,) = P.load(cwd / "paxcheck.toml").items
    out = run_item(item, cwd)
    assert not out.ok and out.verdict == "error"
    assert "unknown property 'nope'" in out.message


def test_unfired_action_fails_unless_allowed(cwd, capsys):
    _project(cwd, "")
    spec = cwd / "specs/examples/mutex.pax"
    # an action whose guard is never true: every property still holds
    spec.write_text(spec.read_text() + "\naction never_enabled() {\n"
                    "  require false\n}\n")
    (cwd / "paxcheck.toml").write_text(
        "[[check]]\nmodel = \"models/examples/mutex.toml\"\nexpect = \"holds\"\n")
    assert main(["test", "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "action 'never_enabled' never fired" in out
    assert main(["check", "models/examples/mutex.toml"]) == 0
    captured = capsys.readouterr()
    assert "warning: action never_enabled never fired" in captured.err
    assert "never_enabled  0/1 fired, 0 transitions  (never fires)" in captured.out
    (cwd / "paxcheck.toml").write_text(
        "[[check]]\nmodel = \"models/examples/mutex.toml\"\nexpect = \"holds\"\n"
        "allow_unfired = [\"never_enabled\"]\n")
    assert main(["test", "--jobs", "1"]) == 0


def test_proof_expectations(cwd, capsys):
    (cwd / "specs").mkdir()
    for f in ("lockserv.pyv", "lockserv_unsafe.pyv"):
        shutil.copy(ROOT / "specs/mypyvy" / f, cwd / "specs" / f)
    (cwd / "paxcheck.toml").write_text(
        "[[prove]]\nspec = \"specs/lockserv.pyv\"\n\n"
        "[[prove]]\nspec = \"specs/lockserv_unsafe.pyv\"\nexpect = \"cti\"\n\n"
        "[[prove]]\nspec = \"specs/lockserv_unsafe.pyv\"\nname = \"unsafe proved?\"\n")
    assert main(["test", "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "2 of 3 expectations met, 1 not" in out
    assert "unsafe proved?: expected proved; expected proved, got cti" in out


def test_pytest_plugin_collects_the_project_file(cwd):
    _project(cwd, WRONG)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("GITHUB_ACTIONS", None)
    # the plugin is loaded through its entry point (pyproject.toml: pytest11)
    proc = subprocess.run([sys.executable, "-m", "pytest",
                           "-p", "no:cacheprovider", "paxcheck.toml", "-q"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 failed, 3 passed" in proc.stdout
    assert "too short: expected violates mutual_exclusion within 5 steps" in proc.stdout
    assert "Counterexample: safety property 'mutual_exclusion' violated after 6 steps" \
        in proc.stdout
