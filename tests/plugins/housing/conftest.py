"""Fixtures for the ``housing`` module: a case whose person is linked to a mother and a spouse
(and a neighbour who is not linked), a general book with the pay-from accounts, a restricted fund
``Reintegration`` holding money, a rate of 4100 riel to the dollar, the module's settings
(ceiling 1,000 USD per home), generated photos and PDFs, and helpers to post forms with files.

``world``'s organisation ``a`` enables every module, ``b`` only ``training``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.context import Context
from core.models import Attachment, Case, Event, Person, Role
from core.schemas import CaseIn, PersonIn, PersonLinkIn
from core.services import cases, persons
from ledger.api import JournalTransaction, create_fund, general_book, open_account, record_donor_income, record_price
from plugins.housing import services
from plugins.housing.models import Assessment, HousingAttachment, Payment, Progress, Quote, Repair
from plugins.housing.schemas import ApproveIn, AssessmentIn, QuoteIn, RepairIn, SettingsIn

TODAY = date.today()
OPENED = TODAY - timedelta(days=400)
ASSESSED = TODAY - timedelta(days=30)


def jpeg(colour: tuple[int, int, int] = (200, 120, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Family:
    case: Case
    mother: Person
    spouse: Person
    stranger: Person


@pytest.fixture
def make_family(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Family]:
    """``make_family("a", "Sok Dara")``: a committed case whose person is linked to a mother and a
    spouse, and a person of the organisation who is not linked."""

    def make(org: str = "a", name: str = "Sok Dara") -> Family:
        ctx = ctx_for(Role.case_manager, org)
        person = persons.create_person(ctx, PersonIn(name=name, name_km="សុខ ដារ៉ា", village="Phum Thmei"))
        mother = persons.create_person(ctx, PersonIn(name=f"{name} mother"))
        spouse = persons.create_person(ctx, PersonIn(name=f"{name} spouse"))
        stranger = persons.create_person(ctx, PersonIn(name=f"{name} neighbour"))
        persons.link_family(ctx, person, PersonLinkIn(relative_id=mother.id, relation="parent"))
        persons.link_family(ctx, spouse, PersonLinkIn(relative_id=person.id, relation="spouse"))
        case = cases.create_case(ctx, CaseIn(person_id=person.id, case_manager_id=ctx.user.id, prison="Prey Sar"))
        db.commit()
        return Family(case, mother, spouse, stranger)

    return make


@pytest.fixture
def books(db: Session, world, ctx_for) -> Callable[..., None]:  # noqa: ANN001
    """``books("a")``: ``Assets:Bank:USD`` and ``Assets:Cash:KHR``, the restricted fund
    ``Reintegration`` with ``income`` dollars, 4100 riel to the dollar, and the settings (that
    fund, a ceiling of ``ceiling`` USD per home, the default accounts)."""

    def make(org: str = "a", income: str = "2000.00", ceiling: str | None = "1000.00", fund: str | None = "Reintegration") -> None:
        org_id = world.org_ids[org]
        book = general_book(db, org_id)
        open_account(db, book, "Assets:Bank:USD", ["USD"], OPENED)
        open_account(db, book, "Assets:Cash:KHR", ["KHR"], OPENED)
        created = create_fund(db, org_id, "Reintegration", "Reintegration", OPENED, donor="Mekong Justice Foundation")
        if Decimal(income):
            record_donor_income(db, created, OPENED, Decimal(income), "USD", "Assets:Bank:USD")
        record_price(db, org_id, OPENED, "USD", "KHR", Decimal("4100"))
        services.save_settings(ctx_for(Role.admin, org), SettingsIn(fund=fund or "", ceiling=Decimal(ceiling) if ceiling else None))
        db.commit()

    return make


def send(client: TestClient, url: str, data: dict[str, Any], files: list[tuple[str, tuple[str, bytes, str]]] | None = None):  # noqa: ANN201
    """POST a form as the browser does, with the CSRF token: ``multipart/form-data`` when
    ``files`` is given (``[(field, (name, bytes, content type)), ...]``), repeated fields as lists."""
    form: dict[str, Any] = {k: [str(x) for x in v] if isinstance(v, list) else ("" if v is None else str(v)) for k, v in data.items()}
    form["_csrf_token"] = client.cookies.get("hc_csrf", "")
    if files is None:
        return client.post(url, data=form, follow_redirects=False)
    return client.post(url, data=form, files=files, follow_redirects=False)


def photo(name: str = "roof.jpg", field: str = "photos") -> tuple[str, tuple[str, bytes, str]]:
    return (field, (name, jpeg(), "image/jpeg"))


def pdf(name: str = "invoice.pdf", field: str = "invoice") -> tuple[str, tuple[str, bytes, str]]:
    return (field, (name, PDF, "application/pdf"))


def assessment_form(family: Family, **extra: Any) -> dict[str, Any]:
    return {
        "assessed_on": ASSESSED.isoformat(), "household": [family.case.person_id, family.mother.id], "roof": "thatch", "walls": "palm_leaves",
        "floor": "earth", "broken": "The roof leaks over the beds; no latrine.", "urgency": "high", "notes": "Mother and two children.", **extra,
    }


def quote_form(**extra: Any) -> dict[str, Any]:
    return {"supplier": "Heng Roofing", "phone": "012 345 678", "amount": "600.00", "currency": "USD", "quoted_on": (ASSESSED + timedelta(days=3)).isoformat(), **extra}


def payment_form(**extra: Any) -> dict[str, Any]:
    return {"kind": "advance", "amount": "240.00", "paid_on": TODAY.isoformat(), "method": "bank_transfer", "reference": "TRF-1", **extra}


def fresh(db: Session) -> Session:
    db.rollback()
    db.expire_all()
    return db


MODELS = (Assessment, Repair, Quote, Payment, Progress, HousingAttachment, Attachment, JournalTransaction, Event)


def counts(db: Session) -> tuple[int, ...]:
    """Rows of every table an action of the module writes to: what a refusal must leave as it was."""
    fresh(db)
    return tuple(db.scalar(select(func.count()).select_from(m)) for m in MODELS)


def refused(response, message: str, field: str | None = None) -> None:  # noqa: ANN001
    assert response.status_code == 422, response.text[:800]
    assert message in response.text, (message, response.text[:3000])
    if field:
        assert f'id="e-{field}"' in response.text, field


@dataclass
class Home:
    """A family whose home is assessed, with one proposed repair."""

    family: Family
    repair: Repair


@pytest.fixture
def home(make_family, books, ctx_for, db: Session) -> Home:  # noqa: ANN001
    """Books ready, a family, its home assessed and a roof repair proposed (through the services)."""
    books("a")
    family = make_family("a")
    worker = ctx_for(Role.case_manager, "a")
    services.assess(worker, family.case, AssessmentIn(**{**assessment_form(family), "household": [family.case.person_id]}),
                    [("home.jpg", jpeg())])
    repair = services.propose_repair(worker, family.case, RepairIn(repair_type="roof", description="Metal sheet roof",
                                                                    planned_on=TODAY + timedelta(days=30)))
    db.commit()
    return Home(family, repair)


def add_quote(ctx: Context, repair: Repair, amount: str = "600.00", currency: str = "USD", supplier: str = "Heng Roofing") -> Quote:
    return services.add_quote(ctx, repair, QuoteIn(supplier=supplier, currency=currency, amount=Decimal(amount),  # type: ignore[arg-type]
                                                   quoted_on=ASSESSED + timedelta(days=3)), [("quote.pdf", PDF)])


@pytest.fixture
def approved(home: Home, ctx_for, db: Session) -> Home:  # noqa: ANN001
    """``home`` with a quote of 600 USD approved by the programme officer."""
    quote = add_quote(ctx_for(Role.case_manager, "a"), home.repair)
    services.approve_quote(ctx_for(Role.programme_officer, "a"), quote, ApproveIn())
    db.commit()
    return home
