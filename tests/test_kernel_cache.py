"""The fast engine's kernel cache (search/fast/llvm.compile_cached): a
kernel compiled once is loaded from its object file the next time, runs
the same, and a damaged or unwritable cache only costs a compile."""
from __future__ import annotations

from pathlib import Path

import pytest

from paxcheck.config.model import load_model
from paxcheck.ground.ground import ground
from paxcheck.search.api import Checks, Limits, run
from paxcheck.search.fast import llvm

ROOT = Path(__file__).resolve().parent.parent


def _run(model: str) -> tuple:
    m = load_model(ROOT / model)
    res = run(ground(m.instances[0]), Limits(), Checks(m.config.properties), engine="fast")
    return (res.stats.distinct, res.stats.transitions, res.stats.depth,
            [(v.property, v.steps) for v in res.violations], res.fired)


@pytest.mark.parametrize("model, figures", [
    ("models/examples/counter.toml", (16, 28, 7)),
    ("models/broken/paxos_any_value.toml", None),
])
def test_a_cached_kernel_runs_like_a_fresh_one(model, figures, tmp_path, monkeypatch):
    monkeypatch.setenv("PAXCHECK_KERNEL_CACHE", "off")
    fresh = _run(model)
    if figures is not None:
        assert fresh[:3] == figures
    cache = tmp_path / "kernels"
    monkeypatch.setenv("PAXCHECK_KERNEL_CACHE", str(cache))
    assert _run(model) == fresh           # compiled, then stored
    objects = sorted(cache.glob("*.o"))
    assert len(objects) == 1
    stamp = objects[0].stat().st_mtime_ns
    assert _run(model) == fresh           # loaded from the object file
    assert objects[0].stat().st_mtime_ns == stamp
    objects[0].write_bytes(b"not an object file")
    assert _run(model) == fresh           # damaged: compiled again, and replaced
    assert objects[0].read_bytes() != b"not an object file"


def test_the_key_follows_the_kernel(monkeypatch):
    t = {"a": llvm.Table((1, 2), 1, False)}
    sig = {"f": ((llvm.INT,), "int")}
    k = llvm._key("def f(x):\n    return x\n", 1, t, sig, 1)
    assert k == llvm._key("def f(x):\n    return x\n", 1, t, sig, 1)
    assert k != llvm._key("def f(x):\n    return x + 1\n", 1, t, sig, 1)
    assert k != llvm._key("def f(x):\n    return x\n", 1, {"a": llvm.Table((1, 3), 1, False)},
                          sig, 1)
    assert k != llvm._key("def f(x):\n    return x\n", 1, t, sig, 2)


def test_an_unwritable_cache_is_ignored(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("PAXCHECK_KERNEL_CACHE", str(blocker / "kernels"))
    assert _run("models/examples/counter.toml")[:3] == (16, 28, 7)
    monkeypatch.setenv("PAXCHECK_KERNEL_CACHE", "off")
    assert llvm.cache_dir() is None
