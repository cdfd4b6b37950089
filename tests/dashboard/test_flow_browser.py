"""The whole no-code flow in Debian's Chromium against the real server: sign in, build a profile
(weights 50/30/20 with the live sum), a template with three stages, add a participant, schedule,
take the interview in a second browser context, see the scorecard, approve it in the review
queue, and find stage 2 scheduled. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.dashboard.conftest import ARTIFACTS, PASSWORD, add_user
from tests.fixtures.live import live_server

WAIT_MS = 15_000


# Every visible text's contrast with the background behind it (WCAG 2.1 relative luminance):
# 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
LOW_CONTRAST = """() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el);
    const unseen = st.visibility === "hidden" || el.getClientRects().length === 0;
    if (unseen || el.closest(".visually-hidden")) continue;
    const a = lum(parse(st.color)), b = lum(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    const what = `${el.tagName}.${el.className}: ${el.textContent.trim().slice(0, 40)}`;
    if (ratio < need) bad.push(`${ratio.toFixed(2)} ${what}`);
  }
  return bad;
}"""


async def shot(page: Page, name: str) -> None:
    """Save the page for the record, checking its text contrast on the way."""
    await page.screenshot(path=ARTIFACTS / f"dashboard-{name}.png", full_page=True)
    low = await page.evaluate(LOW_CONTRAST)
    assert low == [], (name, low)


async def nav(page: Page, name: str) -> None:
    await page.get_by_role("navigation", name="Dashboard").get_by_role("link", name=name, exact=True).click()


async def sign_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/dashboard")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def take_interview(browser: Browser, url: str) -> None:
    """The candidate's side: consent, answer until the interviewer wraps up or three answers, end."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(url)
    await page.locator("#consent").check()
    await page.locator("#start-button").click()
    answers = [
        "I built a payments API in Go with PostgreSQL; I measured p99 latency, found lock contention "
        "and fixed it by batching writes, which cut latency by 60 percent.",
        "I explain trade-offs to the team with a short written design doc and a diagram, then we "
        "agree on the simplest option and I check that everyone understood the risks.",
        "For the system design I would shard by customer, keep a queue for retries with idempotency "
        "keys, and add caching in front of the read path because reads dominate.",
    ]
    for text in answers:
        await expect(page.locator("#send-button")).to_have_attribute(
            "aria-disabled", "false", timeout=WAIT_MS
        )
        await page.locator("#answer").fill(text)
        await page.keyboard.press("Enter")
        await expect(page.locator("#transcript .turn-candidate")).to_have_count(answers.index(text) + 1)
    await expect(page.locator("#send-button")).to_have_attribute("aria-disabled", "false", timeout=WAIT_MS)
    await page.locator("#end-button").click()
    await page.locator("#end-confirm").click()
    await expect(page.locator("#finished-thanks")).to_be_visible(timeout=WAIT_MS)
    await context.close()


