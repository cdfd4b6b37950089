"""The retry schedule."""

from __future__ import annotations

import pytest

from viva.llm import CallLimits


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    limits = CallLimits(max_retries=4, backoff_base=1.0, backoff_max=3.0)

    delays = [limits.backoff(attempt) for attempt in range(1, 6)]

    assert delays[0] == pytest.approx(1.0, rel=0.11)
    assert delays[1] == pytest.approx(2.0, rel=0.11)
    assert all(2.7 <= delay <= 3.0 for delay in delays[2:4])  # type: ignore[operator]
    assert delays[4] is None


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    limits = CallLimits(backoff_base=0.1, backoff_max=5.0)

    assert limits.backoff(1, retry_after=4.0) == 4.0
    assert limits.backoff(1, retry_after=6.0) is None


def test_nonsense_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        CallLimits(timeout=0)
    with pytest.raises(ValueError):
        CallLimits(max_retries=-1)
