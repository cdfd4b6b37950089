"""Developer pages and workspace settings: a key shown once that then works on the API, a
webhook endpoint whose secret shows only on request, a test ping in the delivery log, members."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.dashboard.conftest import MemberFactory
from tests.fixtures.factories import Tenant
from tests.webhooks.receiver import Receiver, serve
from viva.auth import oauth
from viva.workspaces import service as workspaces


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


async def _connect_app(app: FastAPI, slug: str, email: str, name: str) -> str:
    """A client that went through consent in workspace `slug` (as `email`) and got tokens;
    returns its access token. The OAuth HTTP flow itself is tests/mcp/test_oauth.py's."""
    async with app.state.sessionmaker() as db:
        client = await oauth.register_client(db, str(uuid.uuid4()), {"client_name": name}, None)
        user = await workspaces.find_user(db, email)
        assert user is not None
        pending = oauth.PendingAuthorization(
            client_id=str(client.id),
            redirect_uri="http://127.0.0.1:9/cb",
            redirect_uri_explicit=True,
            scopes=["candidates.read"],
            code_challenge="x" * 43,
        )
        code = await oauth.load_code(
            db, str(client.id), await oauth.grant(db, pending, user.id, slug, ["candidates.read"])
        )
        assert code is not None
        issued = await oauth.exchange_code(db, code)
        assert issued is not None
        await db.commit()
        return issued.access_token


async def test_connected_apps_are_for_owners_and_admins_of_their_workspace(
    app: FastAPI, member: MemberFactory, other: Tenant
) -> None:
    owner = await member("owner")
    mine = await _connect_app(app, "acme", owner.email, "Acme Agent")
    page = await owner.client.get(owner.url("developer", "connected-apps"))
    assert page.status_code == 200 and "Acme Agent" in page.text and owner.email in page.text
    app_id = re.search(r"/connected-apps/([0-9a-f-]{36})/revoke", page.text)
    assert app_id

    # A reviewer sees neither the page nor can revoke (as for API keys).
    reviewer = await member("reviewer")
    assert (await reviewer.client.get(reviewer.url("developer", "connected-apps"))).status_code == 403
    r = await reviewer.post(reviewer.url("developer", "connected-apps", app_id.group(1), "revoke"))
    assert r.status_code == 403
    # The owner of another workspace: that app is not found there, and keeps working.
    globex = await member("owner", "globex")
    r = await globex.post(globex.url("developer", "connected-apps", app_id.group(1), "revoke"))
    assert r.status_code == 404
    assert "Acme Agent" not in (await globex.client.get(globex.url("developer", "connected-apps"))).text
    async with app.state.sessionmaker() as db:
        assert await oauth.load_access_token(db, mine) is not None
    # Without the CSRF token the owner's revoke is refused too.
    r = await owner.client.post(owner.url("developer", "connected-apps", app_id.group(1), "revoke"))
    assert r.status_code == 403
    r = await owner.post(owner.url("developer", "connected-apps", app_id.group(1), "revoke"))
    assert r.status_code == 303
    async with app.state.sessionmaker() as db:
        assert await oauth.load_access_token(db, mine) is None
