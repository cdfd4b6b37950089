from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.db import backends, reset_to_empty, truncate_all
from tests.fixtures.factories import Tenant, make_tenant
from viva import schema
from viva.app import create_app
from viva.config import Settings


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("viva")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_root: Path) -> str:
    """A database migrated from empty to head, once per backend per run."""
    url = backends(tmp_root)[request.param]
    if url is None:
        pytest.skip("PostgreSQL: set VIVA_TEST_DATABASE_URL to run against it")
    reset_to_empty(url)
    schema.upgrade(url)
    return url


@pytest.fixture
def database_url(migrated_url: str) -> str:
    """The backend's database with every table emptied for this test."""
    truncate_all(migrated_url)
    return migrated_url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, public_url="http://testserver")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def tenant(app: FastAPI) -> Tenant:
    return await make_tenant(app, "acme")


@pytest.fixture
async def other(app: FastAPI) -> Tenant:
    return await make_tenant(app, "globex")
