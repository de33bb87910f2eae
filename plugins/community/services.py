"""The community module's rules: the directory of partners and finding those near a case's home,
referrals (only to a partner with a data-sharing agreement, only with the person's consent to
share), peer meetings with their attendance and their small costs posted to the ledger, and the
figures of the module's reports.

Every query is limited to ``ctx.org_id``. Services add and flush, and post their journal entry
through ``ledger.api`` in the same session; the route commits once (``core.plugin_api.act``), so
a cost and its entry are written together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.plugin_api import (
    ActionRefused,
    Case,
    CaseStatus,
    ConsentPurpose,
    Context,
    InvalidInput,
    Organisation,
    Person,
    RecordNotFound,
    User,
    add_months,
    by_month,
    families_of,
    family_of,
    format_date,
    has_consent,
    record_event,
)
from core.plugin_api import gettext as _
from ledger.api import (
    ClosedPeriod,
    Fund,
    JournalTransaction,
    LedgerError,
    check_payment_accounts,
    credit,
    debit,
    ensure_account,
    find_account,
    from_minor,
    general_book,
    get_fund,
    payment_accounts,
    post,
    require_available,
    reverse,
    to_minor,
)
from plugins.community.models import (
    Attendance,
    CommunitySettings,
    Meeting,
    MeetingCost,
    Partner,
    Referral,
)
from plugins.community.schemas import (
    KINDS,
    LABELS,
    NEXT,
    STATUSES,
    AnswerEvent,
    AnswerIn,
    AttendanceIn,
    AttendedEvent,
    CostIn,
    MeetingIn,
    PartnerIn,
    ReferralEvent,
    ReferralIn,
    ReverseIn,
    SettingsIn,
)

NAME = "community"
VIEW = "community.view"
PARTNERS = "community.partners"
REFER = "community.refer"
MEETINGS = "community.meetings"
PAY = "community.pay"
CORRECT = "community.correct"
SETTINGS = "community.settings"

REFERRED = "community.referred"
ACCEPTED = "community.referral_accepted"
DECLINED = "community.referral_declined"
COMPLETED = "community.referral_completed"
ATTENDED = "community.meeting_attended"
ANSWER_KINDS = {"accepted": ACCEPTED, "declined": DECLINED, "completed": COMPLETED}

EXPENSE = "Expenses:Programme:Community"
CURRENCIES = ("USD", "KHR")
WAITING_DAYS = 14
"""A referral still ``sent`` after this many days is waiting too long for the partner's answer."""
RELEASED = (CaseStatus.released, CaseStatus.follow_up)


def _require(ctx: Context, permission: str) -> None:
    if not ctx.user.can(permission):
        raise ActionRefused(_("Your role does not allow this."))


def money(minor: int | None, currency: str | None) -> Decimal:
    """Minor units to a ``Decimal`` of the currency's precision."""
    return from_minor(minor or 0, currency or "USD")


def label(value: str) -> str:
    """The translated label of one of the module's choice values (a kind, a purpose, a status)."""
    return _(LABELS[value]) if value in LABELS else value


def _event(ctx: Context, case: Case, kind: str, on: date, summary: str, payload: Any) -> None:
    record_event(ctx, case, kind, on, summary=summary[:200], payload=payload, system=True)


def _case(ctx: Context, case_id: int | None, field: str) -> Case:
    case = ctx.session.scalar(select(Case).where(Case.org_id == ctx.org_id, Case.id == case_id)) if case_id else None
    if case is None:
        raise ActionRefused(_("Choose one of the options."), field)
    return case


