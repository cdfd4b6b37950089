"""Structured logs: key=value lines, plain tracebacks (never local variables, which can
hold secrets)."""

from __future__ import annotations

import logging

import structlog


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
