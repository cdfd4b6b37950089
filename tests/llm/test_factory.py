"""Which chat model the settings produce."""

from __future__ import annotations

import pytest

from viva.llm import CallLimits, LLMConfigError, chat_model_from_settings
from viva.llm.anthropic import AnthropicChatModel
from viva.llm.openai_compat import OpenAICompatibleChatModel


def test_nothing_configured_means_the_builtin_interviewer() -> None:
    assert chat_model_from_settings(None, None, None, None) is None
    assert chat_model_from_settings("", " ", "", "auto") is None


def test_builtin_wins_even_when_an_endpoint_is_configured() -> None:
    assert chat_model_from_settings("http://127.0.0.1:11434/v1", None, "llama3", "builtin") is None


def test_a_base_url_means_an_openai_compatible_endpoint() -> None:
    limits = CallLimits(max_retries=5)
    chat = chat_model_from_settings("http://127.0.0.1:11434/v1", None, "llama3", None, limits=limits)

    assert isinstance(chat, OpenAICompatibleChatModel)
    assert (chat.provider, chat.model, chat.limits) == ("openai", "llama3", limits)


def test_an_anthropic_key_means_anthropic() -> None:
    chat = chat_model_from_settings(None, "sk-ant-abc", "claude-sonnet-4-5", "auto")

    assert isinstance(chat, AnthropicChatModel)
    assert chat.provider == "anthropic"


def test_an_explicit_provider_is_used() -> None:
    assert isinstance(chat_model_from_settings(None, "key", "claude", "Anthropic"), AnthropicChatModel)
    assert isinstance(
        chat_model_from_settings(None, "sk-abc", "gpt-4o-mini", "openai"), OpenAICompatibleChatModel
    )


@pytest.mark.parametrize(
    ("base_url", "api_key", "model", "provider", "problem"),
    [
        ("http://127.0.0.1:11434/v1", None, None, "auto", "model"),
        (None, None, "llama3", "auto", "base URL"),
        (None, None, "claude", "anthropic", "API key"),
        (None, "sk-abc", "gpt-4o", "gemini", "unknown"),
    ],
)
def test_half_configured_settings_fail_loudly(
    base_url: str | None, api_key: str | None, model: str | None, provider: str, problem: str
) -> None:
    with pytest.raises(LLMConfigError, match=problem):
        chat_model_from_settings(base_url, api_key, model, provider)
