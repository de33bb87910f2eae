"""The built-in modules' records at the design size, for ``bench.generate``.

For each organisation that has a module switched on (``generate.ORGS``), rows in proportion to its
cases, built from the cases the generator planned (their dates, persons, families and prisons):

- **training**: a catalogue of 12 courses, one cohort per 100 cases over ten years (20-30 places,
  30-40 sessions each), enrolments of cases that were open when the cohort started, attendance on
  every session held (87 % present), scores and certificates for those who completed;
- **grants** (business plans): 12 % of the released cases, most approved, with cost items,
  2-3 tranches paid as their time came (movements with receipts), repayable parts with their
  instalments and the repayments made;
- **family visits**: a visit plan for a quarter of the cases (1-2 family members), visits every
  1-3 months while the person was inside, most subsidised once per period;
- **housing**: home assessments for 8 % of the released cases with their household, 1-3 repairs
  each at a status that follows their age, quotes, payments and progress notes;
- **release support**: a stock of 12 items with receipts (bought in the quantities handed out), a
  release record for every release (cash, food, nights, 2-5 starter-pack lines) and its checklist;
- **community**: partners, referrals of 15 % of the released cases, monthly peer meetings with
  attendance and small costs.

Each record that a module's service would have put on the case timeline also gets its event
(``training.enrolled``, ``grants.plan_submitted``/``approved``, ``family_visits.plan_set``/
``visit_recorded``, ``housing.assessed``, ``release_support.support_given``, ``community.referred``/
``meeting_attended``) with the payload its schema asks for; the generator appends them to
``events`` after the core timelines. Every row gets its id here, so the rows can refer to each
other without reading anything back.
Deterministic for a given seed and day. Rows that would be journal entries (payments, subsidies)
leave their ``txn_id`` empty: the books are filled separately (``bench.ledger.fill_transactions``),
with metadata naming real cases and approved grants.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table

from core.demo import PROVINCES
from core.models import CaseStatus

if TYPE_CHECKING:
    from bench.generate import CasePlan, Loader, OrgRows

RELEASED = (CaseStatus.released, CaseStatus.follow_up, CaseStatus.closed)
TRADES = ["motor_mechanics", "electronics_repair", "electrical_installation", "air_conditioning_repair", "tailoring",
          "hairdressing", "computing", "agriculture", "literacy", "other"]
DROP_REASONS = ["released_or_transferred", "found_work", "health", "family", "lost_interest", "lost_contact", "other"]
BUSINESS_TYPES = ["motorbike_repair", "tailoring", "grocery_stall", "pig_raising", "hairdressing", "electronics_repair",
                  "agriculture", "food_stall", "other"]
COST_ITEMS = ["Tools", "First stock", "Sewing machine", "Market stall rent", "Piglets and feed", "Spare parts", "Cart", "Scales"]
REPAIR_TYPES = ["roof", "walls", "floor", "water", "sanitation", "electricity", "other"]
MATERIALS = ["thatch", "palm_leaves", "metal_sheets", "tiles", "wood", "bamboo", "brick", "concrete", "earth", "tarpaulin"]
STOCK = [("Rice 5 kg", "bag", 18000), ("Mosquito net", "net", 12000), ("Soap", "bar", 1500), ("Toothbrush and paste", "set", 3000),
         ("Sarong", "piece", 10000), ("T-shirt", "piece", 8000), ("Sandals", "pair", 6000), ("Towel", "piece", 5000),
         ("Blanket", "piece", 15000), ("Water bottle", "bottle", 4000), ("Torch", "piece", 7000), ("Dried fish 1 kg", "pack", 16000)]
STEPS = ("collected", "reached_home", "identity_card", "release_certificate", "birth_certificate", "family_book")
PARTNER_KINDS = ["church", "pagoda", "commune_office", "employer", "health_centre", "other"]
PURPOSES = ["spiritual_support", "employment", "health", "local_follow_up"]
TOPICS = ["Living with the family again", "Finding work after release", "Handling debts and money", "Dealing with stigma",
          "Staying away from old friends", "Health and alcohol"]


def add_months(day: date, months: int) -> date:
    m = day.year * 12 + day.month - 1 + months
    return date(m // 12, m % 12 + 1, 1)


def decimal_text(minor: int, currency: str) -> str:
    """Minor units as the services write money into payloads: ``"12.50"`` (USD), ``"48000"`` (KHR)."""
    return f"{minor // 100}.{minor % 100:02d}" if currency == "USD" else str(minor)


def _at(day: date, bits: int) -> datetime:
    return datetime.combine(day, dtime(8 + bits % 10, bits // 10 % 60), UTC)


class ModuleData:
    """Builds ``rows`` (table -> rows, in an order the foreign keys accept)."""

    def __init__(self, loader: Loader, orgs: list[OrgRows], plans: list[CasePlan]) -> None:
        from bench.generate import ORGS
        from core.plugins import get_plugin_manager

        self.loader = loader
        self.orgs = orgs
        self.plans = plans
        self.today = loader.today
        self.scale = loader.scale
        self.rng = random.Random(loader.seed + 2)
        self.rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self.ids: dict[Table, int] = defaultdict(int)
        self.approved_grants: dict[int, list[int]] = {}
        self.events: list[dict[str, Any]] = []  # the modules' timeline events (ids given by the generator)
        installed = get_plugin_manager().modules
        self.using: dict[str, list[int]] = defaultdict(list)  # module -> indexes into ORGS
        for index, spec in enumerate(ORGS):
            for module in installed if spec.modules is None else spec.modules:
                self.using[module].append(index)

    # --- helpers ---------------------------------------------------------------------------------

    def add(self, table: Table, **row: Any) -> int:
        """Append a row with the next id of its table; return the id."""
        self.ids[table] += 1
        row["id"] = self.ids[table]
        self.rows[table].append(row)
        return row["id"]

    def add_keyed(self, table: Table, **row: Any) -> None:
        """A row whose primary key is not ``id`` (the settings tables)."""
        self.rows[table].append(row)

    def event(self, plan: CasePlan, kind: str, day: date, summary: str, payload: dict[str, Any], bits: int = 0) -> None:
        """A timeline event the module would have recorded with the row (as its service does)."""
        self.events.append({"org_id": plan.org_id, "case_id": plan.id, "kind": kind, "occurred_on": day,
                            "recorded_at": _at(day, bits + plan.id), "recorded_by_id": plan.manager_id, "summary": summary[:200],
                            "payload": payload, "corrects_id": None})

    def cases_of(self, index: int) -> list[CasePlan]:
        return [p for p in self.plans if p.org == index]

    def clip(self, day: date) -> date:
        return min(day, self.today - timedelta(days=1))

    def n(self, full: int) -> int:
        return max(2, round(full * self.scale))

    def build(self) -> None:
        for module, build in (("training", self.training), ("grants", self.grants), ("family_visits", self.family_visits),
                              ("housing", self.housing), ("release_support", self.release_support), ("community", self.community)):
            for index in self.using.get(module, []):
                build(index)

    # --- training --------------------------------------------------------------------------------

    def training(self, index: int) -> None:
        from plugins.training import models as m

        rng, today, org = self.rng, self.today, self.orgs[index]
        org_id = org.id
        cases = self.cases_of(index)
        opened = [p.opened for p in cases]
        courses = []
        for k in range(12):
            trade = TRADES[k % len(TRADES)]
            location = "community" if k % 3 == 0 else "prison"
            title = f"{trade.replace('_', ' ').capitalize()} {'basic' if k < 6 else 'advanced'}"
            cid = self.add(m.Course.__table__, org_id=org_id, trade=trade, title=title,
                           certifying_body=rng.choice(["Ministry of Labour and Vocational Training", "Provincial Training Centre", "Don Bosco Technical School"]),
                           hours=rng.choice([60, 120, 180, 240, 300]), pass_mark=rng.choice([50, 60]), attendance_threshold=rng.choice([75, 80]),
                           location=location, prison=None if location == "community" else rng.choice(sorted({p.prison for p in cases[:50]})),
                           created_at=_at(today - timedelta(days=3650), k))
            courses.append((cid, title))
        for _ in range(max(2, round(len(cases) / 100)) if cases else 0):  # one cohort per 100 cases
            course_id, title = rng.choice(courses)
            starts = today - timedelta(days=int(3600 * rng.random() ** 1.2))
            ends = starts + timedelta(days=rng.randint(56, 112))
            capacity = rng.randint(20, 30)
            cohort = self.add(m.Cohort.__table__, org_id=org_id, course_id=course_id, trainer=f"Trainer {rng.randint(1, 40)}",
                              starts_on=starts, ends_on=ends, capacity=capacity, created_at=_at(starts - timedelta(days=14), capacity))
            n_sessions = rng.randint(30, 40)
            span = (ends - starts).days
            sessions = []
            for j in range(n_sessions):
                held = starts + timedelta(days=j * span // (n_sessions - 1))
                sessions.append((self.add(m.TrainingSession.__table__, org_id=org_id, cohort_id=cohort, held_on=held, topic=f"Unit {j + 1}"), held))
            hi = bisect.bisect_right(opened, starts)
            chosen: set[int] = set()
            for _try in range(capacity * 20):
                if len(chosen) >= rng.randint(capacity - 8, capacity) or hi == 0:
                    break
                plan = cases[rng.randrange(hi)]
                if (plan.closed_on or today) >= starts:
                    chosen.add(plan.id)
            by_id = {p.id: p for p in cases[:hi]}
            for case_id in sorted(chosen):
                plan = by_id[case_id]
                status, dropped, reason, practical, theory = "enrolled", None, None, None, None
                u = rng.random()
                if ends < today:
                    if u < 0.74:
                        status, practical, theory = "completed", rng.randint(35, 100), rng.randint(35, 100)
                    else:
                        status = "dropped_out"
                elif u < 0.1:
                    status = "dropped_out"
                if status == "dropped_out":
                    dropped = self.clip(starts + timedelta(days=rng.randint(1, max(1, min(span, (today - starts).days)))))
                    reason = rng.choice(DROP_REASONS)
                enrolled_on = starts - timedelta(days=rng.randint(1, 14))
                enrolment = self.add(m.Enrolment.__table__, org_id=org_id, cohort_id=cohort, case_id=case_id,
                                     enrolled_on=enrolled_on, status=status, dropped_on=dropped,
                                     drop_reason=reason, drop_note="", practical_score=practical, theory_score=theory,
                                     created_at=_at(starts, case_id))
                self.event(plan, "training.enrolled", enrolled_on, title,
                           {"enrolment_id": enrolment, "course": title, "starts_on": starts.isoformat()}, enrolment)
                last = min(today - timedelta(days=1), dropped or today)
                for session_id, held in sessions:
                    if held <= last:
                        self.add(m.Attendance.__table__, org_id=org_id, session_id=session_id, enrolment_id=enrolment,
                                 present=rng.random() < 0.87)
                if status == "completed" and practical >= 50 and theory >= 50:
                    number = self.ids[m.Certificate.__table__] + 1
                    self.add(m.Certificate.__table__, org_id=org_id, enrolment_id=enrolment, number=f"HC-{ends.year}-{number:06d}",
                             verification_code=f"{rng.getrandbits(48):012X}", holder_name=self.loader.names[plan.person_id],
                             course_title=title, issued_on=ends, issued_by_id=rng.choice(org.officers) if org.officers else None,
                             created_at=_at(ends, number))

    # --- grants ----------------------------------------------------------------------------------

    def grants(self, index: int) -> None:
        from plugins.grants import models as m

        rng, today, org = self.rng, self.today, self.orgs[index]
        org_id = org.id
        officer = (lambda: rng.choice(org.officers)) if org.officers else (lambda: None)
        eligible = [p for p in self.cases_of(index) if p.release and p.status in RELEASED and p.release < today - timedelta(days=2)]
        approved_ids = self.approved_grants.setdefault(org_id, [])
        for plan in rng.sample(eligible, round(len(eligible) * 0.12)):
            submitted = self.clip(plan.release + timedelta(days=rng.randint(20, 240)))
            age = (today - submitted).days
            u = rng.random()
            status = ("submitted" if u < 0.6 else "approved") if age < 30 else ("approved" if u < 0.88 else "rejected")
            currency = "USD" if rng.random() < 0.85 else "KHR"
            unit = 100 if currency == "USD" else 4000  # a dollar in minor units
            total = rng.randint(300, 1500) * unit
            province, district, village = self.loader.where.get(plan.person_id, ("", "", ""))
            decided = self.clip(submitted + timedelta(days=rng.randint(3, 20))) if status != "submitted" else None
            repayable = round(total * 0.3) if status == "approved" and rng.random() < 0.4 else 0
            grant = self.add(m.Grant.__table__, org_id=org_id, case_id=plan.id, status=status, business_type=rng.choice(BUSINESS_TYPES),
                             description="A small business near home, planned with the case manager.", village=village,
                             commune=f"{district} commune", district=district, province=province,
                             expected_income_minor=rng.randint(50, 300) * unit, expected_income_currency=currency,
                             contribution_minor=rng.randint(0, 100) * unit, contribution_currency=currency, certificate_number="",
                             submitted_on=submitted, submitted_by_id=plan.manager_id, decided_on=decided,
                             decided_by_id=officer() if decided else None,
                             reject_reason="The plan does not show where the customers come from." if status == "rejected" else "",
                             amount_minor=total if status == "approved" else None, currency=currency if status == "approved" else None,
                             fund_code="reintegration" if status == "approved" else None, repayable_minor=repayable, book_id=None,
                             created_at=_at(submitted, plan.id))
            self.event(plan, "grants.plan_submitted", submitted, "A small business near home, planned with the case manager.",
                       {"grant_id": grant, "business_type": self.rows[m.Grant.__table__][-1]["business_type"]}, grant)
            if status == "approved":
                self.event(plan, "grants.approved", decided, "",
                           {"grant_id": grant, "amount": decimal_text(total, currency), "currency": currency,
                            "fund": "reintegration"}, grant)
            n_items = rng.randint(2, 5)
            cuts = sorted(rng.sample(range(1, total // unit), n_items - 1)) if total // unit > n_items else []
            bounds = [0, *[c * unit for c in cuts], total]
            for k in range(len(bounds) - 1):
                self.add(m.CostItem.__table__, org_id=org_id, grant_id=grant, position=k + 1, description=COST_ITEMS[(k + grant) % len(COST_ITEMS)],
                         amount_minor=bounds[k + 1] - bounds[k], currency=currency)
            if status != "approved":
                continue
            approved_ids.append(grant)
            n_tranches = rng.randint(2, 3)
            share = total // n_tranches
            for k in range(n_tranches):
                amount = share if k < n_tranches - 1 else total - share * (n_tranches - 1)
                tranche = self.add(m.Tranche.__table__, org_id=org_id, grant_id=grant, position=k + 1, amount_minor=amount,
                                   condition="On approval" if k == 0 else "When the business is running")
                paid_on = decided + timedelta(days=7 + 60 * k)
                if paid_on < today:
                    method = "cash" if rng.random() < 0.6 else "bank"
                    self.add(m.Movement.__table__, org_id=org_id, grant_id=grant, kind="tranche", day=paid_on, amount_minor=amount,
                             loan_minor=round(amount * repayable / total), method=method, paid_minor=amount, paid_currency=currency,
                             rate=None, receipt=f"G{self.ids[m.Movement.__table__] + 1:07d}", tranche_id=tranche, description="", supplier="",
                             asset=None, reason="", reverses_id=None, general_txn_id=None, business_txn_id=None,
                             recorded_by_id=officer(), created_at=_at(paid_on, tranche))
            if repayable:
                each = repayable // 6
                for k in range(6):
                    due = add_months(decided, 4 + k)
                    amount = each if k < 5 else repayable - each * 5
                    self.add(m.Instalment.__table__, org_id=org_id, grant_id=grant, due_on=due, amount_minor=amount)
                    if due < today and rng.random() < 0.75:
                        self.add(m.Movement.__table__, org_id=org_id, grant_id=grant, kind="repayment", day=due, amount_minor=amount,
                                 loan_minor=amount, method="cash", paid_minor=amount, paid_currency=currency, rate=None,
                                 receipt=f"G{self.ids[m.Movement.__table__] + 1:07d}", tranche_id=None, description="", supplier="",
                                 asset=None, reason="", reverses_id=None, general_txn_id=None, business_txn_id=None,
                                 recorded_by_id=officer(), created_at=_at(due, grant))

    # --- family visits ---------------------------------------------------------------------------

    def family_visits(self, index: int) -> None:
        from plugins.family_visits import models as m

        rng, today, org = self.rng, self.today, self.orgs[index]
        org_id = org.id
        self.add_keyed(m.VisitSettings.__table__, org_id=org_id, fund_code="family", limit_usd_minor=2500, limit_khr_minor=100_000,
                       updated_by_id=None, updated_at=_at(today - timedelta(days=3650), 1))
        cases = [p for p in self.cases_of(index) if self.loader.relatives.get(p.person_id)]
        for plan in rng.sample(cases, round(len(cases) * 0.25)):
            relatives = self.loader.relatives[plan.person_id]
            members = rng.sample(relatives, min(len(relatives), rng.randint(1, 2)))
            interval = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
            currency = "KHR" if rng.random() < 0.7 else "USD"
            unit = 1 if currency == "KHR" else 0.025  # riel -> cents at 4,000 riel a dollar
            transport, food, room = (round(rng.randint(5, 15) * 4000 * unit), round(rng.randint(1, 3) * 4000 * unit),
                                     round(rng.choice([0, 0, 20000]) * unit))
            starts = plan.opened.replace(day=1)
            village = self.loader.where.get(plan.person_id, ("", "", ""))[2]
            plan_id = self.add(m.VisitPlan.__table__, org_id=org_id, case_id=plan.id, village=village, prison=plan.prison,
                               interval_months=interval, starts_on=starts, currency=currency, transport_minor=transport, food_minor=food,
                               accommodation_minor=room, set_by_id=plan.manager_id, set_on=plan.opened, created_at=_at(plan.opened, plan.id))
            for person_id, relation in members:
                self.add(m.PlanMember.__table__, org_id=org_id, plan_id=plan_id, person_id=person_id, relation=relation)
            subsidy = transport + food + room
            self.event(plan, "family_visits.plan_set", plan.opened, f"{village} → {plan.prison}",
                       {"plan_id": plan_id, "prison": plan.prison, "interval_months": interval,
                        "subsidy": decimal_text(subsidy, currency), "currency": currency, "members": len(members)}, plan_id)
            end = min(plan.release or plan.closed_on or today, today - timedelta(days=1))
            period, k = starts, 0
            while period <= end and k < 36:
                visited = period + timedelta(days=rng.randint(0, 27))
                k += 1
                if visited <= end and visited >= plan.opened and rng.random() < 0.85:
                    subsidised = rng.random() < 0.8
                    visitors = rng.sample(members, rng.randint(1, len(members)))
                    visit = self.add(m.Visit.__table__, org_id=org_id, plan_id=plan_id, case_id=plan.id, visited_on=visited,
                                     duration_minutes=rng.choice([15, 20, 30, 45]), notes="", prison=plan.prison,
                                     payment=rng.choice(["cash", "mobile_money"]) if subsidised else "none",
                                     period=period if subsidised else None, currency=currency if subsidised else None,
                                     transport_minor=transport if subsidised else 0, food_minor=food if subsidised else 0,
                                     accommodation_minor=room if subsidised else 0, reference="",
                                     paid_to_id=visitors[0][0] if subsidised else None, approved_by_id=None, approval_note="",
                                     fund_code="family" if subsidised else None, txn_id=None, recorded_by_id=plan.manager_id,
                                     created_at=_at(visited, k))
                    for person_id, _relation in visitors:
                        self.add(m.VisitVisitor.__table__, org_id=org_id, visit_id=visit, person_id=person_id)
                    payment = self.rows[m.Visit.__table__][-1]["payment"]
                    self.event(plan, "family_visits.visit_recorded", visited, f"{len(visitors)} visitor(s) at {plan.prison}",
                               {"visit_id": visit, "visitors": len(visitors), "payment": payment,
                                "subsidy": decimal_text(subsidy, currency) if subsidised else None,
                                "currency": currency if subsidised else None, "reference": ""}, visit)
                period = add_months(period, interval)

    # --- housing ---------------------------------------------------------------------------------

    def housing(self, index: int) -> None:
        from plugins.housing import models as m

        rng, today, org = self.rng, self.today, self.orgs[index]
        org_id = org.id
        officer = (lambda: rng.choice(org.officers)) if org.officers else (lambda: None)
        self.add_keyed(m.HousingSettings.__table__, org_id=org_id, fund_code="general", ceiling_minor=150_000, ceiling_currency="USD",
                       expense_account="Expenses:Programme:Housing", pay_from_usd="Assets:Bank:USD", pay_from_khr="Assets:Cash:KHR",
                       updated_by_id=None, updated_at=_at(today - timedelta(days=3650), 2))
        eligible = [p for p in self.cases_of(index) if p.release and p.status in RELEASED and p.release < today - timedelta(days=2)]
        for plan in rng.sample(eligible, round(len(eligible) * 0.08)):
            assessed = self.clip(plan.release + timedelta(days=rng.randint(10, 120)))
            assessment = self.add(m.Assessment.__table__, org_id=org_id, case_id=plan.id, assessed_on=assessed,
                                  roof=rng.choice(MATERIALS), walls=rng.choice(MATERIALS), floor=rng.choice(MATERIALS),
                                  broken="The roof leaks over the sleeping place.", urgency=rng.choice(["low", "medium", "high", "urgent"]),
                                  notes="", assessed_by_id=plan.manager_id, created_at=_at(assessed, plan.id))
            household = [(plan.person_id, "self"), *rng.sample(self.loader.relatives.get(plan.person_id, []),
                                                               min(3, len(self.loader.relatives.get(plan.person_id, []))))]
            urgency = self.rows[m.Assessment.__table__][-1]["urgency"]
            self.event(plan, "housing.assessed", assessed, "The roof leaks over the sleeping place.",
                       {"assessment_id": assessment, "urgency": urgency, "household": len(household), "photos": 0}, assessment)
            for person_id, relation in household:
                self.add(m.HouseholdMember.__table__, org_id=org_id, assessment_id=assessment, person_id=person_id, relation=relation)
            age = (today - assessed).days
            for _ in range(rng.randint(1, 3)):
                if age > 365:
                    status = rng.choices(["completed", "cancelled"], weights=[80, 20])[0]
                elif age > 90:
                    status = rng.choices(["completed", "in_progress", "approved", "cancelled"], weights=[50, 20, 15, 15])[0]
                else:
                    status = rng.choices(["proposed", "quoted", "sent_back", "approved", "in_progress"], weights=[30, 30, 10, 20, 10])[0]
                planned = assessed + timedelta(days=rng.randint(14, 60))
                started = self.clip(assessed + timedelta(days=rng.randint(20, 70))) if status in ("in_progress", "completed") else None
                completed = self.clip(started + timedelta(days=rng.randint(7, 40))) if status == "completed" and started else None
                repair_id = self.ids[m.Repair.__table__] + 1
                quotes = []
                if status != "proposed":
                    for q in range(rng.randint(1, 2)):
                        chosen = q == 0 and status in ("approved", "in_progress", "completed")
                        quote_status = "approved" if chosen else "sent_back" if status == "sent_back" and q == 0 else "pending" if status == "quoted" else "not_chosen"
                        amount = rng.randint(100, 1500) * 100
                        quoted = self.clip(assessed + timedelta(days=rng.randint(3, 20)))
                        quotes.append((self.add(m.Quote.__table__, org_id=org_id, repair_id=repair_id, supplier=f"Builder {rng.randint(1, 200)}",
                                                phone="", amount_minor=amount, currency="USD", quoted_on=quoted, status=quote_status,
                                                reason="Too dear for this roof" if quote_status == "sent_back" else "",
                                                decided_by_id=officer() if quote_status in ("approved", "sent_back") else None,
                                                decided_on=quoted if quote_status in ("approved", "sent_back") else None,
                                                added_by_id=plan.manager_id, created_at=_at(quoted, repair_id)), amount, chosen))
                approved = next(((qid, amount) for qid, amount, chosen in quotes if chosen), None)
                self.add(m.Repair.__table__, org_id=org_id, case_id=plan.id, assessment_id=assessment, repair_type=rng.choice(REPAIR_TYPES),
                         description="Replace the roof sheets and the beams under them.", planned_on=planned, status=status,
                         approved_quote_id=approved[0] if approved else None, started_on=started, completed_on=completed,
                         signed_by_id=plan.person_id if completed else None, completion_note="",
                         cancelled_on=self.clip(assessed + timedelta(days=30)) if status == "cancelled" else None,
                         cancel_reason="The family moved away." if status == "cancelled" else "", proposed_by_id=plan.manager_id,
                         proposed_on=assessed, created_at=_at(assessed, repair_id))
                if approved and started:
                    parts = [("advance", approved[1] // 2, started)]
                    if completed:
                        parts.append(("completion", approved[1] - approved[1] // 2, completed))
                    for kind, amount, day in parts:
                        self.add(m.Payment.__table__, org_id=org_id, repair_id=repair_id, case_id=plan.id, quote_id=approved[0], kind=kind,
                                 amount_minor=amount, currency="USD", paid_on=day, method=rng.choice(["bank_transfer", "cash", "mobile_money"]),
                                 reference="", fund_code="general", account="Assets:Bank:USD", txn_id=None, reversal_txn_id=None,
                                 reversed_on=None, reverse_reason="", recorded_by_id=officer(), created_at=_at(day, repair_id))
                    end = completed or self.clip(today)
                    for k in range(rng.randint(1, 3)):
                        day = min(end, started + timedelta(days=5 * k))
                        self.add(m.Progress.__table__, org_id=org_id, repair_id=repair_id, recorded_on=day,
                                 percent=min(100, 30 * (k + 1)), note="Works going well.", recorded_by_id=plan.manager_id,
                                 created_at=_at(day, k))

    # --- release support -------------------------------------------------------------------------

    def release_support(self, index: int) -> None:
        from plugins.release_support import models as m

        rng, today, org = self.rng, self.today, self.orgs[index]
        org_id = org.id
        self.add_keyed(m.SupportSettings.__table__, org_id=org_id, fund_code="reintegration",
                       expense_account="Expenses:Programme:Release-Support", pay_from_usd="Assets:Cash:USD", pay_from_khr="Assets:Cash:KHR",
                       currency="KHR", fare_minor=20_000, food_per_day_minor=10_000, night_rate_minor=15_000, ceiling_usd_minor=10_000,
                       ceiling_khr_minor=400_000, updated_by_id=None, updated_at=_at(today - timedelta(days=3650), 3))
        first = today - timedelta(days=3650)
        items = []
        for name, unit, cost in STOCK:
            items.append((self.add(m.StockItem.__table__, org_id=org_id, name=name, unit=unit, currency="KHR", low_at=10,
                                   created_by_id=None, created_at=_at(first, cost)), cost))
        for k in range(self.n(720)):
            item_id, cost = items[k % len(items)]
            day = first + timedelta(days=k * 3650 // self.n(720))
            self.add(m.StockReceipt.__table__, org_id=org_id, item_id=item_id, received_on=day, quantity=rng.randint(300, 700),
                     unit_cost_minor=cost, currency="KHR", supplier=f"Market {rng.randint(1, 20)}", paid_from="Assets:Cash:KHR",
                     txn_id=None, recorded_by_id=None, created_at=_at(day, k))
        for plan in self.cases_of(index):
            if not plan.release or plan.release >= today:
                continue
            days, nights = rng.randint(2, 5), rng.choice([0, 0, 1, 2, 3])
            record = self.add(m.ReleaseRecord.__table__, org_id=org_id, case_id=plan.id, given_on=plan.release, currency="KHR",
                              fare_minor=rng.choice([15_000, 20_000, 30_000]), food_days=days, food_minor=days * 10_000, nights=nights,
                              night_rate_minor=15_000, handed_over_by_id=plan.manager_id, notes="", fund_code="reintegration", txn_id=None,
                              reversal_txn_id=None, reversed_on=None, reversed_by_id=None, reversal_reason="", recorded_by_id=plan.manager_id,
                              created_at=_at(plan.release, plan.id))
            row = self.rows[m.ReleaseRecord.__table__][-1]
            cash = row["fare_minor"] + row["food_minor"] + row["nights"] * row["night_rate_minor"]
            picked = rng.sample(items, rng.randint(2, 5))
            self.event(plan, "release_support.support_given", plan.release, f"{cash:,} KHR and {len(picked)} starter-pack items",
                       {"record_id": record, "currency": "KHR", "cash": str(cash), "items": len(picked)}, record)
            for item_id, cost in picked:
                quantity = rng.randint(1, 3)
                self.add(m.ReleaseLine.__table__, org_id=org_id, record_id=record, item_id=item_id, quantity=quantity,
                         cost_minor=quantity * cost, currency="KHR")
            for step in (*STEPS[:2], *rng.sample(STEPS[2:], rng.randint(0, 4))):
                done = self.clip(plan.release + timedelta(days=0 if step == "collected" else rng.randint(0, 30)))
                self.add(m.ChecklistStep.__table__, org_id=org_id, case_id=plan.id, step=step, done_on=done, detail="",
                         ticked_by_id=plan.manager_id, ticked_at=_at(done, record))

    # --- community -------------------------------------------------------------------------------

    def community(self, index: int) -> None:
        from plugins.community import models as m

        rng, today, org = self.rng, self.today, self.orgs[index]
        org_id = org.id
        self.add_keyed(m.CommunitySettings.__table__, org_id=org_id, fund_code=None, expense_account="Expenses:Programme:Community",
                       pay_from_usd="Assets:Cash:USD", pay_from_khr="Assets:Cash:KHR", updated_by_id=None,
                       updated_at=_at(today - timedelta(days=3650), 4))
        partners = []
        provinces = sorted(PROVINCES)
        for k in range(self.n(400)):
            kind = PARTNER_KINDS[k % len(PARTNER_KINDS)]
            province = provinces[k % len(provinces)]
            district = PROVINCES[province][k // len(provinces) % len(PROVINCES[province])]
            signed = rng.random() < 0.8
            created = _at(today - timedelta(days=rng.randint(30, 3650)), k)
            pid = self.add(m.Partner.__table__, org_id=org_id, kind=kind, name=f"{kind.replace('_', ' ').title()} {district} {k + 1}",
                           contact_person=f"Contact {k + 1}", phone="", village="", commune=f"{district} commune", district=district,
                           province=province, helps_with="Work, food and a place to talk.", agreement_signed=signed,
                           agreement_on=created.date() if signed else None, created_by_id=None, created_at=created, updated_at=created)
            if signed:
                partners.append((pid, f"{kind.replace('_', ' ').title()} {district} {k + 1}", kind))
        released = sorted((p for p in self.cases_of(index) if p.release and p.release < today), key=lambda p: p.release)
        for plan in rng.sample(released, round(len(released) * 0.15)):
            referred = self.clip(plan.release + timedelta(days=rng.randint(5, 200)))
            age = (today - referred).days
            status = "sent" if age < 14 else rng.choices(["accepted", "declined", "completed"], weights=[55, 15, 30])[0]
            answered = self.clip(referred + timedelta(days=rng.randint(1, 13))) if status != "sent" else None
            partner, purpose = rng.choice(partners), rng.choice(PURPOSES)
            referral = self.add(m.Referral.__table__, org_id=org_id, case_id=plan.id, partner_id=partner[0], purpose=purpose,
                     status=status, referred_on=referred, answered_on=answered,
                     completed_on=self.clip(answered + timedelta(days=rng.randint(10, 90))) if status == "completed" else None,
                     note="", feedback="Comes every week." if status == "completed" else "", referred_by_id=plan.manager_id,
                     updated_by_id=None, created_at=_at(referred, plan.id))
            self.event(plan, "community.referred", referred, f"{partner[1]} · {purpose.replace('_', ' ')}",
                       {"referral_id": referral, "partner": partner[1], "kind": partner[2], "purpose": purpose}, referral)
        release_days = [p.release for p in released]
        n_meetings = self.n(1200)
        for k in range(n_meetings):
            held = today - timedelta(days=1 + (n_meetings - k) * 3650 // n_meetings)
            meeting = self.add(m.Meeting.__table__, org_id=org_id, held_on=held, place=f"Pagoda hall {k % 30 + 1}",
                               facilitator=f"Facilitator {k % 12 + 1}", topic=TOPICS[k % len(TOPICS)], reflections="",
                               created_by_id=None, created_at=_at(held, k))
            hi = bisect.bisect_right(release_days, held)
            people: set[int] = set()
            for _try in range(40):
                if len(people) >= 12 or hi == 0:
                    break
                plan = released[rng.randrange(max(0, hi - 3000), hi)]  # released in the last few years
                if plan.person_id in people or (plan.closed_on and plan.closed_on < held):
                    continue
                people.add(plan.person_id)
                self.add(m.Attendance.__table__, org_id=org_id, meeting_id=meeting, person_id=plan.person_id, case_id=plan.id,
                         family_of_case_id=None, reflection="", recorded_by_id=None, created_at=_at(held, plan.id))
                self.event(plan, "community.meeting_attended", held, TOPICS[k % len(TOPICS)],
                           {"meeting_id": meeting, "topic": TOPICS[k % len(TOPICS)], "place": f"Pagoda hall {k % 30 + 1}"}, meeting)
                relatives = self.loader.relatives.get(plan.person_id, [])
                if relatives and rng.random() < 0.2 and relatives[0][0] not in people:
                    people.add(relatives[0][0])
                    self.add(m.Attendance.__table__, org_id=org_id, meeting_id=meeting, person_id=relatives[0][0], case_id=None,
                             family_of_case_id=plan.id, reflection="", recorded_by_id=None, created_at=_at(held, plan.id + 1))
            for item in rng.sample(["refreshments", "transport"], rng.randint(1, 2)):
                self.add(m.MeetingCost.__table__, org_id=org_id, meeting_id=meeting, item=item, paid_on=held,
                         amount_minor=rng.randint(5, 50) * 4000, currency="KHR", paid_from="Assets:Cash:KHR", fund_code=None, note="",
                         txn_id=None, reversal_txn_id=None, reversed_on=None, reversed_by_id=None, reversal_reason="",
                         recorded_by_id=None, created_at=_at(held, k))
