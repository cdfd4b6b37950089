"""The code editor in the candidate room, in real Chromium: the interviewer poses the task,
the candidate writes code in CodeMirror, runs the examples, submits against the hidden tests
too, and the runs land in the transcript and the editor's paste in the authenticity signals."""

from __future__ import annotations

import asyncio
import time
import uuid

from playwright.async_api import Page, expect

from tests.browser.test_room_browser import ARTIFACTS, WAIT_MS, browser  # noqa: F401  (the fixture)
from tests.fixtures.live import live_server
from tests.room.helpers import STRONG
from tests.sessions.helpers import pipeline, session_body
from viva.interview import coding_tasks
from viva.models import InterviewSession

# A paste of 60 characters into the editor (the event alone: the page only measures it).
PASTE_IN_EDITOR = """() => {
  const data = new DataTransfer();
  data.setData("text/plain", "# pasted ".repeat(6) + "++++++");
  document.querySelector("#editor .cm-content").dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


async def answer_until_the_editor_opens(page: Page) -> None:
    for _ in range(20):
        if await page.locator("#editor-panel").is_visible():
            return
        await expect(page.locator("#send-button")).to_have_attribute(
            "aria-disabled", "false", timeout=WAIT_MS
        )
        await page.locator("#answer").focus()
        await page.keyboard.insert_text(STRONG)
        await page.keyboard.press("Enter")
        await page.wait_for_timeout(300)
    raise AssertionError("the interviewer never posed the coding task")


async def test_the_candidate_solves_the_coding_task_in_the_editor(app, client, settings, tenant, browser):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(settings) as base:
        stage = {"type": "technical", "stage_name": "Technical Screen", "duration_minutes": 10}
        p = await pipeline(client, tenant, stages=[stage])
        r = await client.post("/api/v1/sessions", json=session_body(p), headers=tenant.headers)
        session = r.json()["data"]
        context = await browser.new_context(viewport={"width": 1280, "height": 860})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{base}/join/{session['join_url'].rsplit('/', 1)[1]}")
        await page.locator("#consent").check()
        await page.locator("#start-button").click()
        await answer_until_the_editor_opens(page)

        panel = page.locator("#editor-panel")
        await expect(panel).to_be_visible()
        title = await page.locator("#editor-title").inner_text()
        task_id = next(t.id for t in coding_tasks.TASKS.values() if t.title in title)
        task = coding_tasks.TASKS[task_id]
        await expect(page.locator("#coding-task")).to_have_text(task.statement)
        await expect(page.locator("#hidden-count")).to_have_text(str(len(task.hidden)))
        content = page.locator("#editor .cm-content")
        await expect(content).to_contain_text(f"def {task.entrypoint['python']}(")  # the starter code

        # The starter fails the examples.
        await page.locator("#run-button").click()
        await expect(page.locator("#code-results")).to_contain_text(
            f"Examples: 0 of {len(task.visible)} tests passed", timeout=WAIT_MS
        )

        # Switching to TypeScript swaps the untouched starter; the solution is written there.
        await page.locator("#editor-language").select_option("typescript")
        await expect(content).to_contain_text(f"function {task.entrypoint['typescript']}(")
        await content.click()
        await page.keyboard.press("Control+a")
        await page.keyboard.press("Delete")
        await page.evaluate(PASTE_IN_EDITOR)
        await page.keyboard.press("Control+a")
        await page.keyboard.press("Delete")
        await page.keyboard.insert_text(coding_tasks.REFERENCE[task_id]["typescript"])
        await page.locator("#run-button").click()
        await expect(page.locator("#code-results")).to_contain_text(
            f"Examples: {len(task.visible)} of {len(task.visible)} tests passed", timeout=WAIT_MS
        )
        await page.locator("#submit-code-button").click()
        total = len(task.visible) + len(task.hidden)
        await expect(page.locator("#code-results")).to_contain_text(
            f"Submitted: {total} of {total} tests passed", timeout=WAIT_MS
        )
        # One line per visible test; of the hidden ones only how many passed.
        await expect(page.locator("#code-results .code-result")).to_have_count(len(task.visible))
        await expect(page.locator("#code-results")).to_contain_text(
            f"Hidden tests: {len(task.hidden)} of {len(task.hidden)} passed."
        )
        await page.screenshot(path=ARTIFACTS / "room-editor-desktop.png")

        # The code survives a reload, in its language.
        await page.reload()
        await expect(page.locator("#editor-panel")).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator("#editor-language")).to_have_value("typescript")
        await expect(content).to_contain_text("new Set" if task_id == "second-largest" else "function")

        await page.set_viewport_size({"width": 375, "height": 740})
        await page.screenshot(path=ARTIFACTS / "room-editor-narrow.png")
        assert not await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")

        r = await client.get(f"/api/v1/sessions/{session['id']}/transcript", headers=tenant.headers)
        runs = [
            (t["event"], t["data"]["language"], t["data"]["passed"])
            for t in r.json()["data"]["turns"]
            if t["event"] in ("code_run", "code_submit")
        ]
        assert runs == [
            ("code_run", "python", 0),
            ("code_run", "typescript", len(task.visible)),
            ("code_submit", "typescript", total),
        ]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the signals go out with the reload's pagehide
            async with app.state.sessionmaker() as db:
                signals = (
                    await db.get(InterviewSession, uuid.UUID(session["id"]))
                ).authenticity_signals or {}
            if signals.get("paste_events", {}).get("editor"):
                break
            await asyncio.sleep(0.1)
        assert signals["paste_events"]["editor"] == 1 and signals["pasted_characters"]["editor"] == 60
        assert signals["typing_bursts"] >= 1  # the solution appeared at once
        assert errors == []
        await context.close()
