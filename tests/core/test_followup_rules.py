"""Edge rules of the follow-up schedule and of the timeline pager without JavaScript."""

from __future__ import annotations

from datetime import timedelta

from core.models import Role
from core.services import dashboard, events


def test_a_visit_dated_before_release_does_not_move_the_next_due_date(ctx_for, make_case):
    ctx = ctx_for(Role.case_manager, "a")
    case = make_case("a", released_days_ago=200)
    released = case.actual_release
    events.record_event(ctx, case, "core.follow_up_visit", released - timedelta(days=3))
    ctx.session.commit()

    due = {f.case_id: f for f in dashboard.follow_ups_due(ctx)}
    assert case.id in due
    assert due[case.id].basis == released


def test_show_older_without_javascript_is_a_whole_page(client_for, ctx_for, make_case):
    ctx = ctx_for(Role.case_manager, "a")
    case = make_case("a")
    for day in range(60):
        events.record_event(ctx, case, "core.note", ctx.today - timedelta(days=day + 1), summary=f"note {day}")
    ctx.session.commit()
    client = client_for(Role.case_manager, "a")

    first = client.get(f"/cases/{case.id}")
    assert "note 0" in first.text and "note 59" not in first.text
    assert f'href="/cases/{case.id}?kind=&amp;page=2#timeline"' in first.text

    older = client.get(f"/cases/{case.id}?page=2")
    assert older.status_code == 200
    assert "<html" in older.text and "note 59" in older.text and "note 0<" not in older.text
