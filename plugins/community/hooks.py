"""Hook implementations of the ``community`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``, and of
the ledger from ``ledger.api``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.plugin_api import (
    ALL_ROLES,
    Case,
    CaseTab,
    Context,
    DashboardPanel,
    EventKind,
    Indicator,
    MenuItem,
    Module,
    Organisation,
    Permission,
    Role,
    User,
    case_ids_of,
    exported_row,
    hookimpl,
)
from core.plugin_api import lazy_gettext as _l
from plugins.community import routes, services
from plugins.community.models import Attendance, Meeting, Partner, Referral
from plugins.community.schemas import AnswerEvent, AttendedEvent, ReferralEvent

NAME = services.NAME
HERE = Path(__file__).parent
LABEL = _l("Community")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("Peer meetings of former prisoners, and referral to partners near the family home: churches, pagodas, "
                       "commune offices, employers, health centres."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission(services.VIEW, _l("See community partners, referrals and peer meetings"), ALL_ROLES),
        Permission(services.PARTNERS, _l("Keep the directory of community partners"), frozenset({Role.admin, Role.programme_officer})),
        Permission(services.REFER, _l("Refer a case to a community partner and record the partner's answer"),
                   frozenset({Role.admin, Role.programme_officer, Role.case_manager})),
        Permission(services.MEETINGS, _l("Plan peer meetings and record who came"), frozenset({Role.admin, Role.programme_officer})),
        Permission(services.PAY, _l("Pay the costs of peer meetings"), frozenset({Role.admin, Role.programme_officer, Role.finance})),
        Permission(services.CORRECT, _l("Reverse a meeting cost paid in error"), frozenset({Role.admin, Role.finance})),
        Permission(services.SETTINGS, _l("Set the community module's fund and accounts"), frozenset({Role.admin})),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind(services.REFERRED, _l("Referred to a community partner"), "⇢", ReferralEvent, permission=services.REFER),
        EventKind(services.ACCEPTED, _l("Referral accepted by the partner"), "✓", AnswerEvent, permission=services.REFER),
        EventKind(services.DECLINED, _l("Referral declined by the partner"), "✗", AnswerEvent, permission=services.REFER),
        EventKind(services.COMPLETED, _l("Referral completed"), "★", AnswerEvent, permission=services.REFER),
        EventKind(services.ATTENDED, _l("Attended a peer meeting"), "◎", AttendedEvent, permission=services.MEETINGS),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/community", services.VIEW, order=60)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab(NAME, LABEL, "/community/cases/{case_id}/tab", services.VIEW, order=40)]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [DashboardPanel("community_waiting_referrals", services.VIEW, services.dashboard_panel, order=50)]


@hookimpl
def register_report_indicators() -> list[Indicator]:
    return [
        Indicator("community.meetings", _l("Peer meetings held"), services.meetings_by_month,
                  definition=_l("Peer meetings, counted in the month they were held (meetings planned for later are not counted)."), order=60),
        Indicator("community.attendance", _l("Attendance at peer meetings"), services.attendance_by_month,
                  definition=_l("Former prisoners and invited family members recorded at a peer meeting, each time they came, "
                                "in the month of the meeting."), order=61),
        Indicator("community.reached_first_six_months", _l("Released people at a peer meeting in their first six months"),
                  services.reached_by_month,
                  definition=_l("Released people who attended at least one peer meeting within six months of their release, each counted "
                                "once, in the month of the first such meeting."), order=62),
        Indicator("community.referrals", _l("Referrals to community partners"), services.referrals_by_month,
                  definition=_l("Cases referred to a community partner, in the month the referral was sent."), order=63),
        Indicator("community.referrals_completed", _l("Referrals completed by partners"), services.referrals_completed_by_month,
                  definition=_l("Referrals the partner completed, in the month they were completed."), order=64),
    ]


@hookimpl
def load_demo_data(
    session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    services.add_demo_community(session, organisation, cases, staff, today, context_for)


# --- data protection (docs/privacy.md) -------------------------------------------------------------


@hookimpl
def person_data(ctx: Context, person_id: int) -> dict[str, Any] | None:
    """The referrals of the person's cases (with the partner's name and feedback) and the peer
    meetings the person came to (as a former prisoner or as a family member), with their reflection."""
    case_ids = case_ids_of(ctx, person_id)
    referrals = list(ctx.session.execute(
        select(Referral, Partner.name).join(Partner, Partner.id == Referral.partner_id)
        .where(Referral.org_id == ctx.org_id, Referral.case_id.in_(case_ids)).order_by(Referral.id)
    )) if case_ids else []
    came = list(ctx.session.execute(
        select(Attendance, Meeting).join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Attendance.org_id == ctx.org_id, Attendance.person_id == person_id).order_by(Meeting.held_on, Attendance.id)
    ))
    if not (referrals or came):
        return None
    return {
        "referrals": [{**exported_row(r), "partner": name} for r, name in referrals],
        "meetings_attended": [{**exported_row(a), "held_on": m.held_on.isoformat(), "topic": m.topic, "place": m.place} for a, m in came],
    }


@hookimpl
def anonymise_case(ctx: Context, case_id: int) -> None:
    """A referral's note and the partner's feedback, and the reflections recorded at meetings by
    the person or the family who came with them, are emptied; partners, purposes, statuses, dates
    and attendance (the module's figures) stay."""
    ctx.session.execute(update(Referral).where(Referral.org_id == ctx.org_id, Referral.case_id == case_id).values(note="", feedback=""))
    ctx.session.execute(
        update(Attendance).where(Attendance.org_id == ctx.org_id, or_(Attendance.case_id == case_id, Attendance.family_of_case_id == case_id))
        .values(reflection="")
    )
