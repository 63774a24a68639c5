"""The JSON Schemas shipped in paxcheck/schemas/ describe what paxcheck
reads and writes: every model file of the repository, every committed
trace, and the JSON of `check` and `test` validate against them, and
malformed ones do not."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from paxcheck.cli import main
from paxcheck.schemas import NAMES, schema

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = Registry().with_resources(
    (schema(n)["$id"], Resource.from_contents(schema(n))) for n in NAMES)


def validator(name: str) -> jsonschema.Draft202012Validator:
    s = schema(name)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s, registry=REGISTRY)


MODELS = sorted((ROOT / "models").rglob("*.toml"))
TRACES = sorted((ROOT / "counterexamples").rglob("trace.json"))


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_model_file_validates(path):
    validator("model").validate(tomllib.loads(path.read_text()))


@pytest.mark.parametrize("path", TRACES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_committed_trace_validates(path):
    validator("trace").validate(json.loads(path.read_text()))


def test_schemas_reject_what_paxcheck_rejects():
    model = validator("model")
    assert not model.is_valid({"spec": "x.pax", "sorts": {"node": 0}})
    assert not model.is_valid({"spec": "x.pax", "chekc": {}})
    assert not model.is_valid({"sorts": {"node": 3}})
    trace = json.loads((ROOT / "counterexamples/paxos_any_value/trace.json").read_text())
    assert not validator("trace").is_valid({**trace, "violation": {**trace["violation"],
                                                                   "kind": "bogus"}})
    assert not validator("trace").is_valid({**trace, "version": 2})   # no loop


@pytest.mark.parametrize("model, code", [("models/examples/counter.toml", 0),
                                         ("models/examples/mutex_broken.toml", 1),
                                         ("models/examples/turns.toml", 1)])
def test_check_json_validates(model, code, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["check", model, "--json"]) == code
    validator("check-result").validate(json.loads(capsys.readouterr().out))


def test_test_json_validates(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = tmp_path / "p.toml"
    # the project file's paths are relative to it: name the repository's files
    cfg.write_text(f'[test]\ncache = "{tmp_path}/c"\n[[check]]\n'
                   f'model = "{ROOT}/models/examples/mutex_broken.toml"\n'
                   f'[[check]]\nmodel = "{ROOT}/models/examples/counter.toml"\n'
                   'expect = "holds"\n')
    assert main(["test", "--config", str(cfg), "--json", "--jobs", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    validator("test-result").validate(out)
    assert [i["ok"] for i in out["items"]] == [True, True]
