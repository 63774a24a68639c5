"""Shared fixtures and the `slow` tier: tests marked slow run only with
PAXCHECK_SLOW=1 (or when selected with `-m slow`), so the default run stays
within CI's budget. Shared helpers live in tests/support/, never in another
test file."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PAXCHECK_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: set PAXCHECK_SLOW=1 or select with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
