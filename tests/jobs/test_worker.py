"""The job worker (DESIGN.md principle 2): claims under a lease, retries with backoff, parks
hopeless jobs as dead with their error, hands a dead worker's jobs to another, never runs
one job twice at once, stops gracefully, and schedules periodic jobs once across workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.jobs.conftest import RUNS, WorkerFactory, add, add_many, all_jobs, load, seconds, started
from viva.jobs.registry import PERIODIC
from viva.kit import clock
from viva.models import Job


def freeze_now() -> datetime:
    now = clock.now().replace(microsecond=0)
    clock.freeze(now)
    return now


# ----------------------------------------------------------------------------- claim and run


async def test_a_due_job_runs_once_and_is_marked_succeeded(app, worker):
    job_id = await add(app, "test.ok", {"n": 1})
    assert await worker.drain() == 1
    assert await worker.drain() == 0

    [run] = RUNS
    assert run.job_id == job_id and run.attempt == 1 and run.worker == worker.name
    job = await load(app, job_id)
    assert job.status == "succeeded" and job.attempts == 1 and job.last_error is None
    assert job.locked_by is None and job.locked_until is None and job.finished_at is not None


async def test_a_job_waits_for_its_run_at(app, worker):
    now = freeze_now()
    job_id = await add(app, "test.ok", run_at=now + timedelta(minutes=10))
    assert await worker.drain() == 0
    clock.freeze(now + timedelta(minutes=9, seconds=59))
    assert await worker.drain() == 0
    clock.freeze(now + timedelta(minutes=10))
    assert await worker.drain() == 1
    assert (await load(app, job_id)).status == "succeeded"


async def test_jobs_are_claimed_oldest_due_first(app, new_worker: WorkerFactory):
    now = freeze_now()
    late = await add(app, "test.ok", run_at=now - timedelta(minutes=1))
    early = await add(app, "test.ok", run_at=now - timedelta(minutes=5))
    worker = new_worker("w")
    [first] = await worker.claim(1)
    [second] = await worker.claim(1)
    assert (first.id, second.id) == (early, late)


async def test_a_claim_takes_a_lease_that_keeps_other_workers_off(app, new_worker: WorkerFactory):
    now = freeze_now()
    job_id = await add(app, "test.ok")
    a, b = new_worker("a", lease_seconds=30), new_worker("b", lease_seconds=30)

    [claimed] = await a.claim(10)
    assert claimed.id == job_id and claimed.attempts == 1
    job = await load(app, job_id)
    assert job.status == "running" and job.locked_by == "a" and job.attempts == 1
    assert seconds(job.locked_until, now) == 30
    assert await b.claim(10) == []
    clock.freeze(now + timedelta(seconds=29))
    assert await b.claim(10) == []


# -------------------------------------------------------------------------- failure handling


async def test_failures_back_off_then_the_job_is_parked_dead_with_its_error(app, worker):
    now = freeze_now()
    job_id = await add(app, "test.fail")  # max_attempts=3, exponential backoff 5 s, 10 s

    await worker.drain()
    job = await load(app, job_id)
    assert job.status == "queued" and job.attempts == 1 and job.locked_by is None
    assert job.last_error == "RuntimeError: boom on attempt 1"
    assert 4.5 <= seconds(job.run_at, now) <= 5.5
    assert await worker.drain() == 0  # not due yet

    clock.freeze(job.run_at)
    await worker.drain()
    job = await load(app, job_id)
    assert job.status == "queued" and job.attempts == 2
    assert job.last_error == "RuntimeError: boom on attempt 2"
    assert 9 <= seconds(job.run_at, clock.now()) <= 11

    clock.freeze(job.run_at)
    await worker.drain()
    job = await load(app, job_id)
    assert job.status == "dead" and job.attempts == 3 and job.finished_at is not None
    assert job.last_error == "RuntimeError: boom on attempt 3"

    clock.freeze(clock.now() + timedelta(days=30))
    assert await worker.drain() == 0
    assert len(RUNS) == 3


async def test_a_task_schedule_sets_the_waits_and_its_last_step_repeats(app, worker):
    now = freeze_now()
    job_id = await add(app, "test.scheduled")  # schedule (10, 20), max_attempts 4
    waits = []
    for _ in range(3):
        await worker.drain()
        job = await load(app, job_id)
        waits.append(seconds(job.run_at, clock.now()))
        clock.freeze(job.run_at)
    assert 9 <= waits[0] <= 11 and 18 <= waits[1] <= 22 and 18 <= waits[2] <= 22
    await worker.drain()
    job = await load(app, job_id)
    assert job.status == "dead" and job.attempts == 4
    assert seconds(clock.now(), now) > 0


async def test_retry_later_sets_the_wait_exactly(app, worker):
    now = freeze_now()
    job_id = await add(app, "test.retry_later", {"after": 42})
    await worker.drain()
    job = await load(app, job_id)
    assert job.status == "queued" and seconds(job.run_at, now) == 42
    assert job.last_error == "viva.jobs.registry.RetryLater: busy, come back later"


async def test_give_up_and_unknown_kinds_are_dead_at_once(app, worker):
    gave_up = await add(app, "test.give_up")
    unknown = await add(app, "test.no-such-kind")
    await worker.drain()
    job = await load(app, gave_up)
    assert job.status == "dead" and job.attempts == 1
    assert job.last_error == "viva.jobs.registry.GiveUp: this can never work"
    job = await load(app, unknown)
    assert job.status == "dead" and "no handler for job kind 'test.no-such-kind'" in (job.last_error or "")


async def test_a_job_commits_its_writes_with_its_success_and_none_on_failure(app, worker):
    ok = await add(app, "test.spawn", {"tag": "ok"})
    failed = await add(app, "test.spawn", {"tag": "bad", "fail": True})
    await worker.drain()
    children = [j.payload["child_of"] for j in await all_jobs(app, "test.ok")]
    assert children == ["ok"]
    assert (await load(app, ok)).status == "succeeded"
    assert (await load(app, failed)).status == "queued"


# ----------------------------------------------------------------------------------- leases


async def test_a_dead_workers_job_is_taken_by_another_once_its_lease_expires(app, new_worker: WorkerFactory):
    now = freeze_now()
    job_id = await add(app, "test.spawn", {"tag": "x"})
    dead, alive = new_worker("dead", lease_seconds=5), new_worker("alive", lease_seconds=5)

    [orphan] = await dead.claim(10)  # ...and then the process dies: it never reports back
    assert await alive.claim(10) == []
    clock.freeze(now + timedelta(seconds=6))
    [taken] = await alive.claim(10)
    assert taken.id == job_id and taken.attempts == 2
    job = await load(app, job_id)
    assert job.locked_by == "alive" and seconds(job.locked_until, now) == 11

    await alive.run_one(taken)
    job = await load(app, job_id)
    assert job.status == "succeeded" and job.attempts == 2

    # Had the first worker only been stuck, its late result changes nothing: its lease is
    # gone, so its transaction (success and writes alike) is rolled back.
    await dead.run_one(orphan)
    assert (await load(app, job_id)).status == "succeeded"
    assert len(RUNS) == 2
    assert [j.payload["child_of"] for j in await all_jobs(app, "test.ok")] == ["x"]


async def test_a_late_failure_from_a_worker_that_lost_its_lease_is_ignored(app, new_worker: WorkerFactory):
    now = freeze_now()
    job_id = await add(app, "test.fail")
    slow, other = new_worker("slow", lease_seconds=5), new_worker("other", lease_seconds=5)
    [stale] = await slow.claim(1)
    clock.freeze(now + timedelta(seconds=6))
    [taken] = await other.claim(1)
    await slow.run_one(stale)  # fails, but may not re-queue a job it no longer holds
    job = await load(app, job_id)
    assert job.status == "running" and job.locked_by == "other" and job.attempts == 2
    await other.run_one(taken)
    job = await load(app, job_id)
    assert job.status == "queued" and job.attempts == 2 and "attempt 2" in (job.last_error or "")


# --------------------------------------------------------------------------- many workers


async def test_concurrent_claims_never_hand_out_a_job_twice(app, new_worker: WorkerFactory):
    await add_many(app, "test.ok", [{"n": i} for i in range(60)])
    workers = [new_worker(f"w{i}") for i in range(4)]
    claimed: list[list[Job]] = []
    while True:
        batch = await asyncio.gather(*(w.claim(3) for w in workers))
        if not any(batch):
            break
        claimed.extend(batch)
    ids = [j.id for jobs in claimed for j in jobs]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert all(j.attempts == 1 for jobs in claimed for j in jobs)


async def test_two_workers_never_run_the_same_job_at_once(app, new_worker: WorkerFactory):
    """Each worker has its own engine, like separate processes; on PostgreSQL they claim
    with FOR UPDATE SKIP LOCKED, on SQLite one at a time."""
    job_ids = await add_many(app, "test.sleep", [{"seconds": 0.01} for _ in range(120)])
    workers = [new_worker("one", concurrency=6), new_worker("two", concurrency=6)]
    running = [asyncio.create_task(w.run()) for w in workers]
    try:
        async with asyncio.timeout(60):
            while True:
                if len(RUNS) >= len(job_ids):
                    break
                await asyncio.sleep(0.05)
    finally:
        for w in workers:
            w.stop()
        await asyncio.gather(*running)

    ran = Counter(r.job_id for r in RUNS)
    assert max(ran.values()) == 1, [j for j, n in ran.items() if n > 1]
    assert set(ran) == set(job_ids)
    by_worker = Counter(r.worker for r in RUNS)
    assert set(by_worker) == {"one", "two"}, by_worker  # both took part
    jobs = await all_jobs(app, "test.sleep")
    assert {j.status for j in jobs} == {"succeeded"} and {j.attempts for j in jobs} == {1}


async def test_a_running_job_keeps_its_lease_so_a_slow_job_is_not_run_twice(app, new_worker: WorkerFactory):
    """A job that outlives its lease (a receiver taking 15 s) renews it while it runs, so a
    second worker polling all along never takes it over."""
    job_id = await add(app, "test.sleep", {"seconds": 3.0, "tag": "long"})
    a, b = new_worker("a", lease_seconds=1, concurrency=1), new_worker("b", lease_seconds=1)
    running = asyncio.create_task(a.run_one((await a.claim(1))[0]))
    await asyncio.wait_for(started("long").wait(), 10)
    taken = []
    while not running.done():
        taken += await b.claim(1)
        await asyncio.sleep(0.2)
    assert taken == [] and [r.job_id for r in RUNS] == [job_id]
    assert (await load(app, job_id)).status == "succeeded"


# ---------------------------------------------------------------------------- stopping


async def test_stop_lets_running_jobs_finish_and_claims_nothing_new(app, new_worker: WorkerFactory):
    slow = await add(app, "test.sleep", {"seconds": 0.5, "tag": "slow"})
    worker = new_worker("w", concurrency=1)
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(started("slow").wait(), 10)
    waiting = await add(app, "test.ok")  # due now, but the worker is full and then stopping
    worker.stop()
    await asyncio.wait_for(running, 10)

    assert [r.job_id for r in RUNS] == [slow]  # it ran to the end
    assert RUNS[0].ended - RUNS[0].started >= 0.5
    assert (await load(app, slow)).status == "succeeded"
    job = await load(app, waiting)
    assert job.status == "queued" and job.attempts == 0 and job.locked_by is None


# ----------------------------------------------------------------------------- periodic


async def test_periodic_jobs_are_enqueued_once_per_period_by_many_workers(app, new_worker: WorkerFactory):
    # Just after the start of an hour, so every period below starts a fresh bucket.
    hour = int(datetime.now(UTC).timestamp() // 3600 * 3600)
    start = datetime.fromtimestamp(hour + 1, UTC)
    clock.freeze(start)
    workers = [new_worker(f"w{i}") for i in range(3)]  # importing the task modules registers them
    assert PERIODIC, "no periodic tasks registered"

    async def count() -> dict[str, int]:
        async with app.state.sessionmaker() as db:
            rows = await db.execute(
                select(Job.kind, func.count()).where(Job.kind.in_(list(PERIODIC))).group_by(Job.kind)
            )
            return {kind: n for kind, n in rows.all()}

    # All three run their loops at once (and run the jobs they scheduled).
    running = [asyncio.create_task(w.run()) for w in workers]
    await asyncio.sleep(0.5)
    for w in workers:
        w.stop()
    await asyncio.gather(*running)
    assert await count() == {kind: 1 for kind in PERIODIC}

    # Asked again within the same period: nothing new.
    for w in workers:
        w._next_periodic = 0.0
    await asyncio.gather(*(w.schedule_periodic() for w in workers))
    assert await count() == {kind: 1 for kind in PERIODIC}

    # One period later for each kind: exactly one more of it.
    shortest = min(PERIODIC.values())
    clock.freeze(start + timedelta(seconds=shortest))
    for w in workers:
        w._next_periodic = 0.0
    await asyncio.gather(*(w.schedule_periodic() for w in workers))
    later = start + timedelta(seconds=shortest)
    expected = {
        kind: 1 + (int(later.timestamp() // every) != int(start.timestamp() // every))
        for kind, every in PERIODIC.items()
    }
    assert any(n == 2 for n in expected.values())
    assert await count() == expected
    keys = {j.dedupe_key for j in await all_jobs(app) if j.kind in PERIODIC}
    assert len(keys) == sum(expected.values())
