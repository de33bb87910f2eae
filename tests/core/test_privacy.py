"""Data protection (docs/privacy.md): a person's copy of everything held about them, and
anonymising closed cases after the retention period, which removes what identifies the person
from every table (the audit trail and the timeline included) while the statistics and the books
stay exactly as they were."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.auth import load_current_user, role_permissions
from core.context import Context
from core.db import Base, make_engine, make_session_factory
from core.errors import ActionRefused
from core.models import (
    Attachment,
    AttachmentContent,
    AuditEntry,
    Case,
    CaseGoal,
    CaseStatus,
    Consent,
    Event,
    Organisation,
    Person,
    PersonLink,
    Role,
    User,
)
from core.schemas import GoalIn, PersonIn, PersonLinkIn, StatusChangeIn
from core.services import cases, events, outcomes, persons, privacy, programme
from core.services.consent import ConsentIn, record_consent
from core.services.outcomes import add_months
from ledger import api as ledger
from plugins.grants.models import Grant
from plugins.housing.models import HousingAttachment
from plugins.training.models import Certificate
from tests.conftest import DEMO_TODAY, post_form
from tests.core.conftest import count, fresh

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

NAME, PHONE, RELATIVE, RELATIVE_PHONE = "Sokha Vireak", "012 777 314", "Chenda Vireak", "097 555 210"


def _set_retention(db: Session, org_id: int, months: int | None) -> None:
    db.execute(update(Organisation).where(Organisation.id == org_id).values(retention_months=months))
    db.commit()


def _identified_case(ctx: Context, db: Session) -> Case:
    """A case full of what identifies its person (and a relative known only through them),
    closed as re-offended today, with a follow-up visit and a counted re-offence on its timeline."""
    person = persons.create_person(ctx, PersonIn(
        name=NAME, name_km="សុខា", sex="male", date_of_birth=date(1990, 2, 17), id_number="ID-44556677", phone=PHONE,
        village="Phum Trapeang", commune="Khum Chrey", district="Kien Svay", province="Kandal", medical_notes="Asthma, inhaler"))
    relative = persons.create_person(ctx, PersonIn(name=RELATIVE, phone=RELATIVE_PHONE, village="Phum Trapeang"))
    persons.link_family(ctx, person, PersonLinkIn(relative_id=relative.id, relation="parent"))
    record_consent(ctx, person, ConsentIn(purpose="records", method="signed", given_on=ctx.today, note=f"{NAME} signed at the prison"))
    case = cases.create_case(ctx, cases.CaseIn(person_id=person.id, prison="CC2", prisoner_number="PN-90210", offence="Theft of a motorbike",
                                               case_manager_id=ctx.user.id, expected_release=ctx.today - timedelta(days=200)))
    cases.add_goal(ctx, case, GoalIn(area="family", description=f"Reconcile with {RELATIVE}"))
    cases.change_status(ctx, case, StatusChangeIn(status="released", actual_release=ctx.today - timedelta(days=200)))
    events.record_event(ctx, case, "core.note", ctx.today - timedelta(days=150), summary=f"Met {NAME} at home, phone {PHONE}")
    events.record_event(ctx, case, "core.family_contact", ctx.today - timedelta(days=140), summary="Visit", payload={"contact": "visit", "who": RELATIVE})
    events.record_event(ctx, case, "core.follow_up_visit", ctx.today - timedelta(days=100), summary=f"{NAME} works at the market",
                        payload={"place": "home", "wellbeing": "good", "work": "employed", "monthly_income": "120.50", "income_currency": "USD"})
    events.record_event(ctx, case, "core.reoffended", ctx.today - timedelta(days=30), summary=f"{NAME} arrested",
                        payload={"stage": "arrested", "offence_date": (ctx.today - timedelta(days=32)).isoformat(), "source": "police"})
    cases.change_status(ctx, case, StatusChangeIn(status="closed", close_reason="re_offended", note=f"{NAME} back in prison"))
    db.commit()
    return case


def _later(ctx: Context, months: int) -> Context:
    """The same staff member's context ``months`` months later."""
    later = Context(ctx.session, ctx.user, ctx.registry, today=add_months(ctx.today, months))
    return later


