"""The built-in interviewer listens (issue 16): over the room's HTTP interface, a turn that is not an
answer gets the reply that fits, and the transcript API shows how each turn was understood."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.factories import Tenant
from tests.room.helpers import STRONG, scheduled, spoken, turn

SHORT = {"type": "technical", "stage_name": "Technical Screen", "duration_minutes": 10}
DAY_TO_DAY = "Day to day, the team builds and runs the payment APIs that 2,000 merchants rely on."
CONTEXT = {
    "organizationContext": f"Acme Pay is a fintech company based in Lisbon. {DAY_TO_DAY} "
    "Engineers ship to production several times a week.",
    "domainContext": "Card payments, ledgers and fraud checks.",
}
GERMAN = "Ich habe in meinem letzten Projekt die Datenbank optimiert und wir haben die Latenz reduziert."


async def started(client: httpx.AsyncClient, tenant: Tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    """A live interview whose profile has an organisation context, and its first question."""
    s = await scheduled(client, tenant, stage=SHORT, profile={"context": CONTEXT})
    r = await client.post(f"{s['path']}/start", json={"consent": True})
    assert r.status_code == 200, r.text
    said = spoken(await turn(client, s["path"]))
    assert [t["kind"] for t in said] == ["intro", "question"]
    return s, said[-1]


async def transcript(client: httpx.AsyncClient, tenant: Tenant, session_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/sessions/{session_id}/transcript", headers=tenant.headers)
    assert r.status_code == 200, r.text
    turns: list[dict[str, Any]] = r.json()["data"]["turns"]
    return turns


async def test_a_request_to_repeat_gets_the_question_again(client: httpx.AsyncClient, tenant: Tenant) -> None:
    s, question = await started(client, tenant)
    said = spoken(await turn(client, s["path"], "Sorry, could you repeat the question?"))
    assert [t["kind"] for t in said] == ["reply"]
    assert question["text"] in said[0]["text"] and "Say a bit more" not in said[0]["text"]
    # The answer that follows answers the same question: the interview goes on from there.
    said = spoken(await turn(client, s["path"], STRONG))
    assert said and said[0]["kind"] in ("question", "follow_up", "coding_task")
    candidate = [t for t in await transcript(client, tenant, s["id"]) if t["speaker"] == "candidate"]
    assert [t["data"]["understanding"]["label"] for t in candidate] == ["clarify_or_repeat", "answer"]
    assert candidate[0]["data"]["understanding"]["about"] == question["text"][:160]


async def test_a_question_about_the_team_is_answered_from_the_organisation_context(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s, question = await started(client, tenant)
    said = spoken(await turn(client, s["path"], "What does the team actually do day to day?"))
    assert [t["kind"] for t in said] == ["reply"]
    assert DAY_TO_DAY in said[0]["text"]
    assert "Lisbon" not in said[0]["text"]  # only the sentence that answers it
    assert said[0]["text"].endswith(question["text"])  # then back to the interview
    understanding = [t for t in await transcript(client, tenant, s["id"]) if t["speaker"] == "candidate"][-1][
        "data"
    ]["understanding"]
    assert understanding == {
        "label": "question_to_interviewer",
        "about": "What does the team actually do day to day?",
    }


async def test_a_question_the_context_cannot_answer_gets_an_honest_reply(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s, question = await started(client, tenant)
    said = spoken(await turn(client, s["path"], "What is the salary range for this role?"))
    assert [t["kind"] for t in said] == ["reply"]
    assert "don't have that information" in said[0]["text"] and "recruiter" in said[0]["text"]
    assert question["text"] in said[0]["text"]


async def test_dont_know_and_skip_move_on_to_another_question(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s, first = await started(client, tenant)
    said = spoken(await turn(client, s["path"], "I don't know"))
    assert [t["kind"] for t in said] == ["reply", "question"]
    assert said[0]["text"] == "That's fine, let's look at something else."
    assert said[1]["text"] != first["text"] and said[1]["dimension"] != first["dimension"]
    second = said[1]
    said = spoken(await turn(client, s["path"], "Can we skip this one?"))
    assert said[0]["kind"] == "reply" and said[0]["text"] == "No problem, let's move on."
    assert said[1]["kind"] in ("question", "coding_task")
    assert said[1]["dimension"] not in (first["dimension"], second["dimension"])
    assert all("Say a bit more" not in t["text"] for t in said)
    labels = [
        t["data"]["understanding"]["label"]
        for t in await transcript(client, tenant, s["id"])
        if t["speaker"] == "candidate"
    ]
    assert labels == ["dont_know", "skip"]


async def test_done_goes_to_the_wrap_up_and_its_question_is_answered_before_the_closing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s, _ = await started(client, tenant)
    said = spoken(await turn(client, s["path"], "I think I'm done"))
    assert [t["kind"] for t in said] == ["reply", "wrap_up"]
    assert said[0]["text"] == "Understood, we can finish here."
    assert "anything you would like to add" in said[1]["text"]
    events = await turn(client, s["path"], "Yes: what does the team actually do day to day?")
    said = spoken(events)
    assert [t["kind"] for t in said] == ["reply", "closing"]
    assert DAY_TO_DAY in said[0]["text"]
    assert ("ended", {"status": "completed", "end_reason": "completed"}) in events


async def test_an_answer_in_another_language_gets_told_the_interview_language(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s, question = await started(client, tenant)
    said = spoken(await turn(client, s["path"], GERMAN))
    assert [t["kind"] for t in said] == ["reply"]
    assert "This interview is in English" in said[0]["text"] and question["text"] in said[0]["text"]
    understanding = [t for t in await transcript(client, tenant, s["id"]) if t["speaker"] == "candidate"][-1][
        "data"
    ]["understanding"]
    assert understanding == {"label": "wrong_language", "about": "German"}


async def test_a_candidate_who_never_answers_still_moves_the_interview_on(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s, question = await started(client, tenant)
    kinds = []
    for _ in range(3):
        kinds += [t["kind"] for t in spoken(await turn(client, s["path"], "Could you repeat the question?"))]
    assert kinds[:2] == ["reply", "reply"] and kinds[2] != "reply"
