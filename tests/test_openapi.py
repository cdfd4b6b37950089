"""The published API contract: the OpenAPI document, the offline docs page, and the app
fuzzed against its own document with schemathesis.

The fuzz test drives schemathesis from inside one async test (the `app` fixture is
function-scoped and parametrised over SQLite/PostgreSQL): hypothesis generates cases in a
worker thread, each request is sent through httpx's ASGI transport on the test's event
loop (where the app's engine lives), and schemathesis validates every response."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_settings
from tests.fixtures.factories import Tenant, profile_body, template_body
from tests.sessions.helpers import pipeline, session_body
from viva.config import Settings

API = "/api/v1"
OPENAPI_URL = f"{API}/openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 25
# Order the fuzzing so deletes run last and the seeded rows live as long as possible.
METHOD_ORDER = {"post": 0, "get": 1, "patch": 2, "put": 2, "delete": 3}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """conftest's settings, but the fuzz run sends far more than the default 600 requests
    a minute with one key, and 429s would only hide what the routes do."""
    return make_settings(database_url, rate_limit_per_minute=1_000_000)


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
# 3. schemathesis over every operation


async def seed(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    """Real rows, keyed by the path/body parameter names that refer to them."""
    h = tenant.headers

    async def post(path: str, body: dict[str, Any], required: bool = True) -> str | None:
        r = await client.post(f"{API}{path}", json=body, headers=h)
        if not required and r.status_code not in (200, 201):
            return None
        assert r.status_code in (200, 201), r.text
        return str(r.json()["data"]["id"])

    profile = await post("/agent-profiles", profile_body())
    template = await post("/evaluation-templates", template_body())
    stage = await post(
        "/evaluation-stages",
        {"evaluation_template_id": template, "type": "screen", "agent_profile_id": profile},
    )
    participant = await post(
        "/participants", {"name": "Jane Doe", "email": "jane@example.com", "evaluation_template_id": template}
    )
    ids = {
        "profile_id": profile,
        "template_id": template,
        "stage_id": stage,
        "participant_id": participant,
        # Body fields that name another object.
        "evaluation_template_id": template,
        "agent_profile_id": profile,
        "sourceId": profile,
        "candidate_id": participant,
        "interview_id": stage,
    }
    # Best effort: these resources are younger; when they can be created, fuzz them too.
    optional = {
        "endpoint_id": ("/webhook-endpoints", {"url": "https://hooks.example.com/viva"}),
        "session_id": (
            "/sessions",
            {"candidate_id": participant, "evaluation_template_id": template, "stage": "screen"},
        ),
    }
    for name, (path, body) in optional.items():
        if (created := await post(path, body, required=False)) is not None:
            ids[name] = created
    return {k: v for k, v in ids.items() if v is not None}


def case_strategy(operation: Any, headers: dict[str, str]) -> Any:
    """Random cases, both ones the schema allows and ones it forbids."""
    return st.one_of(
        [
            operation.as_strategy(generation_mode=mode, headers=headers)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    )


def steer(case: Any, ids: dict[str, str]) -> None:
    """Nudge a generated case past the rules a JSON schema cannot express, so the success
    paths get fuzzed too: ids (in the path or the body) point at the seeded rows, a fork
    asks for ?action=fork, and a profile's dimension weights sum to 100 with unique names."""
    if case.path_parameters and all(name in ids for name in case.path_parameters):
        case.path_parameters = {name: ids[name] for name in case.path_parameters}
    bodies = case.body.get("participants") if isinstance(case.body, dict) else None
    for body in [case.body, *(bodies if isinstance(bodies, list) else [])]:
        if isinstance(body, dict):
            for key in (
                "evaluation_template_id",
                "agent_profile_id",
                "sourceId",
                "candidate_id",
                "interview_id",
            ):
                if key in body:
                    body[key] = ids[key]
    body = case.body
    if not isinstance(body, dict):
        return
    if "sourceId" in body and case.path.endswith("/agent-profiles"):
        case.query = {**(case.query or {}), "action": "fork"}
    dims = body.get("evaluationDimensions")
    if isinstance(dims, list) and dims and all(isinstance(d, dict) for d in dims):
        for i, dim in enumerate(dims):
            dim["name"] = f"{str(dim.get('name', ''))[:90]} #{i}"
            dim["weight"] = 100 / len(dims)
            dim.pop("passThreshold", None)
        scoring = body.get("scoring")
        if isinstance(scoring, dict):
            scoring.pop("recommendationLogic", None)
            scoring["scoringMethod"] = "weighted_average"


class Fuzzer:
    """Runs hypothesis in a worker thread; requests go to the app on the test's loop."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        loop: asyncio.AbstractEventLoop,
        ids: dict[str, str],
        headers: dict[str, str],
    ) -> None:
        self.client, self.loop, self.ids, self.headers = client, loop, ids, headers
        self.calls = 0
        self.statuses: dict[str, set[int]] = {}

    def send(self, case: Any) -> httpx.Response:
        kw = case.as_transport_kwargs(base_url=str(self.client.base_url))
        request = self.client.request(
            kw["method"],
            kw["url"],
            headers=kw.get("headers"),
            params=kw.get("params"),
            cookies=kw.get("cookies") or None,
            json=kw.get("json"),
            content=kw.get("data"),
        )
        return asyncio.run_coroutine_threadsafe(request, self.loop).result(timeout=60)

    def run(self, operation: Any) -> None:
        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        )
        @given(case=case_strategy(operation, self.headers), seeded=st.booleans())
        def test(case: Any, seeded: bool) -> None:
            if seeded:
                steer(case, self.ids)
            response = self.send(case)
            self.calls += 1
            self.statuses.setdefault(operation.label, set()).add(response.status_code)
            if response.status_code >= 500:
                assert "Traceback" not in response.text, response.text
            case.validate_response(response, checks=CHECKS)

        test()


@pytest.fixture
async def fuzz_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: an unhandled error must reach the checks as the 500 a
    # real client would get, not abort the run.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_schemathesis_every_operation(app, fuzz_client, tenant):
    spec = await fetch_spec(fuzz_client)
    ids = await seed(fuzz_client, tenant)
    schema = schemathesis.openapi.from_dict(spec)
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) == len(operations(spec)), "schemathesis could not load every operation"
    ops.sort(key=lambda op: (METHOD_ORDER.get(op.method.lower(), 1), op.path))

    fuzzer = Fuzzer(fuzz_client, asyncio.get_running_loop(), ids, tenant.headers)
    failures: list[str] = []
    for operation in ops:
        try:
            await asyncio.to_thread(fuzzer.run, operation)
        except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
            failures.append(f"== {operation.label}\n{exc}")
    assert not failures, "\n\n".join(failures)
    assert fuzzer.calls >= len(ops) * 5
    # The seeded rows were reached: some GET by id answered 200.
    for label in (
        f"GET {API}/agent-profiles/{{profile_id}}",
        f"GET {API}/evaluation-templates/{{template_id}}",
        f"GET {API}/evaluation-stages/{{stage_id}}",
        f"GET {API}/participants/{{participant_id}}",
    ):
        assert 200 in fuzzer.statuses.get(label, set()), (label, fuzzer.statuses.get(label))


# ---------------------------------------------------------------------------------------
# 4. What the fuzzer found: input a database cannot store is a 400 on every backend.
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
