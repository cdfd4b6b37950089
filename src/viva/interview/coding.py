"""The room's code editor: running the candidate's code against the posed task's tests.

"Run" runs the visible tests; "Submit" runs the visible and the hidden ones (hidden results
show only their status). Each run is stored in the transcript as an event (`code_run` /
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
    data = await code_execution.execute(runner, _body(task, language, code, submit), unavailable=unavailable)
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
    return {**data, "kind": "submit" if submit else "run"}