DIRECTORY_TABLES = frozenset({"training_cohorts", "community_partners"})
"""Tables of names that are not the participants' (trainers, partners' contacts)."""


def _everything(db: Session, only: frozenset[str] | None = None) -> str:
    """Every row of every table (or of the tables ``only``), as text (to look for what must be gone)."""
    fresh(db)
    dump = []
    for table in Base.metadata.sorted_tables:
        if only is not None and table.name not in only:
            continue
        for row in db.execute(select(table)).all():
            dump.append(" ".join(str(v) for v in row if not isinstance(v, (bytes, memoryview))))
    return "\n".join(dump)


# --- refusals ---------------------------------------------------------------------------------------


def test_only_a_closed_case_past_the_retention_period_is_anonymised(make_case, ctx_for, db, world):
    ctx = ctx_for(Role.admin, "a")
    closed = make_case("a", released_days_ago=10)
    cases.change_status(ctx, closed, StatusChangeIn(status="closed", close_reason="completed"))
    still_open = make_case("a", released_days_ago=5)
    db.commit()

    def refused(months_later: int, case: Case, match: str) -> None:
        with pytest.raises(ActionRefused, match=match):
            privacy.anonymise_case(_later(ctx_for(Role.admin, "a"), months_later), fresh(db).get(Case, case.id))
        db.rollback()

    refused(60, closed, "no retention period")
    _set_retention(db, world.org_ids["a"], 24)
    refused(60, still_open, "Only a closed case")
    refused(23, closed, "is not over")
    assert privacy.cases_due(_later(ctx_for(Role.admin, "a"), 23)) == []

    later = _later(ctx_for(Role.admin, "a"), 24)
    assert [d.case_id for d in privacy.cases_due(later)] == [closed.id]
    privacy.anonymise_case(later, fresh(db).get(Case, closed.id))
    db.commit()
    refused(24, closed, "already anonymised")
    assert fresh(db).get(Case, closed.id).anonymised_at is not None and fresh(db).get(Case, still_open.id).anonymised_at is None


def test_a_person_with_another_case_still_kept_is_not_anonymised_yet(make_person, make_case, ctx_for, db, world):
    _set_retention(db, world.org_ids["a"], 12)
    ctx = ctx_for(Role.admin, "a")
    person = make_person("a", name=NAME, phone=PHONE)
    first = make_case("a", person=person, released_days_ago=30)
    cases.change_status(ctx, first, StatusChangeIn(status="closed", close_reason="completed"))
    second = make_case("a", person=person)
    db.commit()
    assert privacy.anonymise_case(_later(ctx, 12), fresh(db).get(Case, first.id)) is False
    db.commit()
    kept = fresh(db).get(Person, person.id)
    assert (kept.name, kept.phone, kept.anonymised_at) == (NAME, PHONE, None)
    assert fresh(db).get(Case, second.id).anonymised_at is None


# --- what anonymisation removes and keeps ----------------------------------------------------------