def user_names(ctx: Context, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(ctx.session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())  # type: ignore[arg-type]


def cases_by_id(ctx: Context, ids: set[int | None]) -> dict[int, Case]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {c.id: c for c in ctx.session.scalars(select(Case).where(Case.org_id == ctx.org_id, Case.id.in_(wanted)))}


def persons_by_id(ctx: Context, ids: set[int | None]) -> dict[int, Person]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {p.id: p for p in ctx.session.scalars(select(Person).where(Person.org_id == ctx.org_id, Person.id.in_(wanted)))}


# --- settings --------------------------------------------------------------------------------------


def settings(ctx: Any) -> CommunitySettings:
    """The organisation's settings (a fresh, unsaved row with the defaults when never set)."""
    row = ctx.session.get(CommunitySettings, ctx.org_id)
    return row if row is not None else CommunitySettings(org_id=ctx.org_id, expense_account=EXPENSE)


def funds(ctx: Context) -> list[Fund]:
    return list(ctx.session.scalars(select(Fund).where(Fund.org_id == ctx.org_id).order_by(Fund.code)))


def pay_accounts(ctx: Context, currency: str | None = None) -> list[str]:
    """The general book's open asset accounts money can be paid from, allowing ``currency`` when given."""
    return payment_accounts(ctx.session, ctx.org_id, currency)


def save_settings(ctx: Context, data: SettingsIn) -> CommunitySettings:
    """Save the fund, the expense account and the pay-from account of each currency (admin).

    :raises ActionRefused: an unknown fund, or a pay-from account that is not an open asset
        account of the general book allowing its currency.
    """
    _require(ctx, SETTINGS)
    errors: dict[str, str] = {}
    if data.fund:
        try:
            get_fund(ctx.session, ctx.org_id, data.fund)
        except LedgerError:
            errors["fund"] = _("Choose one of the options.")
    errors |= check_payment_accounts(ctx.session, ctx.org_id, {"pay_from_usd": ("USD", data.pay_from_usd), "pay_from_khr": ("KHR", data.pay_from_khr)})
    if errors:
        raise InvalidInput(errors)
    row = ctx.session.get(CommunitySettings, ctx.org_id)
    if row is None:
        row = CommunitySettings(org_id=ctx.org_id)
        ctx.session.add(row)
    row.fund_code = data.fund or None
    row.expense_account = data.expense_account
    row.pay_from_usd, row.pay_from_khr = data.pay_from_usd or None, data.pay_from_khr or None
    row.updated_by_id, row.updated_at = ctx.user.id, datetime.now(UTC)
    ctx.session.flush()
    return row


# --- partners --------------------------------------------------------------------------------------


def partners(ctx: Context, kind: str = "", q: str = "") -> list[Partner]:
    """The directory, by province, district, commune and name; of one kind, or matching ``q``
    (name, contact person, place or what they help with)."""
    query = select(Partner).where(Partner.org_id == ctx.org_id)
    if kind:
        query = query.where(Partner.kind == kind)
    if q.strip():
        like = f"%{q.strip().lower()}%"
        query = query.where(or_(*(func.lower(c).like(like) for c in (
            Partner.name, Partner.contact_person, Partner.village, Partner.commune, Partner.district, Partner.province, Partner.helps_with))))
    return list(ctx.session.scalars(query.order_by(Partner.province, Partner.district, Partner.commune, Partner.name)))


def get_partner(ctx: Context, partner_id: int) -> Partner:
    """The partner with this id in the current organisation, or :class:`RecordNotFound`."""
    partner = ctx.session.scalar(select(Partner).where(Partner.org_id == ctx.org_id, Partner.id == partner_id))
    if partner is None:
        raise RecordNotFound
    return partner


def _check_partner(ctx: Context, data: PartnerIn, partner_id: int | None = None) -> None:
    if data.agreement_signed and data.agreement_on is None:
        raise ActionRefused(_("Enter the date the agreement was signed."), "agreement_on")
    if data.agreement_on is not None and data.agreement_on > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "agreement_on")
    same = select(Partner.id).where(Partner.org_id == ctx.org_id, func.lower(Partner.name) == data.name.lower())
    if partner_id is not None:
        same = same.where(Partner.id != partner_id)
    if ctx.session.scalar(same) is not None:
        raise ActionRefused(_("There is already a partner with this name."), "name")


def _fill(partner: Partner, data: PartnerIn) -> None:
    for name in ("kind", "name", "contact_person", "phone", "village", "commune", "district", "province", "helps_with", "agreement_signed"):
        setattr(partner, name, getattr(data, name))
    partner.agreement_on = data.agreement_on if data.agreement_signed else None


def add_partner(ctx: Context, data: PartnerIn) -> Partner:
    """Add a partner to the directory.

    :raises ActionRefused: the name is taken; an agreement marked signed without its date, or
        dated in the future.
    """
    _require(ctx, PARTNERS)
    _check_partner(ctx, data)
    partner = Partner(org_id=ctx.org_id, created_by_id=ctx.user.id)
    _fill(partner, data)
    ctx.session.add(partner)
    ctx.session.flush()
    return partner


def update_partner(ctx: Context, partner: Partner, data: PartnerIn) -> Partner:
    """Change a partner's details (an agreement signed later, a new contact person)."""
    _require(ctx, PARTNERS)
    _check_partner(ctx, data, partner.id)
    _fill(partner, data)
    ctx.session.flush()
    return partner


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).lower()


NEAR_LABELS = {0: "Same commune", 1: "Same district", 2: "Same province"}


def nearness(person: Person, partner: Partner) -> int | None:
    """How near ``partner`` is to the person's home: 0 the same commune, 1 the same district, 2 the
    same province, ``None`` elsewhere (or the person's address unknown). A district or commune of
    the same name in another province (or district) is not near."""
    home = (_norm(person.province), _norm(person.district), _norm(person.commune))
    there = (_norm(partner.province), _norm(partner.district), _norm(partner.commune))
    rank = None
    for level in (2, 1, 0):  # province, district, commune: each must agree with the one above
        index = 2 - level
        if not home[index] or not there[index] or home[index] != there[index]:
            break
        rank = level
    return rank


def nearby(ctx: Context, person: Person) -> list[tuple[int, Partner]]:
    """Partners near the person's home address, nearest first: the same commune, then the same
    district, then the same province (each by kind and name)."""
    if not _norm(person.province):
        return []
    rows = ctx.session.scalars(select(Partner).where(Partner.org_id == ctx.org_id, func.lower(Partner.province) == _norm(person.province)))
    ranked = [(rank, p) for p in rows if (rank := nearness(person, p)) is not None]
    return sorted(ranked, key=lambda r: (r[0], not r[1].agreement_signed, r[1].kind, r[1].name.lower()))


def near_label(rank: int) -> str:
    return _(NEAR_LABELS[rank])


# --- referrals -------------------------------------------------------------------------------------


