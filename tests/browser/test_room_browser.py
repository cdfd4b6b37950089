"""The candidate room in real Chromium (Debian's, never a downloaded one) against the real
server, with the interviewer's words streamed from a fake OpenAI-compatible model paced like a
real one: consent by keyboard, streamed questions, answers sent with Enter, a failed reply and
*Try again*, the timer, a reload that carries on, authenticity signals, and ending early."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from tests.fixtures.fake_openai import Reply, fake_openai_server
from tests.fixtures.live import live_server
from tests.sessions.helpers import pipeline, session_body
from viva.models import InterviewSession

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DURATION = 20
WAIT_MS = 15_000

FINAL_INTERVIEWER = "#transcript .turn-interviewer:not(.is-pending)"
CANDIDATE = "#transcript .turn-candidate"

# Records every length each streaming interviewer bubble's text goes through: [[n, ...], ...].
WATCH_GROWTH = """() => {
  window.growth = [];
  const log = document.getElementById("transcript");
  const bubbles = [];
  new MutationObserver(() => {
    const bubble = log.querySelector(".turn-interviewer.is-pending");
    if (!bubble) return;
    if (!bubbles.includes(bubble)) { bubbles.push(bubble); window.growth.push([]); }
    window.growth[bubbles.indexOf(bubble)].push(bubble.querySelector(".text").textContent.length);
  }).observe(log, { childList: true, subtree: true, characterData: true });
}"""

# A paste of 120 characters into the chat box (the event alone: the page only measures it).
PASTE = """() => {
  const data = new DataTransfer();
  data.setData("text/plain", "p".repeat(120));
  document.getElementById("answer").dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        reason = f"Debian's Chromium is missing at {CHROMIUM}; `make setup` installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        await browser.close()


def questions() -> Any:
    """The fake model's replies: numbered, long enough to stream over several deltas."""
    n = itertools.count(1)

    def reply(_request: Any) -> str:
        i = next(n)
        return (
            f"Question {i}: tell me about a system you built, what went wrong with it, and what you changed."
        )

    return reply


async def wait_for_candidate_turn(page: Page) -> None:
    await expect(page.locator("#send-button")).to_have_attribute("aria-disabled", "false", timeout=WAIT_MS)
    await expect(page.locator("#answer")).to_be_focused()


async def answer(page: Page, *lines: str) -> None:
    """Type an answer (Shift+Enter between lines) and send it with Enter, at a pace a fast
    typist could keep (undelayed, Playwright types fast enough to count as a typing burst)."""
    for i, line in enumerate(lines):
        if i:
            await page.keyboard.press("Shift+Enter")
        await page.keyboard.type(line, delay=8)
    await page.keyboard.press("Enter")


async def transcript(page: Page) -> list[str]:
    return await page.locator("#transcript .turn .text").all_text_contents()


async def stored_signals(app: Any, session_id: str) -> dict[str, Any]:
    async with app.state.sessionmaker() as db:
        session = await db.get(InterviewSession, uuid.UUID(session_id))
        return dict(session.authenticity_signals or {})


async def test_candidate_takes_an_interview_in_chromium(app, client, settings, tenant, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    with fake_openai_server(default=questions(), tokens_per_second=40) as llm:
        # Calls: the introduction, the first question, then a failure for the reply to the first answer.
        llm.reply_with(
            "Hello Jane, I'm Alex, a staff engineer. This is a twenty minute technical screen.",
            "To start: how would you design a rate limiter shared by many API servers?",
            Reply.error(500),
        )
        room_settings = settings.model_copy(
            update={
                "llm_provider": "openai",
                "llm_base_url": llm.base_url,
                "llm_api_key": "test",
                "llm_model": "fake-model",
                "llm_max_retries": 0,
                "llm_timeout_seconds": 10.0,
                "llm_first_token_timeout_seconds": 5.0,
            }
        )
        with live_server(room_settings) as base:
            p = await pipeline(
                client,
                tenant,
                stages=[
                    {"type": "technical", "stage_name": "Technical Screen", "duration_minutes": DURATION}
                ],
            )
            r = await client.post("/api/v1/sessions", json=session_body(p), headers=tenant.headers)
            assert r.status_code == 200, r.text
            session = r.json()["data"]
            url = f"{base}/join/{session['join_url'].rsplit('/', 1)[1]}"

            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            response = await page.goto(url)
            assert response is not None and response.status == 200

            # Welcome and consent: nothing starts until the box is ticked.
            consent = page.locator("#consent-view")
            await expect(consent).to_be_visible()
            await expect(page.locator("#stage-name")).to_have_text("Technical Screen")
            await expect(consent).to_contain_text(f"{DURATION} minutes")
            await expect(consent).to_contain_text("Acme")
            await expect(consent).to_contain_text("conducted and assessed by AI")
            await expect(page.locator("#start-button")).to_be_disabled()
            await page.screenshot(path=ARTIFACTS / "room-consent-desktop.png")

            # By keyboard only: Tab to the box, Space ticks it, Tab to Start, Enter.
            for _ in range(10):
                await page.keyboard.press("Tab")
                if await page.evaluate("document.activeElement.id") == "consent":
                    break
            await expect(page.locator("#consent")).to_be_focused()
            await page.keyboard.press("Space")
            await expect(page.locator("#start-button")).to_be_enabled()
            await page.keyboard.press("Tab")
            await expect(page.locator("#start-button")).to_be_focused()
            await page.evaluate(WATCH_GROWTH)
            await page.keyboard.press("Enter")

            # The introduction and the first question stream in, word by word.
            await expect(consent).to_be_hidden()
            await expect(page.locator(FINAL_INTERVIEWER)).to_have_count(2, timeout=WAIT_MS)
            await expect(page.locator(FINAL_INTERVIEWER).nth(1)).to_contain_text("rate limiter")
            growth = await page.evaluate("window.growth")
            assert len(growth) == 2, growth
            for lengths in growth:
                assert len(set(lengths)) >= 5 and lengths == sorted(lengths), growth
            await wait_for_candidate_turn(page)
            await expect(page.locator("#timer")).to_have_text(re.compile(r"^(19:[0-5]\d|20:00)$"))

            # First answer, over two lines. The model fails: the answer is kept, Try again works.
            await answer(page, "A token bucket per key kept in Redis,", "refilled lazily on each request.")
            await expect(page.locator(CANDIDATE)).to_have_count(1)
            await expect(page.locator(CANDIDATE).first).to_have_attribute("data-seq", re.compile(r"\d+"))
            assert await page.locator(f"{CANDIDATE} .text").first.text_content() == (
                "A token bucket per key kept in Redis,\nrefilled lazily on each request."
            )
            retry = page.locator("#retry-button")
            await expect(retry).to_be_visible(timeout=WAIT_MS)
            await expect(retry).to_be_focused()
            await expect(page.locator("#status-line")).to_contain_text("Try again")
            await page.keyboard.press("Enter")
            await expect(retry).to_be_hidden()
            await expect(page.locator(FINAL_INTERVIEWER)).to_have_count(3, timeout=WAIT_MS)
            await expect(page.locator(FINAL_INTERVIEWER).nth(2)).to_contain_text("Question 1:")
            await wait_for_candidate_turn(page)

            # Second answer; a paste and a burst of text are noticed on the way.
            await page.evaluate(PASTE)
            await page.wait_for_timeout(200)
            await page.keyboard.insert_text("I would start from the failure modes and work backwards. " * 2)
            await page.wait_for_timeout(300)
            await answer(page, " Then I'd add jitter to the retries.")
            await expect(page.locator(FINAL_INTERVIEWER)).to_have_count(4, timeout=WAIT_MS)
            await expect(page.locator(FINAL_INTERVIEWER).nth(3)).to_contain_text("Question 2:")
            await wait_for_candidate_turn(page)
            await expect(page.locator("#timer")).to_have_text(re.compile(r"^(19:[0-5]\d|20:00)$"))
            await page.screenshot(path=ARTIFACTS / "room-interview-desktop.png")

            # A reload carries on: no consent again, the same transcript, the candidate's turn.
            before = await transcript(page)
            assert len(before) == 6
            await page.reload()
            await expect(page.locator("#interview-view")).to_be_visible()
            await expect(consent).to_be_hidden()
            await expect(page.locator("#transcript .turn")).to_have_count(len(before), timeout=WAIT_MS)
            assert await transcript(page) == before
            await wait_for_candidate_turn(page)

            # The signals went out as the page unloaded; the reload counted as a reconnect. (Read
            # until both are there: a request's transaction commits just after its response.)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                signals = await stored_signals(app, session["id"])
                if signals.get("paste_events", {}).get("chat") and signals.get("reconnects"):
                    break
                await asyncio.sleep(0.1)
            assert signals["paste_events"]["chat"] == 1 and signals["pasted_characters"]["chat"] == 120
            assert signals["typing_bursts"] == 1
            assert signals["reconnects"] == 1

            # Narrow screen: the same room, answered once more; the connection drops as the answer
            # goes out, and the page reconnects and sends it again, once.
            await page.set_viewport_size({"width": 375, "height": 740})
            dropped: list[str] = []

            async def drop_once(route: Route) -> None:
                if dropped:
                    await route.continue_()
                else:
                    dropped.append(route.request.url)
                    await route.abort("connectionreset")

            await page.route("**/turn", drop_once)
            await answer(page, "Yes: I would measure first.")
            await expect(page.locator(FINAL_INTERVIEWER)).to_have_count(5, timeout=WAIT_MS)
            await wait_for_candidate_turn(page)
            assert dropped
            await page.unroute("**/turn")
            texts = await page.locator(f"{CANDIDATE} .text").all_text_contents()
            assert texts.count("Yes: I would measure first.") == 1, texts
            await page.screenshot(path=ARTIFACTS / "room-interview-narrow.png")
            overflow = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            assert not overflow, "the page scrolls sideways at 375 px"

            # End interview asks first; keeping going changes nothing, confirming ends it.
            await page.locator("#end-button").focus()
            await page.keyboard.press("Enter")
            dialog = page.locator("#end-dialog")
            await expect(dialog).to_be_visible()
            await page.keyboard.press("Escape")
            await expect(dialog).to_be_hidden()
            await expect(page.locator("#interview-view")).to_be_visible()
            await page.locator("#end-button").click()
            await page.locator("#end-confirm").click()
            await expect(page.locator("#finished-thanks")).to_be_visible()
            await expect(page.locator("#finished-view")).to_contain_text("Thank you")
            await page.screenshot(path=ARTIFACTS / "room-finished-narrow.png")

            # A finished interview reloads as finished, rendered by the server.
            await page.reload()
            await expect(page.locator("#finished-thanks")).to_be_visible()
            await expect(page.locator("#consent-view")).to_be_hidden()
            r = await client.get(f"/api/v1/sessions/{session['id']}", headers=tenant.headers)
            assert r.json()["data"]["status"] == "completed"
            assert r.json()["data"]["end_reason"] == "candidate_ended"
            r = await client.get(f"/api/v1/sessions/{session['id']}/transcript", headers=tenant.headers)
            answers = [t["text"] for t in r.json()["data"]["turns"] if t["speaker"] == "candidate"]
            assert answers == [
                "A token bucket per key kept in Redis,\nrefilled lazily on each request.",
                "I would start from the failure modes and work backwards. " * 2
                + " Then I'd add jitter to the retries.",
                "Yes: I would measure first.",
            ]
            assert errors == []
            await context.close()


async def test_a_closed_interview_says_so(client, settings, tenant, browser):
    """A cancelled session's link shows that the interview is no longer available."""
    with live_server(settings) as base:
        p = await pipeline(client, tenant)
        r = await client.post("/api/v1/sessions", json=session_body(p), headers=tenant.headers)
        session = r.json()["data"]
        url = f"{base}/join/{session['join_url'].rsplit('/', 1)[1]}"
        r = await client.post(f"/api/v1/sessions/{session['id']}/cancel", headers=tenant.headers)
        assert r.status_code == 200, r.text
        page = await browser.new_page(viewport={"width": 375, "height": 740})
        await page.goto(url)
        await expect(page.locator("#finished-closed")).to_be_visible()
        await expect(page.locator("#finished-closed")).to_contain_text("no longer available")
        await expect(page.locator("#consent-view")).to_be_hidden()
        await page.screenshot(path=ARTIFACTS / "room-closed-narrow.png")
        await page.close()
