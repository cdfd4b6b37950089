"""POST /api/v1/code-executions over HTTP: the SPEC §3.6 body, errors and status codes."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import make_settings
from tests.fixtures.factories import make_key
from viva.app import create_app
from viva.code_execution import service

URL = "/api/v1/code-executions"
TWO_SUM = {
    "language": "python",
    "code": "def two_sum(nums, target):\n    seen = {}\n    for i, n in enumerate(nums):\n"
    "        if target - n in seen:\n            return [seen[target - n], i]\n        seen[n] = i\n",
    "entrypoint": "two_sum",
    "test_cases": [
        {"name": "example", "input": [[2, 7, 11, 15], 9], "expected_output": [0, 1]},
        {"input": [[3, 2, 4], 6], "expected_output": [2, 1], "checker": "unordered"},
        {"input": [[3, 3], 6], "expected_output": [0, 1], "hidden": True},
        {"input": [[1, 2], 9], "expected_output": [0, 1]},
    ],
}


async def test_a_batched_run_reports_every_test(client, tenant):
    r = await client.post(URL, json=TWO_SUM, headers=tenant.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["status"], data["passed"], data["total"]) == ("failed", 3, 4)
    first, second, hidden, last = data["results"]
    assert first["name"] == "example" and first["status"] == "passed" and first["actual_output"] == [0, 1]
    assert second["status"] == "passed" and second["actual_output"] == [1, 2]
    assert hidden == {
        "index": 2, "name": "Test 3", "status": "passed", "hidden": True, "expected_output": None,
        "actual_output": None, "output_truncated": None, "stdout": None, "stderr": None,
        "stdout_truncated": None, "stderr_truncated": None, "error": None, "duration_ms": None,
    }
    assert last["status"] == "failed" and last["actual_output"] is None and last["expected_output"] == [0, 1]
    assert first["duration_ms"] >= 0 and first["output_truncated"] is False
    assert data["duration_ms"] is None and "compile_output" in data and data["truncated"] is False


async def test_hidden_tests_tell_no_time(client, tenant):
    """Code that sleeps as many ms as its input says: neither the hidden test's result nor the
    run's total may carry a time that gives the input away."""
    r = await client.post(URL, headers=tenant.headers, json={
        "language": "python", "code": "import time\ndef f(n):\n    time.sleep(n / 1000)\n    return n\n",
        "entrypoint": "f",
        "test_cases": [{"input": [5], "expected_output": 5}, {"input": [777], "expected_output": 0, "hidden": True}]})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    visible, hidden = data["results"]
    assert isinstance(visible["duration_ms"], float | int)
    assert hidden["status"] == "failed" and hidden["duration_ms"] is None
    assert data["duration_ms"] is None
    assert "777" not in r.text
    # Without hidden tests the run's total is there.
    r = await client.post(URL, headers=tenant.headers, json={
        "language": "python", "code": "def f(n):\n    return n\n", "entrypoint": "f",
        "test_cases": [{"input": [1], "expected_output": 1}]})
    assert r.json()["data"]["duration_ms"] is not None


async def test_a_huge_return_value_makes_a_small_response(client, tenant):
    r = await client.post(URL, headers=tenant.headers, json={
        "language": "javascript", "code": "function f(n) { return 'q'.repeat(n); }", "entrypoint": "f",
        "test_cases": [{"input": [1_500_000], "expected_output": "q"}, {"input": [3_000_000], "expected_output": "q"}]})
    assert r.status_code == 200, r.text
    assert len(r.content) < 200 * 1024
    cut, refused = r.json()["data"]["results"]
    assert cut["status"] == "failed" and cut["output_truncated"] is True and len(cut["actual_output"]) < 65536
    assert refused["status"] == "error" and "the limit is 2 MiB" in refused["error"]


async def test_typescript_and_javascript_over_http(client, tenant):
    for language, code in (("typescript", "export function add(a: number, b: number): number { return a + b }"),
                           ("javascript", "module.exports = { add: (a, b) => a + b }")):
        r = await client.post(URL, headers=tenant.headers, json={
            "language": language, "code": code, "entrypoint": "add",
            "test_cases": [{"input": [1, 2], "expected_output": 3}, {"input": [0.1, 0.2], "expected_output": 0.3, "checker": "float"}]})
        assert r.status_code == 200, r.text
        assert r.json()["data"]["passed"] == 2, r.text


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"language": "cobol-ish", "code": "x", "stdin": ""}, ["language"], "Unknown language 'cobol-ish'"),
        ({"language": "python", "code": "x" * (64 * 1024 + 1), "stdin": ""}, ["code"], "the limit is 65536"),
        ({"language": "python", "code": "print(1)"}, ["test_cases"], "Give either test_cases"),
        ({"language": "python", "code": "print(1)", "stdin": "", "test_cases": [{"input": "", "expected_output": ""}]},
         ["stdin"], "not both"),
        ({"language": "python", "code": "def f(): pass", "entrypoint": "f", "stdin": ""}, ["entrypoint"], "needs test_cases"),
        ({"language": "python", "code": "def f(x): pass", "entrypoint": "f", "test_cases": [{"input": 3, "expected_output": 3}]},
         ["test_cases", 0, "input"], "JSON array of arguments"),
        ({"language": "python", "code": "print(1)", "test_cases": [{"input": ["a"], "expected_output": "1"}]},
         ["test_cases", 0, "input"], "stdin text"),
        ({"language": "python", "code": "print(1)", "test_cases": [{"input": "", "expected_output": ""}] * 51},
         ["test_cases"], "at most 50"),
        ({"language": "python", "code": "def f(): pass", "entrypoint": "f; import os", "test_cases": [{"input": [], "expected_output": None}]},
         ["entrypoint"], ""),
        ({"language": "python", "code": "print(1)", "stdin": "", "time_limit_ms": 60000}, ["time_limit_ms"], "10000"),
        ({"language": "python", "code": "print(1)", "stdin": "", "memory_limit_mb": 2048}, ["memory_limit_mb"], "At most 1024"),
        ({"language": "python", "code": "print(1)", "stdin": "", "timeout": 5}, ["timeout"], ""),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(client, tenant, body, path, message):
    r = await client.post(URL, json=body, headers=tenant.headers)
    assert r.status_code == 400, r.text
    issues = r.json()["issues"]
    assert any(i["path"] == path and message in i["message"] for i in issues), issues


