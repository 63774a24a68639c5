"""The memory side of the limits (budget.py): the default limit without
--max-memory, and the early forecast that a search's next level will not
fit, on hand-computed figures."""
from __future__ import annotations

import os

from paxcheck import budget
from paxcheck.budget import Limits


def test_without_max_memory_the_limit_is_a_share_of_the_machine() -> None:
    phys = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert budget.memory_limit(Limits()) == int(budget.MACHINE_SHARE * phys)
    assert budget.memory_limit(Limits(max_memory=123)) == 123


def test_a_tiny_default_share_stops_a_search_with_a_memory_stop(monkeypatch) -> None:
    monkeypatch.setattr(budget, "MACHINE_SHARE", 1e-9)
    stop = budget.over_limit(Limits(), None, 0.0)
    assert stop is not None and stop.reason is budget.StopReason.MEMORY
    assert "of this machine's memory" in stop.text


def test_forecast_of_a_growing_level() -> None:
    # levels of 1, 2 and 6 states: growth 3x, so about 6 * 3 = 18 states
    # next; 900 bytes of store for 9 states is 100 bytes a state: 1,800
    # bytes more on top of an RSS of 1,000
    levels = [0, 1, 3, 9]
    text = budget.memory_forecast(levels, 900, 1000, 2000)
    assert text is not None
    assert "grow 3.00x" in text and "about 18 states at 100.0 bytes each" in text
    assert budget.memory_forecast(levels, 900, 1000, 2800) is None   # exactly fits
    assert budget.memory_forecast(levels, 900, 1000, 2799) is not None


def test_no_forecast_once_levels_stop_growing_or_too_early() -> None:
    assert budget.memory_forecast([0, 1, 5, 7], 10**9, 10**9, 1) is None   # 4 then 2
    assert budget.memory_forecast([0, 1, 5, 9], 10**9, 10**9, 1) is None   # 4 then 4
    assert budget.memory_forecast([0, 1], 10**9, 10**9, 1) is None


def test_process_age_counts_from_the_process_start() -> None:
    """Seconds since this process started: positive, and advancing with
    the clock."""
    import time

    first = budget.process_age()
    assert first is not None and first > 0
    time.sleep(0.05)
    later = budget.process_age()
    assert later is not None and 0.04 <= later - first < 5