def refer(ctx: Context, case: Case, data: ReferralIn) -> Referral:
    """Refer the case to a partner for a purpose, and write ``community.referred``.

    :raises ActionRefused: the case is closed; an unknown partner (or another organisation's);
        the partner has no signed data-sharing agreement; the person has not consented to share
        their information with partners (or withdrew it), on the referral's day or today; the date
        is in the future, or before the agreement; an open referral to that partner for the same
        purpose already exists.
    """
    _require(ctx, REFER)
    if case.status == CaseStatus.closed:
        raise ActionRefused(_("This case is closed: it can no longer be referred."))
    partner = ctx.session.scalar(select(Partner).where(Partner.org_id == ctx.org_id, Partner.id == data.partner))
    if partner is None:
        raise ActionRefused(_("Choose one of the options."), "partner")
    if data.referred_on > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "referred_on")
    if not partner.agreement_signed:
        raise ActionRefused(
            _("%(partner)s has not signed a data-sharing agreement with the organisation: a referral can only go to a partner "
              "who has. Record the agreement in the partner's details first.", partner=partner.name),
            "partner",
        )
    if partner.agreement_on is not None and data.referred_on < partner.agreement_on:
        raise ActionRefused(_("The agreement with %(partner)s was signed on %(date)s: a referral comes on or after that day.",
                              partner=partner.name, date=format_date(partner.agreement_on)), "referred_on")
    purpose = ConsentPurpose.share_with_partners
    if not (has_consent(ctx, case.person_id, purpose, data.referred_on) and has_consent(ctx, case.person_id, purpose)):
        raise ActionRefused(
            _("%(name)s has not consented to share their information with partners (or withdrew that consent): a referral needs "
              "their recorded consent. Record it on the person's page first.", name=case.person.name),
            "partner",
        )
    open_one = ctx.session.scalar(select(Referral.id).where(
        Referral.org_id == ctx.org_id, Referral.case_id == case.id, Referral.partner_id == partner.id, Referral.purpose == data.purpose,
        Referral.status.in_(("sent", "accepted")),
    ))
    if open_one is not None:
        raise ActionRefused(_("This case already has an open referral to %(partner)s for this purpose.", partner=partner.name), "purpose")
    referral = Referral(org_id=ctx.org_id, case_id=case.id, partner_id=partner.id, purpose=data.purpose, status="sent",
                        referred_on=data.referred_on, note=data.note, referred_by_id=ctx.user.id, updated_by_id=ctx.user.id)
    ctx.session.add(referral)
    ctx.session.flush()
    _event(ctx, case, REFERRED, data.referred_on, f"{partner.name} · {label(data.purpose)}",
           ReferralEvent(referral_id=referral.id, partner=partner.name, kind=partner.kind, purpose=data.purpose))  # type: ignore[arg-type]
    return referral


def get_referral(ctx: Context, referral_id: int) -> Referral:
    """The referral with this id in the current organisation, or :class:`RecordNotFound`."""
    referral = ctx.session.scalar(select(Referral).where(Referral.org_id == ctx.org_id, Referral.id == referral_id))
    if referral is None:
        raise RecordNotFound
    return referral


def answer(ctx: Context, referral: Referral, data: AnswerIn) -> Referral:
    """Record the partner's answer (accepted or declined) to a sent referral, or the completion of
    an accepted one, with the partner's feedback; write the step's timeline event.

    :raises ActionRefused: the step does not follow from the referral's status (only a sent
        referral is accepted or declined; only an accepted one is completed); the date is in the
        future or before the previous step; a decline or a completion without feedback.
    """
    _require(ctx, REFER)
    allowed = NEXT.get(referral.status, ())
    if not allowed:
        raise ActionRefused(_("This referral is %(status)s: it takes no further step.", status=label(referral.status).lower()))
    if data.status not in allowed:
        raise ActionRefused(
            _("A referral that is %(status)s cannot become %(new)s.", status=label(referral.status).lower(), new=label(data.status).lower()),
            "status",
        )
    if data.on > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "on")
    previous = referral.answered_on if data.status == "completed" else referral.referred_on
    if previous is not None and data.on < previous:
        raise ActionRefused(_("The previous step was on %(date)s: this one comes on or after that day.", date=format_date(previous)), "on")
    if data.status in ("declined", "completed") and not data.feedback:
        raise ActionRefused(_("Enter the partner's feedback."), "feedback")
    referral.status = data.status
    if data.status == "completed":
        referral.completed_on = data.on
    else:
        referral.answered_on = data.on
    if data.feedback:
        referral.feedback = f"{referral.feedback}\n{data.feedback}".strip() if referral.feedback else data.feedback
    referral.updated_by_id = ctx.user.id
    ctx.session.flush()
    case = ctx.session.scalar(select(Case).where(Case.org_id == ctx.org_id, Case.id == referral.case_id))
    partner = ctx.session.get(Partner, referral.partner_id)
    assert case is not None and partner is not None
    _event(ctx, case, ANSWER_KINDS[data.status], data.on, f"{partner.name}" + (f": {data.feedback}" if data.feedback else ""),
           AnswerEvent(referral_id=referral.id, partner=partner.name, feedback=data.feedback))
    return referral


def referrals(ctx: Context, case: Case | None = None, status: str = "", partner: Partner | None = None, limit: int = 500) -> list[Referral]:
    """Referrals, newest first (of one case, one status, one partner, or of the organisation)."""
    query = select(Referral).where(Referral.org_id == ctx.org_id)
    if case is not None:
        query = query.where(Referral.case_id == case.id)
    if status:
        query = query.where(Referral.status == status)
    if partner is not None:
        query = query.where(Referral.partner_id == partner.id)
    return list(ctx.session.scalars(query.order_by(Referral.referred_on.desc(), Referral.id.desc()).limit(limit)))


def partners_by_id(ctx: Context, ids: set[int]) -> dict[int, Partner]:
    if not ids:
        return {}
    return {p.id: p for p in ctx.session.scalars(select(Partner).where(Partner.org_id == ctx.org_id, Partner.id.in_(ids)))}


