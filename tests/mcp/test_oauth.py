"""OAuth for MCP against a live server, as a remote connector (Claude's, ChatGPT's) does it:
the 401's WWW-Authenticate leads to the protected-resource and authorization-server metadata,
the client registers itself (RFC 7591), a person signs in to the dashboard and consents over
real HTML forms, and a real OAuth client library (Authlib) runs authorization code + PKCE
(S256), refresh and revocation. The token then works on /api/mcp, and only there."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import FastAPI

from tests.fixtures.clock import FrozenClock
from tests.fixtures.factories import Tenant
from tests.fixtures.live import CLIENT_TIMEOUT, live_server
from tests.mcp.test_mcp import CURL_HEADERS
from viva.auth.scopes import ALL_SCOPES
from viva.config import Settings
from viva.mcp.tools import TOOLS as SPECS
from viva.workspaces import service as workspaces

PASSWORD = "correct horse battery staple"
OWNER = "owner@acme.test"
# The client's loopback callback: never called, the test reads the code from the redirect.
REDIRECT = "http://127.0.0.1:9/callback"
READ_ONLY = [s for s in ALL_SCOPES if s.endswith(".read")]


def tools_for(scopes: list[str]) -> set[str]:
    return {spec.name for spec in SPECS if set(spec.scopes) <= set(scopes)}


@pytest.fixture
def base(settings: Settings, tenant: Tenant) -> Iterator[str]:
    with live_server(settings) as url:
        # The issuer is VIVA_PUBLIC_URL; the port is only known now (the app holds these settings).
        settings.public_url = url
        yield url


@pytest.fixture
async def owner(app: FastAPI, tenant: Tenant) -> str:
    async with app.state.sessionmaker() as db:
        workspace = await workspaces.get_workspace(db, tenant.slug)
        await workspaces.create_user(db, workspace, OWNER, role="owner", password=PASSWORD, name="Olive")
        await db.commit()
    return OWNER


@pytest.fixture
async def http(base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT) as client:
        yield client


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} in {page[:500]}"
    return html.unescape(found.group(1))


@dataclass
class Discovered:
    metadata: dict[str, Any]
    resource: str


async def discover(http: httpx.AsyncClient) -> Discovered:
    """What an MCP client learns from an unauthenticated call (MCP authorization §2.3)."""
    r = await http.post("/api/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=CURL_HEADERS)
    assert r.status_code == 401
    challenge = r.headers["www-authenticate"]
    found = re.search(r'resource_metadata="([^"]+)"', challenge)
    assert challenge.startswith("Bearer ") and found, challenge
    resource = (await http.get(found.group(1))).json()
    assert resource["resource"] == str(http.base_url).rstrip("/") + "/api/mcp"
    server = resource["authorization_servers"][0].rstrip("/")
    metadata = (await http.get(f"{server}/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"].rstrip("/") == server
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "none" in metadata["token_endpoint_auth_methods_supported"]
    return Discovered(metadata, resource["resource"])


async def register(http: httpx.AsyncClient, found: Discovered, name: str = "Test Agent") -> str:
    r = await http.post(
        found.metadata["registration_endpoint"],
        json={
            "client_name": name,
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert r.status_code == 201, r.text
    assert "client_secret" not in r.json()  # a public client: PKCE instead of a secret
    return str(r.json()["client_id"])


class Person:
    """A browser: cookies, following the dashboard's real forms (CSRF included)."""

    def __init__(self, base: str, email: str) -> None:
        self.base, self.email = base, email
        self.http = httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def follow(self, url: str) -> httpx.Response:
        """GET `url`, following our own redirects; stops at one leaving for the client's callback."""
        r = await self.http.get(url)
        while r.is_redirect:
            target = urljoin(str(r.url), r.headers["location"])
            if not target.startswith(self.base):
                return r
            r = await self.http.get(target)
        return r

    async def authorize(
        self, url: str, scopes: list[str] | None = None, decision: str = "allow", workspace: str = "acme"
    ) -> httpx.Response:
        """Open the authorization URL, sign in if asked, and answer the consent form."""
        page = await self.follow(url)
        assert page.status_code == 200, page.text[:500]
        if 'action="/dashboard/sign-in"' in page.text:
            r = await self.http.post(
                "/dashboard/sign-in",
                data={"email": self.email, "password": PASSWORD, "next": hidden(page.text, "next")},
            )
            assert r.status_code == 303, r.text[:500]
            page = await self.follow(r.headers["location"])
        assert 'action="/dashboard/oauth/consent"' in page.text, page.text[:500]
        assert "Test Agent" in page.text or "Other Agent" in page.text
        form = [
            ("csrf_token", hidden(page.text, "csrf_token")),
            ("request", hidden(page.text, "request")),
            ("workspace", workspace),
            ("decision", decision),
        ]
        offered = re.findall(r'name="scopes" value="([^"]+)"', page.text)
        form += [("scopes", s) for s in (offered if scopes is None else scopes)]
        return await self.submit("/dashboard/oauth/consent", form)

    async def submit(self, path: str, form: list[tuple[str, str]]) -> httpx.Response:
        # By hand: httpx's `data` can't repeat a name, and forms do (the scope checkboxes).
        headers = {"content-type": "application/x-www-form-urlencoded"}
        return await self.http.post(path, content=urlencode(form), headers=headers)


