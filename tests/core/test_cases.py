"""Cases: opening one, the case list's filters and pager, status transitions and the release plan."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.errors import ActionRefused, InvalidInput
from core.models import Case, CaseGoal, CaseStatus, Event, Role
from core.schemas import CaseEditIn, CaseIn, GoalIn, StatusChangeIn
from core.services import cases
from core.validation import parse
from tests.conftest import post_form
from tests.core.conftest import count, field_errors, fresh, kinds_on

TODAY = date.today()


# --- opening and editing -------------------------------------------------------------------------


def test_opening_a_case_for_a_person_starts_its_timeline(make_person, client_for, db, world):
    person = make_person("a", name="Sok Dara")
    client = client_for(Role.case_manager, "a")
    assert 'name="person_id" value="%d"' % person.id in client.get("/cases/new", params={"person_id": person.id}).text

    response = post_form(
        client,
        "/cases",
        {"person_id": person.id, "programme": "Reintegration", "case_manager_id": world.users[("a", Role.case_manager)], "prison": "CC1 Prey Sar", "prisoner_number": "P-1", "sentence_start": "2020-01-01", "expected_release": "2030-01-01"},
    )
    assert response.status_code == 303
    case_id = int(response.headers["location"].rsplit("/", 1)[1])
    fresh(db)
    case = db.get(Case, case_id)
    assert (case.person_id, case.status, case.prison, case.opened_on) == (person.id, CaseStatus.referred, "CC1 Prey Sar", TODAY)
    assert kinds_on(db, case_id) == ["core.case_opened"]
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "Case opened" in page.text and "CC1 Prey Sar" in page.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"person_id": ""}, "person_id", "This field is required."),
        ({"person_id": "other-org"}, "person_id", "Choose a person of this organisation."),
        ({"case_manager_id": "other-org"}, "case_manager_id", "Choose a case manager of this organisation."),
        ({"case_manager_id": "viewer"}, "case_manager_id", "Choose a case manager of this organisation."),
        ({"sentence_start": "2024-05-01", "sentence_end": "2024-04-30"}, "sentence_end", "The sentence cannot end before it starts."),
        ({"expected_release": "soon"}, "expected_release", "Enter a valid date (YYYY-MM-DD)."),
        ({"prisoner_number": "P" * 61}, "prisoner_number", "Use at most 60 characters."),
        ({"prison": "P" * 121}, "prison", "Use at most 120 characters."),
    ],
)
def test_a_refused_case_form_shows_the_message_beside_the_field_and_writes_nothing(make_person, client_for, db, world, fields, field, message):
    person, stranger = make_person("a"), make_person("b")
    ids = {"other-org": {"person_id": stranger.id, "case_manager_id": world.users[("b", Role.case_manager)]}, "viewer": {"case_manager_id": world.users[("a", Role.viewer)]}}
    form = {"person_id": person.id, **{k: ids.get(v, {}).get(k, v) for k, v in fields.items()}}
    client = client_for(Role.case_manager, "a")

    response = post_form(client, "/cases", form)
    assert response.status_code == 422
    shown = field_errors(response.text)[field]
    assert shown == message if message else shown
    assert count(db, Case) == 0 and count(db, Event) == 0


def test_editing_a_case_saves_changes_and_a_refusal_changes_nothing(make_case, client_for, db):
    case = make_case("a", prison="CC1 Prey Sar")
    client = client_for(Role.case_manager, "a")
    assert 'value="CC1 Prey Sar"' in client.get(f"/cases/{case.id}/edit").text

    refused = post_form(client, f"/cases/{case.id}", {"prison": "CC2 Prey Sar", "sentence_start": "2024-05-01", "sentence_end": "2023-01-01"})
    assert refused.status_code == 422
    assert field_errors(refused.text)["sentence_end"] == "The sentence cannot end before it starts."
    fresh(db)
    assert db.get(Case, case.id).prison == "CC1 Prey Sar"

    saved = post_form(client, f"/cases/{case.id}", {"prison": "CC2 Prey Sar", "case_manager_id": case.case_manager_id})
    assert saved.status_code == 303
    fresh(db)
    assert db.get(Case, case.id).prison == "CC2 Prey Sar"
    assert db.get(Case, case.id).person_id == case.person_id


# --- the case list -------------------------------------------------------------------------------


@pytest.fixture
def caseload(make_person, make_case, world):
    """Four cases of organisation "a" and one of "b"."""
    admin_id = world.users[("a", Role.admin)]
    dara = make_case("a", make_person("a", name="Sok Dara", name_km="សុខ ដារា"), prison="CC1 Prey Sar", prisoner_number="P-100")
    sophea = make_case("a", make_person("a", name="Chan Sophea", name_km="ចាន់ សុភា"), prison="CC2 Prey Sar", prisoner_number="P-200")
    vuthy = make_case("a", make_person("a", name="sokha Vuthy"), prison="CC2 Prey Sar", case_manager_id=admin_id)
    bopha = make_case("a", make_person("a", name="Keo Bopha"), released_days_ago=10, prison="CC1 Prey Sar")
    make_case("b", make_person("b", name="Sok Other"), prison="CC1 Prey Sar")
    return {"dara": dara.id, "sophea": sophea.id, "vuthy": vuthy.id, "bopha": bopha.id}


def test_case_search_filters_by_status_manager_prison_and_name(caseload, ctx_for, world):
    ctx = ctx_for(Role.viewer, "a")

    def found(**filters: object) -> set[int]:
        return {row.id for row in cases.search_cases(ctx, **filters)[0]}

    c = caseload
    assert found() == {c["dara"], c["sophea"], c["vuthy"], c["bopha"]}
    assert found(status="released") == {c["bopha"]}
    assert found(status="referred", prison="CC2 Prey Sar") == {c["sophea"], c["vuthy"]}
    assert found(case_manager_id=world.users[("a", Role.admin)]) == {c["vuthy"]}
    assert found(case_manager_id=world.users[("a", Role.case_manager)], prison="CC1 Prey Sar") == {c["dara"], c["bopha"]}
    assert found(q="SOK") == {c["dara"], c["vuthy"]}
    assert found(q="ចាន់") == {c["sophea"]}
    assert found(q="P-200") == {c["sophea"]}
    assert found(q="sok", case_manager_id=world.users[("a", Role.admin)]) == {c["vuthy"]}
    assert found(q="Other") == set()


def test_case_list_page_filters_as_its_form_submits_them(caseload, client_for, world):
    client = client_for(Role.viewer, "a")
    # The filter form sends every field, the ones left on "All" empty.
    response = client.get("/cases", params={"q": "", "status": "referred", "case_manager": "", "prison": "CC2 Prey Sar"})
    assert response.status_code == 200
    assert "Chan Sophea" in response.text and "sokha Vuthy" in response.text
    assert "Sok Dara" not in response.text and "Keo Bopha" not in response.text
    assert "2 cases" in response.text

    admin_id = world.users[("a", Role.admin)]
    by_manager = client.get("/cases", params={"q": "sok", "status": "", "case_manager": admin_id, "prison": ""})
    assert by_manager.status_code == 200
    assert "sokha Vuthy" in by_manager.text and "Sok Dara" not in by_manager.text

    fragment = client.get("/cases", params={"q": "keo"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Keo Bopha" in fragment.text and "Sok Dara" not in fragment.text


def test_case_list_pages_by_50_and_counts_matches(ctx_for, make_person, db, client_for):
    ctx = ctx_for(Role.case_manager, "a")
    person = make_person("a", name="Heng Rithy")
    for _ in range(51):
        cases.create_case(ctx, CaseIn(person_id=person.id, prison="Kampot Provincial Prison"))
    db.commit()
    client = client_for(Role.viewer, "a")

    first = client.get("/cases", params={"prison": "Kampot Provincial Prison"})
    assert first.status_code == 200
    assert first.text.count('<a href="/cases/') == 50
    assert "51 cases" in first.text and "page=2" in first.text
    second = client.get("/cases", params={"prison": "Kampot Provincial Prison", "page": 2})
    assert second.text.count('<a href="/cases/') == 1
    assert "51 cases" in second.text and "page=3" not in second.text


# --- status transitions --------------------------------------------------------------------------


def test_a_case_moves_forward_through_every_status_each_step_on_the_timeline(make_case, ctx_for, db):
    case = make_case("a", sentence_start=TODAY - timedelta(days=900))
    ctx = ctx_for(Role.case_manager, "a")
    steps = [
        StatusChangeIn(status=CaseStatus.pre_release),
        StatusChangeIn(status=CaseStatus.released, actual_release=TODAY - timedelta(days=3)),
        StatusChangeIn(status=CaseStatus.follow_up),
        StatusChangeIn(status=CaseStatus.closed, close_reason="completed", note="Three years done."),
    ]
    for step in steps:
        cases.change_status(ctx, case, step)
        db.commit()
    fresh(db)
    case = db.get(Case, case.id)
    assert (case.status, case.actual_release, case.close_reason, case.closed_on) == (CaseStatus.closed, TODAY - timedelta(days=3), "completed", TODAY)
    changes = list(db.scalars(select(Event).where(Event.case_id == case.id, Event.kind == "core.status_changed").order_by(Event.id)))
    assert [(e.payload["from"], e.payload["to"]) for e in changes] == [
        ("referred", "pre_release"),
        ("pre_release", "released"),
        ("released", "follow_up"),
        ("follow_up", "closed"),
    ]
    assert changes[-1].payload["close_reason"] == "completed" and changes[-1].summary == "Three years done."
    assert cases.allowed_transitions(case) == []


def test_allowed_transitions_only_go_forward():
    assert cases.allowed_transitions(Case(status=CaseStatus.referred)) == [CaseStatus.pre_release, CaseStatus.released, CaseStatus.follow_up, CaseStatus.closed]
    assert cases.allowed_transitions(Case(status=CaseStatus.released)) == [CaseStatus.follow_up, CaseStatus.closed]
    assert cases.allowed_transitions(Case(status=CaseStatus.closed)) == []


@pytest.mark.parametrize(
    ("start", "form", "field", "message"),
    [
        ("referred", {"status": "released"}, "actual_release", "Enter the date the person was released."),
        ("referred", {"status": "released", "actual_release": (TODAY + timedelta(days=1)).isoformat()}, "actual_release", "The release date cannot be in the future."),
        ("referred", {"status": "released", "actual_release": "2019-12-31"}, "actual_release", "The release cannot come before the sentence starts."),
        ("referred", {"status": "follow_up"}, "actual_release", "Enter the date the person was released."),
        ("referred", {"status": "closed"}, "close_reason", "Choose the reason for closing the case."),
        ("referred", {"status": "closed", "close_reason": "bored"}, "close_reason", "Choose one of the options."),
        ("referred", {"status": "referred"}, "status", "A case cannot move from “Referred” to “Referred”."),
        ("released", {"status": "pre_release"}, "status", "A case cannot move from “Released” to “Pre-release”."),
        ("released", {"status": "referred"}, "status", "A case cannot move from “Released” to “Referred”."),
        # A closed case shows no status form (a stale page or a second click): the message still shows.
        ("closed", {"status": "follow_up", "actual_release": "2024-01-01"}, None, "A case cannot move from “Closed” to “Follow-up”."),
        ("referred", {"status": "limbo"}, "status", "Choose one of the options."),
    ],
)
def test_a_refused_status_change_explains_beside_the_field_and_writes_nothing(make_case, ctx_for, client_for, db, start, form, field, message):
    case = make_case("a", sentence_start=date(2020, 1, 1))
    ctx = ctx_for(Role.case_manager, "a")
    if start != "referred":
        cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.released, actual_release=TODAY - timedelta(days=30)))
    if start == "closed":
        cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.closed, close_reason="withdrew"))
    db.commit()
    before = (case.status, case.actual_release, case.close_reason, kinds_on(db, case.id))

    response = post_form(client_for(Role.case_manager, "a"), f"/cases/{case.id}/status", form)
    assert response.status_code == 422
    if field:
        assert field_errors(response.text)[field] == message
    else:
        assert message in response.text
    fresh(db)
    after = db.get(Case, case.id)
    assert (after.status, after.actual_release, after.close_reason, kinds_on(db, case.id)) == before


def test_an_accepted_status_change_redirects_and_is_recorded(make_case, client_for, db):
    case = make_case("a")
    response = post_form(client_for(Role.case_manager, "a"), f"/cases/{case.id}/status", {"status": "released", "actual_release": TODAY.isoformat(), "note": "Met at the gate."})
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case.id}"
    fresh(db)
    assert db.get(Case, case.id).status == CaseStatus.released
    assert kinds_on(db, case.id) == ["core.case_opened", "core.status_changed"]


def test_service_refusals_leave_the_case_untouched(make_case, ctx_for, db):
    case = make_case("a")
    ctx = ctx_for(Role.case_manager, "a")
    with pytest.raises(ActionRefused):
        cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.released, actual_release=TODAY + timedelta(days=2)))
    assert (case.status, case.actual_release) == (CaseStatus.referred, None)
    assert not db.new and not db.dirty


# --- release plan --------------------------------------------------------------------------------


def test_goals_of_the_release_plan_can_be_added_and_are_shown(make_case, client_for, db):
    case = make_case("a")
    client = client_for(Role.case_manager, "a")

    response = post_form(client, f"/cases/{case.id}/goals", {"area": "documents", "description": "National ID card", "state": "in_progress", "next_step": "Visit the commune office"})
    assert response.status_code == 303
    page = client.get(f"/cases/{case.id}").text
    plan = page[page.index('id="plan"') :]
    assert "National ID card" in plan and "Visit the commune office" in plan

    refused = post_form(client, f"/cases/{case.id}/goals", {"area": "luck", "description": " ", "state": "in_progress"})
    assert refused.status_code == 422
    errors = field_errors(refused.text)
    assert errors["description"] == "This field is required."
    assert count(db, CaseGoal) == 1


def test_goal_with_an_unknown_area_or_state_is_refused(make_case, ctx_for):
    case = make_case("a")
    ctx = ctx_for(Role.case_manager, "a")
    for data, field in (({"area": "luck", "description": "x"}, "area"), ({"area": "work", "description": "x", "state": "done"}, "state")):
        with pytest.raises(ActionRefused) as refused:
            cases.add_goal(ctx, case, parse(GoalIn, data))
        assert refused.value.field == field
    with pytest.raises(InvalidInput):
        cases.update_case(ctx, case, parse(CaseEditIn, {"sentence_start": "yesterday"}))


def test_list_filters_with_numbers_no_row_can_have_are_refused_or_ignored_not_a_server_error(client_for):
    """``?page=10**30`` or a case manager of 30 digits reached SQLite ("Python int too large") and
    ``?case_manager=²`` failed in ``int()``: each was a 500. Found by tests/fuzz (docs/security.md,
    "Bad input")."""
    client = client_for(Role.admin, "a")
    huge = "9" * 30
    for path in (f"/cases?page={huge}", f"/persons?page={huge}", f"/cases?case_manager={huge}", f"/releases?case_manager={huge}",
                 f"/follow-ups?case_manager={huge}", f"/admin/audit?user_id={huge}"):
        response = client.get(path)
        assert response.status_code == 400 and "Something in the address or the form is not valid." in response.text, path
    for path in ("/cases?case_manager=²", "/releases?case_manager=²", "/follow-ups?case_manager=²", "/cases.csv?case_manager=²",
                 "/admin/audit?record_type=person&record_id=²"):
        assert client.get(path).status_code == 200, path  # not a number: no filter, as for any other text
