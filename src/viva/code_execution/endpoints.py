from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from viva.auth.dependencies import require
from viva.auth.service import Principal
from viva.code_execution import service
from viva.code_execution.schemas import CodeExecutionCreate, CodeExecutionRead
from viva.db import DB
from viva.kit.schemas import DataResponse

router = APIRouter(prefix="/code-executions", tags=["Code execution"])


@router.post(
    "",
    response_model=DataResponse[CodeExecutionRead],
    summary="Run code against test cases in a sandbox (all tests in one process)",
    responses={
        408: {"description": "The request passed 15 s; `data` has the tests that finished"},
        422: {"description": "The language can't run batched test cases here"},
        502: {"description": "The sandbox itself failed (nothing runs unsandboxed)"},
    },
)
async def run_code(
    request: Request,
    db: DB,
    body: CodeExecutionCreate,
    principal: Annotated[Principal, Depends(require("interviews.write"))],
) -> dict[str, Any]:
    # Nothing here is stored, so the request's transaction (key check, last_used_at) ends now
    # rather than holding SQLite's write lock for the seconds the code runs.
    await db.commit()
    state = request.app.state
    data = await service.execute(
        state.code_runner,
        body,
        max_memory_mb=state.settings.sandbox_max_memory_mb,
        unavailable=state.code_runner_error,
    )
    return {"data": data}
