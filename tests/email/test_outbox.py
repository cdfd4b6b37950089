"""Without SMTP every email stays in the local outbox; what is stored is safe to show."""

from __future__ import annotations

from typing import Any

import httpx

from tests.email.helpers import outbox, schedule, seed, session_of
from tests.fixtures.factories import Tenant


async def test_without_smtp_the_invite_is_kept_in_the_outbox(
    client: httpx.AsyncClient, tenant: Tenant, worker: Any
) -> None:
    seeded = await seed(client, tenant, candidate="<script>x</script>", stage_name="R&D <Screen>")
    session = await schedule(client, tenant, seeded, scheduled_at="2030-01-15T14:00:00Z", timezone="UTC")

    [message] = await outbox(client, tenant)
    assert message["status"] == "queued"  # until the worker has looked at it

    await worker.drain()
    [message] = await outbox(client, tenant)
    assert message["status"] == "outbox"
    assert message["sent_at"] is None
    assert message["error"] is None
    assert message["kind"] == "invite"
    assert message["to"] == "ada@example.com"
    assert message["subject"] == "Your interview with Acme: R&D <Screen>"
    # Nothing was delivered, so the session must not claim the invite was sent, nor that it is
    # on its way: without SMTP it waits in the outbox.
    assert session["invite_status"] == "not_configured"
    assert (await session_of(client, tenant, session["id"]))["invite_status"] == "not_configured"

    html, text = message["html"], message["text"]
    assert "<script>" not in html
    assert "Hello &lt;script&gt;x&lt;/script&gt;," in html
    assert "R&amp;D &lt;Screen&gt;" in html
    assert "<title>Your interview with Acme: R&amp;D &lt;Screen&gt;</title>" in html
    assert session["join_url"] in html and session["join_url"] in text
    # The plain-text part is not HTML: it shows the name as typed.
    assert "Hello <script>x</script>," in text
    assert "Tuesday 15 January 2030, 14:00 (UTC)" in text

    # Running the worker again changes nothing.
    await worker.drain()
    assert [m["status"] for m in await outbox(client, tenant)] == ["outbox"]

    # The outbox can be narrowed to one session.
    other = await schedule(client, tenant, seeded, force=True)
    assert len(await outbox(client, tenant)) == 2
    [only] = await outbox(client, tenant, session_id=other["id"])
    assert only["session_id"] == other["id"]


async def test_outbox_needs_interviews_read(client: httpx.AsyncClient, tenant: Tenant, app: Any) -> None:
    from tests.fixtures.factories import make_key

    key = await make_key(app, tenant.slug, ["candidates.read"])
    r = await client.get("/api/v1/outbox", headers={"x-api-key": key})
    assert r.status_code == 403
    assert "interviews.read" in r.json()["error"]
