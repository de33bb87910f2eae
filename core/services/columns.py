"""Values must fit the columns they are written to."""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import InvalidInput
from core.i18n import gettext as _


def too_long(model: type, values: Mapping[str, object]) -> dict[str, str]:
    """``{field: message}`` for each string longer than its ``String(n)`` column of ``model``."""
    columns = model.__table__.columns  # type: ignore[attr-defined]
    errors = {}
    for name, value in values.items():
        length = getattr(columns[name].type, "length", None) if name in columns else None
        if isinstance(value, str) and length is not None and len(value) > length:
            errors[name] = _("Use at most %(n)s characters.", n=length)
    return errors


def check_lengths(model: type, values: Mapping[str, object]) -> None:
    """Refuse, field by field, strings longer than their column.

    An input schema may allow more than a column holds; PostgreSQL would then fail the whole
    transaction (a 500) and SQLite would store the value anyway.
    """
    errors = too_long(model, values)
    if errors:
        raise InvalidInput(errors)
