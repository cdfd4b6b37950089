"""The built-in coding tasks: statement, signature per language, visible and hidden tests.

The interviewer poses one when the rubric or skills call for code (core.coding_dimension).
The candidate sees the statement, the starter code and the visible tests; hidden tests run
only on submit and report only their status. Every test is checked against a reference
solution in each language by tests/interview/test_coding_tasks.py, through the sandbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LANGUAGES = ("python", "javascript", "typescript")


@dataclass(frozen=True)
class CodingTest:
    input: list[Any]  # the function's arguments
    expected_output: Any
    name: str = ""


@dataclass(frozen=True)
class CodingTask:
    id: str
    difficulty: str
    title: str
    statement: str
    entrypoint: dict[str, str]  # language → function name
    starter: dict[str, str]  # language → starter code with the signature
    visible: tuple[CodingTest, ...]
    hidden: tuple[CodingTest, ...] = field(default=())

    def public(self) -> dict[str, Any]:
        """What the candidate's room gets: never the hidden tests."""
        return {
            "id": self.id,
            "title": self.title,
            "statement": self.statement,
            "languages": list(LANGUAGES),
            "entrypoint": dict(self.entrypoint),
            "starter": dict(self.starter),
            "visible_tests": [
                {"name": t.name, "input": t.input, "expected_output": t.expected_output} for t in self.visible
            ],
            "hidden_tests": len(self.hidden),
        }


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


def _task(
    id: str,
    difficulty: str,
    title: str,
    statement: str,
    name: str,
    py_sig: str,
    ts_sig: str,
    js_args: str,
    visible: list[CodingTest],
    hidden: list[CodingTest],
) -> CodingTask:
    camel = _camel(name)
    return CodingTask(
        id=id,
        difficulty=difficulty,
        title=title,
        statement=statement,
        entrypoint={"python": name, "javascript": camel, "typescript": camel},
        starter={
            "python": f"def {name}({py_sig}):\n    # Your code here\n    pass\n",
            "javascript": f"function {camel}({js_args}) {{\n  // Your code here\n}}\n",
            "typescript": f"function {camel}({ts_sig} {{\n  // Your code here\n}}\n",
        },
        visible=tuple(visible),
        hidden=tuple(hidden),
    )


T = CodingTest
TASKS: dict[str, CodingTask] = {
    t.id: t
    for t in (
        _task(
            "second-largest",
            "easy",
            "Second largest",
            "Write a function that returns the second largest distinct number in a list, or None (null) if "
            "there is none.",
            "second_largest",
            "numbers: list[int]",
            "numbers: number[]): number | null",
            "numbers",
            visible=[T([[3, 1, 4, 1, 5]], 4, "five distinct values"), T([[7, 7, 7]], None, "all equal")],
            hidden=[
                T([[]], None),
                T([[2]], None),
                T([[-1, -5, -3]], -3),
                T([[10, 9, 10, 9, 8]], 9),
                T([list(range(1000))], 998),
            ],
        ),
        _task(
            "anagram-groups",
            "medium",
            "Anagram groups",
            "Write a function that groups a list of words into anagram groups and returns the groups "
            "sorted by size, largest first (ties: the group whose first word comes first in the input); "
            "words keep their input order inside a group.",
            "group_anagrams",
            "words: list[str]",
            "words: string[]): string[][]",
            "words",
            visible=[
                T(
                    [["eat", "tea", "tan", "ate", "nat", "bat"]],
                    [["eat", "tea", "ate"], ["tan", "nat"], ["bat"]],
                    "the classic",
                ),
                T([[]], [], "no words"),
            ],
            hidden=[
                T([["a"]], [["a"]]),
                T([["ab", "ba", "cd", "dc", "ef"]], [["ab", "ba"], ["cd", "dc"], ["ef"]]),
                T([["x", "y", "x"]], [["x", "x"], ["y"]]),
                T(
                    [["listen", "silent", "enlist", "google", "gogole", "cat"]],
                    [["listen", "silent", "enlist"], ["google", "gogole"], ["cat"]],
                ),
            ],
        ),
        _task(
            "rate-limiter",
            "hard",
            "Sliding-window rate limiter",
            "Implement a rate limiter that allows at most N events per sliding window of T seconds. Given "
            "the events' times in seconds (ascending), N and T, return for each event whether it is "
            "allowed: an event at time t is allowed when fewer than N allowed events happened in "
            "(t - T, t]. Refused events do not count.",
            "rate_limit",
            "times: list[float], n: int, t: float",
            "times: number[], n: number, t: number): boolean[]",
            "times, n, t",
            visible=[
                T([[0, 0.5, 1, 2.5], 2, 2], [True, True, False, True], "two per two seconds"),
                T([[], 5, 1], [], "no events"),
            ],
            hidden=[
                T([[0, 0, 0], 1, 10], [True, False, False]),
                T([[0, 1, 2, 3, 4], 1, 1], [True, True, True, True, True]),
                T([[0, 0.5, 0.9, 1.0, 1.4], 2, 1], [True, True, False, True, False]),
                T([[0, 1, 1, 1, 2, 2, 3], 3, 2], [True, True, True, False, True, False, True]),
            ],
        ),
    )
}
BY_DIFFICULTY = {t.difficulty: t for t in TASKS.values()}


