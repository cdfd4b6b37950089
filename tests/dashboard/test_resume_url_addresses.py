"""The dashboard's participant form and CSV import refuse a resume_url on a private, loopback or
link-local host, as the API does (VIVA_ALLOW_PRIVATE_URLS off, as deployed)."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import make_settings
from tests.dashboard.conftest import MemberFactory
from viva.config import Settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, allow_private_urls=False)


async def test_the_form_refuses_a_private_resume_url(member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.post(
        owner.url("participants", "new"),
        {"name": "Ada", "email": "ada@example.com", "resume_url": "https://localhost./cv.pdf"},
    )
    assert r.status_code == 400, r.text
    assert 'id="f-resume_url-error">' in r.text and "private" in r.text


async def test_csv_import_skips_rows_with_a_private_resume_url(member: MemberFactory) -> None:
    owner = await member("owner")
    csv = (
        "name,email,resume_url\nAda,ada@example.com,https://files.example.com/cv.pdf\n"
        "Bob,bob@example.com,https://cv.localhost/cv.pdf\n"
    )
    r = await owner.client.post(
        owner.url("participants", "bulk"),
        data={"csrf_token": owner.csrf, "_step": "preview"},
        files={"file": ("people.csv", csv.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    rows = re.search(r'name="rows" value="([^"]+)"', r.text)
    assert rows
    r = await owner.post(
        owner.url("participants", "bulk"), {"_step": "create", "rows": html.unescape(rows.group(1))}
    )
    assert r.status_code == 200
    assert "<strong>1</strong> created, <strong>1</strong> skipped" in r.text
    assert "resume_url" in r.text
    page = await owner.client.get(owner.url("participants"))
    assert "ada@example.com" in page.text and "bob@example.com" not in page.text
