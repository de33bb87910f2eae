"""The persons and cases lists as tables to download, with the pages' own filters.

The rows are found by the same search the list pages use (so a download holds exactly what the
page would show, page after page) and written with the columns of an import (docs/import.md):
an export of persons imports back as persons, an export of cases as cases. A holder of
``records.sensitive`` also gets the sensitive field as a last column (``medical_notes``,
``offence``), which an import ignores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from core.auth import SENSITIVE
from core.context import Context
from core.errors import ActionRefused
from core.i18n import format_number
from core.i18n import gettext as _
from core.models import Case, Person, User
from core.services import cases, persons
from core.services.imports import column_names

EXPORT_CAP = 100_000
"""The most rows one download holds; a list longer than this is refused with a message."""
_IDS_PER_QUERY = 1_000


def _too_many() -> ActionRefused:
    return ActionRefused(_("More than %(n)s rows match; narrow the search to download them.", n=format_number(EXPORT_CAP)))


def person_table(ctx: Context, q: str = "") -> tuple[list[str], list[list[Any]]]:
    """Every person the persons list shows for ``q``, in its order."""
    rows, has_more = persons.search_persons(ctx, q, EXPORT_CAP)
    if has_more:
        raise _too_many()
    header = column_names("persons") + (["medical_notes"] if ctx.user.can(SENSITIVE) else [])
    return header, [[_value(getattr(p, c)) for c in header] for p in rows]


def case_table(
    ctx: Context, q: str = "", status: str | None = None, case_manager_id: int | None = None, prison: str | None = None
) -> tuple[list[str], Iterator[list[Any]]]:
    """Every case the cases list shows for these filters, newest first."""
    found, has_more, _total = cases.search_cases(ctx, q, status, case_manager_id, prison, EXPORT_CAP)
    if has_more:
        raise _too_many()
    sensitive = ctx.user.can(SENSITIVE)
    return column_names("cases") + (["offence"] if sensitive else []), _case_rows(ctx, [row.id for row in found], sensitive)


def _case_rows(ctx: Context, ids: list[int], sensitive: bool) -> Iterator[list[Any]]:
    extra = [Case.offence] if sensitive else []
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[start : start + _IDS_PER_QUERY]
        details = {
            row.id: row
            for row in ctx.session.execute(
                select(
                    Case.id, Person.name, Person.date_of_birth, Person.id_number, Case.programme,
                    User.email.label("case_manager_email"), Case.prison, Case.prisoner_number, Case.sentence_start,
                    Case.sentence_end, Case.expected_release, Case.actual_release, Case.status, Case.close_reason,
                    Case.closed_on, Case.opened_on, *extra,
                )
                .join(Person, Person.id == Case.person_id)
                .outerjoin(User, User.id == Case.case_manager_id)
                .where(Case.org_id == ctx.org_id, Case.id.in_(chunk))
            )
        }
        for case_id in chunk:
            row = details[case_id]
            yield [_value(v) for v in row[1:]]


def _value(value: Any) -> Any:
    """Enums as their stored value (``female``, ``follow_up``), as the import reads them."""
    return getattr(value, "value", value)


__all__ = ["EXPORT_CAP", "case_table", "person_table"]