def test_anonymising_removes_what_identifies_the_person_from_every_table_and_keeps_the_figures(ctx_for, db, world, registry):
    ctx = ctx_for(Role.admin, "a")
    case = _identified_case(ctx, db)
    person_id, relative_id = case.person_id, fresh(db).scalar(select(PersonLink.relative_id).where(PersonLink.person_id == case.person_id))
    _set_retention(db, world.org_ids["a"], 12)
    later = _later(ctx_for(Role.admin, "a"), 12)
    report_before = outcomes.report_for(later)
    status_before = programme.status_counts(later)
    kinds_before = [(e.kind, e.occurred_on, e.recorded_by_id, e.corrects_id) for e in fresh(db).scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id))]
    assert report_before.overall.reoffended_total == 1  # the figures the comparison is about are not empty

    assert privacy.anonymise_due(later) == 1
    db.commit()

    dump = _everything(db)
    for gone in (NAME, "Sokha", PHONE, "ID-44556677", "Phum Trapeang", "Khum Chrey", "Asthma", "PN-90210", "motorbike", RELATIVE, RELATIVE_PHONE, "សុខា"):
        assert gone not in dump, gone
    person = db.get(Person, person_id)
    assert (person.name, person.name_km, person.id_number, person.phone, person.village, person.commune, person.medical_notes) == (
        f"Anonymised {person_id}", None, None, None, None, None, None)
    assert (person.sex, person.date_of_birth, person.district, person.province) == ("male", date(1990, 7, 1), "Kien Svay", "Kandal")
    assert person.anonymised_at is not None and db.get(Person, relative_id).name == f"Anonymised {relative_id}"
    kase = db.get(Case, case.id)
    assert (kase.offence, kase.prisoner_number, kase.status, kase.close_reason, kase.prison) == (None, None, "closed", "re_offended", "CC2")
    assert kase.anonymised_at is not None and kase.closed_on == ctx.today and kase.case_manager_id == ctx.user.id
    assert db.scalar(select(CaseGoal.description).where(CaseGoal.case_id == case.id)) == ""
    timeline = list(db.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id)))
    assert [(e.kind, e.occurred_on, e.recorded_by_id, e.corrects_id) for e in timeline] == kinds_before
    assert {e.summary for e in timeline} == {""}
    by_kind = {e.kind: e.payload for e in timeline}
    assert by_kind["core.family_contact"] == {"contact": "visit", "who": ""}
    assert by_kind["core.follow_up_visit"] == {"place": "home", "wellbeing": "good", "work": "employed", "monthly_income": "120.50", "income_currency": "USD"}
    assert by_kind["core.reoffended"]["stage"] == "arrested" and by_kind["core.reoffended"]["source"] == "police"
    assert db.scalar(select(Consent.note).where(Consent.person_id == person_id)) is None

    # The statistics are exactly the same.
    assert outcomes.report_for(later) == report_before
    assert programme.status_counts(later) == status_before

    # The audit trail: who did what, when, stays; the values are redacted; the anonymisation is recorded.
    trail = list(db.scalars(select(AuditEntry).where(AuditEntry.org_id == world.org_ids["a"]).order_by(AuditEntry.id)))
    about_case = [e for e in trail if e.record_type == "case" and e.record_id == case.id]
    assert [e.action for e in about_case][:2] == ["created", "changed"]
    assert all(e.changes == privacy.REDACTED for e in about_case[:-1])
    assert about_case[-1].action == "changed" and list(about_case[-1].changes) == ["anonymised_at"]
    about_person = [e for e in trail if e.record_type == "person" and e.record_id == person_id]
    assert about_person[-1].changes.keys() == {"anonymised_at"} and all(e.changes == privacy.REDACTED for e in about_person[:-1])


def test_a_relative_linked_to_someone_else_or_with_a_case_of_their_own_is_kept(make_person, make_case, ctx_for, db, world):
    _set_retention(db, world.org_ids["a"], 12)
    ctx = ctx_for(Role.admin, "a")
    person = make_person("a", name=NAME)
    only_theirs = make_person("a", name="Only Theirs")
    shared = make_person("a", name="Shared Aunt")
    cousin = make_person("a", name="Cousin Elsewhere")
    with_case = make_person("a", name="Sibling With Case")
    for relative in (only_theirs, shared, with_case):
        persons.link_family(ctx, person, PersonLinkIn(relative_id=relative.id, relation="sibling"))
    persons.link_family(ctx, shared, PersonLinkIn(relative_id=cousin.id, relation="other"))
    db.commit()
    make_case("a", person=with_case)
    case = make_case("a", person=person, released_days_ago=10)
    cases.change_status(ctx, case, StatusChangeIn(status="closed", close_reason="completed"))
    db.commit()
    privacy.anonymise_case(_later(ctx, 12), case)
    db.commit()
    names = {p.id: p.name for p in fresh(db).scalars(select(Person))}
    assert names[only_theirs.id] == f"Anonymised {only_theirs.id}"
    assert (names[shared.id], names[cousin.id], names[with_case.id]) == ("Shared Aunt", "Cousin Elsewhere", "Sibling With Case")


