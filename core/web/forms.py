"""Helpers for HTML forms: reading a posted form and describing payload fields of event kinds."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal, TypeAlias, get_args, get_origin

from litestar.enums import RequestEncodingType
from litestar.params import Body
from pydantic import BaseModel

from core.i18n import format_date, format_number
from core.i18n import gettext as _
from core.i18n_labels import LABELS

Form: TypeAlias = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""Annotate a handler's ``data`` parameter with this to receive a posted HTML form as a dict of
strings (a list where a name repeats); validate it with :func:`core.validation.parse`."""

MultipartForm: TypeAlias = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
"""Like :data:`Form`, for a form with files (``enctype="multipart/form-data"``): text fields are
strings, files are ``UploadFile`` objects; take them with
:func:`core.services.attachments.uploads` and store them with ``store_attachment``."""


@dataclass(frozen=True)
class FieldSpec:
    """One input of a generated form."""

    name: str
    label: str
    kind: str  # "text", "date", "select"
    options: tuple[tuple[str, str], ...] = ()
    default: str = ""
    required: bool = False


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def option_label(value: str) -> str:
    """The label of a choice value in the current language.

    Core's values have an English label in :data:`core.i18n_labels.LABELS`; any other value (a
    module's) is shown as its humanised English through gettext (``"in_kind"`` -> ``"In kind"``),
    which the module marks with ``N_("In kind")`` so that its catalog translates it.
    """
    return _(LABELS.get(value) or value.replace("_", " ").capitalize())


def fields_of(schema: type[BaseModel] | None, prefix: str = "payload.") -> list[FieldSpec]:
    """Form inputs for the fields of a pydantic model (text, date, or a choice)."""
    if schema is None:
        return []
    specs = []
    for name, info in schema.model_fields.items():
        annotation = _unwrap(info.annotation)
        default = "" if info.default in (None, Ellipsis) or info.is_required() else str(getattr(info.default, "value", info.default))
        label = _(info.title or name.replace("_", " ").capitalize())
        if get_origin(annotation) is Literal:
            options = tuple((str(v), option_label(str(v))) for v in get_args(annotation))
            specs.append(FieldSpec(prefix + name, label, "select", options, default, info.is_required()))
        elif isinstance(annotation, type) and issubclass(annotation, Enum):
            options = tuple((m.value, option_label(m.value)) for m in annotation)
            specs.append(FieldSpec(prefix + name, label, "select", options, default, info.is_required()))
        elif annotation is date:
            specs.append(FieldSpec(prefix + name, label, "date", (), default, info.is_required()))
        else:
            specs.append(FieldSpec(prefix + name, label, "text", (), default, info.is_required()))
    return specs


_CHOICE_VALUE = re.compile(r"[a-z][a-z0-9_]*")


def payload_items(kind: Any, payload: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, value)`` of each filled payload field of an event, for the timeline.

    With the kind's schema, a field shows its translated ``title``, a choice its
    :func:`option_label`, a date in the current locale's format and text as typed. Without a
    schema, keys are humanised and a value that looks like a choice (``"in_progress"``) is
    labelled; other text is shown as typed (it is never looked up in the catalog).
    """
    schema = getattr(kind, "schema", None)
    fields = schema.model_fields if isinstance(schema, type) and issubclass(schema, BaseModel) else {}
    items = []
    for key, value in payload.items():
        if value is None or value == "":
            continue
        info = fields.get(key)
        label = _(info.title) if info is not None and info.title else option_label(key)
        annotation = _unwrap(info.annotation) if info is not None else None
        if isinstance(value, bool):
            text = _("Yes") if value else _("No")
        elif isinstance(value, int | float):
            text = format_number(value)  # type: ignore[arg-type]
        elif not isinstance(value, str):
            text = str(value)
        elif get_origin(annotation) is Literal or (isinstance(annotation, type) and issubclass(annotation, Enum)):
            text = option_label(value)
        elif annotation is date:
            try:
                text = format_date(date.fromisoformat(value))
            except ValueError:
                text = value
        elif info is None and _CHOICE_VALUE.fullmatch(value):
            text = option_label(value)
        else:
            text = value
        items.append((label, text))
    return items


def split_payload(data: dict[str, Any], prefix: str = "payload.") -> dict[str, Any]:
    """The ``payload.<name>`` inputs of a posted form, without the prefix."""
    return {k[len(prefix) :]: v for k, v in data.items() if k.startswith(prefix)}
