"""CSV import in Chromium: a file of 120 people with two bad rows, the per-row preview, then the
import in steps of 50 with its progress bar, ending with the counts and the skipped rows."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, expect

from tests.dashboard.conftest import ARTIFACTS, add_user
from tests.dashboard.test_flow_browser import shot, sign_in
from tests.fixtures.live import live_server


async def test_csv_import_with_preview_and_progress(
    app: Any, settings: Any, tenant: Any, browser: Browser, tmp_path: Any
) -> None:
    await add_user(app, "acme", "owner@acme.test", "owner")
    lines = ["name,email,tags"] + [f"Person {i},person{i}@example.com,batch;csv" for i in range(118)]
    lines += ["No Email,,", "Bad Email,not-an-email,"]
    csv = tmp_path / "people.csv"
    csv.write_text("\n".join(lines) + "\n")
    with live_server(settings) as base:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await sign_in(page, base, "owner@acme.test")
        await page.goto(f"{base}/dashboard/acme/participants/import")
        await page.get_by_label("CSV file").set_input_files(str(csv))
        await page.get_by_role("button", name="Preview").click()
        await expect(page.get_by_text("118 of 120 rows can be imported")).to_be_visible()
        await expect(page.locator("tbody tr").nth(118)).to_contain_text("email: Required")
        await expect(page.locator("tbody tr").nth(119)).to_contain_text("email:")
        await page.get_by_role("button", name="Import 118 participants").click()
        await expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=30_000)
        await expect(page.locator("#import-bar")).to_have_attribute("value", "120")
        await expect(page.locator("#import-result")).to_contain_text("118 created, 2 skipped")
        await shot(page, "import")
        await page.get_by_role("link", name="See participants").click()
        await expect(page.get_by_text("Showing 1–20 of 118")).to_be_visible()
        await page.get_by_role("link", name="Next").click()
        await expect(page.get_by_text("Showing 21–40 of 118")).to_be_visible()
        await context.close()
    assert (ARTIFACTS / "dashboard-import.png").exists()
