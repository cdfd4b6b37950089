"""At-least-once delivery survives crashes (SPEC §4, DESIGN.md principle 2).

1,000 events are committed with their deliveries; real `viva worker` processes send them
to a receiver on loopback and are SIGKILLed several times while requests are in flight,
then restarted. Every event must arrive; an event may arrive twice only as a re-send of
the same delivery (same webhook-id, same body, valid signature)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tests.webhooks.helpers import create_endpoint
from tests.webhooks.receiver import Receiver, serve
from viva.config import Settings
from viva.events import service as events
from viva.models import Job, WebhookAttempt, WebhookDelivery

EVENTS = 1000
KILLS = 5
DEADLINE_S = 300.0  # a hang guard only: a run takes 20-30 s on a quiet machine, minutes on a loaded one


def viva_command() -> list[str]:
    script = Path(sys.executable).parent / "viva"
    return [str(script)] if script.exists() else [sys.executable, "-m", "viva.cli"]


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    assert settings.secret_key
    return {
        **os.environ,
        "VIVA_DATABASE_URL": settings.database_url,
        "VIVA_SECRET_KEY": settings.secret_key,
        "VIVA_ALLOW_PRIVATE_URLS": "true",
        "VIVA_JOB_LEASE_SECONDS": "2",
        "VIVA_WORKER_POLL_SECONDS": "0.05",
        "VIVA_WORKER_CONCURRENCY": "8",
        "VIVA_LOG_LEVEL": "warning",
        **extra,
    }


@contextmanager
def worker_processes(settings: Settings, log: Path) -> Iterator[Any]:
    """Start/kill `viva worker` processes; whatever is left is stopped at the end."""

    class Workers:
        current: subprocess.Popen[bytes] | None = None

        def start(self) -> subprocess.Popen[bytes]:
            with log.open("ab") as out:
                self.current = subprocess.Popen(
                    [*viva_command(), "worker"],
                    env=worker_env(settings),
                    cwd=log.parent,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            return self.current

    workers = Workers()
    try:
        yield workers
    except BaseException:
        print(f"worker log ({log}):", *log.read_text(errors="replace").splitlines()[-30:], sep="\n  ")
        raise
    finally:
        proc = workers.current
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def commit_events(app: Any, workspace_id: uuid.UUID, count: int) -> list[str]:
    """`count` session.created events (and so their deliveries and jobs) in one transaction."""
    async with app.state.sessionmaker() as db:
        ids = []
        for n in range(count):
            event = await events.emit(
                db, workspace_id, "session.created", {"session": {"id": str(uuid.uuid4()), "n": n}}
            )
            ids.append(event.id)
        await db.commit()
        return ids


async def scalar(app: Any, stmt: Any) -> Any:
    async with app.state.sessionmaker() as db:
        return await db.scalar(stmt)


async def wait_for(condition: Any, deadline: float, what: str) -> None:
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


async def test_no_delivery_is_lost_when_workers_are_killed_mid_flight(
    app, settings, client, tenant, tmp_path
):
    started = time.monotonic()
    deadline = started + DEADLINE_S
    with (
        serve(Receiver(delay=0.02)) as receiver,
        worker_processes(settings, tmp_path / "worker.log") as workers,
    ):
        endpoint_id, secret = await create_endpoint(client, tenant, receiver.url)
        event_ids = await commit_events(app, tenant.workspace_id, EVENTS)
        assert len(set(event_ids)) == EVENTS

        in_flight_at_kill = []
        for _ in range(KILLS):
            proc = workers.start()
            seen = len(receiver.requests)
            # Let it get going, then kill it while the receiver is holding requests open.
            await wait_for(
                lambda: len(receiver.requests) >= seen + 80 and receiver.in_flight > 0,  # noqa: B023
                deadline,
                f"worker made no progress (at {len(receiver.requests)} requests)",
            )
            in_flight_at_kill.append(receiver.in_flight)
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
        assert len(set(receiver.ids())) < EVENTS, "everything was sent before the last kill"

        workers.start()  # the last one is left to finish the work
        await wait_for(
            lambda: set(receiver.ids()) >= set(event_ids),
            deadline,
            f"only {len(set(receiver.ids()))} of {EVENTS} events arrived",
        )
        pending = (
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status != "succeeded")
        )
        while await scalar(app, pending):
            assert time.monotonic() < deadline, "deliveries still pending"
            await asyncio.sleep(0.1)

    got = receiver.snapshot()
    by_id: dict[str, list[Any]] = defaultdict(list)
    for request in got:
        by_id[request.id].append(request)
    # Every event arrived, and nothing else did.
    assert set(by_id) == set(event_ids)
    for event_id, copies in by_id.items():
        assert len({c.body for c in copies}) == 1  # a duplicate is the same delivery, re-sent
        for copy in copies:
            assert copy.verify(secret)["id"] == event_id
    duplicates = len(got) - EVENTS

    # The database agrees: each delivery succeeded and recorded one attempt (a send whose
    # outcome died with the worker is not an attempt on record: it was simply made again).
    assert await scalar(app, select(func.count()).select_from(WebhookDelivery)) == EVENTS
    attempts = select(func.count()).select_from(WebhookAttempt).where(WebhookAttempt.status_code == 200)
    assert await scalar(app, attempts) == EVENTS
    assert await scalar(app, select(func.max(WebhookDelivery.attempts))) == 1
    # The jobs: all done, none dead; those the killed workers held were taken over later.
    deliver = Job.kind == "webhooks.deliver"
    assert (
        await scalar(app, select(func.count()).select_from(Job).where(deliver, Job.status != "succeeded"))
        == 0
    )
    taken_over = await scalar(app, select(func.count()).select_from(Job).where(deliver, Job.attempts > 1))
    assert taken_over >= 1, in_flight_at_kill
    assert all(n > 0 for n in in_flight_at_kill)
    assert endpoint_id
    print(
        f"\n{settings.database_url.split(':')[0]}: {EVENTS} events, {KILLS} kills "
        f"(in flight at each: {in_flight_at_kill}), {len(got)} requests ({duplicates} re-sent, "
        f"{receiver.aborted} cut off mid-request by a kill), "
        f"{taken_over} jobs taken over after a lease expired, {time.monotonic() - started:.1f} s"
    )


async def test_sigterm_lets_in_flight_deliveries_finish(app, settings, client, tenant, tmp_path):
    with (
        serve(Receiver(delay=1.0)) as receiver,
        worker_processes(settings, tmp_path / "worker.log") as workers,
    ):
        await create_endpoint(client, tenant, receiver.url)
        event_ids = await commit_events(app, tenant.workspace_id, 3)
        proc = workers.start()
        await wait_for(lambda: receiver.in_flight == 3, time.monotonic() + 30, "deliveries never started")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 15) == 0  # a clean exit, after they finished

        assert sorted(receiver.ids()) == sorted(event_ids)  # each sent once
        done = select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "succeeded")
        assert await scalar(app, done) == 3
        assert await scalar(app, select(func.max(Job.attempts)).where(Job.kind == "webhooks.deliver")) == 1
