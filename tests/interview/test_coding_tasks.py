"""The built-in coding tasks are right: every visible and hidden test passes with the reference
solution in every language, through the real sandbox; the starter code compiles and fails."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import run, runner  # noqa: F401  (the sandbox fixtures)
from viva.interview import coding_tasks
from viva.interview.coding_tasks import LANGUAGES, REFERENCE, TASKS


def body(task: coding_tasks.CodingTask, language: str, code: str) -> dict:
    return {
        "entrypoint": task.entrypoint[language],
        "test_cases": [
            {"input": t.input, "expected_output": t.expected_output} for t in (*task.visible, *task.hidden)
        ],
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("task_id", list(TASKS))
async def test_the_reference_solution_passes_every_test(run, task_id, language):  # noqa: F811
    task = TASKS[task_id]
    data = await run(language, REFERENCE[task_id][language], **body(task, language, ""))
    assert data["passed"] == data["total"] == len(task.visible) + len(task.hidden), data["results"]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_starter_code_runs_and_fails(run, language):  # noqa: F811
    task = TASKS["anagram-groups"]
    data = await run(language, task.starter[language], **body(task, language, ""))
    assert data.get("compile_output") is None
    assert data["passed"] < data["total"]


def test_every_difficulty_has_a_task_and_the_room_never_sees_hidden_tests():
    for level in ("easy", "medium", "hard"):
        task = coding_tasks.for_difficulty(level)
        public = task.public()
        assert public["hidden_tests"] == len(task.hidden) > 0
        shown = str(public)
        for hidden in task.hidden:
            assert str(hidden.expected_output) not in shown or str(hidden.expected_output) in str(
                [t.expected_output for t in task.visible]
            )
