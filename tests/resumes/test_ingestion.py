"""A participant's resume_url is downloaded by a job, its text extracted and stored as
passages; resume_status and resume_error tell the truth."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.fixtures.live import serve_asgi
from tests.resumes.test_extract import make_pdf
from viva.app import create_app, make_worker
from viva.participants import service

PDF = make_pdf(["Ada Lovelace", "Led PostgreSQL replication work at Example Corp for five years."])


def files_app() -> Starlette:
    async def pdf(_: Request) -> Response:
        return Response(PDF, media_type="application/pdf")

    async def text(_: Request) -> Response:
        return Response("Built Kafka pipelines.\n\nMentored four engineers.", media_type="text/plain")

    async def huge(_: Request) -> Response:
        return Response(b"a" * (11 * 1024 * 1024), media_type="text/plain")

    async def image(_: Request) -> Response:
        return Response(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, media_type="image/png")

    async def missing(_: Request) -> Response:
        return Response("nope", status_code=404)

    async def hop(_: Request) -> Response:
        return RedirectResponse("/cv.txt")

    return Starlette(
        routes=[
            Route("/cv.pdf", pdf),
            Route("/cv.txt", text),
            Route("/huge.txt", huge),
            Route("/photo.png", image),
            Route("/gone.pdf", missing),
            Route("/hop", hop),
        ]
    )


@pytest.fixture
def files() -> Iterator[str]:
    with serve_asgi(files_app()) as base:
        yield base


async def add(app: Any, client: Any, tenant: Any, url: str, email: str = "ada@example.com") -> dict[str, Any]:
    """A participant whose resume is at `url`. The API accepts only https URLs; the test
    file server is plain http on loopback, so the stored URL is swapped in afterwards and
    its job queued as the API would (the job for the placeholder then does nothing)."""
    placeholder = "https://files.example.com/cv.pdf"
    r = await client.post(
        "/api/v1/participants",
        json={"name": "Ada", "email": email, "resume_url": placeholder},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["resume_status"] == "pending"
    async with app.state.sessionmaker() as db:
        participant = await service.get(db, tenant.workspace_id, uuid.UUID(r.json()["data"]["id"]))
        participant.resume_url = url
        await service.queue_resume(db, participant)
        await db.commit()
    return dict(r.json()["data"])


async def status(client: Any, tenant: Any, pid: str) -> tuple[str, str | None]:
    data = (await client.get(f"/api/v1/participants/{pid}", headers=tenant.headers)).json()["data"]
    return data["resume_status"], data["resume_error"]


async def test_a_pdf_resume_becomes_passages(app, client, tenant, worker, files):
    p = await add(app, client, tenant, f"{files}/cv.pdf")
    await worker.drain()
    assert await status(client, tenant, p["id"]) == ("ready", None)
    async with app.state.sessionmaker() as db:
        text = " ".join(await service.resume_chunks(db, tenant.workspace_id, uuid.UUID(p["id"])))
    assert "PostgreSQL replication" in text and "Ada Lovelace" in text


async def test_failures_are_reported_plainly(app, client, tenant, worker, files):
    cases = {
        "/gone.pdf": "HTTP 404",
        "/huge.txt": "larger than",
        "/photo.png": "",
    }
    ids = {
        path: (await add(app, client, tenant, files + path, f"{i}@example.com"))["id"]
        for i, path in enumerate(cases)
    }
    await worker.drain()
    for path, words in cases.items():
        state, error = await status(client, tenant, ids[path])
        assert state == "failed" and error and words in error, (path, error)
        assert "Traceback" not in error and "/" not in error.replace("HTTP", "")


async def test_a_new_url_replaces_the_old_passages_and_erasure_removes_them(
    app, client, tenant, worker, files
):
    p = await add(app, client, tenant, f"{files}/cv.pdf")
    await worker.drain()
    r = await client.patch(
        f"/api/v1/participants/{p['id']}",
        json={"resume_url": "https://files.example.com/new.pdf"},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["resume_status"] == "pending"
    async with app.state.sessionmaker() as db:  # a new URL drops the old passages at once
        assert await service.resume_chunks(db, tenant.workspace_id, uuid.UUID(p["id"])) == []
        participant = await service.get(db, tenant.workspace_id, uuid.UUID(p["id"]))
        participant.resume_url = f"{files}/hop"
        await service.queue_resume(db, participant)
        await db.commit()
    await worker.drain()
    assert await status(client, tenant, p["id"]) == ("ready", None)
    async with app.state.sessionmaker() as db:
        text = " ".join(await service.resume_chunks(db, tenant.workspace_id, uuid.UUID(p["id"])))
    assert "Kafka" in text and "PostgreSQL" not in text  # followed the redirect; old passages gone
    assert (await client.delete(f"/api/v1/participants/{p['id']}", headers=tenant.headers)).status_code == 204
    async with app.state.sessionmaker() as db:
        assert await service.resume_chunks(db, tenant.workspace_id, uuid.UUID(p["id"])) == []


async def test_private_addresses_and_plain_http_are_refused(settings, tenant, files):
    import httpx

    strict = create_app(settings.model_copy(update={"allow_private_urls": False}))
    worker = make_worker(strict)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as c:
            http_url = await add(strict, c, tenant, f"{files}/cv.txt")
            https_local = await add(
                strict, c, tenant, files.replace("http://", "https://") + "/cv.txt", "b@example.com"
            )
            await worker.drain()
            assert await status(c, tenant, http_url["id"]) == ("failed", "the resume URL must use https")
            assert await status(c, tenant, https_local["id"]) == (
                "failed",
                "the resume URL points at a private or local address",
            )
    finally:
        await worker.context.http.aclose()
        await strict.state.engine.dispose()
