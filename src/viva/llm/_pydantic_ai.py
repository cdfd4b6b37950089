"""A `ChatModel` over any pydantic-ai model: the retry, timeout and error policy in one place.

The OpenAI-compatible and Anthropic adapters only build the pydantic-ai model; everything a
call does (message mapping, streaming text deltas, retries, error translation) lives here.
We use pydantic-ai's direct API (`model_request` / `model_request_stream`) rather than an
`Agent`: the engine owns the prompt and the turn loop, so one request in, text out is all
it needs, and the stream's `PartStartEvent` / `PartDeltaEvent` carry the raw text deltas.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Sequence
from typing import Protocol

from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelHTTPError,
    ModelQuotaExceededError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    UnexpectedModelBehavior,
)
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    SystemPromptPart,
    TextPart,
    TextPartDelta,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from viva.llm.base import CallLimits, ChatMessage, LLMError, LLMRefused, LLMUnavailable

# A provider's machine-readable error code ("invalid_api_key", "overloaded_error") is worth
# showing an operator; anything that does not look like one is left out of our messages.
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class _SDKClient(Protocol):
    async def close(self) -> None: ...


class PydanticAIChatModel:
    """A `ChatModel` that sends requests through a pydantic-ai `Model`."""

    def __init__(
        self, provider: str, model: str, engine: Model, client: _SDKClient, limits: CallLimits
    ) -> None:
        self.provider = provider
        self.model = model
        self.limits = limits
        self.engine = engine  # the pydantic-ai model doing the HTTP
        self._client = client  # the SDK client under it, which owns the connection pool

    async def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 600, temperature: float = 0.4
    ) -> AsyncGenerator[str, None]:
        """Yield the reply's text deltas as they arrive (see `ChatModel.stream`)."""
        history = to_model_messages(messages)
        settings = self._settings(max_tokens, temperature, stream=True)
        attempt = 0
        while True:
            yielded = False
            try:
                async with model_request_stream(
                    self.engine, history, model_settings=settings, instrument=False
                ) as response:
                    async for event in response:
                        text = _text_of(event)
                        if text:
                            yielded = True
                            yield text
                return
            except Exception as exc:
                delay = self._delay_or_raise(exc, attempt := attempt + 1, may_retry=not yielded)
            await asyncio.sleep(delay)

    async def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 600, temperature: float = 0.4
    ) -> str:
        """The whole reply from one non-streamed request (see `ChatModel.complete`)."""
        history = to_model_messages(messages)
        settings = self._settings(max_tokens, temperature, stream=False)
        attempt = 0
        while True:
            try:
                response = await model_request(
                    self.engine, history, model_settings=settings, instrument=False
                )
                return response.text or ""
            except Exception as exc:
                delay = self._delay_or_raise(exc, attempt := attempt + 1, may_retry=True)
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.close()

    def _settings(self, max_tokens: int, temperature: float, *, stream: bool) -> ModelSettings:
        settings = ModelSettings(
            max_tokens=max_tokens,
            temperature=temperature,
            request_timeout=self.limits.timeout,
            # Retries are ours (bounded, Retry-After aware, never after the first delta).
            max_retries=0,
        )
        if stream:
            settings["first_event_timeout"] = self.limits.first_token_timeout
        return settings

    def _delay_or_raise(self, exc: Exception, attempt: int, *, may_retry: bool) -> float:
        """Seconds to wait before retry `attempt`, or raise `exc` as our error when it is final."""
        error = self._translate(exc)
        delay = None
        if may_retry and isinstance(error, LLMUnavailable):
            delay = self.limits.backoff(attempt, error.retry_after)
        if delay is None:
            raise error from exc
        return delay

    def _translate(self, exc: Exception) -> LLMError:
        """Map whatever the call raised to our two errors, with a message built by us."""
        label = f"{self.provider} model {self.model!r}"
        if isinstance(exc, ModelRequestTimeout):
            if exc.setting == "first_event_timeout":
                what = f"sent no output within {self.limits.first_token_timeout:g}s"
            else:
                what = f"did not finish within {self.limits.timeout:g}s"
            return LLMUnavailable(f"{label} {what}", provider=self.provider, model=self.model)
        if isinstance(exc, ModelAPIError):
            status = exc.status_code if isinstance(exc, ModelHTTPError) else None
            code = exc.provider_error_code or exc.provider_error_type
            detail = f"HTTP {status}" if status is not None else type(exc).__name__
            if code and _ERROR_CODE.fullmatch(code):
                detail += f" ({code})"
            refused = isinstance(exc, ModelRequestRejectedError | ModelQuotaExceededError) or (
                status is not None and 400 <= status < 500 and status not in (408, 429)
            )
            if refused:
                return LLMRefused(
                    f"{label} refused the request: {detail}",
                    provider=self.provider,
                    model=self.model,
                    status_code=status,
                )
            return LLMUnavailable(
                f"{label} is unavailable: {detail}",
                provider=self.provider,
                model=self.model,
                status_code=status,
                retry_after=exc.retry_after,
            )
        if isinstance(exc, UnexpectedModelBehavior):
            return LLMUnavailable(
                f"{label} sent a response that could not be understood",
                provider=self.provider,
                model=self.model,
            )
        # Anything else (a malformed stream the SDK chokes on, a transport error pydantic-ai did
        # not wrap) is still the provider's failure from the engine's point of view.
        return LLMUnavailable(
            f"{label} failed: {type(exc).__name__}", provider=self.provider, model=self.model
        )


def to_model_messages(messages: Sequence[ChatMessage]) -> list[ModelMessage]:
    """Our flat chat list as pydantic-ai's alternating requests and responses."""
    history: list[ModelMessage] = []
    pending: list[ModelRequestPart] = []
    for message in messages:
        if message.role == "assistant":
            if pending:
                history.append(ModelRequest(parts=pending))
                pending = []
            history.append(ModelResponse(parts=[TextPart(content=message.content)]))
        elif message.role == "system":
            pending.append(SystemPromptPart(content=message.content))
        else:
            pending.append(UserPromptPart(content=message.content))
    if pending:
        history.append(ModelRequest(parts=pending))
    return history


def _text_of(event: object) -> str | None:
    if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
        return event.part.content
    if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
        return event.delta.content_delta
    return None