def waiting(ctx: Context, days: int = WAITING_DAYS) -> list[Referral]:
    """Referrals sent more than ``days`` days ago that the partner has not answered, oldest first."""
    before = ctx.today - timedelta(days=days)
    return list(ctx.session.scalars(
        select(Referral).where(Referral.org_id == ctx.org_id, Referral.status == "sent", Referral.referred_on < before)
        .order_by(Referral.referred_on, Referral.id)
    ))


def dashboard_panel(ctx: Context) -> str | None:
    """The dashboard's panel: referrals waiting more than two weeks for the partner's answer (none: no panel)."""
    rows = waiting(ctx)
    if not rows:
        return None
    cases = cases_by_id(ctx, {r.case_id for r in rows})
    found = partners_by_id(ctx, {r.partner_id for r in rows})
    parts = [Markup('<section class="panel" id="community-waiting"><h2>{}</h2><ul>').format(
        escape(_("Referrals waiting more than two weeks for an answer")))]
    for r in rows[:20]:
        case, partner = cases.get(r.case_id), found.get(r.partner_id)
        parts.append(Markup('<li data-referral="{}"><a href="/community/cases/{}">{}</a> · {}</li>').format(
            r.id, r.case_id, case.person.name if case else "?",
            _("%(partner)s, %(purpose)s, sent %(date)s (%(days)s days)", partner=partner.name if partner else "?", purpose=label(r.purpose),
              date=format_date(r.referred_on), days=(ctx.today - r.referred_on).days)))
    if len(rows) > 20:
        parts.append(Markup("<li>{}</li>").format(_("and %(n)s more", n=len(rows) - 20)))
    parts.append(Markup('</ul><p><a href="/community/referrals?status=sent">{}</a></p></section>').format(_("All referrals")))
    return str(Markup("").join(parts))


# --- meetings --------------------------------------------------------------------------------------


def meetings(ctx: Context, limit: int = 500) -> list[Meeting]:
    """Peer meetings, newest first."""
    return list(ctx.session.scalars(
        select(Meeting).where(Meeting.org_id == ctx.org_id).order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit)))


def get_meeting(ctx: Context, meeting_id: int) -> Meeting:
    """The meeting with this id in the current organisation, or :class:`RecordNotFound`."""
    meeting = ctx.session.scalar(select(Meeting).where(Meeting.org_id == ctx.org_id, Meeting.id == meeting_id))
    if meeting is None:
        raise RecordNotFound
    return meeting


def plan_meeting(ctx: Context, data: MeetingIn) -> Meeting:
    """Plan a meeting (or record one held): date, place, facilitator, topic, reflections."""
    _require(ctx, MEETINGS)
    meeting = Meeting(org_id=ctx.org_id, held_on=data.held_on, place=data.place, facilitator=data.facilitator, topic=data.topic,
                      reflections=data.reflections, created_by_id=ctx.user.id)
    ctx.session.add(meeting)
    ctx.session.flush()
    return meeting


def update_meeting(ctx: Context, meeting: Meeting, data: MeetingIn) -> Meeting:
    """Change a meeting's details or its reflections.

    :raises ActionRefused: a meeting with attendance or costs moved to a later day than those allow
        (in the future while people attended, or after a cost was paid).
    """
    _require(ctx, MEETINGS)
    if data.held_on > ctx.today and attendance(ctx, meeting):
        raise ActionRefused(_("People attended this meeting: its date cannot be in the future."), "held_on")
    meeting.held_on, meeting.place, meeting.facilitator, meeting.topic, meeting.reflections = (
        data.held_on, data.place, data.facilitator, data.topic, data.reflections)
    ctx.session.flush()
    return meeting


def attendance(ctx: Context, meeting: Meeting) -> list[Attendance]:
    return list(ctx.session.scalars(
        select(Attendance).where(Attendance.org_id == ctx.org_id, Attendance.meeting_id == meeting.id).order_by(Attendance.id)))


def attendance_counts(ctx: Context, meeting_ids: list[int]) -> dict[int, int]:
    """How many came to each of these meetings, in one query."""
    if not meeting_ids:
        return {}
    return {m: int(n) for m, n in ctx.session.execute(
        select(Attendance.meeting_id, func.count()).where(Attendance.org_id == ctx.org_id, Attendance.meeting_id.in_(meeting_ids))
        .group_by(Attendance.meeting_id))}


def released(case: Case) -> bool:
    """Whether the case's person is a former prisoner (released, whatever the case's status now)."""
    return case.actual_release is not None or case.status in RELEASED


