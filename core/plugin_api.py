"""The public plugin API: everything a programme module may import from ``core``.

A module is a package registered under the entry-point group ``homecoming.plugins``; the entry
point's name is the module's name and its target is the module's ``hooks`` file::

    [project.entry-points."homecoming.plugins"]
    savings = "homecoming_savings.hooks"

In ``hooks.py``, implement the hooks of :mod:`core.hookspecs` with :data:`hookimpl`. The first
one every module implements is ``register_module``, which names what the module brings::

    from core.plugin_api import Module, hookimpl

    @hookimpl
    def register_module() -> Module:
        return Module(label="Savings groups", route_handlers=[...], templates=HERE / "templates")

Route handlers are plain Litestar handlers with explicit parameter markers, like core's own.
:data:`Ctx` gives the request's :class:`Context` (session, user, enabled modules), :data:`Form`
a posted HTML form, :func:`parse` validates it into a pydantic model (raising
:class:`InvalidInput` with translated field messages) and :func:`render` answers a full page
with the navigation::

    @litestar.post("/savings/cases/{case_id:int}/deposits", opt={"permission": "savings.record"},
                   sync_to_thread=True, status_code=303)
    def record(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
        case = get_case(ctx, case_id)
        services.record_deposit(ctx, case, parse(DepositIn, data))
        ctx.session.commit()
        return Redirect(f"/savings/cases/{case.id}", status_code=303)

:data:`PUBLIC` as a route's permission opens it to anyone, signed in or not (a public page such
as a certificate check); such a route has no :data:`Ctx` (nobody is signed in) and takes a
plain database session with :data:`Db` instead.

Names not listed in ``__all__`` here are private to core and may change without notice.
"""

from __future__ import annotations

from core.auth import PUBLIC
from core.context import Context
from core.contributions import (
    ALL_ROLES,
    PROJECT,
    Breakdown,
    BreakdownRow,
    CaseTab,
    DashboardPanel,
    EventKind,
    Indicator,
    MenuItem,
    Module,
    Permission,
    hookimpl,
)
from core.db import Base
from core.errors import ActionRefused, InvalidInput, RecordNotFound
from core.i18n import N_, format_date, format_money, gettext, lazy_gettext, ngettext, use_locale
from core.models import Attachment, Case, CaseStatus, ConsentPurpose, Event, Organisation, Person, Relation, Role, User
from core.services.admin import staff
from core.services.attachments import attachment_content, get_attachment, save_attachment, store_attachment, uploads
from core.services.cases import get_case
from core.services.consent import has_consent
from core.services.events import record_event
from core.services.persons import families_of, family_of, get_person
from core.services.privacy import anonymised_name, case_ids_of, erase_attachments, exported_row
from core.services.outcomes import add_months
from core.services.programme import by_month
from core.validation import parse
from core.web.deps import Ctx, Db
from core.web.forms import Form, MultipartForm
from core.web.module_tabs import module_events_tab
from core.web.pdf import PdfUnavailable, pdf_language, render_pdf
from core.web.rendering import act, render, see_other
from core.web.tables import Sheet, table_download, workbook_download

__all__ = [
    "ALL_ROLES",
    "ActionRefused",
    "Attachment",
    "Base",
    "Breakdown",
    "BreakdownRow",
    "Case",
    "CaseStatus",
    "CaseTab",
    "ConsentPurpose",
    "Context",
    "Ctx",
    "DashboardPanel",
    "Db",
    "Event",
    "EventKind",
    "Indicator",
    "Form",
    "InvalidInput",
    "MenuItem",
    "Module",
    "MultipartForm",
    "N_",
    "Organisation",
    "PROJECT",
    "PUBLIC",
    "PdfUnavailable",
    "Permission",
    "Person",
    "RecordNotFound",
    "Sheet",
    "Relation",
    "Role",
    "User",
    "act",
    "add_months",
    "anonymised_name",
    "attachment_content",
    "by_month",
    "case_ids_of",
    "erase_attachments",
    "exported_row",
    "families_of",
    "family_of",
    "format_date",
    "format_money",
    "get_attachment",
    "get_case",
    "get_person",
    "gettext",
    "has_consent",
    "hookimpl",
    "lazy_gettext",
    "module_events_tab",
    "ngettext",
    "parse",
    "pdf_language",
    "record_event",
    "render",
    "render_pdf",
    "save_attachment",
    "see_other",
    "staff",
    "store_attachment",
    "table_download",
    "uploads",
    "use_locale",
    "workbook_download",
]
