"""The published API contract: the OpenAPI document, the offline docs page, and input the
fuzzer found that no backend can store. schemathesis itself runs over the whole document
in tests/api/test_schemathesis.py."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.factories import profile_body, template_body
from tests.sessions.helpers import pipeline, session_body

API = "/api/v1"
OPENAPI_URL = f"{API}/openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


async def fetch_spec(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get(OPENAPI_URL)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def is_api(path: str) -> bool:
    return path.startswith(API + "/")


def is_sign_in_route(path: str) -> bool:
    return path.startswith(API + "/auth/")


def schema_ref(response: dict[str, Any]) -> str | None:
    return response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")


# ---------------------------------------------------------------------------------------
# 1. The document


async def test_openapi_is_3_1_with_the_api_key_scheme_on_every_api_operation(client):
    spec = await fetch_spec(client)
    assert spec["openapi"].startswith("3.1"), spec["openapi"]
    schemes = spec["components"]["securitySchemes"]
    key_schemes = [
        name
        for name, s in schemes.items()
        if s.get("type") == "apiKey" and s.get("in") == "header" and s.get("name", "").lower() == "x-api-key"
    ]
    assert len(key_schemes) == 1, schemes
    scheme = key_schemes[0]

    def security(op: dict[str, Any]) -> list[dict[str, Any]]:
        return op.get("security", spec.get("security", []))

    ops = operations(spec)
    api_ops = [(p, m, op) for p, m, op in ops if is_api(p) and not is_sign_in_route(p)]
    assert len(api_ops) >= 20, [f"{m} {p}" for p, m, _ in api_ops]
    for path, method, op in api_ops:
        assert {scheme: []} in security(op), f"{method.upper()} {path} lacks x-api-key"
    for path, method, op in ops:
        if not is_api(path) or is_sign_in_route(path):
            assert not security(op), f"{method.upper()} {path} is public yet requires a key"


# Routes of SPEC §3.1-§3.4, sign-in and health have no semantic (422) errors; validation
# is a 400 everywhere, so FastAPI's generated 422 must never be documented.
NO_422_PREFIXES = tuple(
    f"{API}/{r}"
    for r in ("agent-profiles", "evaluation-templates", "evaluation-stages", "participants", "auth")
) + ("/healthz", "/readyz")


async def test_openapi_documents_our_error_bodies_and_no_validation_422(client):
    spec = await fetch_spec(client)
    schemas = spec["components"]["schemas"]
    assert {"Error", "ValidationErrorBody"} <= set(schemas)
    assert "HTTPValidationError" not in schemas, "FastAPI's 422 body is not what we send"
    assert schemas["Error"]["required"] == ["error"]
    issue = schemas["ValidationErrorBody"]["properties"]["issues"]["items"]
    assert set(issue["required"]) == {"path", "message"}

    for path, method, op in operations(spec):
        label = f"{method.upper()} {path}"
        responses = op["responses"]
        if path.startswith(NO_422_PREFIXES):
            assert "422" not in responses, f"{label} documents a 422 it never returns"
        for status, response in responses.items():
            if status[0] in "45" and status != "400":
                assert schema_ref(response) == "#/components/schemas/Error", (label, status)
        if not is_api(path):
            continue
        expected = {"400": "ValidationErrorBody", "401": "Error", "403": "Error"}
        if not is_sign_in_route(path):
            expected["404"] = "Error"
        for status, name in expected.items():
            assert status in responses, f"{label} does not document {status}"
            assert schema_ref(responses[status]) == f"#/components/schemas/{name}", (label, status)


async def test_session_scheduling_documents_402_and_422(client):
    spec = await fetch_spec(client)
    responses = spec["paths"][f"{API}/sessions"]["post"]["responses"]
    assert {"402", "422"} <= set(responses), sorted(responses)


# A POST on a collection (no path parameter) creates, except these: they run code or sign in
# and out. POSTs under an object (/sessions/{id}/cancel, ...) are actions answering 200.
NOT_CREATES = {f"{API}/code-executions", f"{API}/auth/sign-in", f"{API}/auth/sign-out"}
# Creates that answer 200, as intervyo.ai documents them; every other create answers 201.
CREATES_ANSWERING_200 = {f"{API}/sessions", f"{API}/participants/bulk"}
README = Path(__file__).resolve().parents[1] / "README.md"


def success_status(op: dict[str, Any]) -> str:
    [status] = [s for s in op["responses"] if s.startswith("2")]
    return status


async def test_every_create_route_declares_the_status_it_returns(client, tenant):
    spec = await fetch_spec(client)
    creates = {
        path: item["post"]
        for path, item in spec["paths"].items()
        if is_api(path) and "post" in item and "{" not in path and path not in NOT_CREATES
    }
    assert len(creates) == 7, sorted(creates)
    declared = {path: success_status(op) for path, op in creates.items()}
    assert declared == {path: "200" if path in CREATES_ANSWERING_200 else "201" for path in creates}
    for path, op in creates.items():
        assert op["responses"][declared[path]]["description"].startswith("Created"), path

    # And each really answers what it declares.
    h = tenant.headers
    p = await pipeline(client, tenant)
    bodies = {
        f"{API}/agent-profiles": profile_body(),
        f"{API}/evaluation-templates": template_body(),
        f"{API}/evaluation-stages": {"evaluation_template_id": p["template"], "type": "final"},
        f"{API}/participants": {"name": "Ada", "email": "ada@example.com"},
        f"{API}/participants/bulk": {"participants": [{"name": "Bo", "email": "bo@example.com"}]},
        f"{API}/sessions": session_body(p),
        f"{API}/webhook-endpoints": {"url": "https://hooks.example.com/viva"},
    }
    assert set(bodies) == set(creates)
    for path, body in bodies.items():
        r = await client.post(path, json=body, headers=h)
        assert str(r.status_code) == declared[path], (path, r.text)
    r = await client.post(f"{API}/agent-profiles?action=fork", json={"sourceId": p["profile"]}, headers=h)
    assert str(r.status_code) == declared[f"{API}/agent-profiles"], r.text

    # The README states the same rule, naming the exceptions.
    rule = README.read_text().split("**Creates return")[1].split("\n- ")[0]
    assert " ".join(rule.split()).startswith("201")
    assert all(f"`POST {path.removeprefix(API)}`" in " ".join(rule.split()) for path in CREATES_ANSWERING_200)


async def test_every_schema_reference_resolves(client):
    spec = await fetch_spec(client)
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                refs.add(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs, "expected $refs into components"
    for ref in sorted(refs):
        assert ref.startswith("#/"), f"external reference {ref}"
        node: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(node, dict) and part in node, f"dangling reference {ref}"
            node = node[part]


# ---------------------------------------------------------------------------------------
# 2. The interactive docs work offline


async def test_docs_page_uses_only_local_assets(client):
    r = await client.get(f"{API}/docs")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:[a-z][a-z0-9+.-]*:)?//""", page, re.I), (
        "the docs page loads something from another host"
    )
    assert "cdn" not in page.lower()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    assets = [u for u in urls if u.startswith("/static/build/swagger-ui/")]
    assert any(u.endswith("swagger-ui-bundle.js") for u in assets), urls
    assert any(u.endswith("swagger-ui.css") for u in assets), urls
    assert f"'{OPENAPI_URL}'" in page or f'"{OPENAPI_URL}"' in page
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200, (
            f"{url}: {asset.status_code}; build the front-end assets with `make setup` "
            "(cd frontend && npm ci --ignore-scripts && node build.mjs)"
        )
        assert asset.content, f"{url} is empty"


