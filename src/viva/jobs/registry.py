"""Job kinds and their handlers. Domains register theirs with `@task("kind")`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from viva.jobs.context import JobContext

Handler = Callable[["JobContext", "AsyncSession", dict[str, Any]], Awaitable[None]]


@dataclass
class Task:
    kind: str
    handler: Handler
    max_attempts: int = 10
    # Seconds before retry n (1-based); None: exponential backoff.
    schedule: tuple[float, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


TASKS: dict[str, Task] = {}


def task(
    kind: str, max_attempts: int = 10, schedule: tuple[float, ...] | None = None
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        TASKS[kind] = Task(kind, handler, max_attempts, schedule)
        return handler

    return register


# Job kinds the worker enqueues on a timer, with their period in seconds.
PERIODIC: dict[str, float] = {}


def periodic(every_seconds: float) -> Callable[[Handler], Handler]:
    """Run this (already registered) task every `every_seconds`, once across all workers."""

    def register(handler: Handler) -> Handler:
        kind = next(k for k, t in TASKS.items() if t.handler is handler)
        PERIODIC[kind] = every_seconds
        return handler

    return register


class RetryLater(Exception):  # noqa: N818 - it is a signal, not an error
    """Raise from a handler to be retried after `after` seconds (e.g. a Retry-After)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class GiveUp(Exception):  # noqa: N818
    """Raise from a handler to stop retrying at once; the job is parked as dead."""


# Modules whose import registers tasks; the worker imports them all before claiming.
TASK_MODULES = (
    "viva.email.tasks",
    "viva.webhooks.tasks",
    "viva.sessions.tasks",
    "viva.jobs.tasks",
    "viva.participants.tasks",
    "viva.scoring.tasks",
    "viva.recordings.tasks",
    "viva.auth.tasks",
)
