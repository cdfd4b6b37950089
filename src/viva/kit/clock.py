"""The one clock the code reads, so tests can fix time."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC (or the frozen time in tests)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Fix `now()` at `at` (None unfreezes). For tests."""
    global _frozen
    _frozen = at


def isoformat(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z, the API's one timestamp format."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
