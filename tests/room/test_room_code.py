"""The editor in the room: the posed coding task, runs of the visible tests, submissions with the
hidden ones, their transcript events, and their weight in the scorecard."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.factories import Tenant
from tests.room.helpers import STRONG, scheduled, spoken, turn
from viva.interview import coding_tasks
from viva.interview.personas import code_for

SHORT = {"type": "technical", "stage_name": "Technical Screen", "duration_minutes": 10}


async def to_coding_task(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    """Answer strongly until the interviewer poses the coding task; the room's state then."""
    r = await client.post(f"{path}/start", json={"consent": True})
    assert r.status_code == 200, r.text
    events = await turn(client, path)
    for _ in range(30):
        if any(t["kind"] == "coding_task" for t in spoken(events)):
            state = (await client.get(f"{path}/state")).json()
            assert state["coding_task"] is not None
            return state
        events = await turn(client, path, STRONG)
    raise AssertionError("no coding task was posed")


async def api(client: httpx.AsyncClient, tenant: Tenant, path: str) -> Any:
    r = await client.get(f"/api/v1{path}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_the_room_runs_visible_tests_and_submits_with_hidden_ones(client, tenant):
    s = await scheduled(client, tenant, stage=SHORT)
    r = await client.post(f"{s['path']}/code/run", json={"language": "python", "code": "x = 1"})
    assert r.status_code == 409 and r.json()["code"] == "interview_not_active"
    state = await to_coding_task(client, s["path"])
    task = state["coding_task"]
    bank = coding_tasks.TASKS[task["id"]]
    assert task["statement"] == bank.statement and task["languages"] == ["python", "javascript", "typescript"]
    assert task["starter"]["typescript"].startswith("function ") and task["hidden_tests"] == len(bank.hidden)
    assert len(task["visible_tests"]) == len(bank.visible)
    assert "hidden" not in str(task["visible_tests"])

    r = await client.post(
        f"{s['path']}/code/run", json={"language": "typescript", "code": task["starter"]["typescript"]}
    )
    assert r.status_code == 200, r.text
    run = r.json()["data"]
    assert run["kind"] == "run" and run["total"] == len(bank.visible) and run["passed"] < run["total"]

    code = coding_tasks.REFERENCE[task["id"]]["javascript"]
    r = await client.post(f"{s['path']}/code/submit", json={"language": "javascript", "code": code})
    submit = r.json()["data"]
    assert submit["passed"] == submit["total"] == len(bank.visible) + len(bank.hidden)
    # The candidate learns how many hidden tests passed, not which (nor how long each took).
    assert len(submit["results"]) == len(bank.visible) and not any(x["hidden"] for x in submit["results"])
    assert (submit["hidden_passed"], submit["hidden_total"]) == (len(bank.hidden), len(bank.hidden))
    assert submit["duration_ms"] is None
    assert (run["hidden_passed"], run["hidden_total"]) == (0, 0)

    state = (await client.get(f"{s['path']}/state")).json()
    assert state["coding_task"]["last_code"] == code and state["coding_task"]["last_language"] == "javascript"

    transcript = await api(client, tenant, f"/sessions/{s['id']}/transcript")
    runs = [t for t in transcript["turns"] if t["event"] in ("code_run", "code_submit")]
    assert [t["event"] for t in runs] == ["code_run", "code_submit"]
    assert runs[1]["data"]["passed"] == runs[1]["data"]["total"] and runs[1]["data"]["code"] == code
    assert runs[1]["dimension"] == "Coding" and runs[1]["data"]["task_id"] == task["id"]
    assert {"index", "name", "status", "hidden", "duration_ms"} == set(runs[1]["data"]["results"][0])
    # The company's transcript keeps each hidden test's status, still without its time.
    stored_hidden = [x for x in runs[1]["data"]["results"] if x["hidden"]]
    assert len(stored_hidden) == len(bank.hidden) and all(x["status"] == "passed" for x in stored_hidden)
    assert all(x["duration_ms"] is None for x in stored_hidden)

    r = await client.post(f"{s['path']}/code/submit", json={"language": "ruby", "code": "puts 1"})
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["language"]


async def test_code_results_feed_the_scorecard(app, client, tenant, worker):
    scores = {}
    for label in ("reference", "starter", "none"):
        s = await scheduled(client, tenant, stage=SHORT, email=f"{label}@example.com")
        state = await to_coding_task(client, s["path"])
        task_id = state["coding_task"]["id"]
        code = {
            "reference": code_for("strong", task_id, "python"),
            "starter": code_for("weak", task_id, "python"),
            "none": None,
        }[label]
        if code is not None:
            r = await client.post(f"{s['path']}/code/submit", json={"language": "python", "code": code})
            assert r.status_code == 200, r.text
        await turn(client, s["path"], STRONG)  # the same spoken answer to the task each time
        assert (await client.post(f"{s['path']}/end", json={})).status_code == 200
        await worker.drain()
        card = await api(client, tenant, f"/sessions/{s['id']}/scorecard")
        coding = next(d for d in card["dimensions"] if d["name"] == "Coding")
        scores[label] = coding
    # The same spoken answers each time: only the code differs.
    assert scores["reference"]["score"] > scores["starter"]["score"]
    total = scores["reference"]["reasoning"].split("code runs passed ")[1].split(" tests")[0]
    passed, _, of = total.partition(" of ")
    assert passed == of and int(of) > 0
    assert "code runs passed 0 of" in scores["starter"]["reasoning"]
    assert "no code run was recorded" in scores["none"]["reasoning"]
