"""Outgoing webhooks never reach private, loopback or link-local addresses unless the
operator allows it (VIVA_ALLOW_PRIVATE_URLS): refused when the URL is given, and
checked again on the address actually dialled, so a name that resolves to 127.0.0.1
(or starts to, later: DNS rebinding) is blocked too."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from tests.fixtures.clock import FrozenClock
from tests.webhooks.helpers import create_endpoint, deliveries, get_endpoint
from viva.app import create_app, make_worker
from viva.jobs.worker import Worker


@asynccontextmanager
async def strict_app(database_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Worker]]:
    """The app as deployed: allow_private_urls off. Same database as the test's app."""
    app = create_app(make_settings(database_url, allow_private_urls=False))
    worker = make_worker(app, poll_seconds=0.05)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            yield app, c, worker
    finally:
        await worker.context.http.aclose()
        await app.state.engine.dispose()


@contextmanager
def tcp_listener() -> Iterator[tuple[int, list[str]]]:
    """A bare TCP port that notes every connection made to it (and hangs up at once)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.05)
    seen: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = sock.accept()
            except TimeoutError:
                continue
            seen.append(peer[0])
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


async def emit(app: FastAPI, workspace_id: Any) -> str:
    from viva.events import service as events

    async with app.state.sessionmaker() as db:
        event = await events.emit(db, workspace_id, "session.created", {"session": {"id": "x"}})
        await db.commit()
        return event.id


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost:8080/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://LOCALHOST/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        # Spellings that used to pass creation and were only stopped when a delivery was sent:
        "https://localhost./x",
        "https://x.localhost/x",
        "https://LocalHost../x",
        "https://2130706433/hook",  # 127.0.0.1 in decimal
        "https://0x7f.1/hook",  # and in hex, short form
        "https://0177.0.0.1/hook",  # and in octal
        "https://[::ffff:7f00:1]/hook",
        "https://[0:0:0:0:0:ffff:127.0.0.1]/hook",
        "https://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 around 169.254.169.254
        "https://[fe80::1]/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT, not the internet
        "http://hooks.example.com/hook",  # plain http anywhere
        "ftp://hooks.example.com/hook",
    ],
)
async def test_private_and_loopback_urls_are_refused_when_given(settings, tenant, url):
    async with strict_app(settings.database_url) as (_, client, _worker):
        r = await client.post("/api/v1/webhook-endpoints", json={"url": url}, headers=tenant.headers)
        assert r.status_code == 400, r.text
        assert r.json()["issues"][0]["path"] == ["url"]

        ok = await client.post(
            "/api/v1/webhook-endpoints", json={"url": "https://hooks.example.com/x"}, headers=tenant.headers
        )
        assert ok.status_code == 201
        r = await client.patch(
            f"/api/v1/webhook-endpoints/{ok.json()['data']['id']}", json={"url": url}, headers=tenant.headers
        )
        assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["url"]


async def test_plain_http_is_only_for_loopback_even_when_private_targets_are_allowed(client, tenant):
    for url in ("http://hooks.example.com/hook", "http://10.0.0.1/hook"):
        r = await client.post("/api/v1/webhook-endpoints", json={"url": url}, headers=tenant.headers)
        assert r.status_code == 400, url
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "https://10.0.0.1/hook"):
        r = await client.post("/api/v1/webhook-endpoints", json={"url": url}, headers=tenant.headers)
        assert r.status_code == 201, (url, r.text)


async def test_a_name_resolving_to_loopback_is_blocked_when_dialled(
    settings, tenant, app, worker, monkeypatch, frozen: FrozenClock
):
    """A public-looking name passes the check at creation; at send time it resolves to
    127.0.0.1 (as after DNS rebinding) and the connection is never made."""
    real_getaddrinfo = anyio.getaddrinfo
    with tcp_listener() as (port, connections):

        async def rebinding_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host == "hooks.rebind.example":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            return await real_getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(anyio, "getaddrinfo", rebinding_dns)
        async with strict_app(settings.database_url) as (strict, client, strict_worker):
            url = f"https://hooks.rebind.example:{port}/hook"
            endpoint_id, _ = await create_endpoint(client, tenant, url)
            await emit(strict, tenant.workspace_id)
            await strict_worker.drain()

            assert connections == []  # nothing was dialled
            [delivery] = await deliveries(client, tenant, endpoint_id)
            [attempt] = delivery["attempt_log"]
            assert attempt["status_code"] is None
            assert "BlockedAddress" in attempt["error"] and "127.0.0.1" in attempt["error"]
            assert delivery["status"] == "pending" and delivery["next_attempt_at"] is not None

            # Control: a worker that allows private targets does connect to that port.
            frozen.set(at(delivery["next_attempt_at"]) + timedelta(seconds=1))
            await worker.drain()
            assert connections == ["127.0.0.1"]


async def test_a_localhost_name_is_blocked_by_its_name_when_dialled(settings, tenant, client, monkeypatch):
    """The rule at connect time is the one at creation: a name under .localhost is refused by
    its name, before DNS is even asked."""
    asked: list[str] = []

    async def dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 9))]

    monkeypatch.setattr(anyio, "getaddrinfo", dns)
    # Created where private targets are allowed (development), delivered by a strict worker.
    endpoint_id, _ = await create_endpoint(client, tenant, "https://hooks.localhost./hook")
    async with strict_app(settings.database_url) as (strict, strict_client, strict_worker):
        await emit(strict, tenant.workspace_id)
        await strict_worker.drain()
        [delivery] = await deliveries(strict_client, tenant, endpoint_id)
    [attempt] = delivery["attempt_log"]
    assert attempt["status_code"] is None and "BlockedAddress" in attempt["error"]
    assert asked == []


async def test_a_delivery_to_localhost_is_blocked_when_private_targets_are_not_allowed(
    settings, tenant, client, worker, receiver, frozen: FrozenClock
):
    """Created while private targets were allowed (development), delivered by a worker
    configured without (the operator turned it off): the request never leaves."""
    port = receiver.base.rsplit(":", 1)[1]
    endpoint_id, secret = await create_endpoint(client, tenant, f"http://localhost:{port}/hook")
    async with strict_app(settings.database_url) as (strict, strict_client, strict_worker):
        event_id = await emit(strict, tenant.workspace_id)
        await strict_worker.drain()

        assert receiver.requests == []
        [delivery] = await deliveries(strict_client, tenant, endpoint_id)
        [attempt] = delivery["attempt_log"]
        assert attempt["status_code"] is None and attempt["duration_ms"] >= 0
        assert "BlockedAddress" in attempt["error"] and "private or local" in attempt["error"]
        assert attempt["request_headers"]["webhook-id"] == event_id
        assert (await get_endpoint(strict_client, tenant, endpoint_id))["enabled"] is True

    first = socket.getaddrinfo("localhost", int(port), type=socket.SOCK_STREAM)[0]
    if first[0] != socket.AF_INET:
        pytest.skip("localhost resolves to ::1 first here; the receiver listens on 127.0.0.1")
    # Control: where private targets are allowed, the same delivery arrives on its retry.
    frozen.set(at(delivery["next_attempt_at"]) + timedelta(seconds=1))
    await worker.drain()
    [request] = receiver.snapshot()
    assert request.id == event_id and request.signed_by(secret)
