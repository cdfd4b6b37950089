"""Job kinds for the worker tests (registered like any domain's tasks) and workers that
each have their own engine and connection pool, as separate processes would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from viva.config import Settings
from viva.db import make_engine, make_sessionmaker
from viva.jobs.context import JobContext
from viva.jobs.registry import GiveUp, RetryLater, task
from viva.jobs.service import enqueue
from viva.jobs.worker import Worker
from viva.kit import clock
from viva.kit.net import guarded_client
from viva.models import Job


@dataclass(frozen=True)
class Run:
    job_id: Any
    worker: str
    attempt: int
    started: float
    ended: float


RUNS: list[Run] = []
STARTED: dict[str, asyncio.Event] = {}


async def _record(ctx: JobContext, payload: dict[str, Any], work: Callable[[], Awaitable[None]]) -> None:
    assert ctx.job is not None
    started = time.monotonic()
    if "tag" in payload:
        STARTED.setdefault(payload["tag"], asyncio.Event()).set()
    await work()
    RUNS.append(Run(ctx.job.id, ctx.job.locked_by or "", ctx.job.attempts, started, time.monotonic()))


async def _nothing() -> None:
    return None


@task("test.ok")
async def ok(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    await _record(ctx, payload, _nothing)


@task("test.sleep")
async def sleep(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    await _record(ctx, payload, lambda: asyncio.sleep(payload["seconds"]))


@task("test.fail", max_attempts=3)
async def fail(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    await _record(ctx, payload, _nothing)
    raise RuntimeError(f"boom on attempt {ctx.job.attempts if ctx.job else '?'}")


@task("test.scheduled", max_attempts=4, schedule=(10.0, 20.0))
async def scheduled(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    raise RuntimeError("still failing")


@task("test.retry_later")
async def retry_later(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    raise RetryLater("busy, come back later", after=payload["after"])


@task("test.give_up")
async def give_up(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    raise GiveUp("this can never work")


@task("test.spawn")
async def spawn(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    """Writes in its own transaction (enqueues a child job), then succeeds or fails."""
    await enqueue(db, "test.ok", {"child_of": payload["tag"]}, run_at=clock.now() + timedelta(days=365))
    await _record(ctx, payload, lambda: asyncio.sleep(payload.get("seconds", 0)))
    if payload.get("fail"):
        raise RuntimeError("failed after writing")


@pytest.fixture(autouse=True)
def runs() -> Iterator[list[Run]]:
    RUNS.clear()
    STARTED.clear()
    yield RUNS
    clock.freeze(None)


def started(tag: str) -> asyncio.Event:
    return STARTED.setdefault(tag, asyncio.Event())


WorkerFactory = Callable[..., Worker]


@pytest.fixture
async def new_worker(app: FastAPI, settings: Settings) -> AsyncIterator[WorkerFactory]:
    """Workers that share nothing but the database (own engine, pool and HTTP client)."""
    made: list[Worker] = []
    engines = []

    def factory(name: str, **options: Any) -> Worker:
        engine = make_engine(settings.database_url)
        engines.append(engine)
        context = JobContext(
            settings=settings,
            sessionmaker=make_sessionmaker(engine),
            secrets=app.state.secrets,
            http=guarded_client(True),
        )
        values = {"concurrency": 4, "lease_seconds": settings.job_lease_seconds, "poll_seconds": 0.02}
        worker = Worker(context, name=name, **{**values, **options})
        made.append(worker)
        return worker

    yield factory
    for worker in made:
        await worker.context.http.aclose()
    for engine in engines:
        await engine.dispose()


async def add(app: FastAPI, kind: str, payload: dict[str, Any] | None = None, **options: Any) -> Any:
    async with app.state.sessionmaker() as db:
        job = await enqueue(db, kind, payload or {}, **options)
        await db.commit()
        return job.id


async def add_many(app: FastAPI, kind: str, payloads: list[dict[str, Any]]) -> list[Any]:
    async with app.state.sessionmaker() as db:
        jobs = [await enqueue(db, kind, p) for p in payloads]
        await db.commit()
        return [j.id for j in jobs]


async def load(app: FastAPI, job_id: Any) -> Job:
    async with app.state.sessionmaker() as db:
        job = await db.scalar(select(Job).where(Job.id == job_id))
        assert job is not None
        return job


async def all_jobs(app: FastAPI, kind: str | None = None) -> list[Job]:
    async with app.state.sessionmaker() as db:
        stmt = select(Job).order_by(Job.created_at)
        if kind:
            stmt = stmt.where(Job.kind == kind)
        return list((await db.scalars(stmt)).all())


def seconds(later: datetime | None, earlier: datetime) -> float:
    assert later is not None
    return (later - earlier).total_seconds()
