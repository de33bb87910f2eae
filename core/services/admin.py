"""Organisation administration: modules, staff and roles, organisations and users (CLI)."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from core.auth import check_password_rules, end_user_sessions, hash_password
from core.context import Context
from core.errors import ActionRefused, InvalidInput
from core.i18n import gettext as _
from core.models import Membership, Organisation, OrganisationModule, Role, User, utcnow
from core.schemas import DataProtectionIn
from core.services.columns import too_long
from sqlalchemy.orm import Session

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def set_module_enabled(ctx: Context, module: str, enabled: bool) -> None:
    """Switch an installed module on or off for the current organisation."""
    if module not in ctx.registry.modules:
        raise ActionRefused(_("No module of this name is installed."), "module")
    if ctx.registry.modules[module].module.always_on:
        raise ActionRefused(_("This module is part of every organisation and cannot be switched off."), "module")
    set_module_for_org(ctx.session, ctx.org_id, module, enabled)


def set_module_for_org(session: Session, org_id: int, module: str, enabled: bool) -> None:
    row = session.get(OrganisationModule, (org_id, module))
    if row is None:
        session.add(OrganisationModule(org_id=org_id, module=module, enabled=enabled))
    else:
        row.enabled = enabled
        row.changed_at = utcnow()
    session.flush()


def staff(ctx: Context) -> list[tuple[User, Role]]:
    """The current organisation's staff members with their roles, ordered by name."""
    rows = ctx.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == ctx.org_id)
        .order_by(User.name)
    ).all()
    return [(user, Role(role)) for user, role in rows]


def supervisors(ctx: Context) -> dict[int, int]:
    """``{staff member: their supervisor}`` for the staff members of this organisation who have one."""
    rows = ctx.session.execute(
        select(Membership.user_id, Membership.supervisor_id).where(
            Membership.org_id == ctx.org_id, Membership.supervisor_id.is_not(None)
        )
    ).all()
    return {user_id: supervisor_id for user_id, supervisor_id in rows}


def set_supervisor(ctx: Context, user_id: int, supervisor_id: int | None) -> None:
    """Who a staff member's overdue follow-ups escalate to (docs/follow_up.md): another staff
    member of this organisation, or ``None`` for the organisation's administrators."""
    membership = ctx.session.get(Membership, (user_id, ctx.org_id))
    if membership is None:
        raise ActionRefused(_("This person is not on the staff of this organisation."), "user_id")
    if supervisor_id is not None:
        if supervisor_id == user_id:
            raise ActionRefused(_("A staff member cannot be their own supervisor."), "supervisor_id")
        if ctx.session.get(Membership, (supervisor_id, ctx.org_id)) is None:
            raise ActionRefused(_("Choose a staff member of this organisation."), "supervisor_id")
    membership.supervisor_id = supervisor_id
    ctx.session.flush()


RETENTION_RANGE = (12, 240)
"""Months after closing a case may be kept before it is anonymised automatically (1 to 20 years)."""


def data_protection(ctx: Context) -> dict[str, object]:
    """The organisation's data protection settings as the form shows them: the roles besides
    administrators that see sensitive fields, and the retention period (``None``: never)."""
    org = ctx.organisation
    chosen = {name.strip() for name in (org.sensitive_roles or "").split(",")}
    return {
        "sensitive_roles": [r.value for r in Role if r is not Role.admin and r.value in chosen],
        "retention_months": org.retention_months,
    }


def set_data_protection(ctx: Context, data: DataProtectionIn) -> Organisation:
    """Choose which roles see medical notes and offence details (administrators always do) and
    how many months after closing a case is anonymised (``None``: never automatically).

    Takes effect at each user's next request: permissions are read per request
    (:func:`core.auth.load_current_user`). A value out of range or an unknown role is refused with
    a message at its field, and nothing is changed.
    """
    errors: dict[str, str] = {}
    choices = {r.value for r in Role if r is not Role.admin}
    if not set(data.sensitive_roles) <= choices | {Role.admin.value}:
        errors["sensitive_roles"] = _("Choose one of the options.")
    low, high = RETENTION_RANGE
    if data.retention_months is not None and not low <= data.retention_months <= high:
        errors["retention_months"] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    if errors:
        raise InvalidInput(errors)
    org = ctx.organisation
    org.sensitive_roles = ",".join(r.value for r in Role if r is Role.admin or r.value in data.sensitive_roles)
    org.retention_months = data.retention_months
    ctx.session.flush()
    return org


