"""Demo data: two organisations, staff of every role, about 200 persons with families and cases at
every status across two years, with timelines. Deterministic (seeded), built around today."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.auth import hash_password, load_current_user, role_permissions
from core.context import Context
from core.models import (
    Case,
    CaseGoal,
    CaseStatus,
    CloseReason,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    Event,
    GoalArea,
    GoalState,
    Membership,
    Person,
    PersonLink,
    Relation,
    Role,
    Sex,
    User,
)
from core.plugins import PluginRegistry
from core.services.admin import create_organisation

DEMO_PASSWORD = "homecoming-demo"

# Latin and Khmer spellings of common Cambodian family and given names.
FAMILY = [("Sok", "សុខ"), ("Chan", "ចាន់"), ("Kim", "គីម"), ("Heng", "ហេង"), ("Meas", "មាស"), ("Chea", "ជា"),
          ("Keo", "កែវ"), ("Phan", "ផាន"), ("Nhem", "ញឹម"), ("Seng", "សេង"), ("Ouk", "អ៊ុក"), ("Long", "ឡុង"),
          ("Srey", "ស្រី"), ("Pich", "ពេជ្រ"), ("Mao", "ម៉ៅ"), ("Touch", "ទូច"), ("Yim", "យឹម"), ("Ly", "លី")]
GIVEN_M = [("Dara", "ដារា"), ("Vuthy", "វុទ្ធី"), ("Sophal", "សុផល"), ("Rithy", "រិទ្ធី"), ("Piseth", "ពិសិដ្ឋ"),
           ("Sambath", "សម្បត្តិ"), ("Vannak", "វណ្ណៈ"), ("Kosal", "កុសល"), ("Bunthoeun", "ប៊ុនធឿន"), ("Narith", "ណារិទ្ធ")]
GIVEN_F = [("Sreymom", "ស្រីមុំ"), ("Chenda", "ចិន្តា"), ("Bopha", "បុប្ផា"), ("Sokha", "សុខា"), ("Channary", "ចាន់ណារី"),
           ("Leakhena", "លក្ខិណា"), ("Sophea", "សុភា"), ("Theary", "ធារី"), ("Kanha", "កញ្ញា"), ("Malis", "ម្លិះ")]
PROVINCES = {
    "Phnom Penh": ["Chbar Ampov", "Mean Chey", "Russey Keo"],
    "Kandal": ["Ta Khmau", "Kien Svay", "Ponhea Leu"],
    "Kampong Cham": ["Kampong Siem", "Prey Chhor", "Batheay"],
    "Battambang": ["Sangkae", "Banan", "Moung Ruessei"],
    "Siem Reap": ["Puok", "Angkor Thom", "Prasat Bakong"],
    "Kampot": ["Teuk Chhou", "Chhuk", "Angkor Chey"],
}
PRISONS = ["CC1 Prey Sar", "CC2 Prey Sar", "Kampong Cham Provincial Prison", "Battambang Provincial Prison",
           "Siem Reap Provincial Prison", "Kampot Provincial Prison"]
NOTES = ["Talked about plans after release.", "Family keen to welcome him home.", "Needs help with ID card.",
         "Attending literacy class twice a week.", "Worried about debts of the family.", "Good progress; motivated."]

ORGS = [
    ("fresh-start", "Fresh Start Reintegration", None, 200),
    ("beyond-bars", "Beyond Bars Cambodia", ["training", "family_visits"], 120),
]
# Follow-up policies (docs/follow_up.md): Beyond Bars visits monthly for six months, as This Life
# Beyond Bars does; Fresh Start keeps the default, every 90 days for 36 months.
POLICIES = {"beyond-bars": (1, "months", 6, 30)}
STAFF = [
    (Role.admin, "Sokun Admin"),
    (Role.case_manager, "Dara Case Manager"),
    (Role.case_manager, "Chenda Case Manager"),
    (Role.programme_officer, "Vanna Programme Officer"),
    (Role.finance, "Sophal Finance"),
    (Role.auditor, "Bopha Auditor"),
    (Role.viewer, "Rithy Viewer"),
]

ProgressFactory = Callable[[str, int], Any]


def _email(role: Role, name: str, slug: str, seen: set[str]) -> str:
    base = role.value.replace("_", ".")
    email = f"{base}@{slug}.demo"
    if email in seen:
        email = f"{base}.{name.split()[0].lower()}@{slug}.demo"
    seen.add(email)
    return email


def load_demo(
    session: Session, registry: PluginRegistry, today: date | None = None, progress: ProgressFactory | None = None, seed: int = 7,
    scale: float = 1.0,
) -> list[tuple[str, str, str]]:
    """Fill an empty database; returns ``(organisation, role, email)`` of every demo login.

    ``scale`` multiplies the number of persons (and so of cases) of each organisation; the
    modules' demo data follows the cases they are given (the query-count test loads the demo at
    two sizes)."""
    today = today or date.today()
    rng = random.Random(seed)
    password_hash = hash_password(DEMO_PASSWORD)
    logins: list[tuple[str, str, str]] = []
    perms = role_permissions(registry)
    for slug, name, modules, n_persons in ORGS:
        enabled = sorted(registry.modules) if modules is None else [m for m in modules if m in registry.modules]
        org = create_organisation(session, slug, name, enabled)
        if slug in POLICIES:
            (org.follow_up_interval, org.follow_up_interval_unit, org.follow_up_duration_months,
             org.follow_up_escalate_days) = POLICIES[slug]
        staff: dict[str, User] = {}
        managers: list[User] = []
        seen: set[str] = set()
        for role, person_name in STAFF:
            email = _email(role, person_name, slug, seen)
            user = User(email=email, name=person_name, password_hash=password_hash)
            session.add(user)
            session.flush()
            session.add(Membership(user_id=user.id, org_id=org.id, role=role))
            staff.setdefault(role.value, user)
            if role is Role.case_manager:
                managers.append(user)
            logins.append((slug, role.value, email))
        # The first case manager's overdue visits escalate to the programme officer; the other's,
        # with no supervisor set, to the administrators.
        session.flush()
        first = session.get(Membership, (managers[0].id, org.id))
        assert first is not None
        first.supervisor_id = staff[Role.programme_officer.value].id
        cases = _persons_and_cases(session, org.id, round(n_persons * scale), managers, rng, today, progress, slug)
        _share_consents(session, org.id, cases)
        registry.hooks_for(enabled).load_demo_data(
            session=session, organisation=org, cases=cases, staff=staff, today=today,
            context_for=partial(_context_for, session, registry, perms, org.id),
        )
        session.commit()
    return logins


def _context_for(session: Session, registry: PluginRegistry, perms: dict[Role, frozenset[str]], org_id: int, user: User, day: date) -> Context:
    """The context a request of ``user`` would get on ``day`` (the ``context_for`` of the
    ``load_demo_data`` hook)."""
    current = load_current_user(session, user.id, org_id, perms)
    assert current is not None, "a demo staff member belongs to the organisation"
    return Context(session, current, registry, today=day)


def _share_consents(session: Session, org_id: int, cases: list[Case]) -> None:
    """Two participants in three agreed, on the day their case opened, that what a referral needs
    may be shared with partners (a module refers only with that consent); one of them withdrew it."""
    rows = [Consent(org_id=org_id, person_id=c.person_id, purpose=ConsentPurpose.share_with_partners.value, method=ConsentMethod.signed.value,
                    given_on=c.opened_on, recorded_by_id=c.case_manager_id) for i, c in enumerate(cases) if i % 3 != 2]
    if rows:
        rows[-1].withdrawn_on = rows[-1].given_on + timedelta(days=1)
        rows[-1].withdrawn_by_id = rows[-1].recorded_by_id
    session.add_all(rows)
    session.flush()


def _name(rng: random.Random, sex: Sex, family: tuple[str, str] | None = None) -> tuple[str, str]:
    fam = family or rng.choice(FAMILY)
    given = rng.choice(GIVEN_M if sex is Sex.male else GIVEN_F)
    return f"{fam[0]} {given[0]}", f"{fam[1]} {given[1]}"


def _person(session: Session, org_id: int, rng: random.Random, sex: Sex, age: int, today: date, family: tuple[str, str] | None = None, where: tuple[str, str] | None = None) -> Person:
    latin, khmer = _name(rng, sex, family)
    province, district = where or (lambda p: (p, rng.choice(PROVINCES[p])))(rng.choice(list(PROVINCES)))
    person = Person(
        org_id=org_id,
        name=latin,
        name_km=khmer,
        sex=sex,
        date_of_birth=today - timedelta(days=age * 365 + rng.randint(0, 364)),
        phone=f"0{rng.choice([12, 15, 17, 77, 89, 96])} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        village=f"Phum {rng.randint(1, 12)}",
        commune=f"{district} commune",
        district=district,
        province=province,
    )
    session.add(person)
    return person


def _persons_and_cases(
    session: Session, org_id: int, n_persons: int, managers: list[User], rng: random.Random, today: date, progress: ProgressFactory | None, slug: str
) -> list[Case]:
    """About a third of the persons are participants with a case; the others are their family."""
    n_cases = n_persons // 3
    statuses = [CaseStatus.referred, CaseStatus.pre_release, CaseStatus.released, CaseStatus.follow_up, CaseStatus.closed]
    cases: list[Case] = []
    bar = progress(f"{slug}: persons, cases, timelines", n_cases) if progress else None
    ctx_bar = bar.__enter__() if bar else None
    try:
        for i in range(n_cases):
            sex = Sex.male if rng.random() < 0.8 else Sex.female
            family_name = rng.choice(FAMILY)
            province = rng.choice(list(PROVINCES))
            where = (province, rng.choice(PROVINCES[province]))
            participant = _person(session, org_id, rng, sex, rng.randint(18, 45), today, family_name, where)
            participant.id_number = f"{rng.randint(100000000, 999999999)}"
            relatives = [
                (Relation.parent, _person(session, org_id, rng, Sex.female, rng.randint(45, 70), today, family_name, where)),
                (Relation.spouse if rng.random() < 0.6 else Relation.sibling, _person(session, org_id, rng, Sex.female if sex is Sex.male else Sex.male, rng.randint(18, 45), today, None, where)),
            ]
            session.flush()
            for relation, relative in relatives:
                session.add(PersonLink(org_id=org_id, person_id=participant.id, relative_id=relative.id, relation=relation))
            status = statuses[i % len(statuses)]
            cases.append(_case(session, org_id, participant, status, managers, rng, today))
            if ctx_bar is not None:
                ctx_bar.update(1)
    finally:
        if bar:
            bar.__exit__(None, None, None)
    session.flush()
    return cases


def _case(session: Session, org_id: int, person: Person, status: CaseStatus, managers: list[User], rng: random.Random, today: date) -> Case:
    opened = today - timedelta(days=rng.randint(30, 720))
    sentence_start = opened - timedelta(days=rng.randint(365, 2000))
    manager = rng.choice(managers)
    case = Case(
        org_id=org_id,
        person_id=person.id,
        case_manager_id=manager.id,
        programme="Reintegration",
        prison=rng.choice(PRISONS),
        prisoner_number=f"P-{rng.randint(10000, 99999)}",
        sentence_start=sentence_start,
        opened_on=opened,
        status=status,
    )
    if status in (CaseStatus.referred, CaseStatus.pre_release):
        case.expected_release = today + timedelta(days=rng.randint(5, 300))
    else:
        released = opened + timedelta(days=rng.randint(60, max(61, (today - opened).days - 1)))
        released = min(released, today - timedelta(days=1))
        case.expected_release = released - timedelta(days=rng.randint(0, 20))
        case.actual_release = released
    case.sentence_end = case.expected_release
    if status is CaseStatus.closed:
        case.close_reason = rng.choice(list(CloseReason))
        case.closed_on = today - timedelta(days=rng.randint(0, 30))
    session.add(case)
    session.flush()
    for area in rng.sample(list(GoalArea), 3):
        session.add(CaseGoal(org_id=org_id, case_id=case.id, area=area, description=_goal_text(area), state=rng.choice(list(GoalState)), next_step="Discuss at the next visit"))
    _timeline(session, case, manager, rng, today)
    return case


def _goal_text(area: GoalArea) -> str:
    return {
        GoalArea.housing: "A safe place to live with the family",
        GoalArea.work: "Paid work or a small business",
        GoalArea.family: "Rebuild the relationship with the family",
        GoalArea.health: "Regular health check-ups",
        GoalArea.documents: "National ID card and family book",
        GoalArea.education: "Finish the literacy course",
    }[area]


def _visit_outcomes(rng: random.Random) -> dict[str, Any]:
    """What a follow-up visit saw (docs/outcomes.md): always the place and wellbeing, mostly work,
    housing and family, sometimes the monthly income (whole riel or dollars and cents, as text
    like the form sends it: the payload is JSON, never a float)."""
    payload: dict[str, Any] = {
        "place": rng.choice(["home", "workplace"]),
        "wellbeing": rng.choice(["good", "fair", "poor"]),
        "work": rng.choice(["employed", "own_business", "own_business", "looking", "not_working"]),
    }
    if rng.random() < 0.8:
        payload["housing"] = rng.choice(["family_home", "family_home", "own_home", "rented", "shelter"])
        payload["family"] = rng.choice(["living_with_family", "living_with_family", "in_contact", "strained", "no_contact"])
    if payload["work"] in ("employed", "own_business") and rng.random() < 0.6:
        if rng.random() < 0.5:
            payload.update(monthly_income=str(rng.randrange(60, 250)) + ".00", income_currency="USD")
        else:
            payload.update(monthly_income=str(rng.randrange(250, 1000) * 1000), income_currency="KHR")
    return payload


def _timeline(session: Session, case: Case, manager: User, rng: random.Random, today: date) -> None:
    def add(kind: str, on: date, summary: str = "", payload: dict[str, Any] | None = None) -> None:
        session.add(Event(org_id=case.org_id, case_id=case.id, kind=kind, occurred_on=min(on, today), recorded_by_id=manager.id, summary=summary, payload=payload or {}))

    add("core.case_opened", case.opened_on, case.person.name if case.person else "")
    day = case.opened_on
    end = case.actual_release or today
    while True:
        day += timedelta(days=rng.randint(20, 45))
        if day >= end:
            break
        if rng.random() < 0.5:
            add("core.note", day, rng.choice(NOTES))
        else:
            add("core.family_contact", day, rng.choice(NOTES), {"contact": rng.choice(["visit", "phone"]), "who": "Mother"})
    if case.status is not CaseStatus.referred:
        add("core.status_changed", case.opened_on + timedelta(days=7), "", {"from": "referred", "to": "pre_release"})
    if case.actual_release:
        add("core.status_changed", case.actual_release, "", {"from": "pre_release", "to": "released"})
        day = case.actual_release
        last = case.closed_on or today
        if case.closed_on is None and rng.random() < 0.4:
            # Some open cases had no visit for a while: the dashboard shows them as due or overdue.
            last = today - timedelta(days=rng.randint(80, 130))
        # Mostly regular follow-ups, some late.
        while True:
            day += timedelta(days=rng.choice([30, 60, 85, 90, 120]))
            if day >= last:
                break
            add("core.follow_up_visit", day, rng.choice(NOTES), _visit_outcomes(rng))
        if case.status in (CaseStatus.follow_up, CaseStatus.closed):
            add("core.status_changed", case.actual_release + timedelta(days=14), "", {"from": "released", "to": "follow_up"})
    if case.status is CaseStatus.closed and case.closed_on:
        if case.close_reason == CloseReason.re_offended:
            add("core.reoffended", case.closed_on - timedelta(days=5), "Arrested again.", {"stage": "arrested", "offence_date": None, "source": "family"})
        add("core.status_changed", case.closed_on, "", {"from": "follow_up", "to": "closed", "close_reason": case.close_reason})
