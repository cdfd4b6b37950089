from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from tests.fixtures.clock import FrozenClock
from tests.fixtures.db import backends, reset_to_empty, truncate_all
from tests.fixtures.factories import Tenant, make_tenant
from viva import schema
from viva.app import create_app
from viva.config import Settings
from viva.kit import clock


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


TEST_SECRET_KEY = Fernet.generate_key().decode()
# Recordings written by apps under test (one folder per test process, never the checkout's var/).
TEST_STORAGE_DIR = tempfile.mkdtemp(prefix="viva-test-storage-")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for an app under test. Tests run jobs themselves (the `worker` fixture),
    so there is no background worker; webhooks may target the loopback receivers."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "public_url": "http://testserver",
        "secret_key": TEST_SECRET_KEY,
        "run_worker": False,
        "allow_private_urls": True,
        "job_lease_seconds": 5,
        "storage_dir": TEST_STORAGE_DIR,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    if app.state.code_runner is not None:  # its started sandboxes (no lifespan runs here)
        await app.state.code_runner.close()
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


@pytest.fixture
async def worker(app: FastAPI) -> AsyncIterator[Any]:
    """A job worker on the test database; tests call `await worker.drain()`."""
    from viva.app import make_worker

    w = make_worker(app, poll_seconds=0.05)
    yield w
    await w.context.http.aclose()


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    """The clock frozen at the real current time; unfrozen after the test."""
    try:
        yield FrozenClock(clock.now().replace(microsecond=0))
    finally:
        clock.freeze(None)
