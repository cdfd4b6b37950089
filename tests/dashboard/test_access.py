"""Who may see what: reviewers read and review but never reach configuration pages or their
POST endpoints; another workspace's objects are a 404 on every dashboard page; every POST
needs the CSRF token; signed-out visitors are sent to sign in."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tests.dashboard.conftest import MemberFactory
from tests.dashboard.test_pages import build_pipeline
from tests.fixtures.factories import Tenant
from tests.sessions.helpers import pipeline, session_body


def dashboard_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every dashboard (method, path) with path parameters, found on the app itself."""
    found = []
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and path.startswith("/dashboard/{slug}/"):
            for method in sorted(context.methods or ()):
                found.append((method, path))
    return found


async def _ids_of(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    p = await pipeline(client, tenant)
    r = await client.post("/api/v1/sessions", json=session_body(p), headers=tenant.headers)
    assert r.status_code == 200, r.text
    r2 = await client.post(
        "/api/v1/webhook-endpoints", json={"url": "https://example.com/hook"}, headers=tenant.headers
    )
    return {
        "profile_id": p["profile"],
        "template_id": p["template"],
        "stage_id": p["stages"][0],
        "participant_id": p["participant"],
        "session_id": r.json()["data"]["id"],
        "endpoint_id": r2.json()["data"]["id"],
    }


async def test_another_workspaces_objects_are_404_on_every_page(
    app: FastAPI, client: httpx.AsyncClient, member: MemberFactory, other: Tenant
) -> None:
    owner = await member("owner")
    theirs = await _ids_of(client, other)
    checked = 0
    for method, path in dashboard_routes(app):
        params = re.findall(r"{(\w+)}", path)
        if params == ["slug"]:
            continue
        url = path.replace("{slug}", owner.slug)
        for name in params[1:]:
            # Ids this test doesn't make (a delivery, an email, a key) are random: a 404 as well.
            url = url.replace("{" + name + "}", theirs.get(name, "00000000-0000-4000-8000-000000000000"))
        r = await (owner.client.get(url) if method == "GET" else owner.post(url, {"status": "archived"}))
        assert r.status_code == 404, (method, path, r.status_code, r.text[:300])
        checked += 1
    assert checked >= 20
    # ...and their workspace itself is a 404 too, not a hint that it exists.
    r = await owner.client.get("/dashboard/globex/agent-profiles")
    assert r.status_code == 404
    # Nothing of theirs changed.
    r = await client.get(f"/api/v1/evaluation-templates/{theirs['template_id']}", headers=other.headers)
    assert r.json()["data"]["status"] == "active"


async def test_a_reviewer_reads_and_reviews_but_cannot_configure(
    app: FastAPI, client: httpx.AsyncClient, member: MemberFactory, tenant: Tenant
) -> None:
    owner = await member("owner")
    ids = await build_pipeline(owner)
    reviewer = await member("reviewer")
    # Reading is fine.
    for path in [
        "",
        "agent-profiles",
        f"agent-profiles/{ids['profile']}",
        "templates",
        f"templates/{ids['template']}",
        "participants",
        f"participants/{ids['participant']}",
        "sessions",
        "reviews",
    ]:
        r = await reviewer.client.get(reviewer.url(path) if path else reviewer.url())
        assert r.status_code == 200, (path, r.text[:300])
        assert "New agent profile" not in r.text and "Add participant" not in r.text
    template = await client.get(f"/api/v1/evaluation-templates/{ids['template']}", headers=tenant.headers)
    stage = template.json()["data"]["stages"][0]["id"]
    config_pages = [
        "agent-profiles/new",
        f"agent-profiles/{ids['profile']}/edit",
        "templates/new",
        f"templates/{ids['template']}/edit",
        f"templates/{ids['template']}/stages/new",
        f"templates/{ids['template']}/stages/{stage}/edit",
        "participants/new",
        "participants/import",
        f"participants/{ids['participant']}/edit",
        f"participants/{ids['participant']}/erase",
        "sessions/new",
        "developer/api-keys",
        "developer/webhooks/new",
        "developer/outbox",
    ]
    for path in config_pages:
        r = await reviewer.client.get(reviewer.url(path))
        assert r.status_code == 403, (path, r.status_code)
        assert "Not allowed" in r.text
    posts = [
        "agent-profiles/new",
        f"agent-profiles/{ids['profile']}/edit",
        f"agent-profiles/{ids['profile']}/delete",
        "agent-profiles/fork",
        "templates/new",
        f"templates/{ids['template']}/edit",
        f"templates/{ids['template']}/status",
        f"templates/{ids['template']}/stages/new",
        f"templates/{ids['template']}/stages/{stage}/edit",
        f"templates/{ids['template']}/stages/{stage}/move",
        "participants/new",
        "participants/bulk",
        f"participants/{ids['participant']}/edit",
        f"participants/{ids['participant']}/status",
        f"participants/{ids['participant']}/erase",
        "sessions/new",
        "developer/api-keys",
        "developer/webhooks/new",
        "settings/members",
    ]
    for path in posts:
        r = await reviewer.post(
            reviewer.url(path), {"status": "archived", "name": "x", "email": "x@example.com"}
        )
        assert r.status_code == 403, (path, r.status_code)
    # Nothing changed.
    r = await client.get(f"/api/v1/evaluation-templates/{ids['template']}", headers=tenant.headers)
    assert r.json()["data"]["status"] == "active" and len(r.json()["data"]["stages"]) == 3
    r = await client.get(f"/api/v1/participants/{ids['participant']}", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["data"]["status"] == "active"


async def test_every_post_needs_the_csrf_token(member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.client.post(owner.url("templates", "new"), data={"template_name": "Sneaky"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = await owner.client.post(
        owner.url("templates", "new"), data={"template_name": "Sneaky", "csrf_token": "wrong"}
    )
    assert r.status_code == 403
    page = await owner.client.get(owner.url("templates"))
    assert "Sneaky" not in page.text


async def test_signed_out_visitors_are_sent_to_sign_in(
    client: httpx.AsyncClient, member: MemberFactory
) -> None:
    owner = await member("owner")
    r = await client.get(owner.url("sessions"))
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/sign-in?next=")
    r = await client.post("/dashboard/sign-in", data={"email": owner.email, "password": "nope"})
    assert r.status_code == 401 and "Wrong email or password" in r.text
    page = await owner.client.get(owner.url())
    r = await owner.post("/dashboard/sign-out")
    assert r.status_code == 303
    r = await owner.client.get(owner.url("sessions"))
    assert r.status_code == 303
    del page