def attend(ctx: Context, meeting: Meeting, data: AttendanceIn) -> Attendance:
    """Record someone who came to a meeting held: a former prisoner (their case; written on the
    case's timeline as ``community.meeting_attended``) or a family member of a former prisoner
    who attended (written on that case's timeline).

    :raises ActionRefused: the meeting is in the future; neither or both chosen; a case of another
        organisation or a person not yet released; a family member of nobody attending; someone
        already recorded.
    """
    _require(ctx, MEETINGS)
    if meeting.held_on > ctx.today:
        raise ActionRefused(_("This meeting has not taken place yet: record who came on or after %(date)s.", date=format_date(meeting.held_on)))
    if (data.case is None) == (data.person is None):
        raise ActionRefused(_("Choose a former prisoner or a family member."), "case")
    present = attendance(ctx, meeting)
    if data.case is not None:
        case = _case(ctx, data.case, "case")
        if not released(case):
            raise ActionRefused(_("%(name)s is not released yet: peer meetings are for former prisoners.", name=case.person.name), "case")
        if case.actual_release is not None and meeting.held_on < case.actual_release:
            raise ActionRefused(_("%(name)s was released on %(date)s, after this meeting.", name=case.person.name,
                                  date=format_date(case.actual_release)), "case")
        person_id, family_case = case.person_id, None
    else:
        cases = cases_by_id(ctx, {a.case_id for a in present})
        family_case = None
        for attended in present:
            came = cases.get(attended.case_id or 0)
            if came is not None and any(relative.id == data.person for _relation, relative, _link in family_of(ctx, came.person)):
                family_case = came
                break
        if family_case is None:
            raise ActionRefused(_("Choose a family member of a former prisoner who attended: record the former prisoner first."), "person")
        person_id, case = data.person, family_case  # type: ignore[assignment]
    if any(a.person_id == person_id for a in present):
        raise ActionRefused(_("This person is already recorded at the meeting."), "case" if data.case is not None else "person")
    row = Attendance(org_id=ctx.org_id, meeting_id=meeting.id, person_id=person_id, case_id=data.case,
                     family_of_case_id=family_case.id if family_case is not None else None, reflection=data.reflection,
                     recorded_by_id=ctx.user.id)
    ctx.session.add(row)
    ctx.session.flush()
    if family_case is None:
        summary = f"{meeting.topic} · {meeting.place}"
    else:
        relative = persons_by_id(ctx, {person_id}).get(person_id)  # type: ignore[arg-type]
        summary = _("%(name)s (family) at %(topic)s", name=relative.name if relative else "?", topic=meeting.topic)
    _event(ctx, case, ATTENDED, meeting.held_on, summary, AttendedEvent(meeting_id=meeting.id, topic=meeting.topic, place=meeting.place))
    return row


def family_options(ctx: Context, meeting: Meeting) -> list[tuple[str, str]]:
    """Family members of the former prisoners who attended, not yet recorded: ``(person id, label)``."""
    present = attendance(ctx, meeting)
    here = {a.person_id for a in present}
    cases = cases_by_id(ctx, {a.case_id for a in present})
    families = families_of(ctx, [c.person_id for c in cases.values()])
    out: list[tuple[str, str]] = []
    for a in present:
        came = cases.get(a.case_id or 0)
        if came is None:
            continue
        for _relation, relative, _link in families.get(came.person_id, []):
            if relative.id not in here:
                here.add(relative.id)
                out.append((str(relative.id), f"{relative.name} ({came.person.name})"))
    return out


def former_prisoners(ctx: Context, limit: int = 2000) -> list[tuple[str, str]]:
    """Released cases to choose attendance from: ``(case id, person name)``, by name."""
    rows = ctx.session.execute(
        select(Case.id, Person.name).join(Person, Person.id == Case.person_id)
        .where(Case.org_id == ctx.org_id, or_(Case.actual_release.is_not(None), Case.status.in_([s.value for s in RELEASED])))
        .order_by(Person.name).limit(limit)
    ).all()
    return [(str(i), n) for i, n in rows]


def case_meetings(ctx: Context, case: Case) -> list[tuple[Meeting, Attendance]]:
    """The meetings the case's person attended (or family members came with the case), newest first."""
    rows = ctx.session.execute(
        select(Meeting, Attendance).join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(Attendance.org_id == ctx.org_id, or_(Attendance.case_id == case.id, Attendance.family_of_case_id == case.id))
        .order_by(Meeting.held_on.desc(), Attendance.id)
    ).all()
    return [(m, a) for m, a in rows]


# --- costs -----------------------------------------------------------------------------------------


COST_FIELDS = {"date": "paid_on", "amount": "amount", "currency": "currency", "postings": "currency", "meta": "__all__"}


def _refusal(exc: LedgerError, fields: dict[str, str]) -> ActionRefused:
    return ActionRefused(exc.message, fields.get(exc.field or "", "__all__"))


def costs(ctx: Context, meeting: Meeting | None = None) -> list[MeetingCost]:
    query = select(MeetingCost).where(MeetingCost.org_id == ctx.org_id)
    if meeting is not None:
        query = query.where(MeetingCost.meeting_id == meeting.id)
    return list(ctx.session.scalars(query.order_by(MeetingCost.paid_on, MeetingCost.id)))