async def test_docs_page_never_calls_the_online_validator(client):
    page = (await client.get(f"{API}/docs")).text
    assert re.search(r"""["']?validatorUrl["']?\s*:\s*null""", page), page


# ---------------------------------------------------------------------------------------
# 3. What the fuzzer found: input a database cannot store is a 400 on every backend.
# PostgreSQL refuses U+0000 in text and jsonb and NaN/Infinity in jsonb; no backend can
# encode a lone surrogate as UTF-8. Python's JSON parser accepts all of them.


def _rule_with_value(value: float) -> dict[str, Any]:
    return profile_body(
        scoring={
            "scoringMethod": "rule_based",
            "recommendationLogic": {
                "rules": [
                    {"when": {"dimension": "overall", "op": ">=", "value": value}, "recommendation": "hire"}
                ],
                "default": "no_hire",
            },
        }
    )


def _person(**fields: Any) -> dict[str, Any]:
    return {"name": "x", "email": "x@example.com", **fields}


RULE_VALUE = ["scoring", "recommendationLogic", "rules", 0, "when", "value"]


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        pytest.param(
            "/evaluation-templates", {"template_name": "a\x00b"}, ["template_name"], id="template-name-nul"
        ),
        pytest.param(
            "/evaluation-templates", template_body(skills=["Go\x00"]), ["skills", 0], id="template-skill-nul"
        ),
        pytest.param(
            "/evaluation-templates",
            {"template_name": "a\ud800"},
            ["template_name"],
            id="template-name-lone-surrogate",
        ),
        pytest.param("/agent-profiles", profile_body(persona="\x00"), ["persona"], id="persona-nul"),
        pytest.param("/agent-profiles", _rule_with_value(float("nan")), RULE_VALUE, id="rule-nan"),
        pytest.param("/agent-profiles", _rule_with_value(float("inf")), RULE_VALUE, id="rule-inf"),
        pytest.param("/participants", _person(external_id="\x00"), ["external_id"], id="external-id-nul"),
        pytest.param("/participants", _person(tags=["\x00"]), ["tags", 0], id="tag-nul"),
        pytest.param("/participants", _person(metadata={"k": ["\x00"]}), ["metadata"], id="metadata-nul"),
        pytest.param("/participants", _person(metadata={"\x00": 1}), ["metadata"], id="metadata-key-nul"),
        pytest.param(
            "/participants", _person(metadata={"k": "\udc00"}), ["metadata"], id="metadata-lone-surrogate"
        ),
        pytest.param("/participants", _person(metadata={"n": float("nan")}), ["metadata"], id="metadata-nan"),
        pytest.param(
            "/participants", _person(metadata={"n": float("-inf")}), ["metadata"], id="metadata-infinity"
        ),
        pytest.param(
            "/sessions",
            {
                "candidate_id": str(uuid.uuid4()),
                "stage": "screen",
                "evaluation_template_id": str(uuid.uuid4()),
                "notes": "\x00",
            },
            ["notes"],
            id="session-notes-nul",
        ),
        pytest.param(
            "/auth/sign-in",
            {"email": "a\x00@example.com", "password": "x"},
            ["email"],
            id="sign-in-email-nul",
        ),
    ],
)
async def test_unstorable_input_is_a_400(client, tenant, path, body, where):
    # json.dumps spells these as \u0000, \udc00, NaN and Infinity, as a client could.
    raw = json.dumps(body)
    r = await client.post(
        f"{API}{path}", content=raw, headers={**tenant.headers, "content-type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert where in [issue["path"] for issue in r.json()["issues"]], r.text


async def test_unstorable_rows_in_a_bulk_import_are_skipped(client, tenant):
    raw = json.dumps(
        {
            "participants": [
                {"name": "ok", "email": "ok@example.com"},
                {"name": "nul\x00", "email": "nul@example.com"},
                {"name": "nan", "email": "nan@example.com", "metadata": {"n": float("nan")}},
            ]
        }
    )
    r = await client.post(
        f"{API}/participants/bulk",
        content=raw,
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [p["email"] for p in data["created"]] == ["ok@example.com"]
    assert [s["index"] for s in data["skipped"]] == [1, 2]


@pytest.mark.parametrize(
    "query",
    [
        "/participants?q=%00",
        "/participants?email=a%00b",
        "/participants?tag=%00",
        "/participants?external_id=%00",
        "/agent-profiles?q=%00",
        "/evaluation-templates?q=%00",
    ],
)
async def test_nul_in_a_search_filter_is_a_400(client, tenant, query):
    r = await client.get(f"{API}{query}", headers=tenant.headers)
    assert r.status_code == 400, r.text
