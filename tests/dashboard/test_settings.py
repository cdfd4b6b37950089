"""Workspace settings: the default interview language (used by templates created without one,
through the dashboard and the API alike), and the short lists that page like every other."""

from __future__ import annotations

import re

import httpx

from tests.dashboard.conftest import MemberFactory
from tests.fixtures.factories import Tenant, template_body


async def test_the_default_language_applies_to_new_templates(
    client: httpx.AsyncClient, tenant: Tenant, member: MemberFactory
) -> None:
    owner = await member("owner")
    r = await client.post("/api/v1/evaluation-templates", json=template_body(), headers=tenant.headers)
    assert r.json()["data"]["language"] == "en"

    r = await owner.post(owner.url("settings", "language"), {"default_language": "Klingon!"})
    assert r.status_code == 400
    assert "Use a BCP 47 language tag" in r.text and 'id="f-default_language-error"' in r.text
    r = await owner.post(owner.url("settings", "language"), {"default_language": "pt-BR"})
    assert r.status_code == 303
    page = await owner.client.get(owner.url("settings"))
    assert "New templates now interview in pt-BR" in page.text and 'value="pt-BR"' in page.text

    r = await client.post("/api/v1/evaluation-templates", json=template_body(), headers=tenant.headers)
    assert r.json()["data"]["language"] == "pt-BR"  # no language given: the workspace's
    r = await client.post(
        "/api/v1/evaluation-templates", json=template_body(language="de"), headers=tenant.headers
    )
    assert r.json()["data"]["language"] == "de"  # a template's own language wins
    form = await owner.client.get(owner.url("templates", "new"))
    assert re.search(r'name="language" type="text" value="pt-BR"', form.text)

    reviewer = await member("reviewer")
    r = await reviewer.post(reviewer.url("settings", "language"), {"default_language": "fr"})
    assert r.status_code == 403
    page = await reviewer.client.get(reviewer.url("settings"))
    assert 'id="default-language">pt-BR<' in page.text  # shown, not editable


async def test_api_keys_and_members_page(member: MemberFactory) -> None:
    owner = await member("owner")
    for i in range(22):
        r = await owner.post(
            owner.url("developer", "api-keys"), [("name", f"key {i:02d}"), ("scopes", "events.read")]
        )
        assert r.status_code == 200
    first = await owner.client.get(owner.url("developer", "api-keys"))
    assert (
        first.text.count("/revoke") == 20 and "Showing 1–20 of 23" in first.text
    )  # and the tenant's own key
    assert "key 21" in first.text and "key 00" not in first.text  # newest first
    second = await owner.client.get(owner.url("developer", "api-keys") + "?page=2")
    assert second.text.count("/revoke") == 3 and "key 00" in second.text
    for i in range(26):
        await owner.post(
            owner.url("settings", "members"), {"email": f"m{i:02d}@acme.test", "role": "reviewer"}
        )
    members = await owner.client.get(owner.url("settings"))
    assert "Showing 1–25 of 27" in members.text
    rest = await owner.client.get(owner.url("settings") + "?page=2")
    assert "Showing 26–27 of 27" in rest.text
