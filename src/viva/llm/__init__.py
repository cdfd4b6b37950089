"""LLM providers behind one small interface: OpenAI-compatible HTTP, Anthropic, or none.

`None` from `chat_model_from_settings` means the built-in offline interviewer. The provider
modules are imported lazily by the factory; import them directly only when you need the class.
"""

from viva.llm.base import (
    CallLimits,
    ChatMessage,
    ChatModel,
    LLMConfigError,
    LLMError,
    LLMRefused,
    LLMUnavailable,
    Role,
)
from viva.llm.factory import chat_model_from_settings

__all__ = [
    "CallLimits",
    "ChatMessage",
    "ChatModel",
    "LLMConfigError",
    "LLMError",
    "LLMRefused",
    "LLMUnavailable",
    "Role",
    "chat_model_from_settings",
]
