"""Records for core's tests, written through the services exactly as the app writes them, and a
reader for the field-level messages of a rendered form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.context import Context
from core.models import Case, CaseStatus, Event, Person, Role
from core.schemas import CaseIn, PersonIn, StatusChangeIn
from core.services import cases, persons


@pytest.fixture
def make_person(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Person]:
    """``make_person("a", name="Sok Dara", name_km="សុខ ដារា")``: a committed person."""

    def make(org: str = "a", name: str = "Sok Dara", **fields: object) -> Person:
        person = persons.create_person(ctx_for(Role.case_manager, org), PersonIn(name=name, **fields))
        db.commit()
        return person

    return make


@pytest.fixture
def make_case(db: Session, ctx_for: Callable[..., Context], make_person: Callable[..., Person]) -> Callable[..., Case]:
    """``make_case("a", released_days_ago=100, prison="CC1")``: a committed case of the org's case
    manager (status ``referred``, or ``released`` that many days ago)."""

    def make(org: str = "a", person: Person | None = None, released_days_ago: int | None = None, **fields: object) -> Case:
        ctx = ctx_for(Role.case_manager, org)
        person = person or make_person(org)
        fields.setdefault("case_manager_id", ctx.user.id)
        case = cases.create_case(ctx, CaseIn(person_id=person.id, **fields))
        if released_days_ago is not None:
            released = ctx.today - timedelta(days=released_days_ago)
            cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.released, actual_release=released))
        db.commit()
        return case

    return make


def fresh(db: Session) -> Session:
    """The test's session, forgetting what it loaded, to read what requests committed since."""
    db.rollback()
    db.expire_all()
    return db


def kinds_on(db: Session, case_id: int) -> list[str]:
    """The kinds of a case's events in the order they were written (committed data)."""
    return list(fresh(db).scalars(select(Event.kind).where(Event.case_id == case_id).order_by(Event.id)))


def count(db: Session, model: type) -> int:
    """Rows of ``model`` as committed now (after whatever a request wrote or refused)."""
    return fresh(db).scalar(select(func.count()).select_from(model)) or 0


class _FieldErrors(HTMLParser):
    """Collects ``{input name: message}`` from ``<div class="field">`` blocks of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[str, str] = {}
        self._depth = 0  # div depth inside the current field block (0: outside)
        self._names: list[str] = []
        self._in_error = False
        self._message = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div":
            if self._depth:
                self._depth += 1
            elif "field" in (a.get("class") or "").split():
                self._depth, self._names, self._message = 1, [], ""
        elif self._depth and tag in ("input", "select", "textarea") and a.get("name"):
            self._names.append(a["name"] or "")
        elif self._depth and tag == "p" and "error" in (a.get("class") or "").split():
            self._in_error = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_error = False
        elif tag == "div" and self._depth:
            self._depth -= 1
            if self._depth == 0 and self._message:
                for name in self._names:
                    self.errors.setdefault(name, self._message.strip())

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self._message += data


def field_errors(html: str) -> dict[str, str]:
    """The messages a page shows next to its form fields, keyed by the field's input name."""
    parser = _FieldErrors()
    parser.feed(html)
    return parser.errors
