"""Fill a database at the design size: a national consortium over ten years.

At ``--scale 1``: 100,000 persons (participants and their families, linked), 50,000 cases at
every status opened over ten years in three organisations (most in one), 2,000,000 timeline
events (about 0.5 % of the cases carry ~500 each) and the staff. Deterministic for a given
``--seed`` and ``--today``.

The schema comes from Alembic (:func:`core.migrate.upgrade`); rows go in with SQLAlchemy Core
``insert()`` executemany in large batches, a few transactions in all.

    .venv/bin/python -m bench.generate                      # bench/bench.db, full size
    .venv/bin/python -m bench.generate --scale 0.01 --force # a quick small one
    .venv/bin/python -m bench.generate --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection, Engine, Integer, event, func, insert, select, text
from sqlalchemy.orm import Session

from core.auth import hash_password
from core.db import make_engine
from core.demo import FAMILY, GIVEN_F, GIVEN_M, NOTES, PRISONS, PROVINCES
from core.migrate import upgrade
from core.models import (
    Case,
    CaseGoal,
    CaseStatus,
    CloseReason,
    Event,
    GoalArea,
    GoalState,
    Membership,
    Person,
    PersonLink,
    Relation,
    Role,
    User,
)
from core.plugins import get_plugin_manager
from core.services.admin import create_organisation

HERE = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = f"sqlite:///{HERE / 'bench.db'}"
BENCH_PASSWORD = "homecoming-bench"

PERSONS = 100_000
CASES = 50_000
EVENTS = 2_000_000
YEARS = 10
HEAVY_SHARE = 0.005
"""Share of cases with a very long timeline (~500 events)."""
HEAVY_EVENTS = (450, 550)
MAX_TYPICAL_EVENTS = 300
BATCH = 50_000
"""Rows per executemany."""
EVENTS_PER_TRANSACTION = 250_000
TRANSACTIONS = 1_000_000
"""Journal transactions in the organisations' general books."""
LEDGER_EXTRA_ACCOUNTS = (
    # what the modules' settings name, so the books hold every account their pages refer to
    ("Expenses:Programme:Grants", "USD,KHR"),
    ("Expenses:Programme:Release-Support", "USD,KHR"),
    ("Expenses:Programme:Community", "USD,KHR"),
    ("Assets:Receivable:Grant-Loans", "USD,KHR"),
    ("Assets:Mobile-Money:USD", "USD"),
    ("Assets:Mobile-Money:KHR", "KHR"),
)


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    share: float
    modules: tuple[str, ...] | None  # None: every installed module
    case_managers: int


ORGS = (
    OrgSpec("fresh-start", "Fresh Start Reintegration", 0.80, None, 60),
    OrgSpec("beyond-bars", "Beyond Bars Cambodia", 0.13, ("training", "family_visits"), 10),
    OrgSpec("second-chance", "Second Chance Kampot", 0.07, (), 4),
)
OTHER_STAFF = ((Role.admin, 1), (Role.programme_officer, 2), (Role.finance, 1), (Role.auditor, 1), (Role.viewer, 1))


def staff_email(slug: str, role: Role, n: int) -> str:
    """``case.manager1@fresh-start.bench``: the login ``bench.run`` signs in with."""
    return f"{role.value.replace('_', '.')}{n}@{slug}.bench"