async def test_a_language_without_batched_support_is_422(client, tenant):
    r = await client.post(URL, headers=tenant.headers, json={"language": "Go", "code": "package main", "stdin": ""})
    assert r.status_code == 422
    assert r.json() == {"error": "go can't run batched test cases here; use one of: python, javascript, typescript",
                        "code": "language_not_supported"}


async def test_running_code_needs_interviews_write(app, client, tenant):
    key = await make_key(app, tenant.slug, ["interviews.read"])
    r = await client.post(URL, json=TWO_SUM, headers={"x-api-key": key})
    assert r.status_code == 403 and r.json()["scope"] == "interviews.write"
    assert (await client.post(URL, json=TWO_SUM)).status_code == 401


async def test_without_a_sandbox_the_api_says_so_and_runs_nothing(database_url, tenant, client, tmp_path):
    import httpx

    for overrides in ({"sandbox_enabled": False}, {}):
        app = create_app(make_settings(database_url, **overrides))
        if not overrides:
            app.state.code_runner.host.bwrap = str(tmp_path / "no-bwrap-here")  # bubblewrap missing
        marker = tmp_path / "ran"
        body = {"language": "python", "code": f"open({str(marker)!r}, 'w').write('ran')", "stdin": ""}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.post(URL, json=body, headers=tenant.headers)
        assert r.status_code == 502, r.text
        assert r.json()["code"] in ("sandbox_unavailable", "sandbox_failed")
        assert "sandbox" in r.json()["error"].lower()
        assert not marker.exists()
        await app.state.engine.dispose()


async def test_past_the_request_limit_it_is_408_with_what_finished(client, tenant, monkeypatch):
    monkeypatch.setattr(service, "REQUEST_SECONDS", 3.5)  # the SPEC's 15 s, scaled down to keep the suite quick
    r = await client.post(URL, headers=tenant.headers, json={
        "language": "python", "code": "import time\ndef f(n):\n    if n > 0:\n        time.sleep(5)\n    return n\n",
        "entrypoint": "f", "time_limit_ms": 1000,
        "test_cases": [{"input": [n], "expected_output": n} for n in range(6)]})
    assert r.status_code == 408, r.text
    body = r.json()
    assert body["code"] == "execution_timeout"
    results = body["data"]["results"]
    assert len(results) == 6 and results[0]["status"] == "passed" and results[1]["status"] == "timeout"
    # Each later test timed out, or was never reached before the request's time ran out.
    assert all(t["status"] in ("timeout", "error") for t in results[1:])
    assert results[-1]["status"] == "error" and "time ran out" in results[-1]["error"]


async def test_twenty_simultaneous_requests_get_their_own_results(client, tenant):
    async def one(n: int) -> tuple[int, dict]:
        language = ("python", "javascript", "typescript")[n % 3]
        code = {
            "python": f"import time\nSTATE = []\ndef f(x):\n    STATE.append(x)\n    open('/tmp/mine', 'a').write(str(x))\n    time.sleep(0.05)\n    return [{n}, x, len(STATE), open('/tmp/mine').read()]\n",
            "javascript": f"const fs = require('fs'); function f(x) {{ fs.appendFileSync('/tmp/mine', String(x)); return [{n}, x, 1, fs.readFileSync('/tmp/mine', 'utf8')]; }}",
            "typescript": f"import * as fs from 'fs'; export function f(x: number) {{ fs.appendFileSync('/tmp/mine', String(x)); return [{n}, x, 1, fs.readFileSync('/tmp/mine', 'utf8')]; }}",
        }[language]
        tests = [{"input": [x], "expected_output": [n, x, 1, "".join(str(i) for i in range(x + 1))]} for x in range(3)]
        r = await client.post(URL, headers=tenant.headers, json={"language": language, "code": code, "entrypoint": "f", "test_cases": tests})
        return n, r

    for n, r in await asyncio.gather(*(one(n) for n in range(20))):
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert data["passed"] == 3, (n, data["results"])
