"""mypyvy's `.pyv` as a front end: its own Paxos-family examples (copied
unchanged into specs/mypyvy/) are proved for every size with exactly the
checks mypyvy makes; a deleted invariant gives a CTI the reference evaluator
confirms; what paxcheck does not read is an error at its position."""
from __future__ import annotations

from pathlib import Path

import pytest

from paxcheck.cli import main
from paxcheck.errors import PaxError
from paxcheck.lang.pyv import translate_text
from paxcheck.lang.typecheck import check_module, load_spec
from paxcheck.smt.prove import prove, validate_cti

ROOT = Path(__file__).resolve().parent.parent
MYPYVY = ROOT / "specs" / "mypyvy"
TIMEOUT = 300.0

# mypyvy checks each invariant (safety included) once at init and once per
# transition: invariants x (1 + transitions). The counts of `invariant` and
# `safety` declarations and of transitions are read off the files.
COUNTS = {
    "paxos_epr": 6 * (1 + 5),
    "flexible_paxos_epr": 6 * (1 + 5),
    "multi_paxos_epr": 8 * (1 + 6),
    "fast_paxos_epr": 12 * (1 + 9),
    "stoppable_paxos_epr": 18 * (1 + 6),
    "lockserv": 9 * (1 + 5),
    "sharded_kv": 5 * (1 + 3),
    "consensus_epr": 7 * (1 + 5),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_mypyvy_example_proved_for_every_size(name):
    spec = load_spec(MYPYVY / f"{name}.pyv")
    res = prove(spec, timeout=TIMEOUT)
    assert res.status == "proved", [(o.name, o.verdict, o.reason) for o in res.obligations
                                    if o.verdict != "proved"]
    assert res.mode == "unbounded"
    assert len(res.obligations) == COUNTS[name]
    assert {o.verdict for o in res.obligations} == {"proved"}
    # every obligation of these models is in EPR, as mypyvy requires
    assert all(o.epr for o in res.obligations)


def test_mypyvys_unsafe_sharded_kv_gives_its_cti():
    """misc/pd/sharded-kv_unsafe.pyv: reshard keeps the entry it sends away,
    so the key is both in a table and in flight."""
    res = prove(load_spec(MYPYVY / "sharded_kv_unsafe.pyv"), timeout=TIMEOUT)
    ctis = [o for o in res.obligations if o.verdict == "cti"]
    assert res.status == "cti" and [o.name for o in ctis] == ["reshard -> invariant_line39"]
    assert validate_cti(res.spec, ctis[0].cti, res.invariants) is None


FRAME = ("sort node\nsort key\nmutable relation t(node, key)\ninit !t(N, K)\n"
         "transition put(n: node, k: key)\n  modifies t\n"
         "  (forall N, K. !(N = n & K = k) -> (new(t(N, K)) <-> t(N, K)))")


def _put(text: str):
    spec = check_module(translate_text(text, "f.pyv").module)
    (action,) = spec.actions
    return action.body


def test_a_frame_with_an_update_at_its_open_points_is_an_assignment_there():
    from paxcheck.lang import ir
    (st,) = _put(FRAME + " &\n  new(t(n, k))\nsafety true\n")
    assert isinstance(st, ir.Assign) and st.symbol == "t"
    assert [type(a).__name__ for a in st.args] == ["Var", "Var"]
    assert [a.name for a in st.args] == ["n", "k"] and st.bound == ()


def test_a_frame_alone_leaves_its_open_points_free():
    from paxcheck.lang import ir
    (st,) = _put(FRAME + "\nsafety true\n")
    assert isinstance(st, ir.Havoc) and [a.name for a in st.args] == ["n", "k"]


def test_an_update_outside_a_frames_open_points_is_an_error():
    with pytest.raises(PaxError) as exc:
        _put(FRAME + " &\n  (forall K. new(t(n, K)))\nsafety true\n")
    assert "where its frame condition does not leave it open" in str(exc.value)
    assert (exc.value.span.line, exc.value.span.col) == (8, 4)


def _without_line(text: str, needle: str) -> str:
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if needle in line]
    assert len(hits) == 1, needle
    del lines[hits[0]]
    return "".join(lines)


