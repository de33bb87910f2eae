"""The strict CSP in a real browser: Chromium walks the main pages (dashboard, a live search of
persons, a case and its module tab, an attendance mark posted by htmx, the account page) and
reports no CSP violation and no console error, while htmx does its work (fragments swapped in,
no page reload). A script injected inline at the end is refused, which shows the watch for
violations sees them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from core.db import make_engine, make_session_factory
from core.models import Organisation
from plugins.training.models import Enrolment, TrainingSession
from tests.browser.conftest import CASE_MANAGER, DESKTOP, LiveServer
from tests.browser.test_casework import (
    SAME_PAGE,
    STILL_SAME_PAGE,
    assert_clean,
    htmx_ready,
    sign_in,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips, or fails under HOMECOMING_TEST_STRICT=1
    pass

pytestmark = pytest.mark.browser


def _training_session(server: LiveServer) -> tuple[int, int]:
    """``(session id, enrolment id)`` of a demo training session with a student still enrolled,
    in the case manager's organisation."""
    engine = make_engine(server.database_url)
    try:
        with make_session_factory(engine)() as db:
            org_id = db.scalar(select(Organisation.id).where(Organisation.slug == "fresh-start"))
            row = db.execute(
                select(TrainingSession.id, Enrolment.id)
                .join(Enrolment, Enrolment.cohort_id == TrainingSession.cohort_id)
                .where(TrainingSession.org_id == org_id, Enrolment.status != "dropped_out")
                .order_by(TrainingSession.id, Enrolment.id)
                .limit(1)
            ).one()
            return row[0], row[1]
    finally:
        engine.dispose()


def test_the_main_pages_run_under_the_csp_with_htmx_working(page_for: Any, live_server: LiveServer) -> None:
    page, problems = page_for(DESKTOP)
    sign_in(page, live_server, CASE_MANAGER, path="/")
    expect(page.get_by_role("heading", level=1).first).to_be_visible()

    # Persons: the live search swaps the rows in through htmx, without reloading the page.
    page.goto("/persons")
    htmx_ready(page)
    names = page.locator("#results tbody td:first-child a")
    expect(names.first).to_be_visible()
    prefix = names.first.inner_text().split()[0][:3]
    page.evaluate(SAME_PAGE)
    page.locator("#q").press_sequentially(prefix)
    expect(page).to_have_url(re.compile(rf"/persons\?(.*&)?q={prefix}(&|$)"))
    expect(names.filter(has_not_text=re.compile(prefix, re.IGNORECASE))).to_have_count(0)
    assert page.evaluate(STILL_SAME_PAGE), "the search reloaded the page"

    # A case, and a module's tab loaded into it by htmx.
    page.goto("/cases")
    page.locator("#results tbody td:first-child a").first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    htmx_ready(page)
    tab = page.locator("nav.tabs a[data-tab]").first
    expect(tab).to_be_visible()
    page.evaluate(SAME_PAGE)
    tab.click()
    expect(page.locator("#tab-panel > *").first).to_be_attached()
    assert page.evaluate(STILL_SAME_PAGE), "the tab reloaded the page"

    # A form posted by htmx: one student's attendance, the row answered and swapped in place.
    session_id, enrolment_id = _training_session(live_server)
    page.goto(f"/training/sessions/{session_id}")
    htmx_ready(page)
    row = page.locator(f"#student-{enrolment_id}")
    page.evaluate(SAME_PAGE)
    row.get_by_role("button", name="Absent").click()
    expect(row).to_have_attribute("data-present", "no")
    row.get_by_role("button", name="Present").click()
    expect(row).to_have_attribute("data-present", "yes")
    expect(row.get_by_role("button", name="Present")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(STILL_SAME_PAGE), "the attendance form reloaded the page"

    # One's account, reached from the navigation.
    page.locator("header a.who").click()
    expect(page).to_have_url(live_server.url + "/account")
    expect(page.get_by_role("heading", name="Your signed-in devices")).to_be_visible()
    expect(page.locator("#devices tr.current")).to_have_count(1)
    assert_clean(problems)

    # The watch works: an inline script injected now is refused by the CSP and reported.
    directive = page.evaluate(
        """() => new Promise((resolve) => {
          document.addEventListener("securitypolicyviolation", (e) => resolve(e.violatedDirective), { once: true });
          const s = document.createElement("script");
          s.textContent = "window.__ran = true";
          document.body.append(s);
        })"""
    )
    assert directive.startswith("script-src")
    assert page.evaluate("() => window.__ran") is None
