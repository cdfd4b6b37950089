"""Structured logs: key=value lines, plain tracebacks (never local variables, which can
hold secrets)."""

from __future__ import annotations

import logging
import re
from typing import Any

import structlog

ACCESS_LOGGER = "uvicorn.access"
_JOIN_TOKEN = re.compile(r"^/join/[^/?]+")
_SIGNATURE = re.compile(r"([?&]signature=)[^&]*")


def redact_path(path: str) -> str:
    """A request path fit for a log: a candidate's join token and a signed link's signature are
    credentials, so they are masked."""
    return _SIGNATURE.sub(r"\1[redacted]", _JOIN_TOKEN.sub("/join/[token]", path))


class RedactCredentials(logging.Filter):
    """Masks credentials in the server's access log lines, whose third argument is the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def configure(level: str = "info") -> None:
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric if isinstance(numeric, int) else 20),
        cache_logger_on_first_use=False,
    )
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactCredentials) for f in access.filters):
        access.addFilter(RedactCredentials())
