"""The worker: claims due jobs under a lease, runs them, retries with backoff, parks the
hopeless ones as dead with their error.

- PostgreSQL: claims with FOR UPDATE SKIP LOCKED, so any number of workers on any number
  of machines share one queue.
- SQLite: the database has one writer; the claim is a single UPDATE … RETURNING.
A worker killed mid-job loses nothing: its lease runs out and another worker (or the same
one restarted) claims the job again. Handlers must therefore be safe to run twice."""

from __future__ import annotations

import asyncio
import importlib
import os
import random
import socket
import traceback
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from viva.jobs.context import JobContext
from viva.jobs.registry import PERIODIC, TASK_MODULES, TASKS, GiveUp, RetryLater, Task
from viva.jobs.service import enqueue_once
from viva.kit import clock
from viva.models import Job

log = structlog.get_logger()

# How long a freed slot may wait so that one claim serves several (see Worker.run).
CLAIM_COALESCE_SECONDS = 0.02


def load_tasks() -> None:
    for module in TASK_MODULES:
        importlib.import_module(module)


def backoff(task: Task | None, attempt: int) -> float:
    """Seconds to wait before retrying after failed attempt number `attempt` (1-based)."""
    if task is not None and task.schedule:
        base = task.schedule[min(attempt, len(task.schedule)) - 1]
    else:
        base = min(5.0 * 2 ** (attempt - 1), 3600.0)
    return base * random.uniform(0.9, 1.1)  # ±10% jitter spreads retries of a burst


