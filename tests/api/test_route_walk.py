"""Every route of the API, walked with the wrong credentials.

- another workspace's key: objects are 404, lists leak nothing, except the deliberate
  read-only exceptions of SPEC §1 (CROSS_WORKSPACE_READS in tests/fixtures/routes.py);
- a key lacking the route's scope: 403 naming it;
- no key or a bad key: 401.
Routes are discovered from the app, so new routes are covered automatically; a route
whose path parameter has no seeder below fails loudly until one is added."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.fixtures.factories import Tenant, make_key, profile_body, template_body
from tests.fixtures.routes import CROSS_WORKSPACE_READS, PUBLIC_API_ROUTES, api_routes
from viva.auth.scopes import ALL_SCOPES

SECRET_EMAIL = "only-in-acme@example.com"
SECRET_NAME = "Acme Private Marker"
# Creates whose body (see body_for) points at the other workspace's objects: must be 404.
REFERENCING_CREATES = {
    "/api/v1/evaluation-stages",
    "/api/v1/participants",
    "/api/v1/agent-profiles",
    "/api/v1/sessions",
}


async def seed_workspace(client: httpx.AsyncClient, owner: Tenant) -> dict[str, str]:
    """One object of every kind in the owner's workspace; returns path-param -> id."""
    h = owner.headers

    async def post(path: str, body: dict[str, Any]) -> str:
        r = await client.post(path, json=body, headers=h)
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["id"])

    ids: dict[str, str] = {}
    ids["profile_id"] = await post("/api/v1/agent-profiles", profile_body(name=SECRET_NAME))
    ids["template_id"] = await post("/api/v1/evaluation-templates", template_body(template_name=SECRET_NAME))
    ids["stage_id"] = await post(
        "/api/v1/evaluation-stages",
        {
            "evaluation_template_id": ids["template_id"],
            "type": "screen",
            "stage_name": SECRET_NAME,
            "agent_profile_id": ids["profile_id"],
        },
    )
    ids["participant_id"] = await post(
        "/api/v1/participants",
        {
            "name": SECRET_NAME,
            "email": SECRET_EMAIL,
            "evaluation_template_id": ids["template_id"],
            "external_id": "acme-ext-1",
        },
    )
    ids["endpoint_id"] = await post(
        "/api/v1/webhook-endpoints", {"url": "https://hooks.example.com/acme", "description": SECRET_NAME}
    )
    r = await client.post(
        "/api/v1/sessions",
        json={
            "candidate_id": ids["participant_id"],
            "evaluation_template_id": ids["template_id"],
            "stage": "screen",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    ids["session_id"] = r.json()["data"]["id"]
    r = await client.get(f"/api/v1/webhook-endpoints/{ids['endpoint_id']}/deliveries", headers=h)
    ids["delivery_id"] = r.json()["data"][0]["id"]
    return ids


def body_for(method: str, path: str, ids: dict[str, str]) -> dict[str, Any] | None:
    """A body that is valid apart from pointing at the owner's objects."""
    if method not in ("POST", "PATCH", "PUT"):
        return None
    references = {
        "/api/v1/evaluation-stages": {
            "evaluation_template_id": ids["template_id"],
            "type": "x",
            "agent_profile_id": ids["profile_id"],
        },
        "/api/v1/participants": {
            "name": "X",
            "email": "x@example.com",
            "evaluation_template_id": ids["template_id"],
        },
        "/api/v1/participants/bulk": {
            "participants": [
                {"name": "X", "email": "x@example.com", "evaluation_template_id": ids["template_id"]}
            ]
        },
        "/api/v1/sessions": {
            "candidate_id": ids["participant_id"],
            "evaluation_template_id": ids["template_id"],
            "stage": "screen",
        },
        "/api/v1/sessions/{session_id}": {"scheduled_at": "2099-01-01T10:00:00Z"},
        "/api/v1/sessions/{session_id}/review": {"decision": "approve"},
    }
    return references.get(path, {})


def fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no seeder for a path parameter of {path}: add one to seed_workspace()"
    return path


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    headers: dict[str, str],
    ids: dict[str, str],
    query: str = "",
) -> httpx.Response:
    body = body_for(method, path, ids)
    url = fill(path, ids) + query
    if path == "/api/v1/agent-profiles" and method == "POST":
        url += "?action=fork"
        body = {"sourceId": ids["profile_id"]}
    return await client.request(method, url, json=body, headers=headers)


@pytest.fixture
async def seeded(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    return await seed_workspace(client, tenant)


def test_every_api_route_is_authenticated_or_deliberately_public(app):
    for route in api_routes(app):
        if not route.authenticated:
            assert (route.method, route.path) in PUBLIC_API_ROUTES, f"{route} has no auth dependency"
        elif route.scope is not None:
            assert route.scope in ALL_SCOPES, f"{route} names unknown scope {route.scope}"


async def test_another_workspace_sees_nothing(app, client, tenant, other, seeded):
    leaks = [seeded[k] for k in seeded] + [SECRET_EMAIL, SECRET_NAME, "acme-ext-1"]
    walked = 0
    for route in api_routes(app):
        if not route.authenticated:
            continue
        walked += 1
        r = await call(client, route.method, route.path, other.headers, seeded)
        if route.params or (route.method == "POST" and route.path in REFERENCING_CREATES):
            assert r.status_code == 404, f"{route.method} {route.path}: {r.status_code} {r.text}"
        else:
            assert r.status_code < 500, f"{route.method} {route.path}: {r.text}"
        for marker in leaks:
            assert marker not in r.text, f"{route.method} {route.path} leaked {marker}: {r.text}"
        if route.method == "GET" and not route.params:
            # Filters naming the other workspace's objects must come back empty too.
            q = f"?evaluation_template_id={seeded['template_id']}&email={SECRET_EMAIL}"
            r = await call(client, "GET", route.path, other.headers, seeded, q)
            assert r.status_code in (200, 400), r.text
            for marker in leaks:
                assert marker not in r.text, f"GET {route.path}{q} leaked {marker}"
    assert walked >= 20
    # And the owner still sees every object (the walk above changed nothing of theirs).
    for kind, path in (
        ("profile_id", "agent-profiles"),
        ("template_id", "evaluation-templates"),
        ("stage_id", "evaluation-stages"),
        ("participant_id", "participants"),
    ):
        r = await client.get(f"/api/v1/{path}/{seeded[kind]}", headers=tenant.headers)
        assert r.status_code == 200, (kind, r.text)
        assert SECRET_NAME in r.text


async def test_another_workspace_reaches_exactly_the_allow_listed_public_library(
    app, client, tenant, other, seeded
):
    """The same walk, with the owner's profile in the public library: the routes that show it
    to another workspace are exactly CROSS_WORKSPACE_READS; every other route stays 404."""
    marker = "Acme Library Marker"
    r = await client.post(
        "/api/v1/agent-profiles", json=profile_body(name=marker, isPublic=True), headers=tenant.headers
    )
    ids = {**seeded, "profile_id": r.json()["data"]["id"]}
    reached: set[tuple[str, str]] = set()
    for route in api_routes(app):
        if not route.authenticated:
            continue
        queries = ["", "?public=true"] if route.method == "GET" and not route.params else [""]
        for query in queries:
            r = await call(client, route.method, route.path, other.headers, ids, query)
            assert r.status_code < 500, f"{route.method} {route.path}{query}: {r.text}"
            if r.status_code < 300 and marker in r.text:
                reached.add((route.method, route.path))
            elif "profile_id" in route.params:
                assert r.status_code == 404, f"{route.method} {route.path}: {r.status_code} {r.text}"
    assert reached == set(CROSS_WORKSPACE_READS)
    # Read-only: the PATCH and DELETE of the walk changed nothing.
    r = await client.get(f"/api/v1/agent-profiles/{ids['profile_id']}", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["data"]["name"] == marker


async def test_every_route_refuses_a_key_without_its_scope(app, client, tenant, seeded):
    keys: dict[str, str] = {}
    checked = 0
    for route in api_routes(app):
        if route.scope is None:
            continue
        if route.scope not in keys:
            keys[route.scope] = await make_key(app, tenant.slug, [s for s in ALL_SCOPES if s != route.scope])
        r = await call(client, route.method, route.path, {"x-api-key": keys[route.scope]}, seeded)
        assert r.status_code == 403, f"{route.method} {route.path}: {r.status_code} {r.text}"
        assert r.json()["scope"] == route.scope and route.scope in r.json()["error"]
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "iv_live_not-a-real-key"},
        {"x-api-key": "sk_wrong_prefix"},
        {"authorization": "Bearer iv_live_nope"},
    ],
)
async def test_every_route_needs_a_valid_key(app, client, headers, seeded):
    for route in api_routes(app):
        if not route.authenticated:
            continue
        r = await call(client, route.method, route.path, headers, seeded)
        assert r.status_code == 401, f"{route.method} {route.path}: {r.status_code} {r.text}"
        assert r.json()["error"]


Seeder = Callable[[httpx.AsyncClient, Tenant], Awaitable[dict[str, str]]]