@pytest.fixture
async def person(base: str, owner: str) -> AsyncIterator[Person]:
    browser = Person(base, owner)
    yield browser
    await browser.aclose()


def oauth_client(client_id: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client_id,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        timeout=CLIENT_TIMEOUT.read,  # Authlib wants seconds, not an httpx.Timeout
    )


async def connect(
    http: httpx.AsyncClient, person: Person, scopes: list[str] | None = None, name: str = "Test Agent"
) -> tuple[AsyncOAuth2Client, Discovered, dict[str, Any]]:
    """The whole flow: discover, register, authorize with PKCE, consent, exchange the code."""
    found = await discover(http)
    client = oauth_client(await register(http, found, name))
    verifier = generate_token(64)
    url, state = client.create_authorization_url(
        found.metadata["authorization_endpoint"],
        code_verifier=verifier,
        scope=" ".join(scopes or ALL_SCOPES),
        resource=found.resource,
    )
    answer = await person.authorize(url, scopes)
    assert answer.status_code == 303 and answer.headers["location"].startswith(REDIRECT + "?"), answer.text
    token = await client.fetch_token(
        found.metadata["token_endpoint"],
        authorization_response=answer.headers["location"],
        code_verifier=verifier,
        state=state,  # Authlib checks the callback's state against it
    )
    return client, found, dict(token)


async def rpc(http: httpx.AsyncClient, access_token: str, method: str, params: Any = None) -> httpx.Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    return await http.post(
        "/api/mcp", json=body, headers={**CURL_HEADERS, "Authorization": f"Bearer {access_token}"}
    )


async def call(http: httpx.AsyncClient, access_token: str, tool: str, arguments: dict[str, Any]) -> Any:
    r = await rpc(http, access_token, "tools/call", {"name": tool, "arguments": arguments})
    assert r.status_code == 200, r.text
    return r.json()["result"]


