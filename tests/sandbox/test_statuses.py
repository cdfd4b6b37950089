"""Correct, wrong, crashing, slow and memory-hungry solutions get the right per-test statuses,
in every language, and every test of a batch runs even after one kills its sandbox."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import fn_tests

LANGUAGES = ["python", "javascript", "typescript"]

# One solution per behaviour and language: `solve(n)` is n * 2 when correct.
SOLUTIONS: dict[str, dict[str, str]] = {
    "correct": {
        "python": "def solve(n):\n    return n * 2\n",
        "javascript": "function solve(n) { return n * 2; }",
        "typescript": "function solve(n: number): number { return n * 2; }",
    },
    "wrong": {
        "python": "def solve(n):\n    return n + 2\n",
        "javascript": "function solve(n) { return n + 2; }",
        "typescript": "function solve(n: number): number { return n + 2; }",
    },
    "crashing": {
        "python": "def solve(n):\n    return [][n]\n",
        "javascript": "function solve(n) { return null.x; }",
        "typescript": "function solve(n: number): number { throw new Error('boom ' + n); }",
    },
    "slow": {
        "python": "def solve(n):\n    while True:\n        pass\n",
        "javascript": "function solve(n) { for (;;) {} }",
        "typescript": "function solve(n: number): number { for (;;) {} }",
    },
    "memory": {
        "python": "def solve(n):\n    chunks = []\n    while True:\n        chunks.append(bytearray(16 << 20))\n",
        "javascript": "function solve(n) { const a = []; for (;;) a.push(new Array(1e6).fill(n)); }",
        "typescript": "function solve(n: number) { const a: number[][] = []; for (;;) a.push(new Array(1e6).fill(n)); }",
    },
}
EXPECTED = {
    "correct": "passed",
    "wrong": "failed",
    "crashing": "error",
    "slow": "timeout",
    "memory": "memory_limit",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("behaviour", list(SOLUTIONS))
async def test_each_behaviour_gets_its_status(run, language, behaviour):
    data = await run(
        language,
        SOLUTIONS[behaviour][language],
        entrypoint="solve",
        test_cases=fn_tests(([3], 6), ([5], 10)),
        time_limit_ms=500 if behaviour == "slow" else 5000,  # filling memory takes a while
        memory_limit_mb=128,
    )
    assert [r["status"] for r in data["results"]] == [EXPECTED[behaviour]] * 2, data
    assert data["total"] == 2
    assert data["passed"] == (2 if behaviour == "correct" else 0)
    assert data["status"] == ("passed" if behaviour == "correct" else "failed")
    if behaviour == "crashing":
        assert "solution" in data["results"][0]["error"]  # the candidate's own frame, not the harness's
        assert "harness" not in data["results"][0]["error"]
    if behaviour == "slow":
        assert all(r["duration_ms"] >= 500 for r in data["results"])


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_mixed_batch_reports_each_test_on_its_own(run, language):
    # Test 2 loops forever and test 3 exhausts memory: each kills its sandbox, the rest still run.
    code = {
        "python": "def solve(n):\n    if n == 2:\n        while True: pass\n    if n == 3:\n        x = [bytearray(16 << 20) for _ in range(10**6)]\n"
        "    if n == 4:\n        raise ValueError('four')\n    return n * 2\n",
        "javascript": "function solve(n) { if (n === 2) for (;;) {} if (n === 3) { const a = []; for (;;) a.push(new Array(1e6).fill(1)); }"
        " if (n === 4) throw new Error('four'); return n * 2; }",
        "typescript": "function solve(n: number): number { if (n === 2) for (;;) {} if (n === 3) { const a: number[][] = []; for (;;) a.push(new Array(1e6).fill(1)); }"
        " if (n === 4) throw new Error('four'); return n * 2; }",
    }[language]
    data = await run(
        language,
        code,
        entrypoint="solve",
        time_limit_ms=3000,  # filling memory takes a while on a busy machine
        memory_limit_mb=128,
        test_cases=fn_tests(([1], 2), ([2], 4), ([3], 6), ([4], 8), ([5], 11), ([6], 12)),
    )
    assert [r["status"] for r in data["results"]] == [
        "passed",
        "timeout",
        "memory_limit",
        "error",
        "failed",
        "passed",
    ]
    assert data["passed"] == 2


@pytest.mark.parametrize("language", ["javascript", "typescript"])
async def test_node_memory_outside_the_heap_is_bounded_too(run, language):
    data = await run(
        language,
        "function solve(n) { return Buffer.alloc(1 << 30).length; }",
        entrypoint="solve",
        test_cases=fn_tests(([1], 1)),
        memory_limit_mb=128,
    )
    assert data["results"][0]["status"] == "memory_limit", data


async def test_compile_errors_go_to_compile_output(run):
    ts = await run(
        "typescript",
        "function solve(n: number: number { return n }",
        entrypoint="solve",
        test_cases=fn_tests(([1], 1)),
    )
    assert ts["status"] == "error"
    assert 'Expected ")"' in ts["compile_output"]
    assert ts["results"][0]["status"] == "error"
    py = await run(
        "python", "def solve(n)\n    return n\n", entrypoint="solve", test_cases=fn_tests(([1], 1))
    )
    assert py["status"] == "error" and "SyntaxError" in py["compile_output"]
    js = await run(
        "javascript", "function solve(n) { return n", entrypoint="solve", test_cases=fn_tests(([1], 1))
    )
    assert js["status"] == "error" and "SyntaxError" in js["compile_output"]


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n"),
        (
            "javascript",
            "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(a + b);",
        ),
        (
            "typescript",
            "let s = ''; process.stdin.on('data', (c: string) => (s += c));\n"
            "process.stdin.on('end', () => { const [a, b] = s.trim().split(/\\s+/).map(Number); console.log(a + b); });",
        ),
    ],
)
async def test_stdin_mode_feeds_each_input_and_compares_trimmed_stdout(run, language, code):
    data = await run(
        language,
        code,
        test_cases=[
            {"input": "1 2\n", "expected_output": "3"},
            {"input": "10 20", "expected_output": "30\n"},
            {"input": "2 2", "expected_output": "5"},
        ],
    )
    assert [r["status"] for r in data["results"]] == ["passed", "passed", "failed"]
    assert data["results"][2]["actual_output"].strip() == "4"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_module_state_is_fresh_for_every_test(run, language):
    code = {
        "python": "calls = []\ndef solve(xs):\n    calls.append(1)\n    xs.append(len(calls))\n    return xs\n",
        "javascript": "const calls = []; function solve(xs) { calls.push(1); xs.push(calls.length); return xs; }",
        "typescript": "const calls: number[] = []; function solve(xs: number[]) { calls.push(1); xs.push(calls.length); return xs; }",
    }[language]
    data = await run(
        language,
        code,
        entrypoint="solve",
        test_cases=fn_tests(([[0]], [0, 1]), ([[0]], [0, 1]), ([[0]], [0, 1])),
    )
    assert data["passed"] == 3, data


@pytest.mark.parametrize("language", LANGUAGES)
async def test_async_functions_are_awaited_and_output_is_captured_per_test(run, language):
    code = {
        "python": "import asyncio\nasync def solve(n):\n    await asyncio.sleep(0.01)\n    print('working on', n)\n    return n * 2\n",
        "javascript": "async function solve(n) { await new Promise(r => setTimeout(r, 10)); console.log('working on', n); return n * 2; }",
        "typescript": "async function solve(n: number): Promise<number> { await new Promise(r => setTimeout(r, 10)); console.log('working on', n); return n * 2; }",
    }[language]
    data = await run(language, code, entrypoint="solve", test_cases=fn_tests(([1], 2), ([2], 4)))
    assert data["passed"] == 2
    assert [r["stdout"] for r in data["results"]] == ["working on 1\n", "working on 2\n"]


async def test_checkers_exact_unordered_and_float(run):
    code = "def solve(kind):\n    return {'list': [3, 1, 2], 'float': 0.1 + 0.2, 'nested': {'a': [1.0000001]}}[kind]\n"
    data = await run(
        "python",
        code,
        entrypoint="solve",
        test_cases=[
            {"input": ["list"], "expected_output": [1, 2, 3]},
            {"input": ["list"], "expected_output": [1, 2, 3], "checker": "unordered"},
            {"input": ["float"], "expected_output": 0.3},
            {"input": ["float"], "expected_output": 0.3, "checker": "float"},
            {"input": ["nested"], "expected_output": {"a": [1]}, "checker": "float", "tolerance": 1e-3},
            {"input": ["list"], "expected_output": [1, 2, 2], "checker": "unordered"},
        ],
    )
    assert [r["status"] for r in data["results"]] == [
        "failed",
        "passed",
        "failed",
        "passed",
        "passed",
        "failed",
    ]


async def test_hidden_tests_report_only_their_status(run):
    data = await run(
        "python",
        "def solve(n):\n    print('secret', n)\n    return n\n",
        entrypoint="solve",
        test_cases=[
            {"input": [4141], "expected_output": 4141, "hidden": True},
            {"input": [4242], "expected_output": 0, "hidden": True},
            {"input": [7], "expected_output": 7},
        ],
    )
    hidden = data["results"][:2]
    assert [r["status"] for r in hidden] == ["passed", "failed"]
    for r in hidden:
        assert r["hidden"] is True
        assert r["expected_output"] is None and r["actual_output"] is None
        assert r["stdout"] is None and r["stderr"] is None
    assert "4141" not in str(hidden) and "4242" not in str(hidden)
    assert data["results"][2]["stdout"] == "secret 7\n"


async def test_a_single_stdin_run(run):
    data = await run("python", "print(input()[::-1])", stdin="olleh")
    assert data["status"] == "passed" and data["results"][0]["actual_output"] == "hello\n"


async def test_leetcode_style_class_solutions_are_found(run):
    py = await run(
        "python",
        "class Solution:\n    def solve(self, n):\n        return n * 2\n",
        entrypoint="solve",
        test_cases=fn_tests(([2], 4)),
    )
    js = await run(
        "javascript",
        "class Solution { solve(n) { return n * 2 } }",
        entrypoint="solve",
        test_cases=fn_tests(([2], 4)),
    )
    assert py["passed"] == 1 and js["passed"] == 1


async def test_a_missing_entrypoint_or_unencodable_result_is_the_codes_error(run):
    data = await run(
        "python", "def other():\n    pass\n", entrypoint="solve", test_cases=fn_tests(([], None))
    )
    assert (
        data["results"][0]["status"] == "error" and "no function named 'solve'" in data["results"][0]["error"]
    )
    data = await run(
        "python", "def solve():\n    return {1, 2}\n", entrypoint="solve", test_cases=fn_tests(([], [1, 2]))
    )
    assert data["results"][0]["status"] == "error" and "set" in data["results"][0]["error"]