class Worker:
    def __init__(
        self,
        context: JobContext,
        *,
        concurrency: int,
        lease_seconds: int,
        poll_seconds: float,
        name: str | None = None,
    ) -> None:
        self.context = context
        self.sessionmaker: async_sessionmaker[AsyncSession] = context.sessionmaker
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._nudged = False
        self._running: set[asyncio.Task[None]] = set()
        self._next_periodic = 0.0
        load_tasks()

    def stop(self) -> None:
        """Ask the loop to finish: no new claims; running jobs complete."""
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Look for work now (called after this process enqueued something)."""
        self._nudged = True
        self._wake.set()

    async def claim(self, limit: int) -> list[Job]:
        """Take up to `limit` due jobs (queued and due, or running with an expired lease)."""
        now = clock.now()
        async with self.sessionmaker() as db:
            due = (
                select(Job.id)
                .where(
                    or_(
                        and_(Job.status == "queued", Job.run_at <= now),
                        and_(Job.status == "running", Job.locked_until < now),
                    )
                )
                .order_by(Job.run_at)
                .limit(limit)
                .with_for_update(skip_locked=True)  # no-op on SQLite, where one writer claims
            )
            result = await db.execute(
                update(Job)
                .where(Job.id.in_(due.scalar_subquery()))
                .values(
                    status="running",
                    locked_by=self.name,
                    locked_until=now + self.lease,
                    attempts=Job.attempts + 1,
                    updated_at=now,
                )
                .returning(Job)
                .execution_options(synchronize_session=False)
            )
            jobs = list(result.scalars())
            await db.commit()
            return jobs

    async def run_one(self, job: Job) -> None:
        task = TASKS.get(job.kind)
        heartbeat = asyncio.create_task(self._heartbeat(job))
        try:
            if task is None:
                raise GiveUp(f"no handler for job kind {job.kind!r}")
            async with self.sessionmaker() as db:
                ctx = JobContext(**{**self.context.__dict__, "job": job})
                await task.handler(ctx, db, job.payload)
                # Success is recorded in the handler's own transaction: its database
                # effects and "done" commit together, or neither does.
                if not await self._finish(db, job, status="succeeded"):
                    await db.rollback()  # our lease was taken over; the other run owns it
                    return
                await db.commit()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure is recorded on the job, never lost
            await self._failed(job, task, exc)
        finally:
            heartbeat.cancel()

    async def _heartbeat(self, job: Job) -> None:
        """Keep the lease of a running job fresh, so a slow job (a receiver that takes 15 s)
        is not taken over by another worker while it is still running here. A killed
        worker stops renewing, and its jobs are free again one lease later."""
        interval = max(self.lease.total_seconds() / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.sessionmaker() as db:
                    await db.execute(
                        update(Job)
                        .where(Job.id == job.id, Job.locked_by == self.name, Job.attempts == job.attempts)
                        .values(locked_until=clock.now() + self.lease)
                    )
                    await db.commit()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a missed renewal only risks a duplicate run, never a loss
                log.warning("lease_renewal_failed", job_id=str(job.id), error=repr(exc))

    async def _finish(self, db: AsyncSession, job: Job, **values: Any) -> bool:
        now = clock.now()
        result = await db.execute(
            update(Job)
            .where(Job.id == job.id, Job.locked_by == self.name, Job.attempts == job.attempts)
            .values(
                locked_by=None,
                locked_until=None,
                updated_at=now,
                **values,
                **({"finished_at": now} if values.get("status") in ("succeeded", "dead") else {}),
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _failed(self, job: Job, task: Task | None, exc: Exception) -> None:
        error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
        max_attempts = job.max_attempts
        dead = isinstance(exc, GiveUp) or job.attempts >= max_attempts
        async with self.sessionmaker() as db:
            if dead:
                await self._finish(db, job, status="dead", last_error=error)
                log.warning("job_dead", kind=job.kind, job_id=str(job.id), attempts=job.attempts, error=error)
            else:
                delay = (
                    exc.after
                    if isinstance(exc, RetryLater) and exc.after is not None
                    else backoff(task, job.attempts)
                )
                await self._finish(
                    db, job, status="queued", last_error=error, run_at=clock.now() + timedelta(seconds=delay)
                )
                log.info(
                    "job_retry",
                    kind=job.kind,
                    job_id=str(job.id),
                    attempt=job.attempts,
                    retry_in=round(delay, 1),
                    error=error,
                )
            await db.commit()

    async def run(self) -> None:
        """Claim and run jobs until stop(); then let running jobs finish.

        Claims are coalesced: a slot freed less than CLAIM_COALESCE_SECONDS after the last
        claim waits for the rest of it (or until half the slots are free), so that under
        a backlog of short jobs one claim transaction serves several jobs rather than one
        each (docs/benchmarks.md). No slot waits longer than that, so slots stuck on slow
        jobs don't hold up the others."""
        log.info("worker_started", worker=self.name, concurrency=self.concurrency)
        loop = asyncio.get_running_loop()
        batch = max(1, self.concurrency // 2)
        coalesce = min(CLAIM_COALESCE_SECONDS, self.poll_seconds)
        last_claim = -coalesce
        try:
            while not self._stopping.is_set():
                # Cleared before looking: a job finishing from here on sets it again, so
                # the wait below cannot miss it.
                self._wake.clear()
                await self.schedule_periodic()
                free = self.concurrency - len(self._running)
                timeout = self.poll_seconds
                since = loop.time() - last_claim
                if free > 0 and (self._nudged or free >= batch or since >= coalesce):
                    self._nudged = False
                    last_claim = loop.time()
                    for job in await self._claim_safely(free):
                        t = asyncio.create_task(self.run_one(job))
                        self._running.add(t)
                        t.add_done_callback(self._done)
                elif free > 0:
                    timeout = coalesce - since
                if self._stopping.is_set():
                    break
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
                except TimeoutError:
                    pass
        finally:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            log.info("worker_stopped", worker=self.name)

    async def schedule_periodic(self) -> None:
        """Enqueue each periodic task once per period, whichever worker gets there first
        (the job's dedupe key names the period)."""
        loop_now = asyncio.get_running_loop().time()
        if loop_now < self._next_periodic:
            return
        self._next_periodic = loop_now + 5
        now = clock.now().timestamp()
        for kind, every in PERIODIC.items():
            bucket = int(now // every)
            try:
                async with self.sessionmaker() as db:
                    await enqueue_once(db, kind, f"{kind}:{bucket}", {})
                    await db.commit()
            except Exception:  # another worker enqueued it first (unique key): fine
                pass

    def _done(self, t: asyncio.Task[None]) -> None:
        self._running.discard(t)
        self._wake.set()

    async def _claim_safely(self, limit: int) -> list[Job]:
        try:
            return await self.claim(limit)
        except Exception as exc:  # a database hiccup must not kill the loop
            log.warning("claim_failed", error=repr(exc))
            await asyncio.sleep(self.poll_seconds)
            return []

    async def drain(self, limit_seconds: float = 30.0) -> int:
        """Run jobs until none is due (tests and tools). Returns how many ran."""
        ran = 0
        deadline = asyncio.get_running_loop().time() + limit_seconds
        while asyncio.get_running_loop().time() < deadline:
            jobs = await self.claim(self.concurrency)
            if not jobs:
                return ran
            await asyncio.gather(*(self.run_one(j) for j in jobs))
            ran += len(jobs)
        raise TimeoutError("jobs still due after drain timeout")
