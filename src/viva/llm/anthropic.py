"""Anthropic's Messages API."""

from __future__ import annotations

from anthropic import AsyncAnthropic
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider

from viva.llm._pydantic_ai import PydanticAIChatModel
from viva.llm.base import CallLimits

ANTHROPIC_BASE_URL = "https://api.anthropic.com"


class AnthropicChatModel(PydanticAIChatModel):
    """A Claude model over the Messages API; `base_url` is for proxies and gateways."""

    def __init__(
        self, *, api_key: str, model: str, base_url: str | None = None, limits: CallLimits | None = None
    ) -> None:
        limits = limits or CallLimits()
        # base_url always explicit so ANTHROPIC_BASE_URL in the environment cannot redirect the key.
        client = AsyncAnthropic(
            api_key=api_key, base_url=base_url or ANTHROPIC_BASE_URL, timeout=limits.timeout, max_retries=0
        )
        engine = AnthropicModel(model, provider=AnthropicProvider(anthropic_client=client))
        super().__init__("anthropic", model, engine, client, limits)