def pay_cost(ctx: Context, meeting: Meeting, data: CostIn) -> MeetingCost:
    """Pay a cost of a meeting and post it: Dr the expense account, Cr the settings' pay-from
    account of the currency; metadata ``plugin: community``, ``meeting_id``, ``cost_id``,
    ``item`` (and ``fund`` when the settings name one); link ``community-meeting-<id>``.

    :raises ActionRefused: the date is in the future or in a closed period; no account to pay the
        currency from; a restricted fund short.
    """
    _require(ctx, PAY)
    if data.paid_on > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "paid_on")
    setting = settings(ctx)
    book = general_book(ctx.session, ctx.org_id)
    pay_from = setting.pay_from(data.currency)
    if not pay_from or find_account(ctx.session, book, pay_from) is None:
        raise ActionRefused(_("No account to pay %(currency)s from: an administrator chooses it in the module's settings.",
                              currency=data.currency), "currency")
    fund = None
    if setting.fund_code:
        try:
            fund = get_fund(ctx.session, ctx.org_id, setting.fund_code)
            require_available(ctx.session, fund, data.amount, data.currency, data.paid_on)
        except LedgerError as exc:
            raise _refusal(exc, COST_FIELDS) from None
    ensure_account(ctx.session, book, setting.expense_account or EXPENSE, CURRENCIES)
    cost = MeetingCost(org_id=ctx.org_id, meeting_id=meeting.id, item=data.item, paid_on=data.paid_on, currency=data.currency,
                       amount_minor=to_minor(data.amount, data.currency), paid_from=pay_from, fund_code=fund.code if fund else None,
                       note=data.note, recorded_by_id=ctx.user.id)
    ctx.session.add(cost)
    ctx.session.flush()
    meta: dict[str, Any] = {"plugin": NAME, "meeting_id": meeting.id, "cost_id": cost.id, "item": data.item}
    if fund is not None:
        meta["fund"] = fund.code
    text = f"Peer meeting {meeting.held_on.isoformat()}, {meeting.topic}: {data.item}"
    try:
        txn = post(ctx.session, book, data.paid_on, text[:200], [
            debit(setting.expense_account or EXPENSE, data.amount, data.currency), credit(pay_from, data.amount, data.currency),
        ], meta=meta, links=[f"community-meeting-{meeting.id}"], created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, COST_FIELDS) from None
    cost.txn_id = txn.id
    ctx.session.flush()
    return cost


def get_cost(ctx: Context, cost_id: int) -> MeetingCost:
    cost = ctx.session.scalar(select(MeetingCost).where(MeetingCost.org_id == ctx.org_id, MeetingCost.id == cost_id))
    if cost is None:
        raise RecordNotFound
    return cost


REVERSE_FIELDS = {"date": "reversed_on", "reason": "reason", "transaction": "__all__"}


def reverse_cost(ctx: Context, cost: MeetingCost, data: ReverseIn) -> MeetingCost:
    """Correct a cost paid in error: reverse its journal entry (the ledger is append-only) and mark
    it reversed; it stays on the meeting's page, struck through.

    :raises ActionRefused: already reversed; the date in the future, before the entry or in a
        closed period.
    """
    _require(ctx, CORRECT)
    if cost.reversed:
        raise ActionRefused(_("This cost is already reversed."))
    if data.reversed_on > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "reversed_on")
    book = general_book(ctx.session, ctx.org_id)
    txn = ctx.session.scalar(select(JournalTransaction).where(JournalTransaction.id == cost.txn_id, JournalTransaction.book_id == book.id))
    if txn is None:
        raise ActionRefused(_("The journal entry of this cost is not in the general book."))
    try:
        mirror = reverse(ctx.session, txn, data.reversed_on, data.reason, created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, REVERSE_FIELDS) from None
    cost.reversal_txn_id, cost.reversed_on, cost.reversed_by_id, cost.reversal_reason = mirror.id, data.reversed_on, ctx.user.id, data.reason
    ctx.session.flush()
    return cost


def cost_totals(rows: list[MeetingCost]) -> dict[str, Decimal]:
    """What was spent per currency, reversed costs left out."""
    out: dict[str, int] = defaultdict(int)
    for c in rows:
        if not c.reversed:
            out[c.currency] += c.amount_minor
    return {c: money(v, c) for c, v in sorted(out.items())}


# --- reports ---------------------------------------------------------------------------------------


def _upto(ctx: Context, last: date) -> date:
    return min(last, ctx.today)


def meetings_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Meetings held per month (planned ones in the future are not held yet)."""
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(Meeting.held_on, func.count()).where(Meeting.org_id == ctx.org_id, Meeting.held_on >= first, Meeting.held_on <= _upto(ctx, last))
        .group_by(Meeting.held_on)).all())


def attendance_by_month(ctx: Context, first: date, last: date, family: bool | None = None) -> dict[date, int]:
    """Attendances at meetings per month of the meeting: former prisoners and family members
    (``family=False``: former prisoners only; ``True``: family members only)."""
    query = (select(Meeting.held_on, func.count()).join(Attendance, Attendance.meeting_id == Meeting.id)
             .where(Meeting.org_id == ctx.org_id, Attendance.org_id == ctx.org_id, Meeting.held_on >= first, Meeting.held_on <= _upto(ctx, last)))
    if family is True:
        query = query.where(Attendance.case_id.is_(None))
    elif family is False:
        query = query.where(Attendance.case_id.is_not(None))
    return by_month(ctx.session.execute(query.group_by(Meeting.held_on)).all())  # type: ignore[return-value]


def referrals_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Referrals sent per month."""
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(Referral.referred_on, func.count()).where(Referral.org_id == ctx.org_id, Referral.referred_on >= first, Referral.referred_on <= last)
        .group_by(Referral.referred_on)).all())


