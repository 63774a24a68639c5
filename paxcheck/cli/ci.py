"""`paxcheck test`: a project's expectations, run and reported."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from paxcheck.ci import project as P
from paxcheck.ci import reports
from paxcheck.ci.cache import Cache
from paxcheck.ci.runner import Outcome, run_all
from paxcheck.cli.options import write_output
from paxcheck.errors import PaxError
from paxcheck.outcome import EXIT_OK, EXIT_VIOLATED
from paxcheck.parallel import default_workers


def load_project(args: argparse.Namespace) -> tuple[P.Project, tuple[P.Item, ...]]:
    """The project (--config, else the nearest paxcheck.toml, else the
    given model files) and the items the command line selects."""
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.exists():
            raise PaxError(f"no such file or directory: {p}")
    config = Path(args.config) if args.config else P.find(Path.cwd())
    if args.config and not config.is_file():   # type: ignore[union-attr]
        raise PaxError(f"project file not found: {args.config}")
    if config is None:
        if not paths:
            raise PaxError(f"no {P.PROJECT_FILE} here or above, and no model given",
                           expected=f"a {P.PROJECT_FILE} (see README), --config FILE, or "
                                    "model files with an [expect] table")
        project = P.from_models(paths)
        items = project.items
    else:
        project = P.load(config)
        items = P.select(project, paths)
        if paths and not items:
            raise PaxError(f"nothing in {config} runs {', '.join(map(str, paths))}")
    if not args.slow:
        items = tuple(i for i in items if not i.slow)
    return project, items


def cmd_test(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    project, items = load_project(args)
    if args.list:
        for i in items:
            print(f"{i.kind:<7} {i.name}  [{i.expect.show() if i.expect else 'model [expect]'}]")
        return EXIT_OK
    jobs = args.jobs or default_workers()
    cache = None if args.no_cache else Cache(project.cache)
    quiet = args.json

    def done(o: Outcome) -> None:
        if not quiet:
            print(f"  {'ok  ' if o.ok else 'FAIL'} {o.name}"
                  f"{'  (cached)' if o.cached else f'  {o.seconds:.1f} s'}",
                  file=sys.stderr, flush=True)

    if not quiet:
        print(f"paxcheck test: {len(items)} item{'s' if len(items) != 1 else ''} from "
              f"{project.file or 'the given models'}, {jobs} job{'s' if jobs != 1 else ''}",
              file=sys.stderr, flush=True)
    outcomes = run_all(items, project.root, jobs, cache, done)
    seconds = time.monotonic() - t0
    if args.junit:
        write_output(args.junit, reports.junit(outcomes, seconds))
    if args.sarif:
        write_output(args.sarif, reports.dumps(reports.sarif(outcomes, project.root)))
    if args.json:
        print(reports.dumps(reports.to_json(outcomes, seconds)), end="")
    else:
        print(reports.table(outcomes), end="")
        for o in outcomes:
            if not o.ok:
                print(f"\n{o.name}: expected {o.expectation}; {o.message}")
                for f in o.findings:
                    if not f.expected and f.trace:
                        print(f.trace, end="")
        print(reports.summary_line(outcomes, seconds))
    if args.github or (args.github is None and reports.under_github()):
        print(reports.write_github(outcomes, seconds), end="")
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_VIOLATED
