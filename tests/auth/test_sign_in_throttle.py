"""Sign-in throttling: the client address it counts by can't be chosen with X-Forwarded-For
unless the request comes from a trusted proxy (VIVA_TRUSTED_PROXIES), and one password tried
on many accounts is stopped whatever the emails and addresses."""

from __future__ import annotations

import logging
import uuid
from contextlib import AbstractContextManager

import httpx
import pytest

from tests.conftest import make_settings
from tests.fixtures.live import CLIENT_TIMEOUT, serve_asgi, wait_ready
from viva.app import create_app
from viva.auth.throttle import ATTEMPTS_PER_MINUTE, PASSWORD_FAILURES
from viva.cli import server_options
from viva.config import Settings
from viva.workspaces import service as workspaces_service

SIGN_IN = "/api/v1/auth/sign-in"


def attempts_from(base: str, forwarded_for: list[str]) -> list[httpx.Response]:
    """One wrong sign-in to the same account per X-Forwarded-For value, from loopback."""
    with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as c:
        return [
            c.post(
                SIGN_IN,
                json={"email": "victim@acme.test", "password": f"guess {i}"},
                headers={"x-forwarded-for": address},
            )
            for i, address in enumerate(forwarded_for)
        ]


def served(settings: Settings) -> AbstractContextManager[str]:
    """The app under uvicorn with the options `viva serve` gives it."""
    options = server_options(settings)
    return serve_asgi(
        create_app(settings),
        lifespan="on",
        proxy_headers=options["proxy_headers"],
        forwarded_allow_ips=options["forwarded_allow_ips"],
    )


def test_forwarded_for_from_loopback_is_not_believed_by_default(database_url):
    """`viva serve` used to run uvicorn with proxy_headers and its default trust of 127.0.0.1: a
    new X-Forwarded-For per attempt gave each its own budget, and guessing went unthrottled."""
    with served(make_settings(database_url)) as base:
        wait_ready(base)
        rs = attempts_from(base, [f"203.0.113.{i}" for i in range(ATTEMPTS_PER_MINUTE + 1)])
    assert [r.status_code for r in rs] == [401] * ATTEMPTS_PER_MINUTE + [429]
    assert int(rs[-1].headers["retry-after"]) >= 1


def test_a_trusted_proxy_s_forwarded_for_is_the_client(database_url):
    with served(make_settings(database_url, trusted_proxies="127.0.0.1, ::1")) as base:
        wait_ready(base)
        spread = attempts_from(base, [f"203.0.113.{i}" for i in range(ATTEMPTS_PER_MINUTE + 1)])
        one = attempts_from(base, ["198.51.100.7"] * (ATTEMPTS_PER_MINUTE + 1))
    assert [r.status_code for r in spread] == [401] * (ATTEMPTS_PER_MINUTE + 1)  # each client its own budget
    assert [r.status_code for r in one] == [401] * ATTEMPTS_PER_MINUTE + [429]


def test_trusted_proxies_must_be_addresses_or_networks():
    assert Settings(trusted_proxies=" 10.0.0.0/8 ,192.0.2.1,,").trusted_proxy_list == [
        "10.0.0.0/8",
        "192.0.2.1",
    ]
    assert Settings().trusted_proxy_list == []
    assert server_options(Settings())["proxy_headers"] is False
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(trusted_proxies="proxy.example")


async def test_one_password_tried_on_many_accounts_is_throttled(app, client, tenant, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    sprayed = "Winter2026!"
    async with app.state.sessionmaker() as db:
        ws = await workspaces_service.get_workspace(db, "acme")
        await workspaces_service.create_user(db, ws, "real@acme.test", role="owner", password="correct horse")
        await db.commit()
    for _ in range(PASSWORD_FAILURES):
        r = await client.post(SIGN_IN, json={"email": f"{uuid.uuid4().hex}@acme.test", "password": sprayed})
        assert r.status_code == 401, r.text
    r = await client.post(SIGN_IN, json={"email": "someone-else@acme.test", "password": sprayed})
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "password_throttled" and "password" in r.json()["error"]
    assert int(r.headers["retry-after"]) >= 1
    page = await client.post("/dashboard/sign-in", data={"email": "third@acme.test", "password": sprayed})
    assert page.status_code == 429 and int(page.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in page.text

    # Other passwords, and the account owners who know theirs, are not held up.
    r = await client.post(SIGN_IN, json={"email": "someone-else@acme.test", "password": "another"})
    assert r.status_code == 401
    r = await client.post(SIGN_IN, json={"email": "real@acme.test", "password": "correct horse"})
    assert r.status_code == 200

    # What is counted is a keyed hash; the password appears in no counter and no log.
    counters = str(vars(app.state.sign_in_throttle.per_password.storage))
    assert sprayed not in counters
    out = capsys.readouterr()
    assert sprayed not in caplog.text and sprayed not in out.out + out.err
