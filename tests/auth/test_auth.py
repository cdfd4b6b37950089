"""API keys, scopes, accountSlug, cookie sign-in with CSRF, and rate limits (SPEC §2)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import make_settings
from tests.fixtures.factories import make_key, profile_body
from viva.app import create_app
from viva.auth import service as auth_service
from viva.kit import clock
from viva.kit.crypto import token_hash
from viva.models import ApiKey, User
from viva.workspaces import service as workspaces_service

PROFILES = "/api/v1/agent-profiles"


async def test_keys_are_stored_hashed_and_high_entropy(app, tenant):
    async with app.state.sessionmaker() as db:
        keys = (await db.execute(select(ApiKey))).scalars().all()
    assert len(keys) == 1
    assert tenant.key.startswith("iv_live_") and len(tenant.key) >= 8 + 43
    assert keys[0].key_hash == token_hash(tenant.key) and tenant.key not in str(vars(keys[0]))


async def test_last_used_at_is_recorded(app, client, tenant):
    async with app.state.sessionmaker() as db:
        assert (await db.scalar(select(ApiKey.last_used_at))) is None
    assert (await client.get(PROFILES, headers=tenant.headers)).status_code == 200
    async with app.state.sessionmaker() as db:
        assert (await db.scalar(select(ApiKey.last_used_at))) is not None


async def test_revoked_key_is_401(app, client, tenant):
    async with app.state.sessionmaker() as db:
        key = await db.scalar(select(ApiKey))
        await auth_service.revoke_api_key(db, str(key.id))
        await db.commit()
    r = await client.get(PROFILES, headers=tenant.headers)
    assert r.status_code == 401 and "revoked" in r.json()["error"]


async def test_bearer_header_works_like_x_api_key(client, tenant):
    r = await client.get(PROFILES, headers={"authorization": f"Bearer {tenant.key}"})
    assert r.status_code == 200


async def test_account_slug_is_ignored_unless_it_names_another_workspace(client, tenant, other):
    assert (await client.get(f"{PROFILES}?accountSlug=acme", headers=tenant.headers)).status_code == 200
    r = await client.get(f"{PROFILES}?accountSlug=globex", headers=tenant.headers)
    assert r.status_code == 403 and r.json()["code"] == "wrong_account"


async def test_missing_scope_is_403_naming_it(app, client, tenant):
    key = await make_key(app, "acme", ["interviews.read"])
    assert (await client.get(PROFILES, headers={"x-api-key": key})).status_code == 200
    r = await client.post(PROFILES, json=profile_body(), headers={"x-api-key": key})
    assert r.status_code == 403
    assert r.json() == {
        "error": "This key lacks the 'interviews.write' scope required here",
        "code": "missing_scope",
        "scope": "interviews.write",
    }


async def _signed_in(app, client, role="owner", slug="acme"):
    async with app.state.sessionmaker() as db:
        ws = await workspaces_service.get_workspace(db, slug)
        await workspaces_service.create_user(db, ws, f"{role}@acme.test", role=role, password="correct horse")
        await db.commit()
    r = await client.post(
        "/api/v1/auth/sign-in", json={"email": f"{role}@acme.test", "password": "correct horse"}
    )
    assert r.status_code == 200, r.text
    return r


async def test_cookie_sign_in_reads_and_writes_with_csrf(app, client, tenant):
    r = await _signed_in(app, client)
    csrf = r.json()["data"]["csrf_token"]
    assert r.json()["data"]["workspaces"] == [{"slug": "acme", "name": "Acme", "role": "owner"}]
    assert "viva_session" in client.cookies
    set_cookie = r.headers.get_list("set-cookie")
    assert any("viva_session" in c and "HttpOnly" in c and "SameSite=lax" in c for c in set_cookie)
    assert (await client.get(f"{PROFILES}?accountSlug=acme")).status_code == 200
    r = await client.post(f"{PROFILES}?accountSlug=acme", json=profile_body())
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = await client.post(
        f"{PROFILES}?accountSlug=acme", json=profile_body(), headers={"x-csrf-token": "nope"}
    )
    assert r.status_code == 403
    r = await client.post(f"{PROFILES}?accountSlug=acme", json=profile_body(), headers={"x-csrf-token": csrf})
    assert r.status_code == 201
    r = await client.get(f"{PROFILES}?accountSlug=globex")
    assert r.status_code == 403 and "not a member" in r.json()["error"]
    r = await client.post("/api/v1/auth/sign-out", headers={"x-csrf-token": csrf})
    assert r.status_code == 204
    assert (await client.get(f"{PROFILES}?accountSlug=acme")).status_code == 401


async def test_passwords_are_argon2_and_wrong_ones_fail(app, client, tenant):
    await _signed_in(app, client)
    async with app.state.sessionmaker() as db:
        user = await db.scalar(select(User).where(User.email == "owner@acme.test"))
    assert user.password_hash.startswith("$argon2id$")
    r = await client.post("/api/v1/auth/sign-in", json={"email": "owner@acme.test", "password": "wrong"})
    assert r.status_code == 401
    r = await client.post("/api/v1/auth/sign-in", json={"email": "nobody@acme.test", "password": "wrong"})
    assert r.status_code == 401 and r.json()["error"] == "Wrong email or password"


async def test_reviewer_role_reads_but_cannot_configure(app, client, tenant):
    r = await _signed_in(app, client, role="reviewer")
    csrf = r.json()["data"]["csrf_token"]
    assert (await client.get(f"{PROFILES}?accountSlug=acme")).status_code == 200
    r = await client.post(f"{PROFILES}?accountSlug=acme", json=profile_body(), headers={"x-csrf-token": csrf})
    assert r.status_code == 403 and r.json()["code"] == "missing_scope"


async def test_expired_sign_in_is_401(app, client, tenant):
    await _signed_in(app, client)
    clock.freeze(clock.now() + timedelta(days=30))
    try:
        r = await client.get(f"{PROFILES}?accountSlug=acme")
    finally:
        clock.freeze(None)
    assert r.status_code == 401


async def test_rate_limit_headers_and_429(database_url, tenant):
    app = create_app(make_settings(database_url, rate_limit_per_minute=3))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            seen = []
            for _ in range(3):
                r = await c.get(PROFILES, headers=tenant.headers)
                assert r.status_code == 200
                assert r.headers["ratelimit-policy"] == '"default";q=3;w=60'
                seen.append(r.headers["ratelimit"])
            assert [s.split(";")[1] for s in seen] == ["r=2", "r=1", "r=0"]
            r = await c.get(PROFILES, headers=tenant.headers)
            assert r.status_code == 429
            assert 1 <= int(r.headers["retry-after"]) <= 60
            assert r.headers["ratelimit"].startswith('"default";r=0;t=')
            # Errors carry the headers too, and another key has its own budget.
            other = await make_key(app, "acme", ["interviews.read"])
            r = await c.get(PROFILES, headers={"x-api-key": other})
            assert r.status_code == 200 and "r=2" in r.headers["ratelimit"]
    finally:
        await app.state.engine.dispose()


async def test_rate_limit_is_shared_through_redis(database_url, tenant):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings = make_settings(database_url, rate_limit_per_minute=4, redis_url="redis://127.0.0.1:6379/0")
    a, b = create_app(settings), create_app(settings)  # two API replicas
    try:
        ca = httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://a")
        cb = httpx.AsyncClient(transport=httpx.ASGITransport(app=b), base_url="http://b")
        async with ca, cb:
            statuses = [
                (await c.get(PROFILES, headers=tenant.headers)).status_code for c in (ca, cb, ca, cb, ca)
            ]
        assert statuses == [200, 200, 200, 200, 429]
    finally:
        await a.state.engine.dispose()
        await b.state.engine.dispose()
