"""Webhook delivery end to end (SPEC §3.7, §4): real HTTP to a receiver on loopback, the
real worker, signatures checked with the `standardwebhooks` package as a receiver would."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.fixtures.clock import FrozenClock
from tests.webhooks.helpers import (
    cancel_session,
    create_endpoint,
    create_session,
    deliveries,
    events,
    get_endpoint,
    interview_setup,
)
from viva.webhooks.tasks import MAX_ATTEMPTS, RETRY_SCHEDULE

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def seconds_between(later: str, earlier: datetime) -> float:
    return (at(later) - earlier).total_seconds()


async def only_delivery(client: Any, tenant: Any, endpoint_id: str) -> dict[str, Any]:
    found = await deliveries(client, tenant, endpoint_id)
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- the happy path


async def test_session_events_arrive_signed_in_the_spec_envelope(client, tenant, worker, receiver):
    setup = await interview_setup(client, tenant)
    endpoint_id, secret = await create_endpoint(client, tenant, receiver.url)

    session = await create_session(client, tenant, setup)
    await cancel_session(client, tenant, session["id"])
    await worker.drain()

    # Webhooks promise no order (deliveries run concurrently): match them up by type.
    got = sorted(receiver.snapshot(), key=lambda r: r.json["event"] != "session.created")
    assert [r.json["event"] for r in got] == ["session.created", "session.cancelled"]
    for request, status in zip(got, ("scheduled", "cancelled"), strict=True):
        body = request.verify(secret)  # standardwebhooks: signature and timestamp tolerance
        assert request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("Viva-Webhooks/")
        assert request.headers["webhook-id"] == body["id"] and body["id"].startswith("evt_")
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
        assert all(s.startswith("v1,") for s in request.signatures) and len(request.signatures) == 1
        assert set(body) == {"id", "event", "occurred_at", "data"}
        assert ISO_Z.match(body["occurred_at"]), body["occurred_at"]
        assert set(body["data"]) == {"session"}
        s = body["data"]["session"]
        assert s["id"] == session["id"] and s["status"] == status
        assert s["candidate_id"] == setup.participant_ids[0]
        assert s["evaluation_template_id"] == setup.template_id
        assert s["external_id"] == setup.external_ids[0]
    # Different events, different ids.
    assert got[0].id != got[1].id

    # The log: one successful attempt each, with what was sent (minus the signature).
    log = await deliveries(client, tenant, endpoint_id)
    assert {d["event"] for d in log} == {"session.created", "session.cancelled"}
    for d in log:
        assert d["status"] == "succeeded" and d["attempts"] == 1 and d["last_status_code"] == 200
        assert d["next_attempt_at"] is None
        [attempt] = d["attempt_log"]
        assert attempt["attempt"] == 1 and attempt["status_code"] == 200 and attempt["error"] is None
        assert attempt["response_excerpt"] == '{"received":true}'
        assert attempt["request_headers"]["webhook-id"] == d["event_id"]
        assert "webhook-signature" not in attempt["request_headers"]
        assert d["payload"] == next(r.body.decode() for r in got if r.id == d["event_id"])

    # GET /events serves the same envelope the receiver got.
    listed = {e["id"]: e for e in await events(client, tenant)}
    for request in got:
        assert listed[request.id] == request.json


async def test_a_failing_receiver_gets_the_same_event_again_until_it_succeeds(
    client, tenant, worker, receiver, frozen: FrozenClock
):
    receiver.respond = lambda request, n: 500 if n <= 3 else 200
    setup = await interview_setup(client, tenant)
    endpoint_id, secret = await create_endpoint(client, tenant, receiver.url, ["session.created"])
    await create_session(client, tenant, setup)

    await worker.drain()
    assert len(receiver.requests) == 1
    for expected_delay in RETRY_SCHEDULE[:3]:
        delivery = await only_delivery(client, tenant, endpoint_id)
        assert delivery["status"] == "pending"
        made = at(delivery["attempt_log"][-1]["attempted_at"])
        delay = seconds_between(delivery["next_attempt_at"], made)
        assert expected_delay * 0.9 - 1 <= delay <= expected_delay * 1.1 + 1, (expected_delay, delay)
        sent = len(receiver.requests)
        await worker.drain()  # not due yet: nothing happens
        assert len(receiver.requests) == sent
        frozen.set(at(delivery["next_attempt_at"]) + timedelta(seconds=1))
        await worker.drain()
        assert len(receiver.requests) == sent + 1

    got = receiver.snapshot()
    assert len(got) == 4
    assert len({r.id for r in got}) == 1  # webhook-id is stable across retries
    assert len({r.body for r in got}) == 1  # and so is the body
    assert len({r.headers["webhook-timestamp"] for r in got}) == 4  # the timestamp is per attempt
    assert all(r.signed_by(secret) for r in got)

    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 4
    assert delivery["next_attempt_at"] is None and delivery["last_status_code"] == 200
    log = delivery["attempt_log"]
    assert [a["attempt"] for a in log] == [1, 2, 3, 4]
    assert [a["status_code"] for a in log] == [500, 500, 500, 200]
    assert [a["next_attempt_at"] is not None for a in log] == [True, True, True, False]
    assert all(a["request_headers"]["webhook-id"] == got[0].id for a in log)
    assert (await get_endpoint(client, tenant, endpoint_id))["enabled"] is True

    # Later: no stray retries.
    frozen.advance(days=2)
    await worker.drain()
    assert len(receiver.requests) == 4


async def test_retry_after_is_honoured_when_longer_than_the_schedule(
    client, tenant, worker, receiver, frozen: FrozenClock
):
    answers: list[int | tuple[int, dict[str, str]]] = [
        (503, {"Retry-After": "3600"}),  # delta-seconds, longer than the 5 s schedule
        (429, {"Retry-After": format_datetime(frozen.now + timedelta(hours=3), usegmt=True)}),
        (503, {"Retry-After": "1"}),  # shorter than the schedule (30 min): the schedule wins
        200,
    ]
    receiver.respond = lambda request, n: answers[n - 1]
    setup = await interview_setup(client, tenant)
    endpoint_id, _ = await create_endpoint(client, tenant, receiver.url, ["session.created"])
    await create_session(client, tenant, setup)

    await worker.drain()
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["last_status_code"] == 503
    assert 3600 <= seconds_between(delivery["next_attempt_at"], frozen.now) <= 3601
    frozen.advance(minutes=30)
    await worker.drain()
    assert len(receiver.requests) == 1  # not before the Retry-After

    frozen.set(at(delivery["next_attempt_at"]) + timedelta(seconds=1))
    await worker.drain()
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["last_status_code"] == 429
    # The HTTP-date was 3 h after the first attempt, i.e. about 2 h from now (schedule: 5 min).
    due_in = seconds_between(delivery["next_attempt_at"], frozen.now)
    assert 2 * 3600 - 5 <= due_in <= 2 * 3600 + 1, due_in

    frozen.set(at(delivery["next_attempt_at"]) + timedelta(seconds=1))
    await worker.drain()
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["last_status_code"] == 503
    assert 1800 * 0.9 <= seconds_between(delivery["next_attempt_at"], frozen.now) <= 1800 * 1.1

    frozen.set(at(delivery["next_attempt_at"]) + timedelta(seconds=1))
    await worker.drain()
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 4
    assert [a["next_attempt_at"] is not None for a in delivery["attempt_log"]] == [True, True, True, False]


async def test_retries_follow_the_schedule_then_stop(client, tenant, worker, receiver, frozen: FrozenClock):
    receiver.respond = lambda request, n: 502
    setup = await interview_setup(client, tenant)
    endpoint_id, _ = await create_endpoint(client, tenant, receiver.url, ["session.created"])
    await create_session(client, tenant, setup)

    await worker.drain()
    while True:
        delivery = await only_delivery(client, tenant, endpoint_id)
        if delivery["next_attempt_at"] is None:
            break
        frozen.set(at(delivery["next_attempt_at"]) + timedelta(seconds=1))
        await worker.drain()

    assert len(receiver.requests) == MAX_ATTEMPTS == 8
    assert delivery["status"] == "failed" and delivery["attempts"] == 8
    log = delivery["attempt_log"]
    delays = [seconds_between(a["next_attempt_at"], at(a["attempted_at"])) for a in log[:-1]]
    for planned, actual in zip(RETRY_SCHEDULE, delays, strict=True):
        assert planned * 0.9 - 1 <= actual <= planned * 1.1 + 1, (planned, actual)
    assert log[-1]["next_attempt_at"] is None
    # About 27.6 hours of retries: short of the 5 days that disable an endpoint.
    assert (await get_endpoint(client, tenant, endpoint_id))["enabled"] is True
    frozen.advance(days=1)
    await worker.drain()
    assert len(receiver.requests) == 8


# ------------------------------------------------------------------------ disabling an endpoint


async def test_410_disables_the_endpoint_at_once_and_emits_endpoint_disabled(
    client, tenant, worker, receiver, frozen: FrozenClock
):
    receiver.respond = lambda request, n: 410 if request.path == "/gone" else 200
    receiver.delay = 0.3  # so both deliveries below are in flight together
    setup = await interview_setup(client, tenant)
    gone_id, _ = await create_endpoint(client, tenant, receiver.base + "/gone")
    watcher_id, watcher_secret = await create_endpoint(client, tenant, receiver.base + "/watch")

    # Two events in flight to the gone endpoint at once: both get 410, one disable.
    await create_session(client, tenant, setup)
    await create_session(client, tenant, setup)
    await worker.drain()

    endpoint = await get_endpoint(client, tenant, gone_id)
    assert endpoint["enabled"] is False
    assert "410" in endpoint["disabled_reason"]
    gone_log = await deliveries(client, tenant, gone_id)
    assert len(gone_log) == 2
    for d in gone_log:
        assert d["status"] == "failed" and d["next_attempt_at"] is None
        assert [a["status_code"] for a in d["attempt_log"]] == [410]

    disabled = await events(client, tenant, "&type=endpoint.disabled")
    assert len(disabled) == 1, disabled
    assert disabled[0]["data"]["endpoint"]["id"] == gone_id
    # The other endpoint hears about it by webhook.
    heard = [r for r in receiver.snapshot() if r.path == "/watch" and r.json["event"] == "endpoint.disabled"]
    assert len(heard) == 1
    assert heard[0].verify(watcher_secret)["data"]["endpoint"]["id"] == gone_id
    assert (await get_endpoint(client, tenant, watcher_id))["enabled"] is True

    # Nothing more reaches the gone endpoint, now or later.
    await create_session(client, tenant, setup)
    await worker.drain()
    frozen.advance(days=1)
    await worker.drain()
    assert len([r for r in receiver.snapshot() if r.path == "/gone"]) == 2
    assert len(await deliveries(client, tenant, gone_id)) == 2


async def test_five_days_of_failures_disable_the_endpoint(client, tenant, worker, receiver, frozen):
    receiver.respond = lambda request, n: 500
    setup = await interview_setup(client, tenant)
    endpoint_id, _ = await create_endpoint(client, tenant, receiver.url, ["session.created"])
    started = frozen.now
    await create_session(client, tenant, setup)
    await worker.drain()  # attempt 1 fails: the endpoint is failing since now

    frozen.set(started + timedelta(days=4))
    await worker.drain()  # attempt 2, four days in: still enabled
    assert (await get_endpoint(client, tenant, endpoint_id))["enabled"] is True
    assert await events(client, tenant, "&type=endpoint.disabled") == []

    frozen.set(started + timedelta(days=5, minutes=1))
    await worker.drain()  # attempt 3, five days after the first failure
    endpoint = await get_endpoint(client, tenant, endpoint_id)
    assert endpoint["enabled"] is False and "5 days" in endpoint["disabled_reason"]
    [disabled] = await events(client, tenant, "&type=endpoint.disabled")
    assert disabled["data"]["endpoint"]["id"] == endpoint_id
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["status"] == "failed" and delivery["attempts"] == 3
    assert delivery["next_attempt_at"] is None
    assert len(receiver.requests) == 3

    # Re-enabled by a person: deliveries resume and the failure count starts afresh.
    receiver.respond = lambda request, n: 200
    r = await client.patch(
        f"/api/v1/webhook-endpoints/{endpoint_id}", json={"enabled": True}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["data"]["disabled_reason"] is None
    await create_session(client, tenant, setup)
    await worker.drain()
    assert len(receiver.requests) == 4


async def test_a_success_in_between_restarts_the_five_day_count(client, tenant, worker, receiver, frozen):
    receiver.respond = lambda request, n: 200 if n == 2 else 500
    setup = await interview_setup(client, tenant)
    endpoint_id, _ = await create_endpoint(client, tenant, receiver.url, ["session.created"])
    started = frozen.now
    await create_session(client, tenant, setup)
    await worker.drain()  # fails on day 0
    frozen.set(started + timedelta(days=1))
    await create_session(client, tenant, setup)
    await worker.drain()  # the first one's retry is due too; one of the two succeeds
    frozen.set(started + timedelta(days=5, minutes=1))
    await create_session(client, tenant, setup)
    await worker.drain()  # fails, but the endpoint has only been failing since day 1
    assert (await get_endpoint(client, tenant, endpoint_id))["enabled"] is True
    assert await events(client, tenant, "&type=endpoint.disabled") == []


# ---------------------------------------------------------------------------------- rotation


async def test_rotation_signs_with_both_secrets_for_24_hours(
    client, tenant, worker, receiver, frozen: FrozenClock
):
    setup = await interview_setup(client, tenant)
    endpoint_id, old = await create_endpoint(client, tenant, receiver.url)
    r = await client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret", headers=tenant.headers)
    assert r.status_code == 200, r.text
    new = r.json()["data"]["secret"]
    assert new.startswith("whsec_") and new != old
    r = await client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/secret", headers=tenant.headers)
    assert r.json()["data"]["secret"] == new

    session = await create_session(client, tenant, setup)
    await worker.drain()
    [request] = receiver.snapshot()
    assert len(request.signatures) == 2
    # A receiver holding either secret accepts the delivery...
    assert request.verify(old)["id"] == request.id
    assert request.verify(new)["id"] == request.id
    # ...because each signature is made with its own secret.
    for signature, secret, other in ((request.signatures[0], new, old), (request.signatures[1], old, new)):
        alone = {**request.headers, "webhook-signature": signature}
        Webhook(secret).verify(request.body, alone)
        with pytest.raises(WebhookVerificationError):
            Webhook(other).verify(request.body, alone)
    with pytest.raises(WebhookVerificationError):
        request.verify("whsec_" + "A" * 43 + "=")

    # After 24 hours only the new secret signs.
    frozen.advance(hours=24, minutes=1)
    await cancel_session(client, tenant, session["id"])
    await worker.drain()
    later = receiver.snapshot()[-1]
    assert later.json["event"] == "session.cancelled"
    assert len(later.signatures) == 1
    assert later.signed_by(new) and not later.signed_by(old)


# -------------------------------------------------------------------- what gets delivered


async def test_an_endpoint_gets_only_the_events_it_subscribed_to(client, tenant, worker, receiver):
    setup = await interview_setup(client, tenant)
    endpoint_id, secret = await create_endpoint(client, tenant, receiver.url, ["session.created"])
    everything_id, _ = await create_endpoint(client, tenant, receiver.base + "/all")

    session = await create_session(client, tenant, setup)
    await cancel_session(client, tenant, session["id"])
    r = await client.post(
        "/api/v1/participants",
        json={"name": "Late", "email": "late@example.com", "evaluation_template_id": setup.template_id},
        headers=tenant.headers,
    )
    assert r.status_code == 201
    await worker.drain()

    filtered = [r for r in receiver.snapshot() if r.path == "/hook"]
    assert [r.verify(secret)["event"] for r in filtered] == ["session.created"]
    assert [d["event"] for d in await deliveries(client, tenant, endpoint_id)] == ["session.created"]
    assert sorted(r.json["event"] for r in receiver.snapshot() if r.path == "/all") == [
        "participant.created",
        "session.cancelled",
        "session.created",
    ]
    assert len(await deliveries(client, tenant, everything_id)) == 3


async def test_a_disabled_endpoint_gets_nothing(client, tenant, worker, receiver):
    setup = await interview_setup(client, tenant)
    endpoint_id, _ = await create_endpoint(client, tenant, receiver.url)
    path = f"/api/v1/webhook-endpoints/{endpoint_id}"

    # Pending when it is switched off: never sent.
    await create_session(client, tenant, setup)
    r = await client.patch(path, json={"enabled": False}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["data"]["enabled"] is False
    await worker.drain()
    [pending] = await deliveries(client, tenant, endpoint_id)
    assert pending["status"] == "failed" and pending["attempt_log"] == []

    # Events while it is off: not even a delivery row.
    await create_session(client, tenant, setup)
    await worker.drain()
    assert receiver.requests == []
    assert len(await deliveries(client, tenant, endpoint_id)) == 1

    # Neither test pings nor manual retries go to a disabled endpoint.
    r = await client.post(f"{path}/test", headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "endpoint_disabled"
    r = await client.post(f"/api/v1/webhook-deliveries/{pending['id']}/retry", headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "endpoint_disabled"
    await worker.drain()
    assert receiver.requests == []

    # Switched back on: new events flow again.
    r = await client.patch(path, json={"enabled": True}, headers=tenant.headers)
    assert r.status_code == 200
    await create_session(client, tenant, setup)
    await worker.drain()
    assert [r.json["event"] for r in receiver.snapshot()] == ["session.created"]


# ------------------------------------------------------------------- manual retry and ping


async def test_test_ping_is_delivered_signed_and_not_logged_as_an_event(client, tenant, worker, receiver):
    endpoint_id, secret = await create_endpoint(client, tenant, receiver.url)
    r = await client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test", headers=tenant.headers)
    assert r.status_code == 200, r.text
    ping = r.json()["data"]
    assert ping["event"] == "webhook.test" and ping["status"] == "pending"
    await worker.drain()

    [request] = receiver.snapshot()
    body = request.verify(secret)
    assert body["event"] == "webhook.test" and body["id"] == ping["event_id"]
    assert body["data"] == {"endpoint_id": endpoint_id}
    r = await client.get(f"/api/v1/webhook-deliveries/{ping['id']}", headers=tenant.headers)
    assert r.json()["data"]["status"] == "succeeded"
    assert [a["status_code"] for a in r.json()["data"]["attempt_log"]] == [200]
    assert await events(client, tenant) == []


async def test_manual_retry_sends_again_now_with_the_same_id(
    client, tenant, worker, receiver, frozen: FrozenClock
):
    receiver.respond = lambda request, n: 500 if n == 1 else 200
    setup = await interview_setup(client, tenant)
    endpoint_id, secret = await create_endpoint(client, tenant, receiver.url, ["session.created"])
    await create_session(client, tenant, setup)
    await worker.drain()
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["status"] == "pending" and delivery["attempts"] == 1

    # Retry now rather than in 5 seconds.
    r = await client.post(f"/api/v1/webhook-deliveries/{delivery['id']}/retry", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "pending"
    await worker.drain()
    assert len(receiver.requests) == 2
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 2
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 200]

    # The automatic retry that was scheduled is now stale and sends nothing.
    frozen.advance(minutes=10)
    await worker.drain()
    assert len(receiver.requests) == 2

    # A succeeded delivery can be sent again on request, still as the same event.
    r = await client.post(f"/api/v1/webhook-deliveries/{delivery['id']}/retry", headers=tenant.headers)
    assert r.status_code == 200
    await worker.drain()
    got = receiver.snapshot()
    assert len(got) == 3 and len({x.id for x in got}) == 1 and len({x.body for x in got}) == 1
    assert all(x.signed_by(secret) for x in got)
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 3


async def test_a_failed_manual_retry_does_not_cancel_the_automatic_retries(
    client, tenant, worker, receiver, frozen: FrozenClock
):
    receiver.respond = lambda request, n: 500 if n <= 2 else 200
    setup = await interview_setup(client, tenant)
    endpoint_id, _ = await create_endpoint(client, tenant, receiver.url, ["session.created"])
    await create_session(client, tenant, setup)
    await worker.drain()  # attempt 1: 500, retry scheduled

    delivery = await only_delivery(client, tenant, endpoint_id)
    r = await client.post(f"/api/v1/webhook-deliveries/{delivery['id']}/retry", headers=tenant.headers)
    assert r.status_code == 200
    await worker.drain()  # attempt 2 (manual): 500 again
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["attempts"] == 2
    assert delivery["status"] == "pending", "the receiver is still within its retry schedule"
    assert delivery["next_attempt_at"] is not None

    frozen.set(at(delivery["next_attempt_at"]) + timedelta(seconds=1))
    await worker.drain()
    delivery = await only_delivery(client, tenant, endpoint_id)
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 3
    assert len(receiver.requests) == 3
