"""A case manager's day in Chromium: sign in, live search, open a case, record a follow-up visit;
and the same pages in Khmer. The app sends a strict CSP (no inline script or style), so these
tests also show that htmx works under it: any CSP violation or console error fails them."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.i18n import Catalogs
from tests.browser.conftest import CASE_MANAGER, DESKTOP, PHONE, LiveServer, Problems

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture skips, or fails under HOMECOMING_TEST_STRICT=1
    Page = Any  # type: ignore[misc,assignment]

pytestmark = pytest.mark.browser

KHMER = re.compile(r"[\u1780-\u17ff]")
SAME_PAGE = "() => { window.__samePage = true; }"
STILL_SAME_PAGE = "() => window.__samePage === true"
"""A marker on ``window`` survives htmx swaps but not a page load."""


def sign_in(page: Page, server: LiveServer, email: str, path: str = "/cases") -> None:
    """Open ``path`` signed out, sign in on the page it redirects to, and land back on ``path``."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + path)
    htmx_ready(page)


def htmx_ready(page: Page) -> None:
    """Wait for the deferred scripts: typing before htmx has started would go unnoticed."""
    page.wait_for_load_state()
    page.wait_for_function("() => window.htmx !== undefined")


def assert_clean(problems: Problems) -> None:
    assert problems.all() == [], "\n".join(problems.all())


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_case_manager_searches_opens_a_case_and_records_a_follow_up(
    page_for: Any, live_server: LiveServer, screenshots: Path, viewport: dict[str, int]
) -> None:
    page, problems = page_for(viewport)
    sign_in(page, live_server, CASE_MANAGER)
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
    names = page.locator("#results tbody td:first-child a")
    total = page.locator("#results .total")
    expect(names.first).to_be_visible()
    before_total = total.inner_text()
    # A family name's prefix from the list itself rather than hard-coded.
    prefix = names.last.inner_text().split()[0][:3]
    page.screenshot(path=screenshots / "1-cases.png")
    # Wide tables scroll inside themselves; the page itself never scrolls sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]

    # Live search: type without pressing Enter; htmx swaps the rows in and pushes the URL.
    page.evaluate(SAME_PAGE)
    page.locator("#q").press_sequentially(prefix)
    expect(page).to_have_url(re.compile(rf"/cases\?(.*&)?q={prefix}(&|$)"))
    expect(total).not_to_have_text(before_total)
    expect(names.filter(has_not_text=re.compile(rf"^{prefix}", re.IGNORECASE))).to_have_count(0)
    expect(names.first).to_be_visible()
    assert page.evaluate(STILL_SAME_PAGE), "the search reloaded the page"
    expect(page.locator("#results h1")).to_have_count(0)  # a fragment was swapped in, not a page
    found_total, found = total.inner_text(), names.all_inner_texts()
    page.screenshot(path=screenshots / "2-search.png")

    # The pushed URL is a working page: reloading it shows the same search.
    page.reload()
    expect(page.locator("#q")).to_have_value(prefix)
    expect(total).to_have_text(found_total)
    expect(names).to_have_text(found)
    htmx_ready(page)

    # Open the first case found.
    names.first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    case_url = page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text(found[0])
    htmx_ready(page)

    # Record: the follow-up form loads inline through htmx; the page stays where it is.
    page.evaluate(SAME_PAGE)
    page.locator("#timeline .actions").get_by_role("link", name="Follow-up visit").click()
    form = page.locator("#event-form form#record-event")
    expect(form).to_be_visible()
    expect(form.get_by_role("heading")).to_have_text("Follow-up visit")
    assert page.url == case_url
    assert page.evaluate(STILL_SAME_PAGE), "the form did not load inline"
    today = date.today()
    note = f"Found work at the market ({viewport['width']}px wide)."
    form.get_by_label("Date").fill(today.isoformat())
    form.get_by_label("Where").select_option("workplace")
    form.get_by_label("How they are doing").select_option("good")
    form.get_by_label("Notes").fill(note)
    form.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "3-form.png")
    form.get_by_role("button", name="Save").click()

    # Saved (post/redirect/get): back on the case, the visit first in the timeline.
    expect(page).to_have_url(case_url + "#timeline")
    first = page.locator("#timeline-items li.event").first
    expect(first.locator(".what")).to_contain_text("Follow-up visit")
    expect(first.locator("time")).to_have_attribute("datetime", today.isoformat())
    expect(first.locator(".payload")).to_contain_text("Workplace")
    expect(first.locator(".payload")).to_contain_text("Good")
    expect(first).to_contain_text(note)
    expect(page.locator("#event-form form")).to_have_count(0)
    first.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "4-saved.png")
    assert_clean(problems)


def test_pages_in_khmer_render_khmer_glyphs(page_for: Any, live_server: LiveServer, screenshots: Path) -> None:
    # Not the walk's case manager: the language picked is stored on the user.
    page, problems = page_for(PHONE)
    khmer = Catalogs().get("km")
    sign_in(page, live_server, "case.manager.chenda@fresh-start.demo")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("header form.lang").get_by_role("button", name="ខ្មែរ").click()
    expect(page.locator("html")).to_have_attribute("lang", "km")
    expect(page).to_have_url(live_server.url + "/cases")
    # Interface strings are in Khmer as far as the catalogue translates them.
    expect(page.locator("h1")).to_have_text(khmer.gettext("Cases"))
    expect(page.locator("header form.lang button.current")).to_have_text("ខ្មែរ")
    expect(page.locator("#results span[lang=km]").first).to_have_text(KHMER)
    assert_khmer_glyphs(page, "#results span[lang=km]")
    page.screenshot(path=screenshots / "1-cases-km.png")

    page.locator("#results tbody td:first-child a").first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    expect(page.locator("html")).to_have_attribute("lang", "km")
    expect(page.locator("h1 span[lang=km]")).to_have_text(KHMER)
    # Dates are formatted for the Khmer locale: Khmer month names.
    expect(page.locator("#timeline-items time").first).to_have_text(KHMER)
    assert_khmer_glyphs(page, "h1 span[lang=km]")
    assert_khmer_glyphs(page, "#timeline-items time")
    page.screenshot(path=screenshots / "2-case-km.png")
    page.locator("#timeline").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "3-timeline-km.png")
    assert_clean(problems)


def assert_khmer_glyphs(page: Page, selector: str) -> None:
    """The first element matching ``selector`` is drawn in a Khmer font, not as missing-glyph boxes.

    Chromium reports the platform fonts it actually used for a node's text; without a Khmer font
    it would name a fallback that has no Khmer glyphs. The size check catches invisible text.
    """
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0, box
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no {selector}"
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    khmer_glyphs = sum(f["glyphCount"] for f in fonts if "khmer" in f["familyName"].lower())
    assert khmer_glyphs > 0, f"{selector} is not drawn in a Khmer font: {fonts}"