def create_user(session: Session, email: str, name: str, password: str, locale: str | None = None) -> User:
    """Create a login. The email is the user name; passwords are stored as argon2 hashes."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise ActionRefused(_("Enter a valid email address."), "email")
    if not name.strip():
        raise ActionRefused(_("This field is required."), "name")
    too_long_fields = too_long(User, {"email": email, "name": name.strip()})
    if too_long_fields:
        field, message = next(iter(too_long_fields.items()))
        raise ActionRefused(message, field)
    check_password_rules(password, email, name)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ActionRefused(_("A user with this email already exists."), "email")
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), locale=locale)
    session.add(user)
    session.flush()
    return user


def add_member(session: Session, org_id: int, user: User, role: Role) -> Membership:
    existing = session.get(Membership, (user.id, org_id))
    if existing is not None:
        existing.role = role
        session.flush()
        return existing
    membership = Membership(user_id=user.id, org_id=org_id, role=role)
    session.add(membership)
    session.flush()
    return membership


def add_staff(ctx: Context, email: str, name: str, password: str, role: Role) -> User:
    """Add a staff member to the current organisation (an existing login just gets the role).

    Someone already on the staff is refused: their role changes through :func:`change_role`,
    which keeps the organisation's last administrator.
    """
    user = ctx.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        user = create_user(ctx.session, email, name, password)
    elif ctx.session.get(Membership, (user.id, ctx.org_id)) is not None:
        raise ActionRefused(_("A user with this email already exists."), "email")
    add_member(ctx.session, ctx.org_id, user, role)
    return user


def change_role(ctx: Context, user_id: int, role: Role) -> None:
    membership = ctx.session.get(Membership, (user_id, ctx.org_id))
    if membership is None:
        raise ActionRefused(_("This person is not on the staff of this organisation."), "user_id")
    if membership.role == Role.admin and role != Role.admin and _admin_count(ctx) <= 1:
        raise ActionRefused(_("An organisation needs at least one administrator."), "role")
    if membership.role != role:
        # Whatever was open under the old role closes: the user signs in again under the new one.
        end_user_sessions(ctx.session, user_id, org_id=ctx.org_id)
    membership.role = role
    ctx.session.flush()


def remove_member(ctx: Context, user_id: int) -> None:
    membership = ctx.session.get(Membership, (user_id, ctx.org_id))
    if membership is None:
        raise ActionRefused(_("This person is not on the staff of this organisation."), "user_id")
    if membership.role == Role.admin and _admin_count(ctx) <= 1:
        raise ActionRefused(_("An organisation needs at least one administrator."), "role")
    # Those they supervised escalate to the administrators again.
    ctx.session.execute(
        update(Membership)
        .where(Membership.org_id == ctx.org_id, Membership.supervisor_id == user_id)
        .values(supervisor_id=None)
    )
    ctx.session.delete(membership)
    end_user_sessions(ctx.session, user_id, org_id=ctx.org_id)
    ctx.session.flush()


def _admin_count(ctx: Context) -> int:
    return len(
        ctx.session.scalars(
            select(Membership.user_id).where(Membership.org_id == ctx.org_id, Membership.role == Role.admin)
        ).all()
    )


def create_organisation(session: Session, slug: str, name: str, modules: list[str], locale: str = "en") -> Organisation:
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise ActionRefused(_("An organisation with this short name already exists."), "slug")
    org = Organisation(slug=slug, name=name, default_locale=locale)
    session.add(org)
    session.flush()
    for module in modules:
        set_module_for_org(session, org.id, module, True)
    return org