# Event kinds, as small codes while the timeline is generated and sorted.
OPENED, TO_PRE, TO_RELEASED, TO_FOLLOW_UP, TO_CLOSED, NOTE, FAMILY_CONTACT, VISIT, REOFFENCE, CORRECTION = range(10)
STATUS_CHANGES = {
    TO_PRE: ("referred", "pre_release"),
    TO_RELEASED: ("pre_release", "released"),
    TO_FOLLOW_UP: ("released", "follow_up"),
    TO_CLOSED: ("follow_up", "closed"),
}
KIND_NAMES = {
    OPENED: "core.case_opened",
    **{code: "core.status_changed" for code in STATUS_CHANGES},
    NOTE: "core.note",
    FAMILY_CONTACT: "core.family_contact",
    VISIT: "core.follow_up_visit",
    REOFFENCE: "core.reoffended",
    CORRECTION: "core.correction",
}
CLOSE_REASONS = [
    (CloseReason.completed, 55),
    (CloseReason.re_offended, 15),
    (CloseReason.lost_contact, 12),
    (CloseReason.withdrew, 10),
    (CloseReason.transferred, 6),
    (CloseReason.deceased, 2),
]
PRISON_WEIGHTS = [30, 20, 15, 15, 10, 10]
PROGRAMMES = [("Reintegration", 80), ("Family reunification", 12), ("Vocational pathway", 8)]
WHO = ["Mother", "Father", "Wife", "Husband", "Brother", "Sister", "Son", "Daughter", "Village chief"]
EXTRA_NOTES = [
    "Phoned the family; all well.",
    "Met the employer, who is satisfied.",
    "Helped apply for an ID poor card.",
    "Accompanied to the health centre.",
    "Discussed budgeting and savings group.",
    "Visited the commune office about the family book.",
    "He asked for help finding a motorbike repair course.",
    "Mother says he comes home late; talked about it with him.",
]
SUMMARIES = NOTES + EXTRA_NOTES


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


@dataclass
class CasePlan:
    org: int  # index into ORGS
    opened: date
    status: CaseStatus
    release: date | None
    expected_release: date
    closed_on: date | None
    close_reason: CloseReason | None
    heavy: bool = False
    id: int = 0
    org_id: int = 0
    person_id: int = 0
    manager_id: int = 0
    n_events: int = 0
    prison: str = ""


@dataclass
class OrgRows:
    id: int
    managers: list[int] = field(default_factory=list)
    officers: list[int] = field(default_factory=list)


# --- planning ------------------------------------------------------------------------------------


def plan_case(rng: random.Random, org: int, today: date) -> CasePlan:
    """One case: when it opened (more recent years busier) and where it is now."""
    days_ago = 1 + int((YEARS * 365 - 1) * rng.random() ** 1.3)
    opened = today - timedelta(days=days_ago)
    u = rng.random()
    if days_ago < 90:
        status = CaseStatus.referred if u < 0.6 else CaseStatus.pre_release
    elif days_ago < 365:
        status = [CaseStatus.referred, CaseStatus.pre_release, CaseStatus.released, CaseStatus.follow_up][
            (u >= 0.1) + (u >= 0.5) + (u >= 0.7)
        ]
    elif days_ago < 3 * 365:
        status = [CaseStatus.pre_release, CaseStatus.released, CaseStatus.follow_up, CaseStatus.closed][
            (u >= 0.05) + (u >= 0.12) + (u >= 0.55)
        ]
    else:
        status = CaseStatus.follow_up if u < 0.05 else CaseStatus.closed
    release = closed_on = reason = None
    if status in (CaseStatus.referred, CaseStatus.pre_release):
        expected = today + timedelta(days=rng.randint(-10, 400))
    else:
        if status is CaseStatus.released:
            release = today - timedelta(days=rng.randint(1, 60))
        elif status is CaseStatus.follow_up:
            release = opened + timedelta(days=rng.randint(30, min(540, days_ago - 15)))
        else:
            release = opened + timedelta(days=rng.randint(30, min(540, days_ago - 31)))
            closed_on = min(release + timedelta(days=rng.randint(30, 3 * 365)), today - timedelta(days=1))
            reason = _weighted(rng, CLOSE_REASONS)
        expected = release - timedelta(days=rng.randint(0, 30))
    return CasePlan(org, opened, status, release, expected, closed_on, reason)


