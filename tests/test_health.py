from __future__ import annotations

from sqlalchemy import text


async def test_healthz(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_reports_the_migration_state(app, client):
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    async with app.state.sessionmaker() as db:
        await db.execute(text("UPDATE alembic_version SET version_num = 'old'"))
        await db.commit()
    try:
        r = await client.get("/readyz")
        assert r.status_code == 503 and r.json()["status"] == "migrating"
    finally:
        from viva import schema

        async with app.state.sessionmaker() as db:
            await db.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": schema.head_revision()}
            )
            await db.commit()


async def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    import httpx

    from tests.conftest import make_settings
    from viva.app import create_app

    app = create_app(make_settings("postgresql://nobody@127.0.0.1:1/none"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
    await app.state.engine.dispose()
    assert r.status_code == 503 and r.json()["status"] == "unavailable"
