"""Name prefix search that uses an index on both SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import InstrumentedAttribute, Session


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix_match(session: Session, column: InstrumentedAttribute[str] | ColumnElement[str], text: str) -> ColumnElement[bool]:
    """``column`` starts with ``text``, ignoring case.

    SQLite: the column is declared ``COLLATE NOCASE`` so ``LIKE 'x%'`` uses its index.
    PostgreSQL: ``lower(column) LIKE 'x%'`` uses the ``lower(...) text_pattern_ops`` index.
    """
    pattern = escape_like(text.strip()) + "%"
    if session.get_bind().dialect.name == "postgresql":
        return func.lower(column).like(pattern.lower(), escape="\\")
    return column.like(pattern, escape="\\")
