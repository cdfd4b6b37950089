"""The room's code editor: running the candidate's code against the posed task's tests.

"Run" runs the visible tests; "Submit" runs the visible and the hidden ones. The candidate is
told only how many hidden tests passed, never which: a status per hidden test is a few bits
about its input per submission, which code written to probe the input can collect (see
docs/code-execution.md). The transcript, which only the company reads, keeps every test's
status. Each run is stored in the transcript as an event (`code_run` /
`code_submit`) with the code, the language and every test's status, and the scoring job
counts the last submission of each task (SPEC §6.2, §5). The session is read and the event
stored in short transactions of their own, none open while the code runs: on SQLite an open
transaction would hold the only write lock for seconds."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from viva.code_execution import service as code_execution
from viva.code_execution.schemas import CodeExecutionCreate
from viva.errors import Conflict
from viva.interview import coding_tasks
from viva.interview.runner import open_coding_task
from viva.sandbox.runner import Runner
from viva.sessions import live

TIME_LIMIT_MS = 2000
MAX_STORED_CODE = 64 * 1024


def _body(task: coding_tasks.CodingTask, language: str, code: str, submit: bool) -> CodeExecutionCreate:
    tests = [*task.visible, *(task.hidden if submit else ())]
    return CodeExecutionCreate(
        language=language,
        code=code,
        entrypoint=task.entrypoint[language],
        time_limit_ms=TIME_LIMIT_MS,
        test_cases=[
            {
                "name": t.name or None,
                "input": t.input,
                "expected_output": t.expected_output,
                "hidden": i >= len(task.visible),
            }
            for i, t in enumerate(tests)
        ],
    )


def for_candidate(data: dict[str, Any]) -> dict[str, Any]:
    """The API's answer without the hidden tests' results: only how many of them passed."""
    hidden = [r for r in data["results"] if r["hidden"]]
    return {
        **data,
        "results": [r for r in data["results"] if not r["hidden"]],
        "hidden_passed": sum(1 for r in hidden if r["status"] == "passed"),
        "hidden_total": len(hidden),
    }


async def _current_task(db: AsyncSession, token: str) -> tuple[coding_tasks.CodingTask, str | None]:
    session = await live.by_token(db, token)
    if session.status != "in_progress":
        raise Conflict(f"The interview is {session.status}", code="interview_not_active")
    found = open_coding_task(await live.transcript(db, session))
    if found is None:
        raise Conflict("No coding task has been posed yet", code="no_coding_task")
    return found


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    runner: Runner | None,
    unavailable: str | None,
    token: str,
    language: str,
    code: str,
    *,
    submit: bool,
) -> dict[str, Any]:
    """Run the code against the open task's tests and record it; the result as the API gives it."""
    async with sessionmaker() as db, db.begin():
        task, dimension = await _current_task(db, token)
    try:
        data = await code_execution.execute(
            runner, _body(task, language, code, submit), unavailable=unavailable
        )
    except code_execution.ExecutionTimedOut as exc:
        exc.extra["data"] = for_candidate(exc.extra["data"])
        raise
    event = "code_submit" if submit else "code_run"
    async with sessionmaker() as db, db.begin():
        session = await live.by_token(db, token, lock=True)
        if session.status == "in_progress":
            live.touch(session)
            await live.add_turn(
                db,
                session,
                "system",
                "event",
                f"{'Submitted' if submit else 'Ran'} {language}: {data['passed']} of {data['total']} tests",
                dimension=dimension,
                event=event,
                data={
                    "task_id": task.id,
                    "language": language,
                    "status": data["status"],
                    "passed": data["passed"],
                    "total": data["total"],
                    "compile_output": data.get("compile_output"),
                    "results": [
                        {k: r.get(k) for k in ("index", "name", "status", "hidden", "duration_ms")}
                        for r in data["results"]
                    ],
                    "code": code[:MAX_STORED_CODE],
                },
            )
    return {**for_candidate(data), "kind": "submit" if submit else "run"}
