"""Issue 4's end-to-end path over real HTTP: the quickstart's curl steps 1-5 schedule a
session on a real server (with its in-process worker), a simulated candidate takes the
interview through the room's HTTP interface to completion, and the webhooks arrive."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import make_settings
from tests.fixtures.factories import Tenant
from tests.fixtures.live import live_server
from tests.test_quickstart import quickstart_commands, run_curl, tenant_sync  # noqa: F401 - fixture
from tests.webhooks.receiver import Receiver, serve
from viva.interview.simulate import simulate


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is installed by make setup")
def test_quickstart_then_a_simulated_interview_to_completion_with_webhooks(
    database_url: str,
    tenant_sync: Tenant,  # noqa: F811 - the fixture imported above
) -> None:
    commands = quickstart_commands()
    ids: dict[str, str] = {}
    settings = make_settings(database_url, run_worker=True, worker_poll_seconds=0.05)
    with serve(Receiver()) as receiver, live_server(settings) as base:
        h = tenant_sync.headers
        r = httpx.post(f"{base}/api/v1/webhook-endpoints", json={"url": receiver.url}, headers=h)
        assert r.status_code == 201, r.text
        secret = r.json()["data"]["secret"]
        for command, name in zip(
            commands[:4], ["AGENT_ID", "TEMPLATE_ID", "STAGE_ID", "CANDIDATE_ID"], strict=True
        ):
            status, body = run_curl(command, base, tenant_sync, ids)
            assert status.startswith("2"), body
            ids[name] = body["data"]["id"]
        status, body = run_curl(commands[4], base, tenant_sync, ids)
        assert status == "200", body
        session = body["data"]
        join_url = f"{base}/join/{session['join_url'].rsplit('/join/', 1)[1]}"

        result = asyncio.run(simulate(join_url, "strong", seed=3))
        assert result.status == "completed" and result.end_reason == "completed"

        transcript = httpx.get(f"{base}/api/v1/sessions/{session['id']}/transcript", headers=h).json()["data"]
        profile = httpx.get(f"{base}/api/v1/agent-profiles/{ids['AGENT_ID']}", headers=h).json()["data"]
        speakers = Counter(t["speaker"] for t in transcript["turns"])
        assert speakers["interviewer"] >= 5 and speakers["candidate"] >= 4
        covered = {t["dimension"] for t in transcript["turns"] if t["kind"] in ("question", "coding_task")}
        assert covered == {d["name"] for d in profile["evaluationDimensions"]}
        assert transcript["engine"]["engine"] == "builtin"

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not receiver.of("session.completed"):
            time.sleep(0.05)
        for kind in ("session.created", "session.started", "session.completed"):
            delivered = receiver.of(kind)
            assert len(delivered) == 1, kind
            Webhook(secret).verify(delivered[0].body, delivered[0].headers)  # genuinely signed by us
            assert delivered[0].json["data"]["session"]["id"] == session["id"]
        completed = receiver.of("session.completed")[0].json["data"]["session"]
        assert completed["status"] == "completed" and completed["duration_seconds"] is not None
