from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import pytest

from tests.fixtures.fake_openai import FakeLLMServer, fake_openai_server
from viva.llm import CallLimits, ChatModel

# Small waits so failure paths finish in well under a second each.
FAST = CallLimits(timeout=5.0, first_token_timeout=2.0, max_retries=2, backoff_base=0.01, backoff_max=2.0)

M = TypeVar("M", bound=ChatModel)


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with fake_openai_server() as server:
        yield server


@pytest.fixture
async def closing() -> AsyncIterator[Callable[[M], M]]:
    """Pass each model a test builds through this; its connections are closed afterwards."""
    opened: list[ChatModel] = []

    def track(chat: M) -> M:
        opened.append(chat)
        return chat

    yield track
    for chat in opened:
        await chat.aclose()
