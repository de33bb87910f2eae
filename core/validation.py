"""Turning pydantic validation errors into translated, field-level messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import InvalidInput
from core.i18n import gettext as _

M = TypeVar("M", bound=BaseModel)


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing" or (error.get("input") == "" and kind.endswith("_parsing")):
        return _("This field is required.")  # a required number or date left blank
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return _("This field is required.")
    if kind == "string_too_long":
        return _("Use at most %(n)s characters.", n=ctx.get("max_length"))
    if kind.startswith("date"):
        return _("Enter a valid date (YYYY-MM-DD).")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("decimal_parsing", "decimal_type", "float_parsing"):
        return _("Enter a number.")
    if kind in ("enum", "literal_error"):
        return _("Choose one of the options.")
    if kind == "value_error":
        # Our validators raise ValueError with an English message id.
        return _(str(ctx.get("error", error["msg"])))
    return _("This value is not valid.")


def field_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """``{field: message}`` for every error; the first message of a field wins."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"]) or "__all__"
        errors.setdefault(prefix + loc, _message(error))
    return errors


def parse(model: type[M], data: Mapping[str, Any], prefix: str = "") -> M:
    """Validate ``data`` into ``model`` or raise :class:`InvalidInput` with translated messages."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc, prefix)) from None
