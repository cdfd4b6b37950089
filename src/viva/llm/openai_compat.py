"""Any OpenAI-compatible Chat Completions endpoint: OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit

from openai import AsyncOpenAI
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.profiles.openai import OpenAIModelProfile
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

from viva.llm._pydantic_ai import PydanticAIChatModel
from viva.llm.base import CallLimits

OPENAI_BASE_URL = "https://api.openai.com/v1"
_AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


class OpenAICompatibleChatModel(PydanticAIChatModel):
    """A chat model behind an OpenAI-compatible `/chat/completions` endpoint.

    `base_url` is the API root the SDK appends `/chat/completions` to (e.g.
    `http://localhost:11434/v1` for Ollama). A query string on it is sent with every request,
    so an Azure deployment URL such as
    `https://NAME.openai.azure.com/openai/deployments/DEPLOYMENT?api-version=2024-10-21` works
    as it is. `api_key` is optional for local servers.
    """

    def __init__(
        self, *, base_url: str | None, api_key: str | None, model: str, limits: CallLimits | None = None
    ) -> None:
        limits = limits or CallLimits()
        root, query = _split_query(base_url or OPENAI_BASE_URL)
        host = urlsplit(root).hostname or ""
        headers = {}
        if api_key and host.endswith(_AZURE_HOST_SUFFIXES):
            # Azure's key-based auth reads `api-key`; its v1 API also takes the Bearer token.
            headers["api-key"] = api_key
        client = AsyncOpenAI(
            # Always explicit, so OPENAI_API_KEY from the environment is never sent to another
            # host. The SDK insists on some key; local servers ignore the placeholder.
            api_key=api_key or "not-needed",
            base_url=root,
            default_query=query or None,
            default_headers=headers or None,
            timeout=limits.timeout,
            max_retries=0,
        )
        provider: OpenAIProvider | OpenAICompatibleProvider
        if host == "api.openai.com" or host.endswith(_AZURE_HOST_SUFFIXES):
            provider = OpenAIProvider(openai_client=client)
        else:
            provider = OpenAICompatibleProvider(
                "openai-compatible",
                openai_client=client,
                # Servers such as Ollama, llama.cpp and older vLLM know only the classic
                # `max_tokens` field, not OpenAI's newer `max_completion_tokens`.
                profile=OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False),
            )
        engine = OpenAIChatModel(model, provider=provider)
        super().__init__("openai", model, engine, client, limits)


def _split_query(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url.strip())
    return urlunsplit(parts._replace(query="", fragment="")), dict(parse_qsl(parts.query))
