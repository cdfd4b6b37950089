"""The OpenAI-compatible adapter against a fake Chat Completions server over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import aclosing

import pytest

from tests.fixtures.fake_openai import FakeLLMServer, Reply, tokens
from tests.fixtures.live import free_port
from tests.llm.conftest import FAST
from viva.llm import CallLimits, ChatMessage, ChatModel, LLMRefused, LLMUnavailable
from viva.llm.openai_compat import OpenAICompatibleChatModel

KEY = "sk-test-0123456789abcdef"
REPLY = "Thanks for joining. Could you walk me through a recent project you led?"
CONVERSATION = [
    ChatMessage("system", "You are Ada, a friendly interviewer for a backend role."),
    ChatMessage("user", "Hello, I'm ready."),
]


Make = Callable[..., ChatModel]


@pytest.fixture
def model(llm: FakeLLMServer, closing: Callable[[ChatModel], ChatModel]) -> Make:
    """Build a model talking to the fake: `model(limits, api_key=...)`."""

    def make(limits: CallLimits = FAST, *, api_key: str | None = KEY) -> ChatModel:
        return closing(
            OpenAICompatibleChatModel(
                base_url=llm.base_url, api_key=api_key, model="interviewer-7b", limits=limits
            )
        )

    return make


async def collect(chat: ChatModel, messages: list[ChatMessage] = CONVERSATION) -> list[str]:
    return [delta async for delta in chat.stream(messages)]


async def test_stream_yields_the_reply_as_several_deltas_in_order(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(REPLY)

    deltas = await collect(model())

    # Streamed in pieces; a loaded machine may deliver two of the fake's tokens in one read.
    assert "".join(deltas) == REPLY and 1 < len(deltas) <= len(tokens(REPLY))
    assert len(deltas) > 5
    assert "".join(deltas) == REPLY


async def test_the_request_carries_the_messages_model_key_and_limits(llm: FakeLLMServer, model: Make) -> None:
    history = [*CONVERSATION, ChatMessage("assistant", "Welcome!"), ChatMessage("user", "I built a queue.")]

    [_ async for _ in model().stream(history, max_tokens=123, temperature=0.2)]

    [request] = llm.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.model == "interviewer-7b"
    assert request.stream is True
    assert request.messages == [
        {"role": "system", "content": "You are Ada, a friendly interviewer for a backend role."},
        {"role": "user", "content": "Hello, I'm ready."},
        {"role": "assistant", "content": "Welcome!"},
        {"role": "user", "content": "I built a queue."},
    ]
    # Local servers (Ollama, llama.cpp) understand the classic field only.
    assert request.body["max_tokens"] == 123
    assert "max_completion_tokens" not in request.body
    assert request.body["temperature"] == 0.2


async def test_deltas_arrive_while_the_server_is_still_sending(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(Reply(text="one two three four five six seven eight nine ten", tokens_per_second=20))

    started = time.monotonic()
    arrivals = [time.monotonic() - started async for _ in model().stream(CONVERSATION)]

    # Ten tokens at 20/s take ~0.45 s to send; a buffered client would see them all at the end.
    assert arrivals[-1] - arrivals[0] > 0.3


async def test_complete_sends_a_non_streamed_request(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(REPLY)

    assert await model().complete(CONVERSATION) == REPLY
    assert llm.requests[0].stream is False


async def test_a_server_error_is_retried_then_succeeds(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(Reply.error(500), Reply.error(503), REPLY)

    assert "".join(await collect(model())) == REPLY
    assert len(llm.requests) == 3


async def test_server_errors_past_the_retry_budget_raise_unavailable(llm: FakeLLMServer, model: Make) -> None:
    llm.default = Reply.error(502)

    with pytest.raises(LLMUnavailable) as caught:
        await model().complete(CONVERSATION)

    assert caught.value.status_code == 502
    assert len(llm.requests) == FAST.max_retries + 1


async def test_a_rate_limit_waits_for_retry_after(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(Reply.rate_limited(retry_after=1), REPLY)

    started = time.monotonic()
    assert "".join(await collect(model())) == REPLY

    assert time.monotonic() - started >= 0.95
    assert len(llm.requests) == 2


async def test_a_rate_limit_longer_than_we_can_wait_fails_at_once(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(Reply.rate_limited(retry_after=30))

    with pytest.raises(LLMUnavailable) as caught:
        await collect(model())

    assert caught.value.status_code == 429
    assert caught.value.retry_after == 30
    assert len(llm.requests) == 1


async def test_a_hanging_stream_raises_unavailable_within_the_first_token_timeout(
    llm: FakeLLMServer, model: Make
) -> None:
    llm.default = Reply.hanging()
    limits = CallLimits(timeout=10, first_token_timeout=0.5, max_retries=0)

    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="no output within 0.5s"):
        await collect(model(limits))

    assert time.monotonic() - started < 2


async def test_a_hanging_completion_raises_unavailable_within_the_timeout(
    llm: FakeLLMServer, model: Make
) -> None:
    llm.default = Reply.hanging()
    limits = CallLimits(timeout=0.5, first_token_timeout=0.5, max_retries=1, backoff_base=0.01)

    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="did not finish within 0.5s"):
        await model(limits).complete(CONVERSATION)

    assert time.monotonic() - started < 2.5  # two attempts of 0.5 s
    assert len(llm.requests) == 2


async def test_a_bad_key_is_refused_without_retry_and_without_the_key(
    llm: FakeLLMServer, model: Make
) -> None:
    # Real providers echo (part of) the key back; the error we raise must not carry it.
    llm.reply_with(
        lambda req: Reply.error(
            401, f"Incorrect API key provided: {req.headers['authorization']}", code="invalid_api_key"
        )
    )

    with pytest.raises(LLMRefused) as caught:
        await collect(model())

    assert caught.value.status_code == 401
    assert "401" in str(caught.value)
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)
    assert len(llm.requests) == 1


async def test_an_invalid_request_is_refused(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(Reply.error(404, "The model `interviewer-7b` does not exist", code="model_not_found"))

    with pytest.raises(LLMRefused, match="404"):
        await model().complete(CONVERSATION)


async def test_a_stream_broken_after_some_words_is_not_retried(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(Reply.dropped(REPLY, after_tokens=3), "never sent")
    received: list[str] = []

    with pytest.raises(LLMUnavailable):
        async for delta in model().stream(CONVERSATION):
            received.append(delta)

    assert received == tokens(REPLY)[:3]  # the caller keeps what it got, and nothing twice
    assert len(llm.requests) == 1


async def test_a_malformed_response_raises_unavailable(llm: FakeLLMServer, model: Make) -> None:
    llm.default = Reply.malformed_response()

    with pytest.raises(LLMUnavailable):
        await collect(model())
    with pytest.raises(LLMUnavailable):
        await model().complete(CONVERSATION)


async def test_an_unreachable_server_raises_unavailable(closing: Callable[[ChatModel], ChatModel]) -> None:
    chat = closing(
        OpenAICompatibleChatModel(
            base_url=f"http://127.0.0.1:{free_port()}/v1", api_key=None, model="m", limits=FAST
        )
    )

    with pytest.raises(LLMUnavailable):
        await chat.complete(CONVERSATION)


async def test_without_a_key_no_key_from_the_environment_is_sent(
    llm: FakeLLMServer, model: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")

    await model(api_key=None).complete(CONVERSATION)

    assert "sk-from-the-environment" not in str(llm.requests[0].headers)


async def test_a_query_string_on_the_base_url_goes_with_every_request(
    llm: FakeLLMServer, closing: Callable[[ChatModel], ChatModel]
) -> None:
    # The shape of a classic Azure OpenAI deployment URL.
    chat = closing(
        OpenAICompatibleChatModel(
            base_url=f"{llm.root_url}/openai/deployments/interviewer?api-version=2024-10-21",
            api_key=KEY,
            model="gpt-4o",
            limits=FAST,
        )
    )

    await chat.complete(CONVERSATION)

    [request] = llm.requests
    assert request.path == "/openai/deployments/interviewer/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}


def test_an_azure_host_also_gets_the_key_in_api_key() -> None:
    chat = OpenAICompatibleChatModel(
        base_url="https://acme.openai.azure.com/openai/v1", api_key=KEY, model="gpt-4o"
    )

    assert chat.engine.client.default_headers["api-key"] == KEY


async def test_a_caller_may_stop_reading_early(llm: FakeLLMServer, model: Make) -> None:
    llm.reply_with(Reply(text=REPLY, tokens_per_second=50), "Next turn.")
    chat = model()

    async with aclosing(chat.stream(CONVERSATION)) as deltas:
        async for _ in deltas:
            break

    assert await chat.complete(CONVERSATION) == "Next turn."


async def test_a_slow_first_token_within_the_timeout_is_waited_for(llm: FakeLLMServer, model: Make) -> None:
    llm.first_token_delay = 0.3
    llm.reply_with(REPLY)

    started = time.monotonic()
    stream = model(CallLimits(first_token_timeout=1.0)).stream(CONVERSATION)
    first = await anext(stream)
    waited = time.monotonic() - started
    rest = [delta async for delta in stream]

    assert waited >= 0.3
    assert first + "".join(rest) == REPLY
    [request] = llm.requests
    assert request.first_token_at is not None and request.first_token_at - request.received_at >= 0.3
