"""The fake OpenAI-compatible server and model-closing fixtures, shared with the LLM tests."""

from tests.llm.conftest import FAST, closing, llm

__all__ = ["FAST", "closing", "llm"]