def referrals_completed_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Referrals completed per month of completion."""
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(Referral.completed_on, func.count()).where(Referral.org_id == ctx.org_id, Referral.status == "completed",
                                                          Referral.completed_on >= first, Referral.completed_on <= last)
        .group_by(Referral.completed_on)).all())


def outcomes(ctx: Context, first: date, last: date) -> dict[tuple[str, str], int]:
    """Referrals sent from ``first`` to ``last``, by partner kind and where they are now:
    ``{(kind, status): count}``."""
    rows = ctx.session.execute(
        select(Partner.kind, Referral.status, func.count()).join(Partner, Partner.id == Referral.partner_id)
        .where(Referral.org_id == ctx.org_id, Partner.org_id == ctx.org_id, Referral.referred_on >= first, Referral.referred_on <= last)
        .group_by(Partner.kind, Referral.status)
    ).all()
    return {(k, s): int(n) for k, s, n in rows}


@dataclass(frozen=True)
class Share:
    """Released people whose first six months after release ended in the window, and how many of
    them attended at least one meeting in those six months."""

    released_from: date
    released_to: date
    cohort: int
    attended: int

    @property
    def ratio(self) -> Decimal | None:
        return (Decimal(self.attended) / Decimal(self.cohort)) if self.cohort else None


def _first_meetings(ctx: Context, released_from: date, released_to: date) -> dict[int, tuple[date, date | None]]:
    """Cases released from ``released_from`` to ``released_to``: ``{case id: (release day, first
    meeting attended within six months of it, or None)}``. One query (the cases with the days of
    the meetings they attended after release); the six months are counted here, in calendar months."""
    rows = ctx.session.execute(
        select(Case.id, Case.actual_release, Meeting.held_on)
        .outerjoin(Attendance, (Attendance.case_id == Case.id) & (Attendance.org_id == ctx.org_id))
        .outerjoin(Meeting, (Meeting.id == Attendance.meeting_id) & (Meeting.held_on >= Case.actual_release))
        .where(Case.org_id == ctx.org_id, Case.actual_release.is_not(None), Case.actual_release >= released_from, Case.actual_release <= released_to)
    ).all()
    out: dict[int, tuple[date, date | None]] = {}
    for case_id, day, held_on in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        first = out.get(case_id, (day, None))[1]
        if held_on is not None:
            held_on = held_on if isinstance(held_on, date) else date.fromisoformat(str(held_on)[:10])
            if held_on < add_months(day, 6) and (first is None or held_on < first):
                first = held_on
        out[case_id] = (day, first)
    return out


def first_six_months(ctx: Context, released_from: date | None = None, released_to: date | None = None) -> Share:
    """The share of released people attending at least one meeting in their first six months
    (release day included, the day six calendar months later excluded). The default window: people
    released in the twelve months ending six months ago, whose first six months are all past."""
    released_to = released_to or add_months(ctx.today, -6)
    released_from = released_from or add_months(released_to, -12) + timedelta(days=1)
    found = _first_meetings(ctx, released_from, released_to)
    return Share(released_from, released_to, len(found), sum(1 for _day, first in found.values() if first is not None))


def reached_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Released people attending a meeting in their first six months, counted once, in the month
    of their first such meeting."""
    found = _first_meetings(ctx, add_months(first, -6), last)
    return by_month([(m, 1) for _day, m in found.values() if m is not None and first <= m <= last])  # type: ignore[return-value]


@dataclass(frozen=True)
class MonthRow:
    month: date
    meetings: int
    former_prisoners: int
    family: int


def month_rows(ctx: Context, months: int = 12) -> list[MonthRow]:
    """Meetings held and attendance per month for the last ``months`` months, newest first."""
    this_month = ctx.today.replace(day=1)
    first = add_months(this_month, -(months - 1))
    held = meetings_by_month(ctx, first, ctx.today)
    came = attendance_by_month(ctx, first, ctx.today, family=False)
    family = attendance_by_month(ctx, first, ctx.today, family=True)
    return [MonthRow(m, held.get(m, 0), came.get(m, 0), family.get(m, 0)) for m in (add_months(first, i) for i in range(months - 1, -1, -1))]


def outcome_table(ctx: Context, first: date, last: date) -> list[tuple[str, dict[str, int], int]]:
    """Referrals by partner kind (rows) and status (columns) with the row's total; kinds with none left out."""
    counts = outcomes(ctx, first, last)
    rows = []
    for kind in KINDS:
        by_status = {s: counts.get((kind, s), 0) for s in STATUSES}
        if sum(by_status.values()):
            rows.append((kind, by_status, sum(by_status.values())))
    return rows


# --- demo data -------------------------------------------------------------------------------------

DEMO_PARTNERS = [
    # kind, name, contact, helps with, agreement
    ("church", "Grace Church", "Pastor Sok Chea", "Visits at home, encouragement, short-term accommodation", True),
    ("pagoda", "Wat Kien Svay Krau", "Venerable Kim Heng", "Spiritual support, a place to talk, rice in hard months", True),
    ("commune_office", "Commune council", "Mr Long Sophal", "Identity documents, the family book, local follow-up", True),
    ("employer", "Mekong Motors workshop", "Ms Chan Bopha", "Apprenticeships and work for mechanics", True),
    ("health_centre", "Health centre", "Dr Ouk Sreymom", "Check-ups, TB and HIV tests, mental health referral", False),
    ("church", "New Life Church", "Pastor Meas Rithy", "Home visits, a Sunday meal, a youth group", True),
    ("pagoda", "Wat Phnom Sampov", "Venerable Ly Sambath", "Spiritual support, meditation, help for elderly parents", True),
    ("employer", "Angkor Garment Factory", "Mr Heng Vannak", "Jobs on the production line, literacy classes", True),
    ("commune_office", "Commune office", "Ms Pich Theary", "Local follow-up, documents, disputes with neighbours", True),
]
DEMO_TOPICS = ["Living with the family again", "Finding work after release", "Handling debts and money", "Dealing with stigma",
               "Staying away from drugs and alcohol", "Plans for the next six months"]