async def test_the_no_code_flow_in_chromium(
    app: Any, settings: Any, tenant: Any, worker: Any, browser: Browser
) -> None:
    await add_user(app, "acme", "owner@acme.test", "owner")
    with live_server(settings) as base:
        context = await browser.new_context(viewport={"width": 1366, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # A script or style the Content-Security-Policy blocked shows up as a console error.
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: d.accept())

        await page.goto(f"{base}/dashboard")
        await shot(page, "sign-in")
        await sign_in(page, base, "owner@acme.test")
        await expect(page.get_by_role("heading", name="Acme")).to_be_visible()

        # Agent profile: three dimensions, the sum updates as the weights are typed.
        await nav(page, "Agent profiles")
        await expect(page.get_by_text("No agent profiles yet")).to_be_visible()
        await page.get_by_role("link", name="New agent profile").first.click()
        await page.locator("#f-name").fill("Backend interviewer")
        await page.get_by_label("Persona").fill("I'm Alex, a staff engineer at Acme.")
        save = page.locator("#save-profile")
        for i, (name, weight) in enumerate(
            [("Problem solving", "50"), ("Communication", "30"), ("System design", "20")]
        ):
            if i:
                await page.get_by_role("button", name="Add dimension").click()
                await expect(page.locator("#dimension-rows tr")).to_have_count(i + 1)
            await page.locator(f"#f-evaluationDimensions-{i}-name").fill(name)
            await page.locator(f"#f-evaluationDimensions-{i}-weight").fill(weight)
            if i == 1:
                await expect(page.locator("#weight-sum")).to_contain_text("80")
                await expect(page.locator("#weight-sum")).to_contain_text("must be 100")
                await expect(save).to_be_disabled()
        await expect(page.locator("#weight-sum")).to_contain_text("100")
        await expect(page.locator("#weight-sum")).to_contain_text("ready to save")
        await expect(save).to_be_enabled()
        # A fourth row pushes the sum over; removing it (in place, renumbered) brings it back.
        await page.get_by_role("button", name="Add dimension").click()
        await page.locator("#f-evaluationDimensions-3-name").fill("Extra")
        await page.locator("#f-evaluationDimensions-3-weight").fill("10")
        await expect(page.locator("#weight-sum")).to_contain_text("110")
        await expect(save).to_be_disabled()
        await page.get_by_role("button", name="Remove dimension 4").click()
        await expect(page.locator("#dimension-rows tr")).to_have_count(3)
        await expect(page.locator("#weight-sum")).to_contain_text("100")
        await expect(save).to_be_enabled()
        await shot(page, "profile-editor")
        await save.click()
        await expect(page.get_by_text("Agent profile “Backend interviewer” created")).to_be_visible()

        # Template and its three stages; the first needs a reviewer's approval.
        await nav(page, "Templates")
        await page.get_by_role("link", name="New template").first.click()
        await page.locator("#f-template_name").fill("Backend Engineer")
        await page.get_by_label("Skills", exact=True).fill("Go, PostgreSQL")
        await page.get_by_role("button", name="Save template").click()
        await expect(page.get_by_text("Template “Backend Engineer” created")).to_be_visible()
        stages = [
            ("screen", "Screen", "require_reviewer_approval"),
            ("technical", "Technical", "auto_advance"),
            ("final", "Final interview", "none"),
        ]
        for label, name, rule in stages:
            await page.get_by_role("link", name="Add stage").first.click()
            await page.get_by_label("Label").fill(label)
            await page.get_by_label("Name shown to the candidate").fill(name)
            await page.get_by_label("Agent profile").select_option(label="Backend interviewer")
            await page.get_by_label("Duration (minutes)").fill("10")
            await page.get_by_label("Automation").select_option(rule)
            await page.get_by_role("button", name="Save stage").click()
            await expect(page.get_by_text(f"Stage “{name}” added")).to_be_visible()
        diagram = page.locator(".pipeline li")
        await expect(diagram).to_have_count(3)
        await expect(diagram.nth(0)).to_contain_text("1. Screen")
        await expect(diagram.nth(2)).to_contain_text("3. Final interview")
        await shot(page, "template-pipeline")

        # A participant, then a session of the first stage.
        await nav(page, "Participants")
        await page.get_by_role("link", name="Add participant").click()
        await page.locator("#f-name").fill("Jane Smith")
        await page.get_by_label("Email").fill("jane@example.com")
        await page.get_by_label("Template").select_option(label="Backend Engineer")
        await page.get_by_role("button", name="Save participant").click()
        await expect(page.get_by_text("Jane Smith added")).to_be_visible()
        # The list filters as you type (htmx), without leaving the page.
        await nav(page, "Participants")
        await page.get_by_label("Name or email").fill("zzz")
        await expect(page.get_by_text("Nobody matches these filters")).to_be_visible()
        await page.get_by_label("Name or email").fill("")
        await page.get_by_label("Name or email").press_sequentially("jan", delay=150)
        await expect(page.get_by_label("Name or email")).to_be_focused()
        await expect(page.get_by_label("Name or email")).to_have_value("jan")
        await expect(page.get_by_role("link", name="Jane Smith")).to_be_visible()
        assert "q=jan" in page.url
        await expect(page.get_by_role("link", name="Jane Smith")).to_be_visible()
        # Scheduling from the sessions page: choosing the participant brings their template's stages.
        await nav(page, "Sessions")
        await page.get_by_role("link", name="Schedule a session").first.click()
        await expect(page.locator("input#f-stage")).to_be_visible()  # no template yet: a free label
        await page.get_by_label("Participant").select_option(label="Jane Smith <jane@example.com>")
        await expect(page.locator("select#f-stage option")).to_have_count(3)
        await expect(page.get_by_label("Template")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
        await page.locator("#f-stage").select_option("screen")
        await page.get_by_role("button", name="Schedule and send invite").click()
        await expect(page.get_by_text("Session scheduled")).to_be_visible()
        join_url = await page.locator("#join-url").input_value()
        token = join_url.rsplit("/join/", 1)[1]

        # The candidate takes it in another browser context (no dashboard cookie there).
        await take_interview(browser, f"{base}/join/{token}")
        await worker.drain()  # the scoring job

        await page.reload()
        await expect(page.locator("#overall-score")).to_be_visible()
        await expect(page.locator(".dimension")).to_have_count(3)
        citation = page.locator(".citations a").first
        if await citation.count():
            target = await citation.get_attribute("href")
            await citation.click()
            await expect(page.locator(str(target))).to_be_in_viewport()
        await expect(page.locator("#transcript-title")).to_be_visible()
        await shot(page, "session-scorecard")

        # The review queue has it; approving schedules stage 2.
        await nav(page, "Review queue")
        await expect(page.locator("tbody tr")).to_have_count(1)
        await shot(page, "review-queue")
        await page.get_by_role("link", name="Review Jane Smith").click()
        await page.get_by_label("Reason").fill("Clear, structured answers.")
        await page.get_by_role("button", name="Approve").click()
        await expect(page.get_by_text("Approved; the next stage is scheduled")).to_be_visible()
        await expect(page.locator("#reviewed")).to_contain_text("approved by you")
        await nav(page, "Review queue")
        await expect(page.get_by_text("Nothing to review")).to_be_visible()

        await nav(page, "Participants")
        await page.get_by_role("link", name="Jane Smith").click()
        boxes = page.locator(".pipeline li")
        await expect(boxes.nth(1)).to_contain_text("scheduled")
        rows = page.locator("tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(1)).to_contain_text("Technical")
        await expect(rows.nth(1)).to_contain_text("scheduled")
        await shot(page, "participant")

        # The other main pages, for the record; the first Tab reaches "Skip to content".
        for name, file in [
            ("Sessions", "sessions"),
            ("API keys", "api-keys"),
            ("Webhooks", "webhooks"),
            ("Email outbox", "outbox"),
            ("Workspace settings", "settings"),
        ]:
            await nav(page, name)
            await expect(page.locator("h1")).to_be_visible()
            await shot(page, file)
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#main")).to_be_focused()
        await nav(page, "Participants")
        await page.get_by_role("link", name="Jane Smith").click()

        # A phone's width: nothing scrolls sideways.
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.get_by_role("link", name="Technical").click()
        await expect(page.locator("#join-url")).to_be_visible()
        overflow = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        await shot(page, "session-phone")
        assert not overflow, "the session page scrolls sideways at 390 px"
        assert errors == []
        await context.close()