def structural_events(plan: CasePlan, rng: random.Random, today: date) -> list[tuple[date, int]]:
    """The events every case at this status has: opened, each status change, a re-offence."""
    out = [(plan.opened, OPENED)]
    if plan.status is not CaseStatus.referred:
        limit = plan.release or today
        out.append((min(plan.opened + timedelta(days=rng.randint(3, 30)), limit), TO_PRE))
    if plan.release:
        out.append((plan.release, TO_RELEASED))
    if plan.status in (CaseStatus.follow_up, CaseStatus.closed):
        assert plan.release is not None
        on = plan.release + timedelta(days=14)
        out.append((min(on, plan.closed_on or today, today), TO_FOLLOW_UP))
    if plan.closed_on:
        if plan.close_reason is CloseReason.re_offended:
            out.append((plan.closed_on - timedelta(days=5), REOFFENCE))
        out.append((plan.closed_on, TO_CLOSED))
    return out


def plan_event_counts(plans: list[CasePlan], n_events: int, rng: random.Random, today: date) -> None:
    """Spread ``n_events`` over the cases: proportional to how long each ran, with noise; a few
    heavy cases (long-running ones) get ~500."""
    spans = [((p.closed_on or today) - p.opened).days + 30 for p in plans]
    long_running = [i for i, s in enumerate(spans) if s > 2 * 365] or list(range(len(plans)))
    n_heavy = max(2, round(len(plans) * HEAVY_SHARE))
    for i in rng.sample(long_running, min(n_heavy, len(long_running))):
        plans[i].heavy = True
        plans[i].n_events = rng.randint(*HEAVY_EVENTS)
    weights = [s * rng.gammavariate(2.0, 0.5) for s in spans]
    typical = [i for i, p in enumerate(plans) if not p.heavy]
    rest = n_events - sum(p.n_events for p in plans if p.heavy)
    factor = rest / sum(weights[i] for i in typical)
    for _ in range(3):  # clipping moves the total; correct the factor a few times
        counts = {i: max(3, min(MAX_TYPICAL_EVENTS, round(weights[i] * factor))) for i in typical}
        factor *= rest / sum(counts.values())
    for i, n in counts.items():
        plans[i].n_events = n


def timeline_of(plan: CasePlan, rng: random.Random, today: date) -> list[tuple[int, int, int, int, int]]:
    """``(day ordinal, case id, order, kind code, random bits)`` for each event of the case."""
    events = structural_events(plan, rng, today)
    start = plan.opened.toordinal() + 1
    end = (plan.closed_on or today).toordinal()
    release = plan.release.toordinal() if plan.release else None
    for _ in range(max(0, plan.n_events - len(events))):
        day = rng.randint(start, max(start, end))
        u = rng.random()
        if u < 0.004:
            kind = CORRECTION
        elif release is None or day < release:
            kind = NOTE if u < 0.55 else FAMILY_CONTACT
        else:
            kind = VISIT if u < 0.45 else NOTE if u < 0.75 else FAMILY_CONTACT
        events.append((date.fromordinal(min(day, end)), kind))
    return [(on.toordinal(), plan.id, order, kind, rng.getrandbits(30)) for order, (on, kind) in enumerate(events)]


# --- rows ----------------------------------------------------------------------------------------