def add_demo_community(
    session: Session, organisation: Organisation, cases: list[Case], staff_by_role: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    """A year of the module, through the services: the settings, partners near the released
    people's homes (one without an agreement), a monthly peer meeting with attendance, family
    members and reflections, refreshments and transport paid in the ledger's open months, and
    referrals of released people who consented to share, at every status (two waiting more than
    two weeks)."""
    admin_user = staff_by_role["admin"]
    officer_user = staff_by_role.get("programme_officer") or admin_user
    manager_user = staff_by_role.get("case_manager") or admin_user
    book = general_book(session, organisation.id)
    closed = session.scalar(select(func.max(ClosedPeriod.through)).where(ClosedPeriod.book_id == book.id))
    start = add_months(today.replace(day=1), -11)
    admin = context_for(admin_user, today)
    usd, khr = pay_accounts(admin, "USD"), pay_accounts(admin, "KHR")
    if not khr:
        return
    save_settings(admin, SettingsIn(
        fund="Unrestricted" if any(f.code == "Unrestricted" for f in funds(admin)) else "",
        pay_from_usd="Assets:Cash:USD" if "Assets:Cash:USD" in usd else (usd[0] if usd else ""),
        pay_from_khr="Assets:Cash:KHR" if "Assets:Cash:KHR" in khr else khr[0],
    ))
    released_cases = [c for c in cases if c.actual_release is not None and c.status in (*RELEASED, CaseStatus.closed)]
    officer = context_for(officer_user, start)
    seen: dict[str, tuple[str, str, str]] = {}
    for c in released_cases:  # a home of a released person in each province
        if c.person.province and c.status != CaseStatus.closed:
            seen.setdefault(c.person.province, (c.person.province, c.person.district or "", c.person.commune or ""))
    places = sorted(seen.values())
    for n, (kind, name, contact, helps, signed) in enumerate(DEMO_PARTNERS):
        province, district, commune = places[n % len(places)] if places else ("Phnom Penh", "Mean Chey", "Mean Chey commune")
        add_partner(officer, PartnerIn(
            kind=kind, name=f"{name}, {district}" if kind in ("commune_office", "health_centre") else name, contact_person=contact,  # type: ignore[arg-type]
            phone=f"012 {300 + n * 7} {410 + n * 3}", village=f"Phum {n + 1}", commune=commune if n % 2 == 0 else "",
            district=district, province=province, helps_with=helps, agreement_signed=signed, agreement_on=start - timedelta(days=30) if signed else None,
        ))
    # a monthly meeting, the last one planned for next week
    for i in range(12):
        day = add_months(start, i) + timedelta(days=14)
        if day > today:
            day = today + timedelta(days=7)
        officer.today = min(day, today)
        meeting = plan_meeting(officer, MeetingIn(
            held_on=day, place="Fresh Start office, Phnom Penh" if i % 3 else "Wat Kien Svay Krau hall", facilitator=officer_user.name,
            topic=DEMO_TOPICS[i % len(DEMO_TOPICS)],
            reflections="" if day > today else "People shared what helped them most since release; several spoke about their families.",
        ))
        if day > today:
            continue
        came = [c for c in released_cases if c.actual_release is not None and c.actual_release <= day and c.status != CaseStatus.closed]
        came = [c for k, c in enumerate(came) if (k + i) % 3 != 0][:8]
        officer.today = today
        for k, case in enumerate(came):
            attend(officer, meeting, AttendanceIn(case=case.id, reflection="Feels welcome at home again." if k % 4 == 0 else ""))
        if came:
            relatives = family_of(officer, came[0].person)
            if relatives:
                attend(officer, meeting, AttendanceIn(person=relatives[0][1].id, reflection="Glad to hear other families' stories."))
        if closed is None or day > closed:
            payer = context_for(officer_user, today)
            pay_cost(payer, meeting, CostIn(item="refreshments", paid_on=day, currency="KHR", amount=Decimal(40000 + 4000 * len(came))))  # type: ignore[arg-type]
            if len(came) >= 4:
                pay_cost(payer, meeting, CostIn(item="transport", paid_on=day, currency="KHR", amount=Decimal(10000 * len(came))))  # type: ignore[arg-type]
    # referrals of released people who consented, to the partners near them
    manager = context_for(manager_user, today)
    made = 0
    for case in released_cases:
        if case.status == CaseStatus.closed or made >= 16:
            continue
        near = [p for _rank, p in nearby(manager, case.person) if p.agreement_signed]
        if not near or not has_consent(manager, case.person_id, ConsentPurpose.share_with_partners):
            continue
        day = max(case.actual_release or start, start + timedelta(days=21 * made)) + timedelta(days=10)
        if day > today - timedelta(days=3):
            continue
        partner = near[made % len(near)]
        purpose = {"church": "spiritual_support", "pagoda": "spiritual_support", "employer": "employment", "health_centre": "health"}.get(
            partner.kind, "local_follow_up")
        try:
            referral = refer(manager, case, ReferralIn(partner=partner.id, purpose=purpose, referred_on=day,  # type: ignore[arg-type]
                                                       note="Please visit the family and let us know how they are."))
        except ActionRefused:
            continue
        made += 1
        step = made % 5
        answered = min(day + timedelta(days=5), today)
        if step in (1, 2, 4):
            answer(manager, referral, AnswerIn(status="accepted", on=answered, feedback="Visited the family; will see him every week."))
        if step in (1, 4):
            done = min(answered + timedelta(days=40), today)
            answer(manager, referral, AnswerIn(status="completed", on=done, feedback="Comes to the Sunday meal; found work at the market."))
        elif step == 3:
            answer(manager, referral, AnswerIn(status="declined", on=answered, feedback="No one free to follow up this season."))
    session.flush()