def test_deleting_an_invariant_gives_a_validated_cti():
    text = (MYPYVY / "paxos_epr.pyv").read_text()
    # without `vote -> proposal` the choosable invariant breaks under cast_vote
    # ... or the safety property does: either way not inductive
    cut = _without_line(text, "invariant vote(N,R,V) -> proposal(R,V)")
    spec = check_module(translate_text(cut, "paxos_cut.pyv").module)
    res = prove(spec, timeout=TIMEOUT)
    assert res.status == "cti"
    ctis = [o for o in res.obligations if o.verdict == "cti"]
    assert ctis
    for o in ctis:
        assert o.cti is not None
        assert validate_cti(res.spec, o.cti, res.invariants) is None, o.name


def test_unnamed_declarations_get_their_line_as_name():
    spec = load_spec(MYPYVY / "paxos_epr.pyv")
    names = [p.name for p in spec.properties]
    assert "safety_line82" in names and "invariant_line85" in names
    assert len(names) == 6


def test_cli_proves_a_pyv_file(capsys):
    assert main(["prove", str(MYPYVY / "lockserv.pyv")]) == 0
    out = capsys.readouterr().out
    assert "PROVED" in out and "54 obligations" in out


HEADER = "sort node\nsort round\nimmutable relation le(round, round)\nmutable relation r(node)\n"


@pytest.mark.parametrize("body, where, what", [
    ("derived relation d(node): r(N)\n", (5, 1), "derived"),
    ("mutable constant c: int\n", (5, 21), "int"),
    ("init r(N) & le(N, N)\n", (5, 16), "sorts node and round"),
    ("transition t()\n  modifies r\n  new(r(N)) <-> r(N) | r(N)\nsafety r(M)\n"
     "transition u()\n  modifies r\n  exists N. new(r(N))\n", None, "new"),
])
def test_unsupported_or_ill_sorted_input_is_an_error_at_its_position(body, where, what):
    with pytest.raises(PaxError) as exc:
        check_module(translate_text(HEADER + body, "t.pyv").module)
    err = exc.value
    assert what in str(err)
    if where is not None:
        assert (err.span.line, err.span.col) == where, str(err)


