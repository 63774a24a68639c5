"""Command line: paxcheck check | parse | prove | bmc | infer | replay | graph | mutate | minimize |
test.

Exit codes: 0 holds, 1 violated, 2 bad input, 3 incomplete (limit, timeout,
interrupt).

This module only builds the argument parser and dispatches: each command's
module (cli/explore.py, cli/smt.py) is imported when that command runs, so
a command pays for the imports it uses (`prove` never loads the explicit
engines, `check` never loads Z3's encoders)."""
from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from paxcheck import __version__
from paxcheck.budget import DEFAULT_RLIMIT
from paxcheck.cli.options import engine_option, memory, non_negative_int, positive_float, positive_int, workers_option
from paxcheck.errors import PaxError
from paxcheck.outcome import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its format short
        self.print_usage(sys.stderr)
        print(f"paxcheck: error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="paxcheck", description="Model checking for Paxos-family protocols.")
    ap.add_argument("--version", action="version", version=f"paxcheck {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="explore every reachable state of a bounded model")
    c.add_argument("model", help="a models/*.toml file")
    c.add_argument("--invariant", action="append", metavar="NAME", dest="properties",
                   help="check only this property (repeatable; default: the model's list)")
    c.add_argument("--liveness", action="append", metavar="NAME",
                   help="check this liveness property (repeatable; default: the model's list)")
    c.add_argument("--no-liveness", action="store_true", help="check safety only")
    c.add_argument("--fairness", action="append", metavar="NAME=KIND", default=[],
                   help="set a fairness assumption to weak, strong or off (repeatable; "
                        "overrides the model's [fairness])")
    c.add_argument("--max-states", type=positive_int, metavar="N")
    c.add_argument("--timeout", type=positive_float, metavar="S")
    c.add_argument("--deadlock", action="store_true", help="also report states with no successor")
    c.add_argument("--all", action="store_true", dest="keep_going",
                   help="keep exploring after a violation; report each violated property")
    c.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    c.add_argument("--trace-out", metavar="FILE", help="write the counterexample as JSON")
    c.add_argument("--emit", metavar="DIR",
                   help="write the counterexample into DIR: trace.json, trace.txt, "
                        "trace.itf.json (ITF) and msc.svg (message-sequence chart)")
    c.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    c.add_argument("--progress", action="store_true",
                   help="progress lines on stderr even when it is not a terminal")
    c.add_argument("--slice", action="store_true",
                   help="mark the steps of the printed trace the violation does not need")
    engine_option(c)
    workers_option(c)
    c.add_argument("--cluster", metavar="ADDRESS",
                   help="partition the search over the workers of a Ray cluster: its address, "
                        "or local:N to start a local cluster of N workers (pip install "
                        "'paxcheck[cluster]'); safety only")
    c.add_argument("--max-memory", type=memory, metavar="SIZE",
                   help="stop (exit 3, partial result) once the process uses more memory, "
                        "e.g. 2G or 512M")
    sym = c.add_mutually_exclusive_group()
    sym.add_argument("--symmetry", metavar="SORTS",
                     help="reduce by permutations of these sorts (comma-separated); "
                          "overrides the model's `symmetry`")
    sym.add_argument("--no-symmetry", action="store_true",
                     help="ignore the model's `symmetry` declaration")

    p = sub.add_parser("parse", help="parse and type-check a spec, print a summary")
    p.add_argument("spec")
    p.add_argument("--json", action="store_true")

    _add_smt_parsers(sub)
    _add_infer_parser(sub)
    _add_test_parser(sub)

    r = sub.add_parser("replay", help="re-validate a JSON trace against its spec and model")
    r.add_argument("trace")

    mn = sub.add_parser("minimize", help="the smallest configuration that still violates a "
                                         "property, with its shortest trace")
    mn.add_argument("model", help="a models/*.toml file")
    mn.add_argument("--invariant", action="append", metavar="NAME", dest="properties",
                    help="the property to minimize for (repeatable; default: the first one "
                         "the given model violates)")
    mn.add_argument("--max-states", type=positive_int, metavar="N",
                    help="state limit per configuration")
    mn.add_argument("--timeout", type=positive_float, metavar="S",
                    help="time limit per configuration")
    mn.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    # the fast engine: a configuration's kernel is compiled once per machine
    # (search/fast/llvm.compile_cached), so the many small ones cost little
    engine_option(mn)
    workers_option(mn)

    g = sub.add_parser("graph", help="export the reachable state graph (DOT or GraphML)")
    g.add_argument("model", help="a models/*.toml file")
    g.add_argument("--out", required=True, metavar="FILE")
    g.add_argument("--format", choices=("dot", "graphml"),
                   help="default: from the file extension (.graphml), else dot")
    g.add_argument("--max-states", type=positive_int, metavar="N",
                   help="refuse graphs with more states (default 10000)")
    g.add_argument("--invariant", action="append", metavar="NAME", dest="properties",
                   help="mark violations of this property only (repeatable)")
    engine_option(g, "python")
    workers_option(g)

    m = sub.add_parser("mutate", help="mutation testing: do the properties catch broken actions?")
    m.add_argument("spec")
    m.add_argument("--model", required=True, metavar="MODEL.toml",
                   help="sorts, interpretations and properties to check the mutants with")
    m.add_argument("--max-states", type=positive_int, metavar="N",
                   help="state budget per mutant (default 1000000)")
    m.add_argument("--timeout", type=positive_float, metavar="S",
                   help="time budget per mutant in seconds (default 60)")
    m.add_argument("--workers", type=positive_int, metavar="N",
                   help="parallel processes (default: the number of cores)")
    m.add_argument("--invariant", action="append", metavar="NAME", dest="properties",
                   help="kill mutants with these properties only (repeatable; default: the "
                        "model's list)")
    m.add_argument("--operator", action="append", metavar="OP", dest="operators",
                   help="only these mutation operators (repeatable)")
    m.add_argument("--fail-under", type=float, metavar="SCORE",
                   help="exit 1 when the mutation score is below SCORE (0 to 1)")
    m.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    shown = m.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true",
                       help="progress lines on stderr even when it is not a terminal (CI logs)")
    shown.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    engine_option(m)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see outcome.py)."""
    args = _build_parser().parse_args(argv)
    try:
        code = _dispatch(args)
        sys.stdout.flush()   # a closed pipe shows here, not at the interpreter's exit
        return code
    except PaxError as err:
        _write_err(err.render())
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # outside a search loop, which reports its own partial result
        _write_err("paxcheck: interrupted")
        return EXIT_INCOMPLETE
    except BrokenPipeError:
        # the reader went away (`paxcheck parse X | head`): stop quietly, and
        # point stdout at /dev/null so that Python's exit flush cannot fail
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def entry() -> NoReturn:
    """The `paxcheck` program: `main`, then an exit that skips the
    interpreter's garbage collections at shutdown. Those traverse every
    object the run made (the grounded spec, numba's and llvmlite's
    structures) several times over, a quarter of a small check's
    whole-process time, only to free memory the process is about to
    return anyway (benchmarks/bench_ci.py). `gc.freeze()` moves them
    where no collection looks; atexit handlers and flushing still run. Not
    in `main`, which tests and the pytest plugin call in one long process."""
    code = main()
    gc.freeze()
    sys.exit(code)


def _write_err(text: str) -> None:
    try:
        print(text, file=sys.stderr)
    except (BrokenPipeError, OSError):
        pass


def _add_smt_parsers(sub) -> None:
    """The `prove` and `bmc` subcommands."""
    p = sub.add_parser("prove", help="prove the spec's invariants inductive with Z3")
    p.add_argument("spec")
    p.add_argument("--model", metavar="MODEL.toml",
                   help="prove for this bounded instance only (default: every size)")
    p.add_argument("--rlimit", type=positive_int, default=DEFAULT_RLIMIT, metavar="UNITS",
                   help="Z3 resource units per proof obligation, the same on every machine "
                        f"(default {DEFAULT_RLIMIT:,})")
    p.add_argument("--timeout", type=positive_float, default=None, metavar="S",
                   help="seconds for the whole run, a safety net: what is left when it "
                        "fires is unknown (default: none)")
    p.add_argument("--without", action="append", default=[], metavar="NAME",
                   help="leave this invariant out of the candidate invariant (repeatable)")
    p.add_argument("--no-minimize", action="store_true", help="print CTIs as Z3 found them")
    p.add_argument("--json", action="store_true")

    b = sub.add_parser("bmc", help="bounded model checking with Z3 up to a depth")
    b.add_argument("model")
    b.add_argument("--depth", type=non_negative_int, required=True, metavar="K")
    b.add_argument("--invariant", action="append", dest="properties", metavar="NAME")
    b.add_argument("--deadlock", action="store_true")
    b.add_argument("--timeout", type=positive_float, default=None, metavar="S")
    b.add_argument("--json", action="store_true")
    b.add_argument("--trace-out", metavar="FILE")


def _add_infer_parser(sub) -> None:
    i = sub.add_parser("infer", help="find auxiliary invariants that prove the safety "
                                     "properties for every size")
    i.add_argument("spec")
    i.add_argument("--model", action="append", default=[], metavar="MODEL.toml",
                   help="a small model of the spec whose reachable states the candidates "
                        "are learnt from (repeatable; default: the models of this spec in "
                        "the models/ folder beside the spec's folder)")
    i.add_argument("--ignore-invariants", action="store_true",
                   help="start from the safety properties alone: the spec's own invariant "
                        "declarations are neither candidates nor kept")
    i.add_argument("--max-vars", type=positive_int, default=5, metavar="N",
                   help="variables per candidate at most (default 5)")
    i.add_argument("--max-literals", type=positive_int, default=3, metavar="N",
                   help="literals per candidate clause at most (default 3)")
    i.add_argument("--workers", type=positive_int, metavar="N",
                   help="processes that mine candidates (default: every core; the "
                        "candidates are the same for any N)")
    i.add_argument("--long-vars", type=non_negative_int, default=4, metavar="N",
                   help="templates of at most N variables get one literal more "
                        "(default 4; 0: none)")
    i.add_argument("--max-states", type=positive_int, default=20_000, metavar="N",
                   help="states read per instance and template (evenly spaced; default 20,000)")
    i.add_argument("--wide-states", type=non_negative_int, default=3_000_000, metavar="N",
                   help="states explored (breadth first) of each wider instance, two more "
                        "elements of each sort an axiom quantifies existentially (the "
                        "nodes of a quorum system), and apart of each ordered sort, whose "
                        "deepest states a chosen candidate must hold on too "
                        "(default 3,000,000; 0: none)")
    i.add_argument("--model-states", type=positive_int, default=3_000_000, metavar="N",
                   help="states explored of each model; a larger one is read from its "
                        "first N, breadth first (default 3,000,000)")
    i.add_argument("--rlimit", type=positive_int, default=DEFAULT_RLIMIT, metavar="UNITS",
                   help=f"Z3 resource units per query (default {DEFAULT_RLIMIT:,})")
    i.add_argument("--timeout", type=positive_float, default=None, metavar="S",
                   help="seconds for the whole run, a safety net (default: none)")
    i.add_argument("--out", metavar="FILE", help="write the spec with the invariants added")
    i.add_argument("--json", action="store_true")


def _add_test_parser(sub) -> None:
    t = sub.add_parser("test", help="run a project's expected verdicts (paxcheck.toml) for CI")
    t.add_argument("paths", nargs="*", metavar="PATH",
                   help="only the entries for these files or folders (without a project "
                        "file: model files with an [expect] table)")
    t.add_argument("--config", metavar="FILE",
                   help="the project file (default: paxcheck.toml here or above)")
    t.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    t.add_argument("--sarif", metavar="FILE", help="write a SARIF 2.1.0 report")
    t.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    t.add_argument("--github", action="store_true", default=None,
                   help="GitHub annotations and step summary (default: when GITHUB_ACTIONS "
                        "is set)")
    t.add_argument("--no-cache", action="store_true",
                   help="run every entry, even those whose inputs have not changed")
    t.add_argument("--jobs", type=positive_int, metavar="N",
                   help="entries run in parallel (default: the number of cores)")
    t.add_argument("--slow", action="store_true", help="also run entries marked slow")
    t.add_argument("--list", action="store_true", help="list the entries and exit")


def _dispatch(args: argparse.Namespace) -> int:
    """Run one subcommand."""
    if args.command == "test":
        from paxcheck.cli import ci
        return ci.cmd_test(args)
    if args.command == "infer":
        from paxcheck.cli import infer
        return infer.cmd_infer(args)
    if args.command in ("prove", "bmc"):
        from paxcheck.cli import smt
        return smt.cmd_prove(args) if args.command == "prove" else smt.cmd_bmc(args)
    from paxcheck.cli import explore
    command = {"check": explore.cmd_check, "parse": explore.cmd_parse, "graph": explore.cmd_graph,
               "mutate": explore.cmd_mutate, "minimize": explore.cmd_minimize,
               "replay": explore.cmd_replay}[args.command]
    return command(args)
