from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.receiver import Receiver, serve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback webhook receiver answering 200 unless the test says otherwise."""
    with serve(Receiver()) as running:
        yield running
