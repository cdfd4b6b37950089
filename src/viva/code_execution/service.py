"""Running code against test cases: validation, the sandboxed batch, and the verdicts.

Expected outputs stay here: the sandbox gets only the code and the inputs, and each result
is compared with its expectation after it comes back (checkers.py)."""

from __future__ import annotations

import time
from typing import Any, cast

from viva.code_execution import checkers
from viva.code_execution.schemas import LANGUAGES, NOT_BATCHED, CodeExecutionCreate, TestCase
from viva.errors import ApiError, Issue, Unprocessable, ValidationFailed
from viva.sandbox.limits import Limits, json_size
from viva.sandbox.process import SandboxUnavailable
from viva.sandbox.runner import BatchResult, Language, Mode, Runner, TestInput, TestRun

REQUEST_SECONDS = 15.0
"""The whole request's wall-clock bound (SPEC §3.6): past it, 408 with what finished."""
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
"""The whole `data` as JSON stays under this: 50 tests of 64 KiB per value and stream (more once
escaped) would otherwise make a response of tens of MiB, for the server to build and send."""
ERROR_KEPT_WHEN_CUT = 1024


class SandboxFailed(ApiError):
    status = 502
    message = "The code sandbox failed; nothing was run unsandboxed"


class ExecutionTimedOut(ApiError):
    status = 408
    message = "Code execution passed the 15 s limit; `data` holds the tests that finished"


def _check_shape(body: CodeExecutionCreate, max_memory_mb: int) -> None:
    issues: list[Issue] = []
    if body.test_cases is None and body.stdin is None:
        issues.append(Issue(["test_cases"], "Give either test_cases (batched) or stdin (a single run)"))
    if body.test_cases is not None and body.stdin is not None:
        issues.append(Issue(["stdin"], "Give test_cases or stdin, not both"))
    if body.entrypoint is not None and body.test_cases is None:
        issues.append(
            Issue(["entrypoint"], "entrypoint needs test_cases: each test's input is the argument list")
        )
    if body.language == "python" and body.entrypoint and "$" in body.entrypoint:
        issues.append(Issue(["entrypoint"], "Not a Python identifier"))
    if body.memory_limit_mb > max_memory_mb:
        issues.append(Issue(["memory_limit_mb"], f"At most {max_memory_mb} on this server"))
    for i, test in enumerate(body.test_cases or []):
        if body.entrypoint is not None:
            if not isinstance(test.input, list):
                issues.append(
                    Issue(
                        ["test_cases", i, "input"], "With an entrypoint, input is a JSON array of arguments"
                    )
                )
        else:
            if not isinstance(test.input, str):
                issues.append(
                    Issue(["test_cases", i, "input"], "Without an entrypoint, input is stdin text (a string)")
                )
            if not isinstance(test.expected_output, str | int | float) or isinstance(
                test.expected_output, bool
            ):
                issues.append(
                    Issue(
                        ["test_cases", i, "expected_output"],
                        "Without an entrypoint, expected_output is the expected stdout (a string)",
                    )
                )
    if issues:
        raise ValidationFailed(issues)


def _matches(value: Any, test: TestCase, stdin_mode: bool) -> bool:
    if stdin_mode:
        expected = (
            test.expected_output if isinstance(test.expected_output, str) else str(test.expected_output)
        )
        return checkers.compare_stdout(str(value or ""), expected, test.checker, test.tolerance)
    return checkers.compare_value(value, test.expected_output, test.checker, test.tolerance)


def _verdict(run: TestRun | None, test: TestCase | None) -> str:
    if run is None:
        return "error"
    if run.status != "ok":
        return run.status
    if test is None:
        return "passed"  # a single stdin run has no expectation: it ran to the end
    return "passed" if run.matched else "failed"


def _entry(
    index: int, run: TestRun | None, test: TestCase | None, compile_output: str | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "index": index,
        "name": (test.name if test and test.name else f"Test {index + 1}") if test else "stdin",
        "status": _verdict(run, test),
        "hidden": bool(test and test.hidden),
        "expected_output": None,
        "actual_output": None,
        "stdout": None,
        "stderr": None,
        "duration_ms": None,
    }
    if test and test.hidden:
        # Its status only: no output, and no time either (code that sleeps for as long as its
        # input says would otherwise read the hidden input off the duration).
        return entry
    entry["duration_ms"] = round(run.duration_ms, 2) if run else 0
    entry["expected_output"] = test.expected_output if test else None
    if run is not None:
        entry.update(
            actual_output=run.value if run.status == "ok" else None,
            output_truncated=run.value_truncated,
            stdout=run.stdout,
            stderr=run.stderr,
            stdout_truncated=run.stdout_truncated,
            stderr_truncated=run.stderr_truncated,
            error=run.error or None,
        )
    elif compile_output is not None:
        entry["error"] = "The code did not compile; see compile_output"
    else:
        entry["error"] = "Not run: the request's time ran out first"
    return entry


