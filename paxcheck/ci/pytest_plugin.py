"""pytest plugin (entry point `pytest11`): pytest collects a project file,
`paxcheck.toml`, as one test item per entry, so `pytest paxcheck.toml` (or
a pytest run over a folder holding one) checks the project's expected
verdicts beside its other tests, and a failure shows the counterexample.

Entries marked `slow` are skipped unless `--paxcheck-slow` is given;
`--paxcheck-no-cache` reruns entries whose inputs have not changed."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paxcheck.ci import project as P
from paxcheck.ci.runner import Outcome, run_item
from paxcheck.errors import PaxError


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("paxcheck")
    group.addoption("--paxcheck-slow", action="store_true",
                    help="also run paxcheck.toml entries marked slow")
    group.addoption("--paxcheck-no-cache", action="store_true",
                    help="rerun paxcheck.toml entries whose inputs have not changed")


def pytest_collect_file(file_path: Path, parent: Any) -> Any:
    if file_path.name == P.PROJECT_FILE:
        return ProjectFile.from_parent(parent, path=file_path)
    return None


class ExpectationFailed(Exception):
    """An entry's outcome did not meet its expectation."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


class ProjectFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            project = P.load(Path(self.path))
        except PaxError as err:
            raise self.CollectError(err.render()) from None
        for item in project.items:
            yield EntryItem.from_parent(self, name=f"{item.kind}:{item.name}", entry=item,
                                        root=project.root, cache_dir=project.cache)


class EntryItem(pytest.Item):
    def __init__(self, *, entry: P.Item, root: Path, cache_dir: Path, **kw: Any) -> None:
        super().__init__(**kw)
        self.entry, self.root, self.cache_dir = entry, root, cache_dir
        if entry.slow:
            self.add_marker(pytest.mark.slow)

    def runtest(self) -> None:
        if self.entry.slow and not self.config.getoption("paxcheck_slow"):
            pytest.skip("marked slow in paxcheck.toml (--paxcheck-slow runs it)")
        from paxcheck.ci.cache import Cache
        cache = None if self.config.getoption("paxcheck_no_cache") else Cache(self.cache_dir)
        out = cache.get(self.entry, self.root) if cache is not None else None
        if out is None:
            out = run_item(self.entry, self.root)
            if cache is not None:
                cache.put(self.entry, out)
        if not out.ok:
            raise ExpectationFailed(out)

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, ExpectationFailed):
            o = excinfo.value.outcome
            traces = "".join("\n" + f.trace for f in o.findings if not f.expected and f.trace)
            return (f"{o.name}: expected {o.expectation}\n  result: {o.message}\n"
                    + "".join(f"  {f.at.file}:{f.at.line}:{f.at.col}: {f.message}\n"
                              for f in o.findings if not f.expected) + traces)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, 0, f"paxcheck {self.entry.kind}: {self.entry.name}"
