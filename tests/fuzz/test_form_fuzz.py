"""Hypothesis posts hostile values to the main forms, as a signed-in browser does (with the CSRF
token): text in Khmer and with control characters, huge strings, empty values, numbers out of
range, malformed dates and decimals (``1e309``, ``NaN``, ``-0``, ``1,000.5``), unknown choices,
fields missing or sent twice.

Every answer is a redirect (accepted) or a 4xx with the form again (refused), never a 5xx; and
when a form is refused, nothing was written: the row count of every table (persons, cases,
events, goals, the ledger's transactions and postings, each module's records, attachments) is
what it was before. Bounded and reproducible: ``max_examples`` per form, ``derandomize``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from tests.fuzz.conftest import FuzzTarget, half_written

EXAMPLES = 30
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
#: tables a refused form may still write: the session (sign-in state) and the throttle of sign-ins
NOT_COUNTED = {"web_sessions", "alembic_version", "training_verify_attempts"}

KHMER = st.text(alphabet=st.characters(min_codepoint=0x1780, max_codepoint=0x17FF), min_size=1, max_size=40)
MALFORMED = st.sampled_from([
    "", " ", "\x00", "\x1b[2J", "\u202e", "1e309", "-1e309", "NaN", "nan", "Infinity", "-0", "0", "-1", "1,000.5", "1.000,5",
    "0.001", "12.345", "99999999999999999999999", "9223372036854775808", "-9223372036854775809", "²", "١٢٣", "１２", "១២",
    "2024-02-30", "31/12/2024", "0000-00-00", "0001-01-01", "9999-12-31", "2999-01-01", "1899-12-31", "today",
    "<script>alert(1)</script>", "' OR 1=1 --", "{{ 7*7 }}", "no_such_option", "true", "null", "[]",
])
HOSTILE = st.one_of(
    MALFORMED,
    st.text(max_size=60),  # any code point, control characters included
    KHMER,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["x" * 5_000, "ក" * 100_000]),  # past every length limit
)


@dataclass(frozen=True)
class Form:
    """A form: its address (from the ids of real records) and its fields, each with values a
    person would type, so that some posts get through to the write."""

    name: str
    url: Callable[[dict[str, int]], str]
    fields: dict[str, st.SearchStrategy[str]]


def one_of(*values: object) -> st.SearchStrategy[str]:
    return st.sampled_from([str(v) for v in values])


DAY = one_of("2025-03-01", date.today().isoformat(), "2024-12-31")
MONEY = one_of("10", "12.50", "0.5", "40000")
TEXTS = one_of("Sok Dara", "សុខ ដារា", "Phnom Penh", "Paid in cash")

FORMS = [
    Form("person create", lambda ids: "/persons", {
        "name": TEXTS, "name_km": TEXTS, "sex": one_of("female", "male", "other"), "date_of_birth": one_of("1990-04-17", "2001-01-01"),
        "id_number": one_of("010203040", ""), "phone": one_of("+855 12 345 678"), "village": TEXTS, "province": TEXTS, "medical_notes": TEXTS,
    }),
    Form("person edit", lambda ids: f"/persons/{ids['person']}", {
        "name": TEXTS, "name_km": TEXTS, "sex": one_of("female", "male"), "date_of_birth": one_of("1985-02-02"), "phone": TEXTS,
    }),
    Form("case create", lambda ids: "/cases", {
        "person_id": one_of("{person}"), "programme": TEXTS, "case_manager_id": one_of("{user}"), "prison": one_of("CC1 Prey Sar"),
        "prisoner_number": one_of("A-1234"), "sentence_start": DAY, "sentence_end": DAY, "expected_release": DAY, "offence": TEXTS,
    }),
    Form("case edit", lambda ids: f"/cases/{ids['case']}", {
        "programme": TEXTS, "case_manager_id": one_of("{user}"), "prison": TEXTS, "sentence_start": DAY, "expected_release": DAY,
    }),
    Form("event", lambda ids: f"/cases/{ids['case']}/events", {
        "kind": one_of("core.note", "core.family_contact", "core.follow_up_visit", "core.reoffended"), "occurred_on": DAY, "summary": TEXTS,
        "corrects_id": one_of(""), "payload.contact": one_of("phone", "visit"), "payload.who": TEXTS, "payload.monthly_income": MONEY,
        "payload.income_currency": one_of("USD", "KHR"), "payload.offence_date": DAY,
    }),
    Form("goal", lambda ids: f"/cases/{ids['case']}/goals", {
        "area": one_of("housing", "work", "family"), "description": TEXTS, "state": one_of("not_started", "met"), "next_step": TEXTS,
    }),
    Form("grant disbursement", lambda ids: f"/grants/{ids['grant']}/disburse", {
        "paid_on": DAY, "method": one_of("cash", "bank", "mobile_money"), "currency": one_of("USD", "KHR"), "amount": MONEY, "reference": TEXTS,
    }),
    Form("family visit", lambda ids: f"/family-visits/cases/{ids['visit_case']}/visits", {
        "visited_on": DAY, "visitors": one_of("{visitor}"), "duration_minutes": one_of("60", "90"), "notes": TEXTS,
        "payment": one_of("none", "cash"), "currency": one_of("USD"), "transport": one_of("2", "3.50"), "paid_to": one_of("{visitor}"),
    }),
    Form("training enrolment", lambda ids: f"/training/cases/{ids['case']}/enrolments", {"cohort_id": one_of("{cohort}")}),
    Form("housing repair", lambda ids: f"/housing/cases/{ids['housing_case']}/repairs", {
        "repair_type": one_of("roof", "walls", "floor", "toilet"), "description": TEXTS, "planned_on": DAY,
    }),
    Form("release support", lambda ids: f"/release-support/cases/{ids['released_case']}/records", {
        "given_on": DAY, "currency": one_of("USD", "KHR"), "fare": MONEY, "food_days": one_of("0", "3"), "food_per_day": MONEY,
        "nights": one_of("0", "1"), "night_rate": MONEY, "handed_over_by": one_of("{user}"), "notes": TEXTS, "qty_1": one_of("1", "0"),
    }),
]


@pytest.fixture(scope="module")
def form_ids(fuzz_target: FuzzTarget, fuzz_session: Session) -> dict[str, int]:
    """Ids of records the forms act on, in the fuzzed organisation."""
    org = fuzz_target.org_id

    def first(sql: str) -> int:
        found = fuzz_session.scalar(text(sql), {"org": org})
        assert found is not None, sql
        return found

    return {
        "person": first("SELECT id FROM persons WHERE org_id = :org ORDER BY id"),
        "case": first("SELECT id FROM cases WHERE org_id = :org AND status != 'closed' ORDER BY id"),
        "user": first("SELECT user_id FROM memberships WHERE org_id = :org AND role = 'case_manager' ORDER BY user_id"),
        "grant": first("SELECT id FROM grants WHERE org_id = :org AND status = 'approved' ORDER BY id"),
        "visit_case": first("SELECT case_id FROM family_visit_plans p JOIN cases c ON c.id = p.case_id WHERE c.org_id = :org ORDER BY p.id"),
        "visitor": first(
            "SELECT m.person_id FROM family_visit_plan_members m JOIN family_visit_plans p ON p.id = m.plan_id"
            " WHERE p.case_id = (SELECT case_id FROM family_visit_plans p JOIN cases c ON c.id = p.case_id WHERE c.org_id = :org ORDER BY p.id)"
        ),
        "cohort": first("SELECT id FROM training_cohorts WHERE org_id = :org ORDER BY id DESC"),
        "housing_case": first("SELECT case_id FROM housing_assessments WHERE org_id = :org ORDER BY id"),
        "released_case": first("SELECT id FROM cases WHERE org_id = :org AND status = 'released' ORDER BY id"),
    }


def row_counts(session: Session) -> dict[str, int]:
    """The committed row count of every table (but :data:`NOT_COUNTED`)."""
    session.rollback()
    tables = sorted(set(inspect(session.get_bind()).get_table_names()) - NOT_COUNTED)
    return {t: session.scalar(text(f'SELECT count(*) FROM "{t}"')) or 0 for t in tables}


def posted(form: Form, ids: dict[str, int]) -> st.SearchStrategy[dict[str, object]]:
    """The form filled in as a person would, then up to three of its fields spoilt: a hostile
    value, left out, or sent two or three times. (Untouched, the form is usually accepted: the
    run reaches the write as well as the checks.)"""
    plausible = st.fixed_dictionaries({name: values.map(lambda v: v.format(**ids)) for name, values in form.fields.items()})
    spoilt = st.one_of(HOSTILE, HOSTILE, st.none(), st.lists(HOSTILE, min_size=2, max_size=3))

    def spoil(values: dict[str, object]) -> st.SearchStrategy[dict[str, object]]:
        names = st.lists(st.sampled_from(sorted(values)), max_size=3, unique=True)
        changes = names.flatmap(lambda chosen: st.fixed_dictionaries({name: spoilt for name in chosen}))
        return changes.map(lambda changed: {k: v for k, v in {**values, **changed}.items() if v is not None})

    return plausible.flatmap(spoil)


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_a_form_refuses_hostile_values_with_a_4xx_and_writes_nothing(
    form: Form, fuzz_target: FuzzTarget, admin_browser: TestClient, fuzz_session: Session, form_ids: dict[str, int]
) -> None:
    url = form.url(form_ids)
    answered: dict[int, int] = {}

    @FUZZ
    @given(values=posted(form, form_ids))
    def post(values: dict[str, object]) -> None:
        before = row_counts(fuzz_session)
        response = admin_browser.post(url, data={**values, "_csrf_token": admin_browser.cookies.get("hc_csrf", "")}, follow_redirects=False)
        answered[response.status_code] = answered.get(response.status_code, 0) + 1
        assert response.status_code < 500, (values, response.text[-2000:])
        if response.status_code >= 400:
            assert response.status_code in (400, 404, 409, 422), (values, response.status_code)
            changed = {t: (n, now) for (t, n), now in zip(before.items(), row_counts(fuzz_session).values()) if n != now}
            assert not changed, (values, changed)
        else:
            assert response.status_code in (302, 303), (values, response.status_code)

    post()
    assert answered.get(422, 0) + answered.get(400, 0), answered  # hostile values were refused
    assert half_written(fuzz_session, fuzz_target) == []
