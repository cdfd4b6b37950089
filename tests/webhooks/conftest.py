from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.webhooks.receiver import Receiver, serve
from viva.kit import clock


class FrozenClock:
    """viva.kit.clock fixed at a moment the test moves forward by hand."""

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        self.now = at
        clock.freeze(at)

    def advance(self, **delta: float) -> datetime:
        self.set(self.now + timedelta(**delta))
        return self.now


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    """The clock frozen at the real current time; unfrozen after the test."""
    try:
        yield FrozenClock(clock.now().replace(microsecond=0))
    finally:
        clock.freeze(None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback webhook receiver answering 200 unless the test says otherwise."""
    with serve(Receiver()) as running:
        yield running
