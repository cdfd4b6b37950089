"""GET /events (SPEC §3.8): the event log in the webhook envelope, with its filters."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.fixtures.clock import FrozenClock
from tests.webhooks.helpers import cancel_session, create_session, events, interview_setup
from viva.kit import clock
from viva.webhooks.schemas import EVENT_TYPES


def kinds(found: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in found]


async def test_events_filter_by_type_since_session_and_participant(
    client, tenant, other, frozen: FrozenClock
):
    setup = await interview_setup(client, tenant, participants=2)  # 2 × participant.created
    p1, p2 = setup.participant_ids
    frozen.advance(minutes=1)
    s1 = await create_session(client, tenant, setup, participant=0)
    frozen.advance(minutes=1)
    second = frozen.now
    s2 = await create_session(client, tenant, setup, participant=1)
    frozen.advance(minutes=1)
    await cancel_session(client, tenant, s1["id"])

    everything = await events(client, tenant)
    assert kinds(everything) == [
        "participant.created",
        "participant.created",
        "session.created",
        "session.created",
        "session.cancelled",
    ]
    for e in everything:
        assert set(e) == {"id", "event", "occurred_at", "data"} and e["id"].startswith("evt_")
    assert len({e["id"] for e in everything}) == 5

    created = await events(client, tenant, "&type=session.created")
    assert kinds(created) == ["session.created"] * 2
    assert {e["data"]["session"]["id"] for e in created} == {s1["id"], s2["id"]}
    assert await events(client, tenant, "&type=session.scored") == []

    by_session = await events(client, tenant, f"&session_id={s1['id']}")
    assert kinds(by_session) == ["session.created", "session.cancelled"]
    assert all(e["data"]["session"]["id"] == s1["id"] for e in by_session)

    by_participant = await events(client, tenant, f"&participant_id={p2}")
    assert kinds(by_participant) == ["participant.created", "session.created"]
    assert by_participant[0]["data"]["participant"]["id"] == p2
    assert by_participant[1]["data"]["session"]["candidate_id"] == p2

    since = await events(client, tenant, "&since=" + quote(clock.isoformat(second)))
    assert kinds(since) == ["session.created", "session.cancelled"]
    assert [e["data"]["session"]["id"] for e in since] == [s2["id"], s1["id"]]
    # An offset other than Z means the same instant.
    plus_two = second.astimezone(timezone(timedelta(hours=2)))
    assert await events(client, tenant, "&since=" + quote(plus_two.isoformat())) == since

    query = f"&type=session.cancelled&participant_id={p1}&since=" + quote(clock.isoformat(second))
    combined = await events(client, tenant, query)
    assert kinds(combined) == ["session.cancelled"]
    assert await events(client, tenant, f"&type=session.cancelled&participant_id={p2}") == []

    # Newest first on request; paging is the usual envelope.
    newest = await events(client, tenant, "&sort=-occurred_at")
    assert kinds(newest)[0] == "session.cancelled"
    r = await client.get("/api/v1/events?pageSize=2&page=2", headers=tenant.headers)
    assert r.json()["meta"] == {"page": 2, "pageSize": 2, "total": 5, "totalPages": 3}
    assert [e["id"] for e in r.json()["data"]] == [e["id"] for e in everything[2:4]]

    # Bad filters are 400s; another workspace sees none of it.
    r = await client.get("/api/v1/events?since=2026-01-01T00:00:00", headers=tenant.headers)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["since"]
    r = await client.get("/api/v1/events?session_id=not-a-uuid", headers=tenant.headers)
    assert r.status_code == 400
    assert await events(client, other) == []
    assert await events(client, other, f"&session_id={s1['id']}") == []


async def test_an_unknown_event_type_is_a_400_listing_the_known_ones(client, tenant):
    # A typo must not look like "nothing happened": it is refused, with the valid names.
    await interview_setup(client, tenant, participants=1)
    for bogus in ("bogus", "session.create", "*", "SESSION.CREATED"):
        r = await client.get("/api/v1/events", params={"type": bogus}, headers=tenant.headers)
        assert r.status_code == 400, (bogus, r.text)
        [issue] = r.json()["issues"]
        assert issue["path"] == ["type"]
        assert "'session.created'" in issue["message"] and "'endpoint.disabled'" in issue["message"]
    r = await client.get("/api/v1/events", params={"type": "participant.created"}, headers=tenant.headers)
    assert r.status_code == 200 and [e["event"] for e in r.json()["data"]] == ["participant.created"]


def test_the_readme_names_exactly_the_event_types():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listed = re.search(r"The events are (.+?)\. `GET /events\?type=`", readme, flags=re.S)
    assert listed is not None
    assert sorted(re.findall(r"`([a-z_]+\.[a-z_]+)`", listed.group(1))) == sorted(EVENT_TYPES)