def test_cli_error_on_a_pyv_file_has_position_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.pyv"
    bad.write_text(HEADER + "derived relation d(node): r(N)\n")
    assert main(["prove", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.pyv:5:1" in err and "Traceback" not in err


def test_traces_are_read_and_reported_as_notes():
    text = HEADER + "init !r(N)\ntransition t(n: node)\n  modifies r\n  new(r(N)) <-> r(N) | N = n\n" \
        "sat trace {\n  t\n  t\n}\nsafety r(N) | !r(N)\n"
    mod = translate_text(text, "t.pyv")
    assert any("trace" in n for n in mod.notes)
    spec = check_module(mod.module)
    assert prove(spec, timeout=TIMEOUT).status == "proved"


def test_cli_lists_what_it_did_not_check(tmp_path, capsys):
    f = tmp_path / "t.pyv"
    f.write_text(HEADER + "init !r(N)\ntransition t(n: node)\n  modifies r\n  new(r(N)) <-> r(N) | N = n\n"
                 "sat trace {\n  t\n}\nsafety r(N) | !r(N)\n")
    assert main(["prove", str(f)]) == 0
    out = capsys.readouterr().out
    assert f"note:       {f}:9:1: sat trace not checked" in out


def test_cti_prints_immutables_as_atoms(capsys):
    import re
    code = main(["prove", str(MYPYVY / "paxos_epr.pyv"), "--without", "invariant_line88"])
    out = capsys.readouterr().out
    assert code == 1
    assert "  immutable:\n" in out
    # relations as atoms, the constant as an equation: never Python lists
    assert re.search(r"^    none = round\d$", out, re.M)
    assert re.search(r"le\(round\d, round\d\)", out) and "member(node0, quorum0)" in out
    assert "[['" not in out


# lockserv with 2 nodes, derived: the lock token is at the server, or in a
# grant, a holder or an unlock message of one of the 2 nodes (1 + 3 * 2 = 7
# places), and each node independently may have a lock request pending
# (send_lock is always enabled): 7 * 4 = 28 states. Transitions: 2
# send_lock per state, plus the token's moves: recv_lock(n) for each pending
# request when the server holds it (over the 4 request sets: 0+1+1+2 = 4),
# one move from each of the other 24 states: 56 + 4 + 24 = 84. Depth 6: the
# token in n's unlock message takes 4 steps from n's first request, and the
# pending set {both} 2 more sends.
@pytest.mark.parametrize("engine", ["python", "fast", "reference"])
def test_check_runs_a_pyv_spec_through_a_model(engine, capsys):
    import json
    assert main(["check", str(ROOT / "models" / "mypyvy" / "lockserv.toml"), "--json",
                 "--engine", engine]) == 0
    inst = json.loads(capsys.readouterr().out)["instances"][0]
    assert (inst["distinct_states"], inst["transitions"], inst["depth"]) == (28, 84, 6)


def test_check_finds_a_broken_pyv_variant(tmp_path, capsys):
    import json
    text = (MYPYVY / "lockserv.pyv").read_text()
    # the server grants without holding the lock
    broken = text.replace("  server_holds_lock &\n  lock_msg(n) &", "  lock_msg(n) &", 1)
    assert broken != text
    (tmp_path / "lockserv_bad.pyv").write_text(broken)
    (tmp_path / "m.toml").write_text('spec = "lockserv_bad.pyv"\n[sorts]\nnode = 2\n')
    assert main(["check", str(tmp_path / "m.toml"), "--json"]) == 1
    v = json.loads(capsys.readouterr().out)["violations"]
    # first violation found: both nodes request, both are granted, and both
    # receive their grants: 6 steps to two holders. An auxiliary invariant
    # may break earlier: whichever it is, the trace is a shortest one
    assert v and len(v[0]["steps"]) <= 6
    assert main(["check", str(tmp_path / "m.toml"), "--json", "--invariant", "mutex"]) == 1
    v = json.loads(capsys.readouterr().out)["violations"]
    assert v[0]["violation"]["property"] == "mutex" and len(v[0]["steps"]) == 6
    assert [s["action"] for s in v[0]["steps"]].count("recv_grant") == 2


def test_a_modified_symbol_nothing_defines_may_take_any_value():
    # mypyvy: `modifies r` with no constraint on new(r) lets r change freely,
    # so `r` stays false is not inductive; keeping r unchanged would prove it
    text = ("sort node\nmutable relation r(node)\nmutable relation s(node)\ninit !r(N)\ninit !s(N)\n"
            "transition t(n: node)\n  modifies r, s\n  new(s(N)) <-> s(N) | N = n\nsafety !r(N)\n")
    res = prove(check_module(translate_text(text, "t.pyv").module), timeout=TIMEOUT)
    assert res.status == "cti"
    (ob,) = [o for o in res.obligations if o.verdict == "cti"]
    assert ob.name == "t -> safety_line9"
    assert validate_cti(res.spec, ob.cti, res.invariants) is None


def test_mypyvys_own_unsafe_lockserv_gives_its_cti():
    """examples/misc/pd/lockserv_unsafe.pyv: recv_unlock forgets to consume
    the unlock message, so the server can hold the lock while the message is
    still in flight. mypyvy reports it; paxcheck gives the one-node CTI."""
    spec = load_spec(MYPYVY / "lockserv_unsafe.pyv")
    res = prove(spec, timeout=TIMEOUT)
    assert res.status == "cti"
    ctis = [o for o in res.obligations if o.verdict == "cti"]
    assert [o.name for o in ctis] == ["recv_unlock -> invariant_line118"]
    cti = ctis[0].cti
    assert validate_cti(res.spec, cti, res.invariants) is None
    assert cti.instance.describe().startswith("node=1")