def for_difficulty(difficulty: str) -> CodingTask:
    """The built-in task for a difficulty (medium when the level has none of its own)."""
    return BY_DIFFICULTY.get(difficulty, BY_DIFFICULTY["medium"])


# Reference solutions: the bank's tests are checked against them in every language, and the
# simulated strong candidate submits them.
REFERENCE: dict[str, dict[str, str]] = {
    "second-largest": {
        "python": """\
def second_largest(numbers):
    distinct = sorted(set(numbers))
    return distinct[-2] if len(distinct) >= 2 else None
""",
        "javascript": """\
function secondLargest(numbers) {
  const d = [...new Set(numbers)].sort((a, b) => a - b);
  return d.length >= 2 ? d[d.length - 2] : null;
}
""",
        "typescript": """\
function secondLargest(numbers: number[]): number | null {
  const d = [...new Set(numbers)].sort((a, b) => a - b);
  return d.length >= 2 ? d[d.length - 2] : null;
}
""",
    },
    "anagram-groups": {
        "python": """\
def group_anagrams(words):
    groups = {}
    for w in words:
        groups.setdefault("".join(sorted(w)), []).append(w)
    return sorted(groups.values(), key=len, reverse=True)
""",
        "javascript": """\
function groupAnagrams(words) {
  const groups = new Map();
  for (const w of words) {
    const k = [...w].sort().join("");
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(w);
  }
  return [...groups.values()].sort((a, b) => b.length - a.length);
}
""",
        "typescript": """\
function groupAnagrams(words: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const w of words) {
    const k = [...w].sort().join("");
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(w);
  }
  return [...groups.values()].sort((a, b) => b.length - a.length);
}
""",
    },
    "rate-limiter": {
        "python": """\
from collections import deque

def rate_limit(times, n, t):
    window, out = deque(), []
    for now in times:
        while window and window[0] <= now - t:
            window.popleft()
        ok = len(window) < n
        if ok:
            window.append(now)
        out.append(ok)
    return out
""",
        "javascript": """\
function rateLimit(times, n, t) {
  const window = [];
  return times.map((now) => {
    while (window.length && window[0] <= now - t) window.shift();
    const ok = window.length < n;
    if (ok) window.push(now);
    return ok;
  });
}
""",
        "typescript": """\
function rateLimit(times: number[], n: number, t: number): boolean[] {
  const window: number[] = [];
  return times.map((now) => {
    while (window.length && window[0] <= now - t) window.shift();
    const ok = window.length < n;
    if (ok) window.push(now);
    return ok;
  });
}
""",
    },
}
"""Every task's correct solution in every language."""
