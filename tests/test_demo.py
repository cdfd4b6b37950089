"""`viva demo`, run as a user would: the quickstart's three-stage pipeline, a simulated strong
candidate through every stage, the scorecards printed, on a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY, make_settings
from viva.app import create_app

VIVA = str(Path(sys.executable).with_name("viva"))


def run_demo(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIVA_")}
    env |= {"VIVA_DATABASE_URL": database_url, "VIVA_SECRET_KEY": TEST_SECRET_KEY}
    started = time.monotonic()
    out = subprocess.run([VIVA, "demo", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    print(f"viva demo {' '.join(args)} took {time.monotonic() - started:.1f} s wall")  # not asserted
    assert out.returncode == 0, out.stderr + out.stdout
    return out


async def stored(database_url: str, key: str) -> tuple[list[dict], list[dict]]:
    """The demo's participants and sessions, read back through the API with the printed key."""
    app = create_app(make_settings(database_url))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            h = {"x-api-key": key}
            people = (await api.get("/api/v1/participants", headers=h)).json()["data"]
            sessions = (await api.get("/api/v1/sessions?sort=created_at", headers=h)).json()["data"]
            return people, sessions
    finally:
        await app.state.engine.dispose()


def check_output(stdout: str) -> str:
    for stage in ("Phone Screen", "Technical"):
        assert f"{stage}: scorecard" in stdout
        assert f"{stage} (ai_interview): interview completed" in stdout
    assert "Final (final_review): no interview" in stdout
    assert "Reviewer: approved Technical" in stdout and "Reviewer: approved Final" in stdout
    for dimension in ("System Design", "Coding", "Communication"):
        assert stdout.count(dimension) >= 2
    assert stdout.count("Scored by: builtin heuristic-v1 (heuristic)") == 2
    assert "Viva built-in offline interviewer" in stdout
    assert "Jane Smith: pipeline_status recommended" in stdout
    key = stdout.strip().splitlines()[-1]
    assert key.startswith("iv_live_") and " " not in key
    return key


async def test_the_demo_on_a_fresh_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    out = run_demo(url, tmp_path)
    assert out.stdout.startswith("Workspace demo\n")
    key = check_output(out.stdout)

    people, sessions = await stored(url, key)
    assert [p["pipeline_status"] for p in people] == ["recommended"]
    assert [s["stage_name"] for s in sessions] == ["Phone Screen", "Technical", "Final"]
    assert all(s["status"] == "completed" for s in sessions)
    screen, technical, final = sessions
    assert screen["passed"] and screen["review_status"] == "not_required" and screen["scored_at"]
    assert technical["review_status"] == "approved" and technical["scored_at"]
    assert final["review_status"] == "approved" and final["join_url"] is None

    # Again on the same database: a workspace of its own, the first one untouched.
    again = run_demo(url, tmp_path)
    assert again.stdout.startswith("Workspace demo-2\n")
    assert len((await stored(url, key))[1]) == 3
    named = run_demo(url, tmp_path, "--workspace", "demo")  # an existing workspace is reused
    assert named.stdout.startswith("Workspace demo\n")
    assert len((await stored(url, key))[1]) == 6


async def test_the_demo_on_postgresql(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the SQLite run is the test above, on a database the demo migrates itself")
    key = check_output(run_demo(database_url, tmp_path).stdout)
    people, sessions = await stored(database_url, key)
    assert [p["pipeline_status"] for p in people] == ["recommended"]
    assert len(sessions) == 3
