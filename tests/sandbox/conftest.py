from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from viva.code_execution import service
from viva.code_execution.schemas import CodeExecutionCreate
from viva.config import Settings
from viva.sandbox.process import Host
from viva.sandbox.runner import Runner


@pytest.fixture(scope="session")
async def runner() -> AsyncIterator[Runner]:
    """The real sandbox runner, as the app builds it (bubblewrap must be installed: `make setup`)."""
    settings = Settings()
    host = Host.detect(uid_base=settings.sandbox_uid_base, use_cgroups=settings.sandbox_cgroups)
    r = Runner(host, Path(settings.sandbox_runtime_dir), pool_size=2, concurrency=8)
    await r.warm()
    yield r
    await r.close()


@pytest.fixture
def run(runner: Runner) -> Any:
    """run(language, code, **body) → the response's `data`, through the real service."""

    async def call(language: str, code: str, **body: Any) -> dict[str, Any]:
        return await service.execute(runner, CodeExecutionCreate(language=language, code=code, **body))

    return call


def fn_tests(*cases: tuple[list[Any], Any], **extra: Any) -> list[dict[str, Any]]:
    return [{"input": args, "expected_output": expected, **extra} for args, expected in cases]
