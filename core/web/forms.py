"""Helpers for HTML forms: reading a posted form and describing payload fields of event kinds."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from core.i18n import gettext as _


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
    """The label of a choice value: its English words through gettext."""
    return _(value.replace("_", " ").capitalize())


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


def split_payload(data: dict[str, Any], prefix: str = "payload.") -> dict[str, Any]:
    """The ``payload.<name>`` inputs of a posted form, without the prefix."""
    return {k[len(prefix) :]: v for k, v in data.items() if k.startswith(prefix)}
