"""The provider interface the interview engine talks to, and the errors it can expect.

A `ChatModel` streams the interviewer's words as text deltas. Whatever goes wrong on the way
surfaces as one of two errors: `LLMUnavailable` (worth retrying later: timeouts, connection
errors, 5xx, rate limits that outlasted our retries) or `LLMRefused` (the provider said no:
bad key, unknown model, invalid request). Both carry a message that is safe to log or show
to an operator: it never contains the API key or the provider's raw response.
"""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation sent to a chat model."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class CallLimits:
    """Timeouts and retry policy for every call a chat model makes.

    `timeout` bounds one attempt from request to last token; `first_token_timeout` bounds the
    wait for a stream's first token. Transient failures are retried up to `max_retries` times
    with exponential backoff (`backoff_base` doubling, capped at `backoff_max`). A rate limit
    whose Retry-After exceeds `backoff_max` is not waited for: a live interview cannot stall
    that long, so the caller gets `LLMUnavailable` at once and decides what to tell the candidate.
    """

    timeout: float = 60.0
    first_token_timeout: float = 15.0
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.first_token_timeout <= 0:
            raise ValueError("LLM timeouts must be positive")
        if self.max_retries < 0:
            raise ValueError("LLM max_retries must be zero or more")
        if self.backoff_base < 0 or self.backoff_max < self.backoff_base:
            raise ValueError("LLM backoff must satisfy 0 <= backoff_base <= backoff_max")

    def backoff(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None to give up.

        A provider's Retry-After wins over our own schedule when it is longer.
        """
        if attempt > self.max_retries:
            return None
        if retry_after is not None and retry_after > self.backoff_max:
            return None
        # ±10% jitter so many interviews hitting one rate limit do not retry in lockstep.
        delay = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1) * random.uniform(0.9, 1.1))
        return max(delay, retry_after or 0.0)


class ChatModel(Protocol):
    """A chat model the interview engine can stream from.

    `provider` names the protocol family ("openai" for any OpenAI-compatible endpoint,
    "anthropic"), `model` the model id sent to it; both are recorded with each turn.
    """

    provider: str
    model: str

    # Declared without `async`: implementations are async generators, whose type is a plain
    # function returning an async generator.
    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 600, temperature: float = 0.4
    ) -> AsyncGenerator[str, None]:
        """Yield the reply's text deltas as they arrive. Raises `LLMUnavailable` or `LLMRefused`.

        Transient failures are retried only until the first delta has been yielded; after that
        an error ends the stream, so a caller never sees the same words twice. A caller that may
        stop early should wrap the iterator in `contextlib.aclosing` so the HTTP stream is closed
        at once rather than when the generator is garbage collected.
        """
        ...

    async def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 600, temperature: float = 0.4
    ) -> str:
        """The whole reply in one piece (a non-streamed request). Raises like `stream`."""
        ...

    async def aclose(self) -> None:
        """Release the model's HTTP connections (at shutdown)."""
        ...


class LLMError(Exception):
    """A chat model call failed. `str(error)` is safe to log: no API key, no provider body."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.retry_after = retry_after


class LLMUnavailable(LLMError):
    """The provider could not answer now (timeout, connection error, 5xx, 429 after retries)."""


class LLMRefused(LLMError):
    """The provider refused the request (4xx other than 429): retrying will not help."""


class LLMConfigError(ValueError):
    """The LLM settings are incomplete or contradictory (raised at startup, not per call)."""
