"""The module's pages: the overview, the partners' directory, a case's referrals and the partners
near its home (page and case tab), the list of referrals, peer meetings with their attendance
and costs, the reports and the settings.

Handlers are thin, like release_support's: read the input, call a service inside ``act`` (one
transaction per user action), then redirect (post/redirect/get) or re-render the page with
field-level messages (422) after a rollback.
"""

from __future__ import annotations

from typing import Any, get_args

import litestar
from litestar import Request, Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core.plugin_api import Case, Context, Ctx, Form, Sheet, act, get_case, gettext as _, parse, render, table_download, workbook_download
from plugins.community import services
from plugins.community.models import Meeting, Partner
from plugins.community.schemas import (
    ITEMS,
    KINDS,
    PURPOSES,
    STATUSES,
    AnswerIn,
    AttendanceIn,
    CostIn,
    Currency,
    MeetingIn,
    PartnerIn,
    ReferralIn,
    ReverseIn,
    SettingsIn,
)

AnyRequest = Request[Any, Any, Any]


def _options(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, services.label(v)) for v in values]


def _common() -> dict[str, Any]:
    return {"label": services.label, "money": services.money, "near_label": services.near_label}


# --- the overview ----------------------------------------------------------------------------------


@litestar.get("/community", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-home")
def home(ctx: Ctx) -> Template:
    """Referrals waiting for an answer, the next and the last meetings, and the module's pages."""
    waiting = services.waiting(ctx)
    recent = services.meetings(ctx, limit=8)
    return render(ctx, "community/home.html", waiting=waiting, meetings=recent, today=ctx.today,
                  cases=services.cases_by_id(ctx, {r.case_id for r in waiting}),
                  partners=services.partners_by_id(ctx, {r.partner_id for r in waiting}),
                  can_settings=ctx.user.can(services.SETTINGS), **_common())


# --- partners --------------------------------------------------------------------------------------


def _partner_values(partner: Partner) -> dict[str, Any]:
    return {
        "kind": partner.kind, "name": partner.name, "contact_person": partner.contact_person, "phone": partner.phone,
        "village": partner.village, "commune": partner.commune, "district": partner.district, "province": partner.province,
        "helps_with": partner.helps_with, "agreement_signed": "on" if partner.agreement_signed else "",
        "agreement_on": partner.agreement_on.isoformat() if partner.agreement_on else "",
    }


def _partners_page(ctx: Context, kind: str = "", q: str = "", values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                   status_code: int = 200) -> Template:
    return render(ctx, "community/partners.html", status_code, partners=services.partners(ctx, kind if kind in KINDS else "", q),
                  kind=kind, q=q, kinds=_options(KINDS), values=values or {"kind": "church"}, errors=errors or {},
                  can_edit=ctx.user.can(services.PARTNERS), **_common())


@litestar.get("/community/partners", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-partners")
def partner_list(ctx: Ctx, kind: FromQuery[str] = "", q: FromQuery[str] = "") -> Template:
    """The directory of partners, of one kind or matching a search."""
    return _partners_page(ctx, kind, q)


@litestar.post("/community/partners", opt={"permission": services.PARTNERS}, sync_to_thread=True, status_code=303, name="community-partner-add")
def partner_add(ctx: Ctx, data: Form) -> Response[Any]:
    """Add a partner to the directory."""
    return act(ctx, lambda: services.add_partner(ctx, parse(PartnerIn, data)), lambda p: f"/community/partners/{p.id}",
               lambda errors: _partners_page(ctx, values=data, errors=errors, status_code=422))


def _partner_page(ctx: Context, partner: Partner, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  status_code: int = 200, saved: bool = False) -> Template:
    rows = services.referrals(ctx, partner=partner)
    return render(ctx, "community/partner.html", status_code, partner=partner, referrals=rows, saved=saved,
                  cases=services.cases_by_id(ctx, {r.case_id for r in rows}), kinds=_options(KINDS),
                  values=values or _partner_values(partner), errors=errors or {}, can_edit=ctx.user.can(services.PARTNERS), **_common())


@litestar.get("/community/partners/{partner_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-partner")
def partner_page(ctx: Ctx, partner_id: FromPath[int], saved: FromQuery[int] = 0) -> Template:
    """A partner's details, its referrals and (for the directory's keepers) its form."""
    return _partner_page(ctx, services.get_partner(ctx, partner_id), saved=bool(saved))


@litestar.post("/community/partners/{partner_id:int}", opt={"permission": services.PARTNERS}, sync_to_thread=True, status_code=303,
               name="community-partner-save")
def partner_save(ctx: Ctx, partner_id: FromPath[int], data: Form) -> Response[Any]:
    """Change a partner's details."""
    partner = services.get_partner(ctx, partner_id)
    return act(ctx, lambda: services.update_partner(ctx, partner, parse(PartnerIn, data)), f"/community/partners/{partner_id}?saved=1",
               lambda errors: _partner_page(ctx, services.get_partner(ctx, partner_id), data, errors, 422))


# --- a case ----------------------------------------------------------------------------------------


def _case_context(ctx: Context, case: Case) -> dict[str, Any]:
    rows = services.referrals(ctx, case)
    return {
        "case": case, "referrals": rows, "partners": services.partners_by_id(ctx, {r.partner_id for r in rows}),
        "attended": services.case_meetings(ctx, case), "persons": {}, "can_refer": ctx.user.can(services.REFER),
        "next_steps": services.NEXT, **_common(),
    }


def _case_page(ctx: Context, case: Case, form: str = "", values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> Template:
    context = _case_context(ctx, case)
    context["persons"] = services.persons_by_id(ctx, {a.person_id for _m, a in context["attended"]})
    near = services.nearby(ctx, case.person)
    near_ids = {p.id for _rank, p in near}
    others = [p for p in services.partners(ctx) if p.id not in near_ids]
    choices = [(str(p.id), f"{p.name} · {services.near_label(rank)}{'' if p.agreement_signed else ' · ⚠'}") for rank, p in near]
    choices += [(str(p.id), f"{p.name} · {p.province or '—'}{'' if p.agreement_signed else ' · ⚠'}") for p in others]
    defaults = {"referred_on": ctx.today.isoformat(), "on": ctx.today.isoformat(), "purpose": "local_follow_up"}
    return render(ctx, "community/case.html", status_code, **context, near=near, partner_options=choices, purposes=_options(PURPOSES),
                  form=form, values={**defaults, **(values or {})}, errors=errors or {}, answers=lambda status: _options(services.NEXT.get(status, ())))


@litestar.get("/community/cases/{case_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-case")
def case_page(ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case's referrals with their answers, the partners near the home, the referral form and
    the meetings attended."""
    return _case_page(ctx, get_case(ctx, case_id))


@litestar.get("/community/cases/{case_id:int}/tab", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-tab")
def case_tab(request: AnyRequest, ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case tab: the person's referrals and meetings."""
    context = _case_context(ctx, get_case(ctx, case_id))
    context["persons"] = services.persons_by_id(ctx, {a.person_id for _m, a in context["attended"]})
    if request.htmx:  # type: ignore[attr-defined]
        return Template("community/_case.html", context=context)
    return render(ctx, "community/tab.html", **context)


@litestar.post("/community/cases/{case_id:int}/referrals", opt={"permission": services.REFER}, sync_to_thread=True, status_code=303,
               name="community-refer")
def refer(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Refer the case to a partner (refused without an agreement or without the person's consent)."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.refer(ctx, case, parse(ReferralIn, data)), lambda r: f"/community/cases/{case_id}#referral-{r.id}",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), "refer", data, errors, 422))


@litestar.post("/community/referrals/{referral_id:int}/answer", opt={"permission": services.REFER}, sync_to_thread=True, status_code=303,
               name="community-answer")
def referral_answer(ctx: Ctx, referral_id: FromPath[int], data: Form) -> Response[Any]:
    """Record the partner's answer, or the referral's completion, with the feedback."""
    referral = services.get_referral(ctx, referral_id)
    case_id = referral.case_id
    return act(ctx, lambda: services.answer(ctx, referral, parse(AnswerIn, data)), f"/community/cases/{case_id}#referral-{referral_id}",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), f"answer-{referral_id}", data, errors, 422))


@litestar.get("/community/referrals", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-referrals")
def referral_list(ctx: Ctx, status: FromQuery[str] = "") -> Template:
    """Every referral, newest first, or those of one status."""
    rows = services.referrals(ctx, status=status if status in STATUSES else "")
    return render(ctx, "community/referrals.html", referrals=rows, status=status, statuses=_options(STATUSES), today=ctx.today,
                  cases=services.cases_by_id(ctx, {r.case_id for r in rows}),
                  partners=services.partners_by_id(ctx, {r.partner_id for r in rows}), **_common())


# --- meetings --------------------------------------------------------------------------------------


def _meetings_page(ctx: Context, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    rows = services.meetings(ctx)
    counts = services.attendance_counts(ctx, [m.id for m in rows])
    return render(ctx, "community/meetings.html", status_code, meetings=rows, counts=counts, today=ctx.today,
                  values=values or {"held_on": ctx.today.isoformat(), "facilitator": ctx.user.name}, errors=errors or {},
                  can_plan=ctx.user.can(services.MEETINGS), **_common())


@litestar.get("/community/meetings", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-meetings")
def meeting_list(ctx: Ctx) -> Template:
    """Peer meetings, newest first, with how many came; the form to plan one."""
    return _meetings_page(ctx)


@litestar.post("/community/meetings", opt={"permission": services.MEETINGS}, sync_to_thread=True, status_code=303, name="community-meeting-add")
def meeting_add(ctx: Ctx, data: Form) -> Response[Any]:
    """Plan a meeting (or record one held)."""
    return act(ctx, lambda: services.plan_meeting(ctx, parse(MeetingIn, data)), lambda m: f"/community/meetings/{m.id}",
               lambda errors: _meetings_page(ctx, data, errors, 422))


def _meeting_page(ctx: Context, meeting: Meeting, form: str = "", values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  status_code: int = 200) -> Template:
    present = services.attendance(ctx, meeting)
    rows = services.costs(ctx, meeting)
    defaults = {
        "held_on": meeting.held_on.isoformat(), "place": meeting.place, "facilitator": meeting.facilitator, "topic": meeting.topic,
        "reflections": meeting.reflections, "paid_on": min(meeting.held_on, ctx.today).isoformat(), "currency": "KHR", "item": "refreshments",
        "reversed_on": ctx.today.isoformat(),
    }
    return render(
        ctx, "community/meeting.html", status_code, meeting=meeting, attendance=present, costs=rows, totals=services.cost_totals(rows),
        persons=services.persons_by_id(ctx, {a.person_id for a in present}), cases=services.cases_by_id(ctx, {a.family_of_case_id for a in present}),
        held=meeting.held_on <= ctx.today, form=form, values={**defaults, **(values or {})}, errors=errors or {},
        case_options=services.former_prisoners(ctx), family_options=services.family_options(ctx, meeting),
        items=_options(ITEMS), currencies=[(c, c) for c in get_args(Currency)],
        can_plan=ctx.user.can(services.MEETINGS), can_pay=ctx.user.can(services.PAY), can_correct=ctx.user.can(services.CORRECT), **_common(),
    )


@litestar.get("/community/meetings/{meeting_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-meeting")
def meeting_page(ctx: Ctx, meeting_id: FromPath[int]) -> Template:
    """A meeting: its details and reflections, who came, what it cost."""
    return _meeting_page(ctx, services.get_meeting(ctx, meeting_id))


@litestar.post("/community/meetings/{meeting_id:int}", opt={"permission": services.MEETINGS}, sync_to_thread=True, status_code=303,
               name="community-meeting-save")
def meeting_save(ctx: Ctx, meeting_id: FromPath[int], data: Form) -> Response[Any]:
    """Change the meeting's details or its reflections."""
    meeting = services.get_meeting(ctx, meeting_id)
    return act(ctx, lambda: services.update_meeting(ctx, meeting, parse(MeetingIn, data)), f"/community/meetings/{meeting_id}",
               lambda errors: _meeting_page(ctx, services.get_meeting(ctx, meeting_id), "meeting", data, errors, 422))


@litestar.post("/community/meetings/{meeting_id:int}/attendance", opt={"permission": services.MEETINGS}, sync_to_thread=True, status_code=303,
               name="community-attend")
def meeting_attend(ctx: Ctx, meeting_id: FromPath[int], data: Form) -> Response[Any]:
    """Record a former prisoner or a family member who came."""
    meeting = services.get_meeting(ctx, meeting_id)
    return act(ctx, lambda: services.attend(ctx, meeting, parse(AttendanceIn, data)), f"/community/meetings/{meeting_id}#attendance",
               lambda errors: _meeting_page(ctx, services.get_meeting(ctx, meeting_id), "attend", data, errors, 422))


@litestar.post("/community/meetings/{meeting_id:int}/costs", opt={"permission": services.PAY}, sync_to_thread=True, status_code=303,
               name="community-pay")
def meeting_pay(ctx: Ctx, meeting_id: FromPath[int], data: Form) -> Response[Any]:
    """Pay a cost of the meeting (one transaction with its journal entry)."""
    meeting = services.get_meeting(ctx, meeting_id)
    return act(ctx, lambda: services.pay_cost(ctx, meeting, parse(CostIn, data)), f"/community/meetings/{meeting_id}#costs",
               lambda errors: _meeting_page(ctx, services.get_meeting(ctx, meeting_id), "cost", data, errors, 422))


@litestar.post("/community/costs/{cost_id:int}/reverse", opt={"permission": services.CORRECT}, sync_to_thread=True, status_code=303,
               name="community-cost-reverse")
def cost_reverse(ctx: Ctx, cost_id: FromPath[int], data: Form) -> Response[Any]:
    """Reverse a cost paid in error (finance, admin): its journal entry is reversed."""
    cost = services.get_cost(ctx, cost_id)
    meeting_id = cost.meeting_id
    return act(ctx, lambda: services.reverse_cost(ctx, cost, parse(ReverseIn, data)), f"/community/meetings/{meeting_id}#costs",
               lambda errors: _meeting_page(ctx, services.get_meeting(ctx, meeting_id), f"reverse-{cost_id}", data, errors, 422))


# --- reports ---------------------------------------------------------------------------------------


@litestar.get("/community/reports", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-reports")
def reports(ctx: Ctx) -> Template:
    """Meetings held and attendance per month, referrals by partner kind and outcome, and the share
    of released people at a meeting in their first six months."""
    first = services.add_months(ctx.today.replace(day=1), -11)
    months = services.month_rows(ctx)
    return render(ctx, "community/reports.html", months=months, first=first, last=ctx.today, outcomes=services.outcome_table(ctx, first, ctx.today),
                  statuses=STATUSES, share=services.first_six_months(ctx),
                  totals=(sum(m.meetings for m in months), sum(m.former_prisoners for m in months), sum(m.family for m in months)), **_common())


def _month_table(ctx: Context) -> tuple[list[str], list[list[Any]]]:
    header = [_("Month"), _("Meetings held"), _("Former prisoners"), _("Family members")]
    return header, [[m.month.strftime("%Y-%m"), m.meetings, m.former_prisoners, m.family] for m in services.month_rows(ctx)]


@litestar.get("/community/reports/months.csv", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-reports-csv")
def reports_csv(ctx: Ctx) -> Response[Any]:
    """Meetings held and attendance per month as CSV."""
    return table_download("community-months", *_month_table(ctx), "csv")


@litestar.get("/community/reports.xlsx", opt={"permission": services.VIEW}, sync_to_thread=True, name="community-reports-xlsx")
def reports_xlsx(ctx: Ctx) -> Response[Any]:
    """The report page as an Excel workbook: attendance per month, referrals by partner kind and
    outcome, and the first-six-months share."""
    first = services.add_months(ctx.today.replace(day=1), -11)
    share = services.first_six_months(ctx)
    outcomes = [[services.label(kind), *(counts[s] for s in STATUSES), total] for kind, counts, total in services.outcome_table(ctx, first, ctx.today)]
    return workbook_download("community-reports", [
        Sheet(_("Per month"), *_month_table(ctx)),
        Sheet(_("Referrals"), [_("Kind"), *(services.label(s) for s in STATUSES), _("Total")], outcomes,
              above=[[_("Referrals sent from %(first)s to %(last)s, by where they are now.", first=first.isoformat(), last=ctx.today.isoformat())]]),
        Sheet(_("First six months"), [_("Released from"), _("Released to"), _("Released people"), _("Attended a meeting")],
              [[share.released_from, share.released_to, share.cohort, share.attended]]),
    ])


# --- settings --------------------------------------------------------------------------------------


def _settings_page(ctx: Context, values: dict[str, Any], errors: dict[str, str], status_code: int = 200, saved: bool = False) -> Template:
    return render(ctx, "community/settings.html", status_code, values=values, errors=errors, saved=saved,
                  funds=[(f.code, f"{f.code} · {f.name}") for f in services.funds(ctx)],
                  accounts_usd=[(a, a) for a in services.pay_accounts(ctx, "USD")], accounts_khr=[(a, a) for a in services.pay_accounts(ctx, "KHR")])


@litestar.get("/community/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, name="community-settings")
def settings_page(ctx: Ctx, saved: FromQuery[int] = 0) -> Template:
    """The fund meeting costs are charged to, the expense account and the pay-from accounts."""
    row = services.settings(ctx)
    values = {"fund": row.fund_code or "", "expense_account": row.expense_account or services.EXPENSE,
              "pay_from_usd": row.pay_from_usd or "", "pay_from_khr": row.pay_from_khr or ""}
    return _settings_page(ctx, values, {}, saved=bool(saved))


@litestar.post("/community/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, status_code=303, name="community-settings-save")
def settings_save(ctx: Ctx, data: Form) -> Response[Any]:
    """Save the settings."""
    return act(ctx, lambda: services.save_settings(ctx, parse(SettingsIn, data)), "/community/settings?saved=1",
               lambda errors: _settings_page(ctx, data, errors, 422))


ROUTES = [
    home, partner_list, partner_add, partner_page, partner_save, case_page, case_tab, refer, referral_answer, referral_list,
    meeting_list, meeting_add, meeting_page, meeting_save, meeting_attend, meeting_pay, cost_reverse, reports, reports_csv, reports_xlsx, settings_page, settings_save,
]
