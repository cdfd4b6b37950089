"""Signed-in dashboard clients: a member of workspace acme with a role, over the app's ASGI."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright

from tests.fixtures.factories import Tenant
from viva.workspaces import service as workspaces

PASSWORD = "correct horse battery staple"


@dataclass
class Member:
    client: httpx.AsyncClient
    email: str
    slug: str
    csrf: str

    def url(self, *parts: object) -> str:
        return "/".join(["/dashboard", self.slug, *(str(p) for p in parts)])

    async def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, Any]] | None = None, **kw: Any
    ) -> httpx.Response:
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        # Sent by hand: httpx's `data` can't repeat a name, and forms do (checkboxes).
        body = urlencode([("csrf_token", self.csrf), *items])
        headers = {"content-type": "application/x-www-form-urlencoded", **kw.pop("headers", {})}
        return await self.client.post(path, content=body, headers=headers, **kw)


async def add_user(app: FastAPI, slug: str, email: str, role: str) -> None:
    async with app.state.sessionmaker() as db:
        workspace = await workspaces.get_workspace(db, slug)
        await workspaces.create_user(db, workspace, email, role=role, password=PASSWORD, name=role.title())
        await db.commit()


async def sign_in(app: FastAPI, email: str, slug: str) -> Member:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    r = await client.post("/dashboard/sign-in", data={"email": email, "password": PASSWORD})
    assert r.status_code == 303, r.text
    page = await client.get(r.headers["location"])
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return Member(client=client, email=email, slug=slug, csrf=csrf.group(1))


MemberFactory = Callable[[str, str], Awaitable[Member]]


@pytest.fixture
async def member(app: FastAPI, tenant: Tenant) -> AsyncIterator[MemberFactory]:
    """`await member("owner")`: a signed-in member of acme with that role."""
    made: list[Member] = []

    async def make(role: str, slug: str = "acme") -> Member:
        email = f"{role}-{len(made)}@{slug}.test"
        await add_user(app, slug, email, role)
        signed = await sign_in(app, email, slug)
        made.append(signed)
        return signed

    yield make
    for m in made:
        await m.client.aclose()


CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium (never a downloaded browser), headless."""
    if not HAVE_CHROMIUM:
        reason = f"Debian's Chromium is missing at {CHROMIUM}; `make setup` installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    ARTIFACTS.mkdir(exist_ok=True)  # noqa: ASYNC240 - once, before the browser starts
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        await browser.close()
