"""The case timeline: recording events by hand, validation of their fields, order, filter, paging,
and the rule that events are never changed or deleted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.errors import ActionRefused, InvalidInput
from core.models import AppendOnlyError, Event, Role
from core.services import events
from tests.conftest import post_form
from tests.core.conftest import count, field_errors, fresh, kinds_on

TODAY = date.today()


@pytest.mark.parametrize(
    ("kind", "payload", "stored"),
    [
        ("core.note", {}, {}),
        ("core.family_contact", {"payload.contact": "phone", "payload.who": "Mother"}, {"contact": "phone", "who": "Mother"}),
        ("core.follow_up_visit", {"payload.place": "workplace", "payload.wellbeing": "good"}, {"place": "workplace", "wellbeing": "good"}),
        ("core.follow_up_visit", {"payload.place": "home", "payload.wellbeing": "fair", "payload.work": "own_business"}, {"place": "home", "wellbeing": "fair", "work": "own_business"}),
        # Work is optional and left out of the payload when not chosen, as in visits recorded before it existed.
        ("core.follow_up_visit", {"payload.place": "phone", "payload.wellbeing": "poor", "payload.work": ""}, {"place": "phone", "wellbeing": "poor"}),
        ("core.reoffended", {"payload.stage": "charged", "payload.offence_date": "2024-03-01"}, {"stage": "charged", "offence_date": "2024-03-01"}),
        # The form sends an optional date left empty as "": that means no date, not a bad one.
        ("core.reoffended", {"payload.stage": "suspected", "payload.offence_date": ""}, {"stage": "suspected", "offence_date": None}),
    ],
)
def test_recording_an_event_from_its_form(make_case, client_for, db, world, kind, payload, stored):
    case = make_case("a")
    client = client_for(Role.case_manager, "a")
    form = client.get(f"/cases/{case.id}/events/new", params={"kind": kind})
    assert form.status_code == 200
    assert f'name="kind" value="{kind}"' in form.text
    assert all(f'name="{name}"' in form.text for name in payload)

    day = TODAY - timedelta(days=2)
    response = post_form(client, f"/cases/{case.id}/events", {"kind": kind, "occurred_on": day.isoformat(), "summary": "Spoke at the market.", **payload})
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case.id}#timeline"
    event = fresh(db).scalar(select(Event).where(Event.case_id == case.id, Event.kind == kind))
    assert event is not None
    assert (event.occurred_on, event.summary, event.payload) == (day, "Spoke at the market.", stored)
    assert event.recorded_by_id == world.users[("a", Role.case_manager)]
    assert "Spoke at the market." in client.get(f"/cases/{case.id}").text


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"kind": "core.family_contact", "payload.contact": "carrier pigeon"}, "payload.contact", "Choose one of the options."),
        ({"kind": "core.follow_up_visit", "payload.wellbeing": "splendid"}, "payload.wellbeing", "Choose one of the options."),
        ({"kind": "core.reoffended", "payload.offence_date": "last week"}, "payload.offence_date", "Enter a valid date (YYYY-MM-DD)."),
        ({"kind": "core.note", "occurred_on": (TODAY + timedelta(days=1)).isoformat()}, "occurred_on", "The date cannot be in the future."),
        ({"kind": "core.note", "occurred_on": ""}, "occurred_on", "This field is required."),
    ],
)
def test_a_refused_event_shows_the_message_beside_the_field_and_writes_nothing(make_case, client_for, db, form, field, message):
    case = make_case("a")
    response = post_form(client_for(Role.case_manager, "a"), f"/cases/{case.id}/events", {"occurred_on": TODAY.isoformat(), **form})
    assert response.status_code == 422
    assert field_errors(response.text)[field] == message
    assert kinds_on(db, case.id) == ["core.case_opened"]


def test_kinds_written_by_the_application_cannot_be_recorded_by_hand(make_case, ctx_for, db, client_for):
    case = make_case("a")
    ctx = ctx_for(Role.case_manager, "a")
    for kind in ("core.status_changed", "core.case_opened"):
        with pytest.raises(ActionRefused) as refused:
            events.record_event(ctx, case, kind, TODAY)
        assert refused.value.field == "kind"
    with pytest.raises(ActionRefused):
        events.record_event(ctx, case, "nobody.invented_this", TODAY)

    response = post_form(client_for(Role.case_manager, "a"), f"/cases/{case.id}/events", {"kind": "core.status_changed", "occurred_on": TODAY.isoformat()})
    assert response.status_code == 422
    assert kinds_on(db, case.id) == ["core.case_opened"]


def test_a_correction_must_point_at_an_event_of_the_same_case(make_case, ctx_for, db):
    case, other = make_case("a"), make_case("a")
    ctx = ctx_for(Role.case_manager, "a")
    note = events.record_event(ctx, case, "core.note", TODAY, summary="Met his mother.")
    elsewhere = events.record_event(ctx, other, "core.note", TODAY)
    correction = events.record_event(ctx, case, "core.note", TODAY, summary="Met his aunt.", corrects_id=note.id)
    assert correction.corrects_id == note.id
    with pytest.raises(InvalidInput) as refused:
        events.record_event(ctx, case, "core.note", TODAY, corrects_id=elsewhere.id)
    assert list(refused.value.errors) == ["corrects_id"]


def test_timeline_is_newest_first_and_filters_by_kind(make_case, ctx_for, db, client_for):
    case = make_case("a")
    ctx = ctx_for(Role.case_manager, "a")
    # Recorded out of order: the timeline follows the day it happened, then the order of recording.
    events.record_event(ctx, case, "core.note", TODAY - timedelta(days=10), summary="ten days ago")
    events.record_event(ctx, case, "core.family_contact", TODAY - timedelta(days=30), summary="a month ago", payload={"contact": "visit"})
    events.record_event(ctx, case, "core.note", TODAY - timedelta(days=10), summary="ten days ago, later")
    events.record_event(ctx, case, "core.follow_up_visit", TODAY - timedelta(days=1), summary="yesterday")
    db.commit()

    rows, more = events.timeline(ctx, case)
    assert [r.summary for r in rows] == ["Sok Dara", "yesterday", "ten days ago, later", "ten days ago", "a month ago"]
    assert not more
    assert [r.summary for r in events.timeline(ctx, case, kind="core.note")[0]] == ["ten days ago, later", "ten days ago"]

    client = client_for(Role.viewer, "a")
    page = client.get(f"/cases/{case.id}").text
    assert page.index("yesterday") < page.index("ten days ago, later") < page.index("a month ago")
    filtered = client.get(f"/cases/{case.id}", params={"kind": "core.family_contact"}).text
    timeline = filtered[filtered.index('id="timeline-items"') :]
    assert "a month ago" in timeline and "yesterday" not in timeline
    fragment = client.get(f"/cases/{case.id}/timeline", params={"kind": "core.note"}, headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and "ten days ago" in fragment and "a month ago" not in fragment


def test_timeline_pages_with_show_older(make_case, ctx_for, db, client_for):
    case = make_case("a")  # its first event: core.case_opened, today
    ctx = ctx_for(Role.case_manager, "a")
    for i in range(1, 51):
        events.record_event(ctx, case, "core.note", TODAY - timedelta(days=i), summary=f"note {i:02d}")
    db.commit()

    rows, more = events.timeline(ctx, case)
    assert len(rows) == 50 and more
    assert rows[-1].summary == "note 49"
    older, more = events.timeline(ctx, case, offset=50)
    assert [r.summary for r in older] == ["note 50"] and not more

    client = client_for(Role.viewer, "a")
    page = client.get(f"/cases/{case.id}").text
    assert "note 49" in page and "note 50" not in page
    assert f'hx-get="/cases/{case.id}/timeline?kind=&page=2"' in page
    second = client.get(f"/cases/{case.id}/timeline", params={"page": 2}, headers={"HX-Request": "true"})
    assert second.status_code == 200
    assert "note 50" in second.text and "note 49" not in second.text and "page=3" not in second.text


def test_events_cannot_be_changed_or_deleted_through_the_orm(make_case, ctx_for, db):
    case = make_case("a")
    event = events.record_event(ctx_for(Role.case_manager, "a"), case, "core.note", TODAY, summary="as first written")
    db.commit()

    event.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()

    db.delete(db.get(Event, event.id))
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()
    assert fresh(db).get(Event, event.id).summary == "as first written"
    assert count(db, Event) == 2
