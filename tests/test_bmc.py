"""Bounded model checking with Z3 against the explicit engine: the same
shortest violation depth, or no violation within the bound, on every model
(at the size the cross-check uses), and BMC traces replay."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.config.model import load_model
from paxcheck.smt.bmc import bmc
from paxcheck.traces import trace as T
from paxcheck.traces.replay import replay
from support.engines import Compiled, Mode, explore
from support.models import MODELS, sized_model

ROOT = Path(__file__).resolve().parent.parent
NO_VIOLATION_BOUND = 4  # depth searched by BMC when the explicit engine finds none


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT / "models")))
def test_bmc_agrees_with_explicit(path: Path, tmp_path: Path) -> None:
    model, _ = sized_model(path)
    props = model.config.properties
    for inst in model.instances:
        res = explore(Compiled(inst, props), Mode(deadlock=model.config.deadlock))
        if res.violations:
            depth = res.violations[0].length
            out = bmc(inst, props, depth, model.config.deadlock)
            assert out.trace is not None and out.trace.length == depth
            assert out.unknown is None
            # the BMC trace is a real run: replay it with the reference evaluator
            original = load_model(path).instances[0]
            if inst.label == "" and inst.elements == original.elements:
                f = tmp_path / "t.json"
                f.write_text(T.dumps(T.to_json(out.trace, model.spec.file, model.path)))
                assert replay(f).ok
            if depth > 0:  # and nothing shorter exists
                assert bmc(inst, props, depth - 1, model.config.deadlock).trace is None
            return
        bound = min(NO_VIOLATION_BOUND, res.stats.depth)
        out = bmc(inst, props, bound, model.config.deadlock)
        assert out.trace is None and out.depth_checked == bound and out.unknown is None


@pytest.mark.slow   # a minute of Z3; the random-spec fuzz checks BMC's depths by default
def test_bmc_finds_the_paxos_any_value_violation_at_14(capsys):
    model = "models/broken/paxos_any_value.toml"
    assert main(["bmc", str(ROOT / model), "--depth", "14", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    v = out["violation"]
    assert v["violation"] == {"kind": "invariant", "property": "agreement", "length": 14}


def test_bmc_cli_no_violation_within_bound(capsys):
    assert main(["bmc", str(ROOT / "models/paxos.toml"), "--depth", "3"]) == 0
    assert "Result: no violation within 3 steps" in capsys.readouterr().out
