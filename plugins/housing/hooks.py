"""Hook implementations of the ``housing`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``, and of
the ledger from ``ledger.api``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.plugin_api import (
    ALL_ROLES, Attachment, Case, CaseTab, Context, DashboardPanel, EventKind, Indicator, MenuItem, Module, Organisation, Permission, Role, User,
    case_ids_of, erase_attachments, exported_row, hookimpl,
)
from core.plugin_api import lazy_gettext as _l
from ledger.api import Document, from_minor
from plugins.housing import routes, services
from plugins.housing.models import Assessment, HouseholdMember, HousingAttachment, Payment, Progress, Quote, Repair
from plugins.housing.schemas import AssessedEvent, CancelledEvent, CompletedEvent, PaymentEvent, ProgressEvent, QuoteEvent, RepairEvent

NAME = services.NAME
HERE = Path(__file__).parent
LABEL = _l("Housing")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("Repairs to the family home before the person comes back."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    officers = frozenset({Role.admin, Role.programme_officer})
    return [
        Permission(services.VIEW, _l("See housing assessments, repairs, quotes, payments and their reports"), ALL_ROLES),
        Permission(services.ASSESS, _l("Assess family homes, propose repairs, add quotes and record progress and sign-off"),
                   officers | {Role.case_manager}),
        Permission(services.APPROVE, _l("Approve housing repair quotes or send them back"), officers),
        Permission(services.PAY, _l("Pay housing repair suppliers and reverse payments"), frozenset({Role.admin, Role.finance})),
        Permission(services.SETTINGS, _l("Set the housing fund, ceiling per home and accounts"), frozenset({Role.admin})),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind(services.ASSESSED, _l("Home assessed"), "⌂", AssessedEvent, permission=services.ASSESS),
        EventKind(services.REPAIR_PROPOSED, _l("Home repair proposed"), "⚒", RepairEvent, permission=services.ASSESS),
        EventKind(services.QUOTE_RECEIVED, _l("Repair quote received"), "✉", QuoteEvent, permission=services.ASSESS),
        EventKind(services.QUOTE_APPROVED, _l("Repair quote approved"), "✓", QuoteEvent, permission=services.APPROVE),
        EventKind(services.QUOTE_SENT_BACK, _l("Repair quote sent back"), "↩", QuoteEvent, permission=services.APPROVE),
        EventKind(services.PAYMENT_MADE, _l("Repair supplier paid"), "$", PaymentEvent, permission=services.PAY),
        EventKind(services.PAYMENT_REVERSED, _l("Repair payment reversed"), "↺", PaymentEvent, permission=services.PAY),
        EventKind(services.PROGRESS, _l("Repair progress"), "…", ProgressEvent, permission=services.ASSESS),
        EventKind(services.COMPLETED, _l("Repair completed"), "★", CompletedEvent, permission=services.ASSESS),
        EventKind(services.CANCELLED, _l("Repair cancelled"), "✗", CancelledEvent, permission=services.ASSESS),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/housing", services.VIEW, order=60)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab(NAME, LABEL, "/housing/cases/{case_id}/tab", services.VIEW, order=40)]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [DashboardPanel("housing_overdue", services.VIEW, services.dashboard_panel, order=45)]


@hookimpl
def register_report_indicators() -> list[Indicator]:
    return [
        Indicator("housing.repairs_completed", _l("Housing repairs completed"), services.completed_by_month,
                  definition=_l("Repairs of family homes completed and signed off by the family, by the day of completion."), order=60),
    ]


@hookimpl
def load_demo_data(
    session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    services.add_demo_repairs(session, organisation, cases, staff, today, context_for)


# --- data protection (docs/privacy.md) -------------------------------------------------------------


@hookimpl
def person_data(ctx: Context, person_id: int) -> dict[str, Any] | None:
    """The home assessments (with the household), repairs, quotes, payments and progress of the
    person's cases, amounts as decimal strings, and the files attached to them by their metadata
    (never their content); and the assessments the person is in as a household member."""
    case_ids = case_ids_of(ctx, person_id)
    session = ctx.session

    def rows(model: Any, *where: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.org_id == ctx.org_id, *where).order_by(model.id)))

    assessments = rows(Assessment, Assessment.case_id.in_(case_ids)) if case_ids else []
    repairs = rows(Repair, Repair.case_id.in_(case_ids)) if case_ids else []
    repair_ids = [r.id for r in repairs]
    quotes = rows(Quote, Quote.repair_id.in_(repair_ids)) if repair_ids else []
    payments = rows(Payment, Payment.case_id.in_(case_ids)) if case_ids else []
    progress = rows(Progress, Progress.repair_id.in_(repair_ids)) if repair_ids else []
    files = session.execute(
        select(HousingAttachment, Attachment).join(Attachment, Attachment.id == HousingAttachment.attachment_id)
        .where(HousingAttachment.org_id == ctx.org_id, HousingAttachment.case_id.in_(case_ids)).order_by(HousingAttachment.id)
    ).all() if case_ids else []
    household_of = rows(HouseholdMember, HouseholdMember.person_id == person_id)
    if not (assessments or repairs or payments or household_of):
        return None
    return {
        "assessments": [{**exported_row(a), "household": [{"person_id": m.person_id, "relation": m.relation} for m in a.household]} for a in assessments],
        "repairs": [exported_row(r) for r in repairs],
        "quotes": [exported_row(q, {"amount_minor": q.currency}, from_minor) for q in quotes],
        "payments": [exported_row(p, {"amount_minor": p.currency}, from_minor) for p in payments],
        "progress": [exported_row(p) for p in progress],
        "attachments": [
            {**exported_row(link), "filename": a.filename, "media_type": a.media_type, "size": a.size, "sha256": a.sha256,
             "uploaded_at": a.uploaded_at.isoformat()}
            for link, a in files
        ],
        "household_member_of": [{"assessment_id": m.assessment_id, "relation": m.relation} for m in household_of],
    }


@hookimpl
def anonymise_case(ctx: Context, case_id: int) -> None:
    """The assessments' notes and what was broken, the repairs' completion notes and reasons, the
    suppliers' phone numbers and the progress notes are emptied, and the files of the case
    (photos of the home, quotes, sign-offs) are erased, except an invoice that documents a
    ledger entry (kept with the books). Kinds, states, dates and amounts stay."""
    session = ctx.session
    repair_ids = select(Repair.id).where(Repair.org_id == ctx.org_id, Repair.case_id == case_id)
    session.execute(update(Assessment).where(Assessment.org_id == ctx.org_id, Assessment.case_id == case_id).values(notes="", broken=""))
    session.execute(update(Repair).where(Repair.org_id == ctx.org_id, Repair.case_id == case_id).values(completion_note="", cancel_reason=""))
    session.execute(update(Quote).where(Quote.org_id == ctx.org_id, Quote.repair_id.in_(repair_ids)).values(phone="", reason=""))
    session.execute(update(Payment).where(Payment.org_id == ctx.org_id, Payment.case_id == case_id).values(reverse_reason=""))
    session.execute(update(Progress).where(Progress.org_id == ctx.org_id, Progress.repair_id.in_(repair_ids)).values(note=""))
    files = session.scalars(
        select(HousingAttachment.attachment_id).where(
            HousingAttachment.org_id == ctx.org_id,
            HousingAttachment.case_id == case_id,
            HousingAttachment.attachment_id.not_in(select(Document.attachment_id)),
        )
    )
    erase_attachments(ctx, list(files))
