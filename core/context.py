"""The context of one user action: the database session, who acts, and the hooks that apply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from sqlalchemy.orm import Session

from core.auth import CurrentUser
from core.models import Organisation
from core.plugins import OrgHooks, PluginRegistry


@dataclass(frozen=True)
class Origin:
    """Where a request came from, for the audit trail: the client's address and browser."""

    ip: str | None = None
    user_agent: str | None = None


class Context:
    """Handed to services (and to module routes as the ``ctx`` dependency).

    One context is one database transaction: a service adds and flushes, the route commits once
    at the end of the action, so a failure anywhere leaves nothing half-written.

    ``origin`` is where the request came from (the audit trail records it); the command line,
    the demo and tests have none.

    A plain class rather than a dataclass: Litestar would otherwise try to validate it as input.
    """

    def __init__(
        self, session: Session, user: CurrentUser, registry: PluginRegistry, today: date | None = None, origin: Origin | None = None
    ) -> None:
        self.session = session
        self.user = user
        self.registry = registry
        self.today = today or date.today()
        self.origin = origin or Origin()

    @property
    def org_id(self) -> int:
        return self.user.org_id

    @cached_property
    def organisation(self) -> Organisation:
        org = self.session.get(Organisation, self.org_id)
        assert org is not None, "a signed-in user always has an organisation"
        return org

    @cached_property
    def hooks(self) -> OrgHooks:
        return self.registry.hooks_for(self.user.enabled_modules)
