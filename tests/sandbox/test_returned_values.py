"""Returned values are bounded: a value is judged in full but reported cut to 64 KiB of JSON
(`output_truncated`), one too large to judge makes its test an error without the server ever
reading it whole, and the whole response stays under its 4 MiB cap (`truncated`)."""

from __future__ import annotations

import orjson
import pytest

from tests.sandbox.conftest import fn_tests

MAX_OUTPUT_BYTES = 64 * 1024  # as documented in docs/code-execution.md
MAX_RESPONSE_BYTES = 4 * 1024 * 1024

HUGE = {
    "python": "def solve(n):\n    return 'x' * 200_000_000 if n == 1 else n\n",
    "javascript": "function solve(n) { return n === 1 ? 'x'.repeat(200000000) : n; }",
}


@pytest.mark.parametrize("language", list(HUGE))
async def test_a_200_mb_return_value_is_an_error_and_the_batch_goes_on(run, language):
    data = await run(
        language,
        HUGE[language],
        entrypoint="solve",
        test_cases=fn_tests(([1], "x"), ([2], 2)),
        memory_limit_mb=1024,  # room for the string itself: it is the size that must be refused
        time_limit_ms=10_000,
    )
    huge, small = data["results"]
    assert huge["status"] == "error", huge
    assert "the limit is 2 MiB" in huge["error"] and "interfered" not in huge["error"]
    assert huge["actual_output"] is None
    assert small["status"] == "passed"
    assert len(orjson.dumps(data)) < 64 * 1024


@pytest.mark.parametrize("language", ["python", "javascript", "typescript"])
async def test_a_large_value_is_judged_whole_and_reported_cut(run, language):
    size = 300_000  # over the 64 KiB reported, under the 2 MiB judged
    code = {
        "python": f"def solve(c):\n    return c * {size}\n",
        "javascript": f"function solve(c) {{ return c.repeat({size}); }}",
        "typescript": f"function solve(c: string): string {{ return c.repeat({size}); }}",
    }[language]
    data = await run(
        language,
        code,
        entrypoint="solve",
        test_cases=fn_tests((["z"], "z" * size), (["y"], "short")),
    )
    right, wrong = data["results"]
    assert right["status"] == "passed" and wrong["status"] == "failed"
    for result, char in ((right, "z"), (wrong, "y")):
        assert result["output_truncated"] is True
        assert result["actual_output"] == char * (MAX_OUTPUT_BYTES - 2)  # its JSON: 64 KiB with quotes
    small = await run(
        language, code.replace(str(size), "3"), entrypoint="solve", test_cases=fn_tests((["a"], "aaa"))
    )
    assert small["results"][0]["actual_output"] == "aaa" and small["results"][0]["output_truncated"] is False


async def test_a_list_too_long_to_show_is_shown_as_the_start_of_its_json(run):
    data = await run(
        "python",
        "def solve(n):\n    return list(range(n))\n",
        entrypoint="solve",
        test_cases=fn_tests(([100_000], [])),
    )
    [result] = data["results"]
    assert result["status"] == "failed" and result["output_truncated"] is True
    assert isinstance(result["actual_output"], str) and result["actual_output"].startswith("[0,1,2,3,")
    assert len(orjson.dumps(result["actual_output"])) <= MAX_OUTPUT_BYTES


@pytest.mark.parametrize("language", ["python", "javascript"])
async def test_the_whole_response_is_capped_and_says_so(run, language):
    # 50 tests each printing 64 KiB of control characters (six bytes each once in JSON) to both
    # streams: about 40 MB of response uncapped.
    code = {
        "python": "import sys\ndef solve(n):\n    sys.stdout.write('\\x01' * 65536)\n"
        "    sys.stderr.write('\\x02' * 65536)\n    return n\n",
        "javascript": "function solve(n) { process.stdout.write('\\x01'.repeat(65536));"
        " process.stderr.write('\\x02'.repeat(65536)); return n; }",
    }[language]
    data = await run(language, code, entrypoint="solve", test_cases=fn_tests(*[([i], i) for i in range(50)]))
    assert len(orjson.dumps(data)) <= MAX_RESPONSE_BYTES
    assert data["truncated"] is True
    assert data["passed"] == data["total"] == 50  # verdicts are whole; only outputs were cut
    first, last = data["results"][0], data["results"][-1]
    assert first["stdout"] == "\x01" * 65536 and first["stderr"] == "\x02" * 65536
    assert last["stdout"] is None and last["stderr"] is None
    assert last["stdout_truncated"] is True and last["stderr_truncated"] is True
    assert [r["status"] for r in data["results"]] == ["passed"] * 50
