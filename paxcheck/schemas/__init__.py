"""JSON Schemas of paxcheck's files and outputs, shipped with the package:
`model` (a model file, read as TOML), `trace` (format paxcheck-trace),
`check-result` (`check --json`) and `test-result` (`test --json`). Editors
and CI scripts can validate against them; the test suite does."""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

NAMES = ("model", "trace", "check-result", "test-result")


def schema(name: str) -> dict[str, Any]:
    """The schema `name` (one of NAMES), as a dict."""
    if name not in NAMES:
        raise ValueError(f"unknown schema {name!r} (one of {', '.join(NAMES)})")
    data: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8"))
    return data
