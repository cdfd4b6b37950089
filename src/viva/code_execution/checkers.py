"""Comparing a test's actual output with its expected output, outside the sandbox.

Function mode compares JSON values structurally; stdin mode compares the trimmed stdout
with the expected text. `unordered` treats lists (or stdout lines) as multisets; `float`
accepts numbers within a tolerance (absolute or relative), everything else exactly."""

from __future__ import annotations

import json
import math
from typing import Any

from viva.code_execution.schemas import Checker


def _same(a: Any, b: Any, tolerance: float | None) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b  # True is not 1
    if isinstance(a, int | float) and isinstance(b, int | float):
        if tolerance is None:
            return a == b
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, tolerance) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], tolerance) for k in a)
    return type(a) is type(b) and a == b


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _unordered(actual: Any, expected: Any) -> bool:
    if not isinstance(actual, list) or not isinstance(expected, list):
        return _same(actual, expected, None)
    return sorted(map(_canonical, actual)) == sorted(map(_canonical, expected))


def compare_value(actual: Any, expected: Any, checker: Checker, tolerance: float) -> bool:
    """Function mode: the returned JSON value against the expected one."""
    if checker == "unordered":
        return _unordered(actual, expected)
    return _same(actual, expected, tolerance if checker == "float" else None)


def _tokens_as_numbers(text: str) -> list[Any]:
    out: list[Any] = []
    for token in text.split():
        try:
            out.append(float(token))
        except ValueError:
            out.append(token)
    return out


def compare_stdout(actual: str, expected: str, checker: Checker, tolerance: float) -> bool:
    """stdin mode: the program's output against the expected text, both trimmed."""
    got = actual.replace("\r\n", "\n").strip()
    want = expected.replace("\r\n", "\n").strip()
    if checker == "unordered":
        return sorted(line.strip() for line in got.splitlines()) == sorted(
            line.strip() for line in want.splitlines()
        )
    if checker == "float":
        return _same(_tokens_as_numbers(got), _tokens_as_numbers(want), tolerance)
    return got == want
