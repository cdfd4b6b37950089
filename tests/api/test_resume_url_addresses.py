"""A resume_url naming a private, loopback or link-local host is refused when it is given
(create, bulk, PATCH; the dashboard's form and CSV import are in tests/dashboard), by the rule
the download is held to when it connects; before, that was the first time it was checked. As
deployed: VIVA_ALLOW_PRIVATE_URLS off."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings
from viva.config import Settings
from viva.models import Job

P = "/api/v1/participants"
REFUSED = [
    "https://localhost./cv.pdf",
    "https://cv.localhost/cv.pdf",
    "https://127.0.0.1/cv.pdf",
    "https://2130706433/cv.pdf",
    "https://0x7f.1/cv.pdf",
    "https://[::1]/cv.pdf",
    "https://[::ffff:7f00:1]/cv.pdf",
    "https://10.0.0.8/cv.pdf",
    "https://169.254.169.254/latest/meta-data",
    "https://[fe80::1]/cv.pdf",
]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, allow_private_urls=False)


async def jobs(app) -> int:
    async with app.state.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(Job)) or 0)


@pytest.mark.parametrize("url", REFUSED)
async def test_a_private_resume_url_is_refused_on_create_and_patch(app, client, tenant, url):
    r = await client.post(
        P, json={"name": "Ada", "email": "ada@example.com", "resume_url": url}, headers=tenant.headers
    )
    assert r.status_code == 400, r.text
    assert [i["path"] for i in r.json()["issues"]] == [["resume_url"]]
    assert "private" in r.json()["issues"][0]["message"]

    ok = await client.post(
        P,
        json={"name": "Ada", "email": "ada@example.com", "resume_url": "https://files.example.com/cv.pdf"},
        headers=tenant.headers,
    )
    assert ok.status_code == 201, ok.text
    queued = await jobs(app)
    r = await client.patch(f"{P}/{ok.json()['data']['id']}", json={"resume_url": url}, headers=tenant.headers)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["resume_url"]
    r = await client.get(f"{P}/{ok.json()['data']['id']}", headers=tenant.headers)
    assert r.json()["data"]["resume_url"] == "https://files.example.com/cv.pdf"
    assert await jobs(app) == queued  # no download was queued for it


async def test_bulk_rows_with_a_private_resume_url_are_skipped_naming_it(client, tenant):
    rows = [
        {"name": "Ada", "email": "ada@example.com", "resume_url": "https://files.example.com/cv.pdf"},
        {"name": "Bob", "email": "bob@example.com", "resume_url": "https://localhost./cv.pdf"},
        {"name": "Cy", "email": "cy@example.com", "resume_url": "https://intranet.localhost/cv.pdf"},
    ]
    r = await client.post(f"{P}/bulk", json={"participants": rows}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [p["email"] for p in data["created"]] == ["ada@example.com"]
    assert [(s["index"], s["reason"].split(":")[0]) for s in data["skipped"]] == [
        (1, "resume_url"),
        (2, "resume_url"),
    ]


async def test_public_names_are_accepted_even_when_private_targets_are_not(client, tenant):
    r = await client.post(
        P,
        json={"name": "Ada", "email": "ada@example.com", "resume_url": "https://cv.example.com/a.pdf"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