def _cut(entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` without its bulky fields: what is left of it when the response is out of room."""
    cut = {**entry, "expected_output": None, "actual_output": None, "stdout": None, "stderr": None}
    for key, flag in (("actual_output", "output"), ("stdout", "stdout"), ("stderr", "stderr")):
        if entry.get(key) not in (None, ""):
            cut[f"{flag}_truncated"] = True
    if isinstance(entry.get("error"), str):
        cut["error"] = entry["error"][:ERROR_KEPT_WHEN_CUT]
    return cut


def _fit(data: dict[str, Any]) -> None:
    """Keep the whole `data` within MAX_RESPONSE_BYTES: results are kept whole, in order, while
    they fit; the rest lose their outputs (each marked truncated) and `truncated` says so."""
    results = data["results"]
    cuts = [_cut(r) for r in results]
    room = MAX_RESPONSE_BYTES - json_size({**data, "results": cuts})
    for i, entry in enumerate(results):
        extra = json_size(entry) - json_size(cuts[i])
        if extra <= room:
            room -= extra
        else:
            results[i] = cuts[i]
            data["truncated"] = True


def report(body: CodeExecutionCreate, result: BatchResult, started: float) -> dict[str, Any]:
    """The response's `data`: a verdict per test, hidden tests reduced to their status."""
    tests: list[TestCase | None] = list(body.test_cases) if body.test_cases is not None else [None]
    runs = {run.index: run for run in result.runs}
    results = [_entry(i, runs.get(i), t, result.compile_output) for i, t in enumerate(tests)]
    passed = sum(1 for r in results if r["status"] == "passed")
    data: dict[str, Any] = {
        "status": "error"
        if result.compile_output is not None
        else ("passed" if passed == len(results) else "failed"),
        "language": body.language,
        "passed": passed,
        "total": len(results),
        "results": results,
        # The batch's time includes the hidden tests': with one hidden test it is that test's time.
        "duration_ms": None
        if any(t is not None and t.hidden for t in tests)
        else round((time.monotonic() - started) * 1000, 2),
        "truncated": False,
    }
    if result.compile_output is not None:
        data["compile_output"] = result.compile_output
    _fit(data)
    return data


async def execute(
    runner: Runner | None,
    body: CodeExecutionCreate,
    *,
    max_memory_mb: int = 1024,
    unavailable: str | None = None,
) -> dict[str, Any]:
    """Run `body` in the sandbox and judge it. Raises 400/408/422/502 as SPEC §3.6 says."""
    started = time.monotonic()
    if body.language in NOT_BATCHED:
        raise Unprocessable(
            f"{body.language} can't run batched test cases here; use one of: {', '.join(LANGUAGES)}",
            code="language_not_supported",
        )
    _check_shape(body, max_memory_mb)
    if runner is None:
        raise SandboxFailed(
            f"Code execution is unavailable on this server: {unavailable or 'no sandbox'}",
            code="sandbox_unavailable",
        )
    reason = runner.available(cast(Language, body.language))
    if reason:
        raise Unprocessable(f"{body.language} can't run here: {reason}", code="language_unavailable")
    language = cast(Language, body.language)  # one of LANGUAGES: NOT_BATCHED was refused above
    mode: Mode = "function" if body.entrypoint else "stdin"
    inputs = (
        [TestInput(i, t.input) for i, t in enumerate(body.test_cases)]
        if body.test_cases
        else [TestInput(0, body.stdin or "")]
    )
    limits = Limits(time_ms=body.time_limit_ms, memory_mb=body.memory_limit_mb)
    tests = body.test_cases
    stdin_mode = body.entrypoint is None

    def judge(index: int, value: Any) -> bool:
        return tests is None or _matches(value, tests[index], stdin_mode)

    try:
        result = await runner.run(
            language,
            body.code,
            inputs,
            mode=mode,
            entrypoint=body.entrypoint,
            limits=limits,
            deadline=started + REQUEST_SECONDS,
            judge=judge,
        )
    except SandboxUnavailable as exc:
        raise SandboxFailed(f"The code sandbox failed: {exc}", code="sandbox_failed") from exc
    data = report(body, result, started)
    if result.deadline_passed:
        raise ExecutionTimedOut(code="execution_timeout", data=data)
    return data