async def test_a_connector_connects_with_oauth_and_is_revoked_from_the_developer_page(
    http: httpx.AsyncClient, person: Person, tenant: Tenant
) -> None:
    granted = [*READ_ONLY, "evaluation_templates.write"]
    client, found, token = await connect(http, person, granted)
    assert token["token_type"].lower() == "bearer" and token["expires_in"] == 3600
    assert set(token["scope"].split()) == set(granted) and token["refresh_token"]
    access = token["access_token"]

    # MCP with the token: the granted tools only, and they work.
    r = await rpc(http, access, "tools/list")
    assert r.status_code == 200, r.text
    listed = {t["name"] for t in r.json()["result"]["tools"]}
    assert listed == tools_for(granted) and "create_template" in listed and "schedule_session" not in listed
    created = await call(http, access, "create_template", {"template_name": "Via OAuth"})
    assert created["isError"] is False
    r = await http.get(
        f"/api/v1/evaluation-templates/{created['structuredContent']['id']}", headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["data"]["template_name"] == "Via OAuth"
    # A tool outside the grant is refused as for a key lacking the scope.
    refused = await call(http, access, "schedule_session", {"candidate_id": "x", "stage": "screen"})
    assert refused["isError"] is True and refused["structuredContent"]["scope"] == "interviews.write"

    # The token is for MCP only: the REST API refuses it.
    r = await http.get("/api/v1/evaluation-templates", headers={"Authorization": f"Bearer {access}"})
    assert r.status_code == 401 and "/api/mcp" in r.json()["error"]

    # Refresh rotates both tokens: the new ones work, the old access token does not.
    refreshed = dict(
        await client.refresh_token(found.metadata["token_endpoint"], refresh_token=token["refresh_token"])
    )
    assert refreshed["access_token"] != access and refreshed["refresh_token"] != token["refresh_token"]
    assert (await rpc(http, refreshed["access_token"], "tools/list")).status_code == 200
    assert (await rpc(http, access, "tools/list")).status_code == 401

    # The Developer page lists the app (who, what, when) and revokes it over its CSRF form.
    page = await person.http.get("/dashboard/acme/developer/connected-apps")
    assert page.status_code == 200
    assert "Test Agent" in page.text and OWNER in page.text and "evaluation_templates.write" in page.text
    action = re.search(r'action="(/dashboard/acme/developer/connected-apps/[^"]+/revoke)"', page.text)
    assert action
    r = await person.http.post(action.group(1), data={"csrf_token": hidden(page.text, "csrf_token")})
    assert r.status_code == 303
    page = await person.http.get("/dashboard/acme/developer/connected-apps")
    assert "Test Agent disconnected" in page.text and "No app is connected" in page.text

    r = await rpc(http, refreshed["access_token"], "tools/list")
    assert r.status_code == 401 and r.json() == {"error": "This OAuth access token has been revoked"}
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    with pytest.raises(OAuthError) as refused_refresh:
        await client.refresh_token(found.metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert refused_refresh.value.error == "invalid_grant"
    await client.aclose()


async def test_the_revocation_endpoint_ends_a_connection(http: httpx.AsyncClient, person: Person) -> None:
    client, found, token = await connect(http, person, READ_ONLY)
    assert (await rpc(http, token["access_token"], "tools/list")).status_code == 200
    r = await client.revoke_token(found.metadata["revocation_endpoint"], token=token["refresh_token"])
    assert r.status_code == 200
    assert (await rpc(http, token["access_token"], "tools/list")).status_code == 401
    await client.aclose()


async def test_a_wrong_pkce_verifier_and_a_reused_code_get_no_token(
    http: httpx.AsyncClient, person: Person
) -> None:
    found = await discover(http)
    client = oauth_client(await register(http, found))
    verifier = generate_token(64)
    url, _ = client.create_authorization_url(found.metadata["authorization_endpoint"], code_verifier=verifier)
    answer = await person.authorize(url, READ_ONLY)
    callback = answer.headers["location"]

    with pytest.raises(OAuthError) as wrong:
        await client.fetch_token(
            found.metadata["token_endpoint"],
            authorization_response=callback,
            code_verifier=generate_token(64),
        )
    assert wrong.value.error == "invalid_grant"

    token = await client.fetch_token(
        found.metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert (await rpc(http, token["access_token"], "tools/list")).status_code == 200
    with pytest.raises(OAuthError) as reused:
        await client.fetch_token(
            found.metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
    assert reused.value.error == "invalid_grant"
    # A code used twice leaked: what it gave is revoked too (RFC 6749 §4.1.2).
    assert (await rpc(http, token["access_token"], "tools/list")).status_code == 401

    # A PKCE-less authorization request is refused before anyone is asked.
    r = await http.get(
        found.metadata["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT,
            "state": "s",
        },
    )
    assert r.status_code == 302 and "error=invalid_request" in r.headers["location"]
    r = await http.get(
        found.metadata["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT,
            "code_challenge": "x" * 200,
            "code_challenge_method": "S256",
        },
    )
    assert r.status_code == 302 and "error=invalid_request" in r.headers["location"]
    await client.aclose()


async def test_a_rotated_refresh_token_presented_again_revokes_the_connection(
    http: httpx.AsyncClient, person: Person
) -> None:
    client, found, token = await connect(http, person, READ_ONLY)
    endpoint = found.metadata["token_endpoint"]
    fresh = dict(await client.refresh_token(endpoint, refresh_token=token["refresh_token"]))
    with pytest.raises(OAuthError):
        await client.refresh_token(endpoint, refresh_token=token["refresh_token"])
    # The copy gave itself away: the legitimate holder's tokens stop too.
    assert (await rpc(http, fresh["access_token"], "tools/list")).status_code == 401
    with pytest.raises(OAuthError):
        await client.refresh_token(endpoint, refresh_token=fresh["refresh_token"])
    await client.aclose()


async def test_an_access_token_expires_after_an_hour_and_refreshing_renews_it(
    http: httpx.AsyncClient, person: Person, frozen: FrozenClock
) -> None:
    client, found, token = await connect(http, person, READ_ONLY)
    assert (await rpc(http, token["access_token"], "tools/list")).status_code == 200
    frozen.advance(minutes=59)
    assert (await rpc(http, token["access_token"], "tools/list")).status_code == 200
    frozen.advance(minutes=1, seconds=1)
    r = await rpc(http, token["access_token"], "tools/list")
    assert r.status_code == 401 and "expired" in r.json()["error"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    renewed = await client.refresh_token(
        found.metadata["token_endpoint"], refresh_token=token["refresh_token"]
    )
    assert (await rpc(http, renewed["access_token"], "tools/list")).status_code == 200
    await client.aclose()


async def test_a_token_sees_only_its_workspace(
    http: httpx.AsyncClient, person: Person, tenant: Tenant, other: Tenant
) -> None:
    r = await http.post(
        "/api/v1/evaluation-templates", json={"template_name": "Globex only"}, headers=other.headers
    )
    assert r.status_code == 201
    theirs = r.json()["data"]["id"]
    _, _, token = await connect(http, person, READ_ONLY)
    result = await call(http, token["access_token"], "get_template", {"template_id": theirs})
    as_rest = await http.get(f"/api/v1/evaluation-templates/{theirs}", headers=tenant.headers)
    assert as_rest.status_code == 404
    assert result["isError"] is True and result["structuredContent"] == {"status": 404, **as_rest.json()}
    listed = await call(http, token["access_token"], "list_templates", {})
    assert listed["structuredContent"]["data"] == []


async def test_consent_is_within_the_persons_role_and_can_be_denied(
    app: FastAPI, http: httpx.AsyncClient, base: str, tenant: Tenant
) -> None:
    async with app.state.sessionmaker() as db:
        workspace = await workspaces.get_workspace(db, tenant.slug)
        await workspaces.create_user(db, workspace, "rita@acme.test", role="reviewer", password=PASSWORD)
        await db.commit()
    reviewer = Person(base, "rita@acme.test")
    found = await discover(http)
    client = oauth_client(await register(http, found))
    url, state = client.create_authorization_url(
        found.metadata["authorization_endpoint"], code_verifier=generate_token(64)
    )

    r = await reviewer.authorize(url, ["interviews.read", "interviews.write"])
    assert r.status_code == 400 and "can&#39;t grant interviews.write" in r.text
    r = await reviewer.authorize(url, decision="deny")
    assert r.status_code == 303
    answer = parse_qs(urlsplit(r.headers["location"]).query)
    assert answer["error"] == ["access_denied"] and answer["state"] == [state]
    # A consent without its CSRF token is refused.
    page = await reviewer.follow(url)
    r = await reviewer.http.post(
        "/dashboard/oauth/consent",
        data={"request": hidden(page.text, "request"), "workspace": "acme", "decision": "allow"},
    )
    assert r.status_code == 403
    # The page allows the form to send the browser on to the app's callback (CSP form-action).
    assert "form-action 'self' http://127.0.0.1:9" in page.headers["content-security-policy"]
    await reviewer.aclose()
    await client.aclose()


async def test_the_metadata_documents_and_registration_rules(http: httpx.AsyncClient) -> None:
    found = await discover(http)
    metadata = found.metadata
    for name in ("authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint"):
        assert urlsplit(metadata[name]).path.startswith("/oauth/"), metadata[name]
    assert set(metadata["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert set(metadata["scopes_supported"]) == set(ALL_SCOPES)
    # RFC 9728's path-suffixed document and the root one are the same.
    root = (await http.get("/.well-known/oauth-protected-resource")).json()
    assert root == (await http.get("/.well-known/oauth-protected-resource/api/mcp")).json()
    # A confidential client gets a secret once; it is stored hashed and checked at the token endpoint.
    r = await http.post(
        metadata["registration_endpoint"],
        json={
            "client_name": "Secretive",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "client_secret_post",
        },
    )
    assert r.status_code == 201 and r.json()["client_secret"]
    r = await http.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": r.json()["client_id"],
            "client_secret": "wrong",
        },
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await http.post(metadata["registration_endpoint"], json={"client_name": "No redirect"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata"


async def test_a_token_loses_what_the_persons_role_loses(
    app: FastAPI, http: httpx.AsyncClient, base: str, tenant: Tenant
) -> None:
    async with app.state.sessionmaker() as db:
        workspace = await workspaces.get_workspace(db, tenant.slug)
        admin = await workspaces.create_user(db, workspace, "adam@acme.test", role="admin", password=PASSWORD)
        admin_id = admin.user.id
        await db.commit()
    person = Person(base, "adam@acme.test")
    granted = [*READ_ONLY, "evaluation_templates.write"]
    _, _, token = await connect(http, person, granted)
    listed = {
        t["name"] for t in (await rpc(http, token["access_token"], "tools/list")).json()["result"]["tools"]
    }
    assert listed == tools_for(granted)

    async with app.state.sessionmaker() as db:
        await workspaces.set_role(db, tenant.workspace_id, admin_id, "reviewer")
        await db.commit()
    listed = {
        t["name"] for t in (await rpc(http, token["access_token"], "tools/list")).json()["result"]["tools"]
    }
    assert listed == tools_for(READ_ONLY)
    refused = await call(http, token["access_token"], "create_template", {"template_name": "Not any more"})
    assert (
        refused["isError"] is True and refused["structuredContent"]["scope"] == "evaluation_templates.write"
    )
    await person.aclose()
