"""Which chat model the settings ask for: OpenAI-compatible, Anthropic, or none (the built-in interviewer)."""

from __future__ import annotations

from urllib.parse import urlsplit

from viva.llm.base import CallLimits, ChatModel, LLMConfigError

PROVIDERS = ("auto", "openai", "anthropic", "builtin")


def chat_model_from_settings(
    base_url: str | None,
    api_key: str | None,
    model: str | None,
    provider: str | None = "auto",
    *,
    limits: CallLimits | None = None,
) -> ChatModel | None:
    """Build the configured chat model, or return None for the built-in offline interviewer.

    `provider` is "openai" (any OpenAI-compatible endpoint), "anthropic", "builtin", or
    "auto"/None: nothing configured means builtin; an Anthropic key (`sk-ant-...`) or an
    anthropic.com base URL means Anthropic; anything else means OpenAI-compatible.
    Raises `LLMConfigError` when the settings name a provider but cannot reach it (no model,
    or neither base URL nor key), so a half-configured deployment fails at startup instead of
    quietly interviewing with the offline engine.
    """
    base_url, api_key, model = _blank_to_none(base_url), _blank_to_none(api_key), _blank_to_none(model)
    choice = (provider or "auto").strip().lower()
    if choice not in PROVIDERS:
        raise LLMConfigError(f"unknown LLM provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    if choice == "auto":
        choice = _infer_provider(base_url, api_key, model)
    if choice == "builtin":
        return None
    if model is None:
        raise LLMConfigError(f"the {choice} LLM provider needs a model name")
    # Imported here: the SDKs take seconds to import and a deployment on the built-in
    # interviewer never needs them.
    if choice == "anthropic":
        if api_key is None:
            raise LLMConfigError("the anthropic LLM provider needs an API key")
        from viva.llm.anthropic import AnthropicChatModel

        return AnthropicChatModel(api_key=api_key, model=model, base_url=base_url, limits=limits)
    if base_url is None and api_key is None:
        raise LLMConfigError("the openai LLM provider needs a base URL (local server) or an API key (OpenAI)")
    from viva.llm.openai_compat import OpenAICompatibleChatModel

    return OpenAICompatibleChatModel(base_url=base_url, api_key=api_key, model=model, limits=limits)


def _infer_provider(base_url: str | None, api_key: str | None, model: str | None) -> str:
    if base_url is None and api_key is None and model is None:
        return "builtin"
    host = (urlsplit(base_url).hostname or "") if base_url else ""
    if (api_key or "").startswith("sk-ant-") or host == "anthropic.com" or host.endswith(".anthropic.com"):
        return "anthropic"
    return "openai"


def _blank_to_none(value: str | None) -> str | None:
    value = value.strip() if value is not None else None
    return value or None
