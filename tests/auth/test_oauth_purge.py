"""The hourly job forgets OAuth codes and tokens a day after nothing can use them; live ones stay."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from tests.fixtures.clock import FrozenClock
from tests.fixtures.factories import Tenant
from viva.auth.oauth import ACCESS_TTL, CODE_TTL, KEEP_DEAD, REFRESH_TTL
from viva.jobs.registry import PERIODIC, TASKS
from viva.jobs.worker import load_tasks
from viva.kit import clock
from viva.models import OAuthAuthorizationCode, OAuthClient, OAuthToken, User


async def test_dead_codes_and_tokens_are_purged_and_live_ones_kept(app, tenant: Tenant, frozen: FrozenClock):
    load_tasks()
    assert "auth.oauth_purge" in PERIODIC
    async with app.state.sessionmaker() as db:
        user = User(email="ada@example.com", password_hash="x")
        client = OAuthClient(name="Claude", info={"redirect_uris": ["https://claude.example/cb"]})
        db.add_all([user, client])
        await db.flush()
        ws = {"workspace_id": tenant.workspace_id, "client_id": client.id, "user_id": user.id}

        def code(label: str, issued_ago: timedelta) -> OAuthAuthorizationCode:
            return OAuthAuthorizationCode(
                **ws,
                code_hash=label,
                scopes=["interviews.read"],
                code_challenge="c" * 43,
                redirect_uri="https://claude.example/cb",
                redirect_uri_explicit=True,
                expires_at=clock.now() - issued_ago + CODE_TTL,
            )

        def token(label: str, issued_ago: timedelta) -> OAuthToken:
            issued = clock.now() - issued_ago
            return OAuthToken(
                **ws,
                family_id=uuid.uuid4(),
                scopes=["interviews.read"],
                access_hash="a" + label,
                access_expires_at=issued + ACCESS_TTL,
                refresh_hash="r" + label,
                refresh_expires_at=issued + REFRESH_TTL,
                granted_at=issued,
            )

        db.add_all(
            [
                code("fresh-code", timedelta(minutes=1)),
                # Expired but within the day's grace: kept for now.
                code("recent-code", CODE_TTL + timedelta(hours=1)),
                code("dead-code", CODE_TTL + KEEP_DEAD + timedelta(minutes=1)),
                # Its access token expired long ago, but it can still be refreshed: kept.
                token("refreshable", timedelta(days=20)),
                token("dead-token", REFRESH_TTL + KEEP_DEAD + timedelta(minutes=1)),
            ]
        )
        await db.commit()

    async with app.state.sessionmaker() as db:
        await TASKS["auth.oauth_purge"].handler(None, db, {})  # type: ignore[arg-type]
        await db.commit()

    async with app.state.sessionmaker() as db:
        codes = set(await db.scalars(select(OAuthAuthorizationCode.code_hash)))
        tokens = set(await db.scalars(select(OAuthToken.refresh_hash)))
    assert codes == {"fresh-code", "recent-code"}
    assert tokens == {"rrefreshable"}