def _at(day: date, bits: int) -> datetime:
    return datetime.combine(day, dtime(8 + bits % 10, bits // 10 % 60), UTC)


def person_row(rng: random.Random, pid: int, org_id: int, sex: str, age: int, on: date, family: tuple[str, str] | None, where: tuple[str, str, str]) -> dict[str, Any]:
    fam = family or rng.choice(FAMILY)
    given = rng.choice(GIVEN_M if sex == "male" else GIVEN_F)
    province, district, village = where
    created = _at(on, rng.getrandbits(16))
    return {
        "id": pid,
        "org_id": org_id,
        "name": f"{fam[0]} {given[0]}",
        "name_km": f"{fam[1]} {given[1]}" if rng.random() < 0.95 else None,
        "sex": sex,
        "date_of_birth": on - timedelta(days=age * 365 + rng.randint(0, 364)),
        "id_number": None,
        "phone": f"0{rng.choice([12, 15, 17, 77, 89, 96])} {rng.randint(100, 999)} {rng.randint(100, 999)}" if rng.random() < 0.8 else None,
        "village": village,
        "commune": f"{district} commune",
        "district": district,
        "province": province,
        "created_at": created,
        "updated_at": created,
    }


RELATIVES = [  # (relation, sex or None for "either", same family name, age range)
    (Relation.parent, "female", True, (40, 75)),
    (Relation.spouse, None, False, (18, 50)),
    (Relation.sibling, None, True, (15, 50)),
    (Relation.child, None, True, (1, 25)),
    (Relation.parent, "male", True, (40, 75)),
    (Relation.guardian, None, False, (30, 70)),
]


def event_row(eid: int, t: tuple[int, int, int, int, int], plan: CasePlan, officers: list[int], names: dict[int, str], last: dict[int, int]) -> dict[str, Any]:
    day_ord, case_id, _order, kind, bits = t
    on = date.fromordinal(day_ord)
    summary = ""
    payload: dict[str, Any] = {}
    corrects = None
    if kind == OPENED:
        summary = names[plan.person_id]
    elif kind in STATUS_CHANGES:
        payload = dict(zip(("from", "to"), STATUS_CHANGES[kind]))
        if kind == TO_CLOSED and plan.close_reason:
            payload["close_reason"] = plan.close_reason.value
    elif kind == REOFFENCE:
        summary, payload = "Arrested again.", {"stage": "arrested", "offence_date": None}
    elif kind == CORRECTION:
        corrects = last.get(case_id)
        summary = "Corrected the date of the previous entry."
    else:
        summary = SUMMARIES[bits % len(SUMMARIES)]
        if kind == FAMILY_CONTACT:
            payload = {"contact": ("visit", "phone", "phone", "message")[bits >> 5 & 3], "who": WHO[(bits >> 7) % len(WHO)]}
        elif kind == VISIT:
            payload = {"place": ("home", "home", "workplace", "phone")[bits >> 5 & 3], "wellbeing": ("good", "good", "fair", "poor")[bits >> 7 & 3]}
    recorder = plan.manager_id if bits >> 12 & 15 or not officers else officers[(bits >> 16) % len(officers)]
    last[case_id] = eid
    return {
        "id": eid,
        "org_id": plan.org_id,
        "case_id": case_id,
        "kind": KIND_NAMES[kind],
        "occurred_on": on,
        "recorded_at": _at(on + timedelta(days=bits >> 20 & 3), bits),
        "recorded_by_id": recorder,
        "summary": summary,
        "payload": payload,
        "corrects_id": corrects,
    }


# --- loading -------------------------------------------------------------------------------------


def _bulk_pragmas(dbapi_connection, _record) -> None:
    """For the load only (the app's own connections keep core.db's settings)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache: index inserts stay in memory
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _prepare(database_url: str, force: bool) -> None:
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            if not force:
                raise click.ClickException(f"{path} exists; pass --force to replace it")
            for f in files:
                f.unlink(missing_ok=True)
        return
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            has_rows = conn.execute(text("SELECT to_regclass('organisations') IS NOT NULL")).scalar() and conn.execute(text("SELECT count(*) FROM organisations")).scalar()
    finally:
        engine.dispose()
    if has_rows:
        raise click.ClickException("the database is not empty: give an empty database (DROP DATABASE / CREATE DATABASE)")


class Loader:
    def __init__(self, engine: Engine, scale: float, seed: int, today: date, with_modules: bool = True, with_ledger: bool = True) -> None:
        self.with_modules = with_modules
        self.with_ledger = with_ledger
        self.engine = engine
        self.scale = scale
        self.seed = seed
        self.today = today
        self.rng = random.Random(seed)
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}

    def run(self) -> None:
        orgs = self.staff()
        plans = self.plan_cases(orgs)
        self.persons_and_cases(orgs, plans)
        self.events(orgs, plans)
        if self.with_modules:
            grants = self.modules(orgs, plans)
        else:
            grants = {}
        if self.with_ledger:
            self.ledger(orgs, plans, grants)

    def modules(self, orgs: list[OrgRows], plans: list[CasePlan]) -> dict[int, list[int]]:
        """Every built-in module's records for the organisations that use it (``bench.modules``)."""
        from bench.modules import ModuleData
        from core.db import Base

        started = time.perf_counter()
        data = ModuleData(self, orgs, plans)
        data.build()
        with self.engine.begin() as conn:
            for table in Base.metadata.sorted_tables:  # parents before children
                if data.rows.get(table):
                    self._insert(conn, table, data.rows[table], table.name)
            first = (conn.execute(select(func.max(Event.id))).scalar() or 0) + 1
            data.events.sort(key=lambda e: (e["occurred_on"], e["case_id"]))
            for offset, row in enumerate(data.events):
                row["id"] = first + offset
            self._insert(conn, Event.__table__, data.events, "module events")
        self._phase("module records", started)
        return data.approved_grants

    def ledger(self, orgs: list[OrgRows], plans: list[CasePlan], grants: dict[int, list[int]]) -> None:
        """Each organisation's general book: ``TRANSACTIONS`` journal entries in all, shared as the
        cases are, over ten years up to yesterday, with the hash chain ``post`` keeps
        (``bench.ledger.open_bench_book`` and ``fill_transactions``, the ledger benchmark's own data)."""
        from bench.ledger import fill_transactions, finish_fill, open_bench_book
        from ledger.posting import general_book

        started = time.perf_counter()
        n_total = round(TRANSACTIONS * self.scale)
        first = self.today.replace(year=self.today.year - YEARS, day=1)
        last = self.today - timedelta(days=1)
        total = 0
        for index, spec in enumerate(ORGS):
            n = round(n_total * spec.share) if index else n_total - sum(round(n_total * s.share) for s in ORGS[1:])
            org_id = orgs[index].id
            with Session(self.engine) as session:
                book_id = general_book(session, org_id).id
                session.commit()
            rng = random.Random(self.seed + 10 + index)
            with self.engine.begin() as conn:
                names, funds = open_bench_book(conn, org_id, book_id, rng, first, last, LEDGER_EXTRA_ACCOUNTS)
            cases = [p.id for p in plans if p.org == index]
            fill_transactions(self.engine, book_id, n, rng, cases, names, funds, first, last, grants=grants.get(org_id, []),
                              label=f"ledger {spec.slug[:7]}")
            total += n
        finish_fill(self.engine)
        self.counts["journal transactions"] = total
        self._phase("ledger", started)

    def _phase(self, name: str, started: float) -> None:
        self.timings[name] = time.perf_counter() - started

    def staff(self) -> list[OrgRows]:
        started = time.perf_counter()
        registry = get_plugin_manager()
        password_hash = hash_password(BENCH_PASSWORD)
        rng = self.rng
        out = []
        with Session(self.engine) as session:
            for spec in ORGS:
                modules = sorted(registry.modules) if spec.modules is None else [m for m in spec.modules if m in registry.modules]
                org = create_organisation(session, spec.slug, spec.name, modules)
                rows = OrgRows(org.id)
                staff = [(Role.case_manager, max(2, round(spec.case_managers * min(1.0, self.scale * 10)))), *OTHER_STAFF]
                for role, n in staff:
                    for k in range(1, n + 1):
                        fam, given = rng.choice(FAMILY), rng.choice(GIVEN_M + GIVEN_F)
                        user = User(email=staff_email(spec.slug, role, k), name=f"{fam[0]} {given[0]}", password_hash=password_hash)
                        session.add(user)
                        session.flush()
                        session.add(Membership(user_id=user.id, org_id=org.id, role=role))
                        if role is Role.case_manager:
                            rows.managers.append(user.id)
                        elif role is Role.programme_officer:
                            rows.officers.append(user.id)
                out.append(rows)
            session.commit()
            self.counts["users"] = session.scalar(select(func.count()).select_from(User)) or 0
        self._phase("organisations and staff", started)
        return out

    def plan_cases(self, orgs: list[OrgRows]) -> list[CasePlan]:
        started = time.perf_counter()
        rng = self.rng
        n_cases = round(CASES * self.scale)
        plans = []
        for index, spec in enumerate(ORGS):
            n = round(n_cases * spec.share) if index else n_cases - sum(round(n_cases * s.share) for s in ORGS[1:])
            plans += [plan_case(rng, index, self.today) for _ in range(n)]
        plans.sort(key=lambda p: (p.opened, p.org))
        for i, plan in enumerate(plans, start=1):
            plan.id = i
            plan.org_id = orgs[plan.org].id
            plan.manager_id = rng.choice(orgs[plan.org].managers)
        plan_event_counts(plans, round(EVENTS * self.scale), rng, self.today)
        self._phase("planning", started)
        return plans

    def persons_and_cases(self, orgs: list[OrgRows], plans: list[CasePlan]) -> None:
        """Participants (some come back with a second case after re-offending) and families."""
        started = time.perf_counter()
        rng = self.rng
        n_persons = round(PERSONS * self.scale)
        # Who is the case's person: a new participant, or one whose earlier case closed on a re-offence.
        returning: list[list[tuple[date, int]]] = [[] for _ in ORGS]
        participant_of: list[int] = []  # per case: index of its participant
        first_case: list[int] = []  # per participant: index of the case that brought them
        for i, plan in enumerate(plans):
            heap = returning[plan.org]
            if heap and heap[0][0] < plan.opened and rng.random() < 0.5:
                _closed, p = heapq.heappop(heap)
            else:
                p = len(first_case)
                first_case.append(i)
            participant_of.append(p)
            if plan.close_reason is CloseReason.re_offended and plan.closed_on:
                heapq.heappush(returning[plan.org], (plan.closed_on, p))
        n_participants = len(first_case)
        n_relatives = max(0, n_persons - n_participants)
        mean = n_relatives / max(1, n_participants)
        relatives = [max(0, round(rng.gauss(mean, 0.8))) for _ in range(n_participants)]
        diff = n_relatives - sum(relatives)
        while diff:
            j = rng.randrange(n_participants)
            if diff > 0:
                relatives[j] += 1
                diff -= 1
            elif relatives[j] > 0:
                relatives[j] -= 1
                diff += 1

        person_rows: list[dict[str, Any]] = []
        link_rows: list[dict[str, Any]] = []
        participant_ids: list[int] = []
        self.names: dict[int, str] = {}
        self.where: dict[int, tuple[str, str, str]] = {}  # participant -> (province, district, village)
        self.relatives: dict[int, list[tuple[int, str]]] = {}  # participant -> [(relative's person id, relation)]
        next_id = 1
        prisoner_seq: dict[tuple[int, int, int], int] = {}
        for p, i in enumerate(first_case):
            plan = plans[i]
            org_id = orgs[plan.org].id
            province = rng.choice(list(PROVINCES))
            where = (province, rng.choice(PROVINCES[province]), f"Phum {rng.randint(1, 20)}")
            family = rng.choice(FAMILY)
            sex = "male" if rng.random() < 0.82 else "female"
            row = person_row(rng, next_id, org_id, sex, rng.randint(18, 50), plan.opened, family, where)
            row["id_number"] = f"{rng.randint(100000000, 999999999)}"
            person_rows.append(row)
            participant_ids.append(next_id)
            self.names[next_id] = row["name"]
            self.where[next_id] = where
            pid = next_id
            next_id += 1
            for k in range(relatives[p]):
                relation, rsex, same_family, ages = RELATIVES[k % len(RELATIVES)] if k < len(RELATIVES) else (rng.choice([Relation.sibling, Relation.child, Relation.other]), None, True, (5, 60))
                if relation is Relation.spouse:
                    rsex = "female" if sex == "male" else "male"
                rsex = rsex or rng.choice(["male", "female"])
                person_rows.append(person_row(rng, next_id, org_id, rsex, rng.randint(*ages), plan.opened, family if same_family else None, where))
                link_rows.append({"org_id": org_id, "person_id": pid, "relative_id": next_id, "relation": relation.value})
                self.relatives.setdefault(pid, []).append((next_id, relation.value))
                next_id += 1

        case_rows: list[dict[str, Any]] = []
        goal_rows: list[dict[str, Any]] = []
        for i, plan in enumerate(plans):
            plan.person_id = participant_ids[participant_of[i]]
            prison = rng.choices(range(len(PRISONS)), weights=PRISON_WEIGHTS)[0]
            plan.prison = PRISONS[prison]
            key = (plan.org, prison, plan.opened.year)
            prisoner_seq[key] = prisoner_seq.get(key, 0) + 1
            created = _at(plan.opened, rng.getrandbits(16))
            case_rows.append(
                {
                    "id": plan.id,
                    "org_id": orgs[plan.org].id,
                    "person_id": plan.person_id,
                    "case_manager_id": plan.manager_id,
                    "programme": _weighted(rng, PROGRAMMES),
                    "prison": PRISONS[prison],
                    "prisoner_number": f"{prison + 1:02d}/{plan.opened.year}/{prisoner_seq[key]:04d}",
                    "sentence_start": plan.opened - timedelta(days=rng.randint(180, 2500)),
                    "sentence_end": plan.expected_release,
                    "expected_release": plan.expected_release,
                    "actual_release": plan.release,
                    "status": plan.status.value,
                    "close_reason": plan.close_reason.value if plan.close_reason else None,
                    "closed_on": plan.closed_on,
                    "opened_on": plan.opened,
                    "created_at": created,
                    "updated_at": _at(plan.closed_on or plan.release or plan.opened, rng.getrandbits(16)),
                }
            )
            done = plan.status is CaseStatus.closed
            for area in rng.sample(list(GoalArea), rng.randint(2, 4)):
                state = rng.choice([GoalState.met, GoalState.met, GoalState.declined, GoalState.in_progress] if done else list(GoalState))
                goal_rows.append(
                    {
                        "org_id": orgs[plan.org].id,
                        "case_id": plan.id,
                        "area": area.value,
                        "description": GOAL_TEXT[area],
                        "state": state.value,
                        "next_step": None if done else rng.choice(NEXT_STEPS),
                        "updated_at": created,
                    }
                )
        with self.engine.begin() as conn:
            self._insert(conn, Person.__table__, person_rows, "persons")
            self._insert(conn, PersonLink.__table__, link_rows, "family links")
            self._insert(conn, Case.__table__, case_rows, "cases")
            self._insert(conn, CaseGoal.__table__, goal_rows, "goals")
        self._phase("persons, families, cases, goals", started)

    def _insert(self, conn: Connection, table: Any, rows: list[dict[str, Any]], label: str) -> None:
        with click.progressbar(length=len(rows), label=f"{label:>14}", show_pos=True, width=30) as bar:
            for start in range(0, len(rows), BATCH):
                chunk = rows[start : start + BATCH]
                conn.execute(insert(table), chunk)
                bar.update(len(chunk))
        self.counts[label] = self.counts.get(label, 0) + len(rows)

    def events(self, orgs: list[OrgRows], plans: list[CasePlan]) -> None:
        """All timelines, written in the order they happened (as the app would have recorded them):
        a case's events are spread over the table, not stored together."""
        started = time.perf_counter()
        rng = random.Random(self.seed + 1)
        stream: list[tuple[int, int, int, int, int]] = []
        with click.progressbar(plans, label=f"{'timelines':>14}", show_pos=True, width=30) as bar:
            for plan in bar:
                stream += timeline_of(plan, rng, self.today)
        stream.sort()  # in the order they happened
        officers = {o.id: o.officers for o in orgs}
        by_id = {p.id: p for p in plans}
        last: dict[int, int] = {}
        total = len(stream)
        with click.progressbar(length=total, label=f"{'events':>14}", show_pos=True, width=30) as bar:
            for tx_start in range(0, total, EVENTS_PER_TRANSACTION):
                with self.engine.begin() as conn:
                    for start in range(tx_start, min(total, tx_start + EVENTS_PER_TRANSACTION), BATCH):
                        chunk = stream[start : start + BATCH]
                        rows = []
                        for offset, t in enumerate(chunk):
                            plan = by_id[t[1]]
                            rows.append(event_row(start + offset + 1, t, plan, officers[plan.org_id], self.names, last))
                        conn.execute(insert(Event.__table__), rows)
                        bar.update(len(rows))
        self.counts["events"] = total
        self._phase("events", started)


GOAL_TEXT = {
    GoalArea.housing: "A safe place to live with the family",
    GoalArea.work: "Paid work or a small business",
    GoalArea.family: "Rebuild the relationship with the family",
    GoalArea.health: "Regular health check-ups",
    GoalArea.documents: "National ID card and family book",
    GoalArea.education: "Finish the literacy course",
}
NEXT_STEPS = ["Discuss at the next visit", "Call the commune office", "Refer to the vocational centre", "Visit the family with him"]


def _finish(engine: Engine, analyze: bool) -> None:
    from core.db import Base

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # rows were written with their ids: move every sequence past them
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.primary_key and isinstance(table.c.id.type, Integer):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), coalesce((SELECT max(id) FROM {table.name}), 1))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does soon after a load anyway
        return
    with engine.connect() as conn:
        if analyze:
            conn.execute(text("ANALYZE"))
            conn.commit()
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@click.command()
@click.option("--database-url", default=DEFAULT_DATABASE_URL, show_default="sqlite:///bench/bench.db", help="SQLAlchemy URL of an empty database.")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.0001, 10), help="1 = the design size; 0.01 for a quick run.")
@click.option("--seed", default=2, show_default=True, type=int)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="The day the data ends (default: today).")
@click.option("--force", is_flag=True, help="Replace an existing SQLite file.")
@click.option("--analyze", is_flag=True, help="Run SQLite's ANALYZE at the end (the app itself never does; off by default). PostgreSQL is always analyzed.")
@click.option("--no-modules", is_flag=True, help="Leave the modules' tables empty.")
@click.option("--no-ledger", is_flag=True, help="Leave the ledger empty.")
def main(database_url: str, scale: float, seed: int, today: datetime | None, force: bool, analyze: bool, no_modules: bool, no_ledger: bool) -> None:
    """Fill an empty database with benchmark data of the design size."""
    day = today.date() if today else date.today()
    started = time.perf_counter()
    _prepare(database_url, force)
    upgrade(database_url, get_plugin_manager())
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _bulk_pragmas)
    migrated = time.perf_counter()
    loader = Loader(engine, scale, seed, day, with_modules=not no_modules, with_ledger=not no_ledger)
    try:
        loader.run()
        finished = time.perf_counter()
        _finish(engine, analyze)
    finally:
        engine.dispose()
    click.echo(f"\n{database_url} (scale {scale}, seed {seed}, today {day})")
    for name, n in loader.counts.items():
        click.echo(f"  {name:>24}: {n:>10,}")
    click.echo(f"  {'migrations':>24}: {migrated - started:8.1f} s")
    for name, seconds in loader.timings.items():
        click.echo(f"  {name:>24}: {seconds:8.1f} s")
    click.echo(f"  {'finish (checkpoint...)':>24}: {time.perf_counter() - finished:8.1f} s")
    click.echo(f"  {'total':>24}: {time.perf_counter() - started:8.1f} s")
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        click.echo(f"  {'file size':>24}: {path.stat().st_size / 1e6:8.0f} MB")
    click.echo(f"sign in as {staff_email(ORGS[0].slug, Role.case_manager, 1)} / {BENCH_PASSWORD}")


if __name__ == "__main__":
    main()
