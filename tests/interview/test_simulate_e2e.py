"""`viva simulate` end to end: a session scheduled through the API, a real server, real HTTP.

The interview's clock is the server's (`viva.kit.clock`), and the server runs in this process,
so the tests let simulated minutes pass between turns instead of waiting for them: the
candidate "takes" a few minutes per answer and the interview reaches its wrap-up in seconds.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY, make_settings
from tests.fixtures.factories import Tenant
from tests.fixtures.fake_openai import fake_openai_server
from tests.fixtures.live import live_server
from tests.sessions.helpers import pipeline, session_body
from viva.interview import personas
from viva.interview.core import assess_answer
from viva.interview.simulate import SimulationResult, simulate
from viva.kit import clock

VIVA = str(Path(sys.executable).with_name("viva"))
MINUTES_PER_TURN = 2.5  # simulated minutes that pass with each interviewer turn


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    clock.freeze(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    yield
    clock.freeze(None)


def advance_per_interviewer_turn(name: str, data: dict[str, Any]) -> None:
    if name == "turn" and data["speaker"] == "interviewer":
        clock.freeze(clock.now() + timedelta(minutes=MINUTES_PER_TURN))


async def schedule(base: str, tenant: Tenant) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        p = await pipeline(api, tenant)
        r = await api.post("/api/v1/sessions", json=session_body(p), headers=tenant.headers)
        assert r.status_code == 200, r.text
        session: dict[str, Any] = r.json()["data"]
    # The join link is built from VIVA_PUBLIC_URL; this server listens elsewhere.
    token = session["join_url"].rsplit("/join/", 1)[1]
    session["live_join_url"] = f"{base}/join/{token}"
    return session


async def transcript(base: str, tenant: Tenant, session_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        r = await api.get(f"/api/v1/sessions/{session_id}/transcript", headers=tenant.headers)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        r = await api.get(f"/api/v1/sessions/{session_id}", headers=tenant.headers)
        assert r.status_code == 200, r.text
        data["session"] = r.json()["data"]
        return data


async def play(
    database_url: str, tenant: Tenant, persona: str, on_event: Callable[[str, dict[str, Any]], None]
) -> tuple[SimulationResult, dict[str, Any]]:
    with live_server(make_settings(database_url)) as base:
        session = await schedule(base, tenant)
        result = await simulate(session["live_join_url"], persona, on_event=on_event, seed=1)
        return result, await transcript(base, tenant, session["id"])


def spoken(turns: list[dict[str, Any]]) -> list[tuple[int, str, str, str]]:
    return [
        (t["seq"], t["speaker"], t["kind"], t["text"])
        for t in turns
        if t["speaker"] in ("interviewer", "candidate")
    ]


async def test_a_strong_candidate_completes_the_interview(database_url, tenant, frozen_clock):
    result, stored = await play(database_url, tenant, "strong", advance_per_interviewer_turn)

    assert (result.status, result.end_reason, result.error) == ("completed", "completed", None)
    assert not result.ended_by_simulator and result.retries == 0
    kinds = [t.kind for t in result.interviewer_turns]
    assert kinds[0] == "intro" and "question" in kinds and kinds[-1] in ("wrap_up", "closing")
    assert "wrap_up" in kinds, "the interview ran to its wrap-up, not to a cut-off"
    assert len(result.candidate_turns) >= 5
    # A strong candidate is not probed: its answers are specific, so the interviewer moves on.
    assert kinds.count("follow_up") <= 1
    assert all(
        assess_answer(t.text).strength == "strong"
        for t in result.candidate_turns
        if t.kind == "answer" and len(t.text.split()) > 40
    )
    # The stored transcript, through the API, is the conversation the candidate had.
    assert stored["status"] == "completed" and stored["session"]["status"] == "completed"
    assert spoken(stored["turns"]) == [(t.seq, t.speaker, t.kind, t.text) for t in result.turns]
    # The coding task was solved in the editor, against its hidden tests too, and recorded.
    assert "coding_task" in kinds
    assert [(c["passed"], c["kind"]) for c in result.code_results] == [
        (result.code_results[0]["total"], "submit")
    ]
    submits = [t for t in stored["turns"] if t["event"] == "code_submit"]
    assert len(submits) == 1 and submits[0]["data"]["passed"] == submits[0]["data"]["total"] > 2


async def test_injection_attempts_do_not_steer_the_interview(database_url, tenant, frozen_clock):
    result, stored = await play(database_url, tenant, "injection", advance_per_interviewer_turn)

    assert (result.status, result.end_reason) == ("completed", "completed")
    turns = result.turns
    attempts = [
        i for i, t in enumerate(turns) if t.speaker == "candidate" and assess_answer(t.text).off_topic
    ]
    assert len(attempts) >= 3
    for i in attempts:
        if turns[i - 1].kind == "wrap_up":
            continue  # the wrap-up is answered once; the interview then closes as planned
        follow = turns[i + 1]
        assert follow.speaker == "interviewer" and follow.kind in ("follow_up", "question", "coding_task")
    for t in result.interviewer_turns:
        assert "10/10" not in t.text and "perfect score" not in t.text.lower()
    assert spoken(stored["turns"]) == [(t.seq, t.speaker, t.kind, t.text) for t in turns]


def viva(*args: str, database_url: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIVA_LLM_")}
    env |= {"VIVA_DATABASE_URL": database_url, "VIVA_SECRET_KEY": TEST_SECRET_KEY, **env_vars}
    return subprocess.run([VIVA, *args], capture_output=True, text=True, env=env, timeout=120)


async def test_the_simulate_command(database_url, tenant):
    with live_server(make_settings(database_url)) as base:
        session = await schedule(base, tenant)
        out = await asyncio.to_thread(
            viva,
            "simulate",
            session["id"],
            "--persona",
            "average",
            "--base-url",
            base,
            "--max-turns",
            "3",
            "--seed",
            "4",
            database_url=database_url,
        )
        assert out.returncode == 0, out.stderr + out.stdout
        lines = out.stdout.splitlines()
        assert sum(line.startswith("Interviewer (") for line in lines) >= 3
        assert sum(line.startswith("Candidate: ") for line in lines) == 3
        assert lines[-1].startswith("status: completed  end_reason: candidate_ended")
        stored = await transcript(base, tenant, session["id"])
        answers = [t["text"] for t in stored["turns"] if t["speaker"] == "candidate"]
        assert [f"Candidate: {a}" for a in answers] == [x for x in lines if x.startswith("Candidate: ")]

        # Over: a second run reports it and plays nothing; --quiet prints only the final line.
        again = await asyncio.to_thread(
            viva, "simulate", session["id"], "--base-url", base, "--quiet", database_url=database_url
        )
        assert again.returncode == 0, again.stderr
        assert len(again.stdout.splitlines()) == 1
        assert again.stdout.startswith("status: completed  end_reason: candidate_ended  (")
        assert "3 answers" in again.stdout

    missing = await asyncio.to_thread(viva, "simulate", str(uuid.uuid4()), database_url=database_url)
    assert missing.returncode == 2 and "no session" in missing.stderr
    bad = await asyncio.to_thread(
        viva, "simulate", session["id"], "--persona", "genius", database_url=database_url
    )
    assert bad.returncode == 2 and "unknown persona" in bad.stderr


async def test_the_simulate_command_with_an_llm_candidate(database_url, tenant):
    """--llm: the configured model (here a fake OpenAI-compatible server) writes the answers."""
    reply = "I would shard the PostgreSQL tables by customer and keep 3 replicas per shard."
    with fake_openai_server(default=reply) as llm, live_server(make_settings(database_url)) as base:
        session = await schedule(base, tenant)
        llm_env = {"VIVA_LLM_BASE_URL": llm.base_url, "VIVA_LLM_MODEL": "fake-candidate"}
        out = await asyncio.to_thread(
            viva,
            "simulate",
            session["id"],
            "--llm",
            "--persona",
            "strong",
            "--base-url",
            base,
            "--max-turns",
            "2",
            database_url=database_url,
            **llm_env,
        )
        assert out.returncode == 0, out.stderr + out.stdout
        assert [x for x in out.stdout.splitlines() if x.startswith("Candidate: ")] == [
            f"Candidate: {reply}"
        ] * 2
        first = llm.requests[0]
        assert first.model == "fake-candidate"
        assert first.messages[0] == {"role": "system", "content": personas.persona_prompt("strong")}
        stored = await transcript(base, tenant, session["id"])
        question = [t for t in stored["turns"] if t["speaker"] == "interviewer"][1]["text"]
        assert question in first.last_user_text

        # Without an LLM configured, --llm says so and answers from the script.
        other = await schedule(base, tenant)
        out = await asyncio.to_thread(
            viva,
            "simulate",
            other["id"],
            "--llm",
            "--base-url",
            base,
            "--max-turns",
            "1",
            database_url=database_url,
        )
        assert out.returncode == 0 and "no LLM is configured" in out.stderr
