"""The cluster engine (search/cluster.py) on a local Ray cluster of 2
workers, held to the single-machine fast engine: the same distinct,
transition and depth figures on complete runs (a level-synchronous BFS
explores the same levels whatever the partition), the same violated
properties at the same shortest lengths, traces the reference evaluator
accepts, an incomplete result (never "holds") when a worker dies, and
`check --cluster` / `replay` end to end. Skipped when Ray is not installed
(`pip install '.[cluster]'`; .ci/run installs it)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from paxcheck.budget import StopReason  # noqa: E402
from paxcheck.config.model import load_model  # noqa: E402
from paxcheck.config.symmetry import Symmetry  # noqa: E402
from paxcheck.ground.ground import ground  # noqa: E402
from paxcheck.outcome import Verdict  # noqa: E402
from paxcheck.search.api import Checks, Limits, RunResult, run  # noqa: E402
from paxcheck.search.cluster import ClusterEngine, Partition, owner_of, parse_address  # noqa: E402
from paxcheck.traces import trace as T  # noqa: E402
from paxcheck.traces.replay import replay  # noqa: E402

# one xdist process runs them all, on one local cluster
pytestmark = pytest.mark.xdist_group("ray")
ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2

# complete under keep_going + deadlock (tests/test_fast.py's sizes): a
# holding model, violated invariants, a violated transition property, deadlocks
MODELS = [
    "models/paxos.toml",
    "models/flexible_paxos.toml",
    "models/paxos_commit_crash.toml",
    "models/two_phase_commit_crash.toml",
    "models/tcommit.toml",
    "models/broken/flexible_paxos_q2_q2.toml",
    "models/broken/multi_paxos_skip_phase1.toml",
    "models/broken/paxos_no_intersection_2of4.toml",
    "models/broken/paxos_vote_overwrites.toml",
]


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False,
             object_store_memory=256 * 2**20, configure_logging=False)
    yield
    ray.shutdown()


def _cluster(g, checks: Checks, limits: Limits = Limits(), symmetry=None,
             partition: type = Partition) -> RunResult:
    eng = ClusterEngine(g, f"local:{WORKERS}", symmetry, partition=partition)
    try:
        return eng.run(limits, checks)
    finally:
        eng.close()


def _validated(res: RunResult, m, tmp: Path) -> None:
    """Every violation and witness path, written as a trace file, passes
    `replay` (the reference evaluator, step by step)."""
    for i, v in enumerate(res.violations + res.witnesses):
        f = tmp / f"trace{i}.json"
        f.write_text(T.dumps(T.to_json(T.from_violation(res.ground, v), m.spec.file, m.path)))
        assert replay(f).ok, (v.kind, v.property)


def _summary(res: RunResult) -> tuple:
    return (res.stats.distinct, res.stats.transitions, res.stats.depth, res.complete,
            sorted((v.kind, v.property, v.length) for v in res.violations),
            sorted((v.property, v.length) for v in res.witnesses))


@pytest.mark.parametrize("path", MODELS)
def test_same_figures_and_verdicts_as_one_machine(path: str, tmp_path: Path) -> None:
    m = load_model(ROOT / path)
    g = ground(m.instances[0])
    checks = Checks(m.config.properties, deadlock=True, keep_going=True)
    one = run(g, Limits(), checks)
    many = _cluster(g, checks)
    assert many.complete == one.complete and many.stop is None
    assert _summary(many) == _summary(one)
    assert many.fired == one.fired
    _validated(many, m, tmp_path)


@pytest.mark.parametrize("path", ["models/broken/paxos_same_ballot.toml",
                                  "models/broken/paxos_unproposed_value.toml",
                                  "models/broken/multi_paxos_partial_recovery.toml"])
def test_first_violation_is_a_shortest_one(path: str, tmp_path: Path) -> None:
    """Stopping at the first violation: the same property at the same
    (shortest) length as one machine, a trace that replays, and the figures
    of the levels searched: the stop is at the end of the violating level,
    so they do not depend on the number of workers."""
    m = load_model(ROOT / path)
    g = ground(m.instances[0])
    checks = Checks(m.config.properties)
    one = run(g, Limits(), checks)
    many = _cluster(g, checks)
    assert many.verdict is one.verdict is Verdict.VIOLATED
    assert [(v.kind, v.property, v.length) for v in many.violations] == \
           [(v.kind, v.property, v.length) for v in one.violations]
    assert many.stats.depth == one.stats.depth
    assert many.stats.distinct >= one.stats.distinct
    _validated(many, m, tmp_path)
    eng = ClusterEngine(g, "local:1")
    try:
        alone = eng.run(Limits(), checks)
    finally:
        eng.close()
    assert (alone.stats.distinct, alone.stats.transitions) == \
           (many.stats.distinct, many.stats.transitions)
    assert alone.violations[0].states[-1] == many.violations[0].states[-1]


def test_symmetry_counts_orbits_like_one_machine() -> None:
    m = load_model(ROOT / "models/paxos_tla_b2.toml")
    inst = m.instances[0]
    g = ground(inst)
    sym = Symmetry.build(inst, g.layout, ["acceptor"], None)
    checks = Checks(m.config.properties, deadlock=True)
    one = run(g, Limits(), checks, symmetry=sym)
    many = _cluster(g, checks, symmetry=sym)
    assert one.stats.distinct < 185_369   # the orbits, not the states
    assert _summary(many) == _summary(one)


def test_state_limit_stops_incomplete() -> None:
    m = load_model(ROOT / "models/paxos.toml")
    g = ground(m.instances[0])
    res = _cluster(g, Checks(m.config.properties), Limits(max_states=1000))
    assert not res.complete and res.stop is not None
    assert res.stop.reason is StopReason.STATE_LIMIT
    assert res.verdict is not Verdict.HOLDS
    assert res.stats.distinct >= 1000


class DiesAtLevel3(Partition):
    """Worker 1 exits in the middle of the search."""

    def next_level(self) -> int:
        if self.me == 1 and len(self.levels) == 4:
            os._exit(1)
        return super().next_level()


def test_a_lost_worker_is_an_incomplete_run_never_holds() -> None:
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    m = load_model(ROOT / "models/paxos.toml")
    g = ground(m.instances[0])
    res = _cluster(g, Checks(m.config.properties), partition=DiesAtLevel3)
    assert not res.complete
    assert res.stop is not None and res.stop.reason is StopReason.WORKER_LOST
    assert res.verdict is not Verdict.HOLDS
    assert 0 < res.stats.distinct < 323_940


def test_routing_is_a_fixed_function_of_the_state() -> None:
    import numpy as np
    rows = np.arange(4000, dtype=np.uint64).reshape(-1, 2)
    a, b = owner_of(rows, 3), owner_of(rows.copy(), 3)
    assert (a == b).all() and set(a.tolist()) == {0, 1, 2}
    assert (owner_of(rows, 1) == 0).all()
    assert parse_address("local:4") == (None, 4)
    assert parse_address("ray://head:10001") == ("ray://head:10001", None)


def test_check_cluster_end_to_end_and_replay(tmp_path: Path) -> None:
    """`check --cluster local:2` in a process of its own (it starts its own
    local cluster), its trace re-validated by `paxcheck replay`."""
    out = tmp_path / "trace.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "paxcheck", "check",
                        "models/broken/paxos_same_ballot.toml", "--cluster", "local:2",
                        "--trace-out", str(out), "--no-progress"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stderr
    assert "on the cluster local:2" in p.stdout
    assert "agreement" in p.stdout
    r = subprocess.run([sys.executable, "-m", "paxcheck", "replay", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "trace valid" in r.stdout and "agreement" in r.stdout, \
        r.stdout + r.stderr
