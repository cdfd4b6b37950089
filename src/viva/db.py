"""Engine, session factory and the per-request transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from viva.config import ensure_sqlite_dir, to_async_url


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for SQLite or PostgreSQL with the settings each needs."""
    url = to_async_url(url)
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # We issue BEGIN ourselves (below); the driver's own implicit BEGIN is off.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # SQLite has one writer. A deferred transaction that read first and writes later
            # fails at once with SQLITE_BUSY when another writer committed meanwhile; taking
            # the write lock up front makes concurrent requests queue (busy_timeout) instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, rolled back if it
    raises. Services never commit."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as db:
        try:
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            raise


# scope="function": the commit runs before the response is sent. With the default scope FastAPI
# sends the response first, so a client could act on changes not yet committed, and a failed
# commit would still answer 200.
DB = Annotated[AsyncSession, Depends(get_db, scope="function")]
