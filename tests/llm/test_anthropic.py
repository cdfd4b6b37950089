"""The Anthropic adapter against a fake Messages API on loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fixtures.fake_openai import FakeLLMServer, Reply, tokens
from tests.llm.conftest import FAST
from viva.llm import ChatMessage
from viva.llm.anthropic import AnthropicChatModel

KEY = "sk-ant-test-0123456789"
REPLY = "Hello, I'm Ada. Tell me about the last system you designed."


@pytest.fixture
def model(
    llm: FakeLLMServer, closing: Callable[[AnthropicChatModel], AnthropicChatModel]
) -> AnthropicChatModel:
    return closing(
        AnthropicChatModel(api_key=KEY, model="claude-test", base_url=llm.anthropic_base_url, limits=FAST)
    )


async def test_stream_yields_deltas_and_sends_system_and_messages(
    llm: FakeLLMServer, model: AnthropicChatModel
) -> None:
    llm.reply_with(REPLY)
    messages = [ChatMessage("system", "You are Ada."), ChatMessage("user", "Hi!")]

    deltas = [delta async for delta in model.stream(messages, max_tokens=200)]

    # Streamed in pieces; a loaded machine may deliver two of the fake's tokens in one read.
    assert "".join(deltas) == REPLY and 1 < len(deltas) <= len(tokens(REPLY))
    [request] = llm.requests
    assert request.path == "/v1/messages"
    assert request.stream is True
    assert request.model == "claude-test"
    assert request.body["system"] == "You are Ada."
    assert request.body["max_tokens"] == 200
    assert request.messages[1:] == [{"role": "user", "content": "Hi!"}]
    assert KEY in (request.headers.get("x-api-key", "") + request.headers.get("authorization", ""))


async def test_complete_and_retry_on_overload(llm: FakeLLMServer, model: AnthropicChatModel) -> None:
    llm.reply_with(Reply.error(529, "Overloaded"), REPLY)

    assert await model.complete([ChatMessage("user", "Hi!")]) == REPLY
    assert len(llm.requests) == 2