# --- the audit trail's triggers allow the redaction and nothing else -------------------------------


def test_the_database_allows_only_the_redaction_of_an_audit_entry(make_person, db):
    make_person("a", name=NAME)
    entry_id = fresh(db).scalar(select(AuditEntry.id))
    for statement in (
        "UPDATE audit_entries SET changes = '{\"redacted\": true}', ip = '192.0.2.1'",
        "UPDATE audit_entries SET changes = '{\"redacted\": false}'",
        "UPDATE audit_entries SET changes = '{}'",
        "UPDATE audit_entries SET action = 'viewed'",
        "DELETE FROM audit_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement))
        db.rollback()
    assert NAME in json.dumps(fresh(db).get(AuditEntry, entry_id).changes)
    db.execute(text("UPDATE audit_entries SET changes = '{\"redacted\": true}'"))
    db.commit()
    entry = fresh(db).get(AuditEntry, entry_id)
    assert entry.changes == {"redacted": True} and entry.action == "created" and entry.record_type == "person"


# --- the web pages and the command line -------------------------------------------------------------


@SQLITE_ONLY
def test_the_administrator_sees_the_cases_due_and_anonymises_them_in_one_go(make_case, ctx_for, client_for, db, world):
    ctx = ctx_for(Role.admin, "a")
    closed = [make_case("a", released_days_ago=20) for _ in range(2)]
    for case in closed:
        cases.change_status(ctx, case, StatusChangeIn(status="closed", close_reason="completed"))
    db.execute(update(Case).where(Case.id.in_([c.id for c in closed])).values(closed_on=date.today() - timedelta(days=800)))
    db.commit()
    admin = client_for(Role.admin, "a")
    assert 'href="/admin/privacy"' in admin.get("/admin").text
    assert "No retention period is set" in admin.get("/admin/privacy").text
    _set_retention(db, world.org_ids["a"], 24)
    page = admin.get("/admin/privacy")
    assert page.status_code == 200 and all(f'data-case="{c.id}"' in page.text for c in closed)
    assert client_for(Role.case_manager, "a").get("/admin/privacy").status_code == 403
    assert post_form(client_for(Role.case_manager, "a"), "/admin/privacy/anonymise").status_code == 403
    assert post_form(client_for(Role.admin, "b"), "/admin/privacy/anonymise").status_code == 303  # org b: nothing due
    assert all(fresh(db).get(Case, c.id).anonymised_at is None for c in closed)
    response = post_form(admin, "/admin/privacy/anonymise")
    assert response.status_code == 303 and response.headers["location"] == "/admin/privacy?done=2"
    assert all(fresh(db).get(Case, c.id).anonymised_at is not None for c in closed)
    assert "2 cases were anonymised" in admin.get(response.headers["location"]).text


@SQLITE_ONLY
def test_the_command_anonymises_due_cases_and_its_dry_run_writes_nothing(make_case, ctx_for, db, world, database_url):
    from click.testing import CliRunner

    from core.cli import main

    ctx = ctx_for(Role.admin, "a")
    case = make_case("a", released_days_ago=20)
    cases.change_status(ctx, case, StatusChangeIn(status="closed", close_reason="completed"))
    db.execute(update(Case).where(Case.id == case.id).values(closed_on=date.today() - timedelta(days=800)))
    db.commit()
    runner = CliRunner()
    refused = runner.invoke(main, ["--database-url", database_url, "anonymise", "--org", "org-a"])
    assert refused.exit_code == 1 and "no retention period" in refused.output
    _set_retention(db, world.org_ids["a"], 24)
    dry = runner.invoke(main, ["--database-url", database_url, "anonymise", "--org", "org-a", "--dry-run"])
    assert dry.exit_code == 0 and f"case {case.id}:" in dry.output and fresh(db).get(Case, case.id).anonymised_at is None
    done = runner.invoke(main, ["--database-url", database_url, "anonymise", "--org", "org-a"])
    assert done.exit_code == 0, done.output
    assert "anonymised 1 cases of org-a" in done.output
    anonymised = fresh(db).get(Case, case.id)
    assert anonymised.anonymised_at is not None
    last = db.scalars(select(AuditEntry).where(AuditEntry.record_type == "case", AuditEntry.record_id == case.id).order_by(AuditEntry.id.desc())).first()
    assert last.user_id is None and list(last.changes) == ["anonymised_at"]


@SQLITE_ONLY
def test_an_erased_attachment_keeps_its_row_loses_its_content_and_answers_404(ctx_for, client_for, db, world):
    from core.services.attachments import save_attachment

    mine = save_attachment(db, world.org_ids["a"], filename="home.pdf", content=b"%PDF-1.4\nSokha's home\n%%EOF\n", plugin="core")
    theirs = save_attachment(db, world.org_ids["b"], filename="b.pdf", content=b"%PDF-1.4\nOther\n%%EOF\n", plugin="core")
    db.commit()
    client = client_for(Role.case_manager, "a")
    assert client.get(f"/files/{mine.key}").status_code == 200
    # Another organisation's file is out of reach (nothing erased), this one's content is gone.
    assert privacy.erase_attachments(ctx_for(Role.admin, "a"), [mine.id, theirs.id]) == 1
    db.commit()
    assert count(db, AttachmentContent) == 1 and fresh(db).get(AttachmentContent, theirs.id) is not None
    erased = db.get(Attachment, mine.id)
    assert (erased.filename, erased.size, erased.sha256) == (privacy.ERASED_FILENAME, mine.size, mine.sha256)
    assert client.get(f"/files/{mine.key}").status_code == 404


# --- a person's copy of their data -----------------------------------------------------------------


@SQLITE_ONLY
def test_the_export_holds_everything_about_the_person_and_nothing_of_another_organisation(ctx_for, client_for, db, world):
    from plugins.grants.models import Grant
    from plugins.release_support.models import ChecklistStep

    ctx = ctx_for(Role.admin, "a")
    case = _identified_case(ctx, db)
    db.add(Grant(org_id=world.org_ids["a"], case_id=case.id, business_type="tailoring", description="Sewing at home", expected_income_minor=12050,
                 expected_income_currency="USD", contribution_minor=400000, contribution_currency="KHR", submitted_on=ctx.today,
                 amount_minor=30000, currency="USD"))
    db.add(ChecklistStep(org_id=world.org_ids["a"], case_id=case.id, step="id_card", done_on=ctx.today, detail="Card 1234"))
    other_ctx = ctx_for(Role.admin, "b")
    stranger = persons.create_person(other_ctx, PersonIn(name="Stranger Of B"))
    db.commit()

    admin = client_for(Role.admin, "a")
    response = admin.get(f"/persons/{case.person_id}/export.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["person"]["name"] == NAME and data["person"]["medical_notes"] == "Asthma, inhaler"
    assert [f["name"] for f in data["family"]] == [RELATIVE]
    assert [c["purpose"] for c in data["consents"]] == ["records"]
    [exported_case] = data["cases"]
    assert exported_case["offence"] == "Theft of a motorbike" and exported_case["goals"][0]["description"] == f"Reconcile with {RELATIVE}"
    assert [e["kind"] for e in exported_case["events"]].count("core.reoffended") == 1
    assert {(e["record_type"], e["action"]) for e in data["audit_entries"]} >= {("person", "created"), ("case", "created"), ("case", "changed")}
    [grant] = data["modules"]["grants"]["grants"]
    assert (grant["amount"], grant["expected_income"], grant["contribution"], grant["description"]) == ("300.00", "120.50", "400000", "Sewing at home")
    assert data["modules"]["release_support"]["checklist"][0]["detail"] == "Card 1234"
    assert "Stranger Of B" not in response.text
    # The download is in the audit trail.
    last = fresh(db).scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.action, last.record_type, last.record_id, last.user_id) == ("exported", "person", case.person_id, world.users[("a", Role.admin)])

    assert admin.get(f"/persons/{stranger.id}/export.json").status_code == 404
    assert client_for(Role.admin, "b").get(f"/persons/{case.person_id}/export.json").status_code == 404
    assert client_for(Role.case_manager, "a").get(f"/persons/{case.person_id}/export.json").status_code == 403


# --- on the demo: every module's data, the statistics and the books ---------------------------------


@pytest.fixture
def demo_session(demo_db: str):
    engine = make_engine(demo_db)
    with make_session_factory(engine, writes=True)() as session:
        yield session
    engine.dispose()


def _demo_admin(session: Session, registry, slug: str) -> Context:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    admin = session.scalar(select(User).join(User.memberships).where(User.memberships.any(org_id=org.id, role=Role.admin.value)))
    user = load_current_user(session, admin.id, org.id, role_permissions(registry))
    return Context(session, user, registry, today=DEMO_TODAY)


def _books(session: Session, org_id: int) -> dict[str, object]:
    return {
        book.name: (ledger.balances(session, book), ledger.trial_balance(session, book))
        for book in session.scalars(select(ledger.Book).where(ledger.Book.org_id == org_id).order_by(ledger.Book.id))
    }


def _plain(value: object) -> object:
    """A dashboard as comparable values (its labels are lazy translations)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value if isinstance(value, (int, float, str, date, type(None))) or hasattr(value, "as_tuple") else str(value)


def test_on_the_demo_the_statistics_dashboard_and_books_are_identical_after_anonymising(demo_session, registry):
    """Every case of a demo organisation closed long enough ago (so that every module's records
    are concerned), then all anonymised at once."""
    session = demo_session
    slug = session.scalar(select(Organisation.slug).order_by(Organisation.id))
    ctx = _demo_admin(session, registry, slug)
    long_ago = DEMO_TODAY - timedelta(days=90)
    session.execute(update(Organisation).where(Organisation.id == ctx.org_id).values(retention_months=1))
    session.execute(
        update(Case).where(Case.org_id == ctx.org_id, or_(Case.closed_on.is_(None), Case.closed_on > long_ago))
        .values(status=CaseStatus.closed.value, close_reason=func.coalesce(Case.close_reason, "completed"), closed_on=long_ago)
    )
    session.commit()
    ctx = _demo_admin(session, registry, slug)
    due = privacy.cases_due(ctx)
    assert len(due) == session.scalar(select(func.count()).select_from(Case).where(Case.org_id == ctx.org_id))
    due_persons = {d.person_id for d in due}
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(due_persons))).all())
    exported = [privacy.export_person(ctx, session.get(Person, pid))["modules"] for pid in due_persons]
    assert {"grants", "housing", "training", "family_visits", "release_support"} <= {m for e in exported for m in e}
    report, dashboard, books = outcomes.report_for(ctx), _plain(programme.dashboard(ctx)), _books(session, ctx.org_id)

    assert privacy.anonymise_due(ctx) == len(due)
    session.commit()
    session.expire_all()
    ctx = _demo_admin(session, registry, slug)

    assert outcomes.report_for(ctx) == report
    assert _plain(programme.dashboard(ctx)) == dashboard
    assert _books(session, ctx.org_id) == books
    assert privacy.cases_due(ctx) == []
    assert all(session.get(Person, pid).anonymised_at is not None for pid in due_persons)
    assert set(session.scalars(select(Grant.description).where(Grant.org_id == ctx.org_id))) == {""}
    assert set(session.scalars(select(Certificate.holder_name).where(Certificate.org_id == ctx.org_id))) <= {
        privacy.anonymised_name(pid) for pid in due_persons}
    assert session.scalar(select(func.count()).select_from(AttachmentContent).join(HousingAttachment, HousingAttachment.attachment_id == AttachmentContent.attachment_id)
                          .where(HousingAttachment.org_id == ctx.org_id, HousingAttachment.role == "photo")) == 0
    # Their names are gone from every table, the audit trail, the timelines and the books included
    # (a name that a kept person, a trainer or a partner's contact also has aside: the demo draws
    # every name from one list).
    kept = set(session.scalars(select(Person.name).where(Person.anonymised_at.is_(None))))
    directory = _everything(session, only=DIRECTORY_TABLES)
    dump = _everything(session)
    for name in names.values():
        if name not in kept and name not in directory:
            assert name not in dump, name
