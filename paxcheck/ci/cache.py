"""The result cache of `paxcheck test`: an item whose inputs are unchanged
is not run again.

An entry is keyed by the item (kind, paths, expectation, options) and by
paxcheck itself: its version and a digest of its own source, so that a
checkout with changed code never reuses a verdict the old code gave. The
entry records the digest of every file the run read (model, spec), and is
used only while each still matches: a run's dependencies are known only
after it ran (a model names its spec), so they are checked on the way out
rather than folded into the key."""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from paxcheck import __version__
from paxcheck.ci.project import Item
from paxcheck.ci.runner import Outcome, digest

FORMAT = 1


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of paxcheck's own source (every .py and .lark file)."""
    h = hashlib.sha256(__version__.encode())
    pkg = Path(__file__).resolve().parent.parent
    for f in sorted(pkg.rglob("*")):
        if f.suffix in (".py", ".lark") and "__pycache__" not in f.parts:
            h.update(f.relative_to(pkg).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


class Cache:
    """Outcomes on disk under `directory`, one JSON file per item."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def _file(self, item: Item) -> Path:
        key = json.dumps({"format": FORMAT, "code": code_digest(), "item": item.key()},
                         sort_keys=True)
        return self.dir / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def get(self, item: Item, root: Path) -> Outcome | None:
        f = self._file(item)
        try:
            data = json.loads(f.read_text())
            out = Outcome.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        for path, want in out.inputs.items():
            try:
                if digest(root / path) != want:
                    return None
            except OSError:
                return None
        out.cached = True
        out.name = item.name   # the name may have changed; the run did not
        return out

    def put(self, item: Item, out: Outcome) -> None:
        if out.verdict in ("error", "incomplete", "unknown") or not out.inputs:
            # bad input is re-read every time (its message is cheap), and an
            # undecided run may have been stopped by the wall clock
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self._file(item).with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(out.to_json()))
            os.replace(tmp, self._file(item))
        except OSError:
            pass   # a read-only checkout: run without a cache
