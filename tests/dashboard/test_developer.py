"""Developer pages and workspace settings: a key shown once that then works on the API, a
webhook endpoint whose secret shows only on request, a test ping in the delivery log, members."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.dashboard.conftest import MemberFactory
from tests.webhooks.receiver import Receiver, serve


def last_used(page: str) -> str:
    found = re.search(r"ATS sync.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>", page, re.S)
    assert found
    return found.group(1).strip()


async def test_an_api_key_is_shown_once_and_works(client: httpx.AsyncClient, member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.post(
        owner.url("developer", "api-keys"),
        [("name", "ATS sync"), ("scopes", "candidates.read"), ("scopes", "interviews.read")],
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    key = re.search(r'value="(iv_live_[^"]+)"', r.text)
    assert key and "shown only this once" in r.text
    page = await owner.client.get(owner.url("developer", "api-keys"))
    assert key.group(1) not in page.text and last_used(page.text) == "never"
    assert (await client.get("/api/v1/participants", headers={"x-api-key": key.group(1)})).status_code == 200
    r = await client.get("/api/v1/evaluation-templates", headers={"x-api-key": key.group(1)})
    assert r.status_code == 403  # only the scopes ticked
    page = await owner.client.get(owner.url("developer", "api-keys"))
    assert last_used(page.text) != "never"
    key_id = re.search(r"/api-keys/([0-9a-f-]{36})/revoke", page.text)
    assert key_id
    await owner.post(owner.url("developer", "api-keys", key_id.group(1), "revoke"))
    assert (await client.get("/api/v1/participants", headers={"x-api-key": key.group(1)})).status_code == 401
    r = await owner.post(owner.url("developer", "api-keys"), [("name", "none")])
    assert r.status_code == 400 and "Choose at least one scope" in r.text


async def test_webhook_endpoint_secret_and_test_ping(member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.post(owner.url("developer", "webhooks", "new"), {"url": "ftp://nope"})
    assert r.status_code == 400 and 'id="f-url-error"' in r.text
    r = await owner.post(
        owner.url("developer", "webhooks", "new"),
        [("url", "https://example.com/hooks"), ("events", "session.scored"), ("enabled", "true")],
    )
    assert r.status_code == 200 and re.search(r'value="whsec_[^"]+"', r.text)
    endpoint = re.search(r"/developer/webhooks/([0-9a-f-]{36})/edit", r.text)
    assert endpoint
    page = await owner.client.get(owner.url("developer", "webhooks", endpoint.group(1)))
    assert "whsec_" not in page.text and "session.scored" in page.text
    r = await owner.post(owner.url("developer", "webhooks", endpoint.group(1), "secret"))
    assert "whsec_" in r.text
    r = await owner.post(owner.url("developer", "webhooks", endpoint.group(1), "test"))
    page = await owner.client.get(r.headers["location"])
    assert (
        "Test event queued" in page.text
        and "webhook.test" in page.text
        and "webhook-signature" not in page.text
    )


async def test_members_and_roles(member: MemberFactory) -> None:
    owner = await member("owner")
    page = await owner.client.get(owner.url("settings"))
    assert 'id="plan">unlimited<' in page.text
    r = await owner.post(owner.url("settings", "members"), {"email": "rita@acme.test", "role": "recruiter"})
    assert r.status_code == 200 and "rita@acme.test was added as recruiter" in r.text
    assert "shown once" in r.text
    r = await owner.post(owner.url("settings", "members"), {"email": "rita@acme.test", "role": "recruiter"})
    assert r.status_code == 409 and "already a member" in r.text
    recruiter = await member("recruiter")
    r = await recruiter.client.get(recruiter.url("developer", "webhooks", "new"))
    assert r.status_code == 403  # recruiters don't wire integrations
    r = await recruiter.client.get(recruiter.url("developer", "api-keys"))
    assert r.status_code == 403


async def test_delivery_log_and_retry(member: MemberFactory, worker: Any) -> None:
    with serve(Receiver(respond=lambda request, n: 500 if n == 1 else 200)) as receiver:
        owner = await member("owner")
        r = await owner.post(
            owner.url("developer", "webhooks", "new"), [("url", receiver.url), ("events", "*")]
        )
        secret = re.search(r'value="(whsec_[^"]+)"', r.text)
        endpoint = re.search(r"/developer/webhooks/([0-9a-f-]{36})/edit", r.text)
        assert secret and endpoint
        await owner.post(owner.url("developer", "webhooks", endpoint.group(1), "test"))
        await worker.drain()
        page = await owner.client.get(owner.url("developer", "webhooks", endpoint.group(1)))
        assert "Response HTTP 500" in page.text and "webhook-id:" in page.text and "pending" in page.text
        delivery = re.search(r"/webhooks/deliveries/([0-9a-f-]{36})/retry", page.text)
        assert delivery
        r = await owner.post(owner.url("developer", "webhooks", "deliveries", delivery.group(1), "retry"))
        await worker.drain()
        page = await owner.client.get(r.headers["location"])
        assert "Delivery queued again" in page.text and "Response HTTP 200" in page.text
        assert "succeeded" in page.text
        assert len(receiver.requests) == 2 and receiver.requests[-1].signed_by(secret.group(1))
