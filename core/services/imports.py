"""Bringing an organisation's existing records in: persons, then cases, from CSV or Excel files.

Two steps (docs/import.md). :func:`check` reads a file and lists every bad row with its row number
as the spreadsheet shows it, the column and the reason, and writes nothing. :func:`run` imports a
file with no bad row, whole, in the caller's transaction: it checks the file again inside that
transaction, inserts in chunks and marks the :class:`~core.models.ImportBatch` imported, so a
failure anywhere leaves nothing behind.

Everything the checks compare with (the organisation's persons, staff, prisons and cases) is read
once per file, never once per row.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from core import prisons
from core.context import Context
from core.errors import ActionRefused, RecordNotFound
from core.i18n import format_number, ngettext
from core.i18n import gettext as _
from core.models import Case, CaseStatus, CloseReason, Event, ImportBatch, Membership, Person, Role, Sex, User
from core.plugins import OrgHooks
from core.services.columns import too_long

MAX_BYTES = 10 * 1024 * 1024
"""The largest file accepted (10 MB: about 50,000 rows of persons as CSV)."""
MAX_ROWS = 20_000
"""The most data rows one file may hold; split a larger register into several files."""
MAX_LISTED = 1_000
"""Bad rows beyond this many are counted but not listed (the first ones show what to fix)."""
CHUNK = 500
"""Rows inserted per flush; the progress callback is called after each chunk."""
MAX_EMPTY_RUN = 1_000
"""After this many empty rows in a row, the rest of a file is not read."""
MAX_COLUMNS = 200
"""Cells beyond this many in a row are not read (a sheet formatted to its last column)."""
KINDS = ("persons", "cases")
FORMULA = ("=", "@")
"""How a cell a spreadsheet program would run as a formula starts (CSV injection: ``=HYPERLINK(…)``,
``@SUM(…)``); no name, date or number does, so such a cell is refused rather than stored. (``+``
and ``-`` start phone numbers and are safe: downloads quote them, core/web/tables.py.)"""
EARLIEST = date(1900, 1, 1)

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as rows are written."""


# --- columns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column a file may have: its name, the other headers accepted for it, and its kind."""

    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # "text" | "date"


PERSON_COLUMNS = (
    Column("name", ("full name", "name latin", "name (latin)", "latin name", "person name", "person")),
    Column("name_km", ("khmer name", "name khmer", "name (khmer)", "name in khmer")),
    Column("sex", ("gender",)),
    Column("date_of_birth", ("dob", "birth date", "birthdate", "born", "date of birth"), "date"),
    Column("id_number", ("id", "id no", "national id", "id card", "id card number")),
    Column("phone", ("phone number", "telephone", "mobile")),
    Column("village",),
    Column("commune",),
    Column("district",),
    Column("province",),
)
CASE_COLUMNS = (
    Column("name", PERSON_COLUMNS[0].aliases),
    Column("date_of_birth", PERSON_COLUMNS[3].aliases, "date"),
    Column("id_number", PERSON_COLUMNS[4].aliases),
    Column("programme", ("program",)),
    Column("case_manager_email", ("case manager", "case manager email", "manager", "manager email")),
    Column("prison", ("prison name",)),
    Column("prisoner_number", ("prisoner no", "prisoner id", "inmate number")),
    Column("sentence_start", ("sentence from", "sentenced on"), "date"),
    Column("sentence_end", ("sentence to", "sentence until"), "date"),
    Column("expected_release", ("expected release date", "release expected"), "date"),
    Column("actual_release", ("release date", "released on", "date released"), "date"),
    Column("status", ("case status",)),
    Column("close_reason", ("reason closed", "closing reason", "reason for closing")),
    Column("closed_on", ("date closed", "closed date"), "date"),
    Column("opened_on", ("date opened", "opened date", "referral date", "referred on"), "date"),
)
COLUMNS = {"persons": PERSON_COLUMNS, "cases": CASE_COLUMNS}

SEXES = {"female": Sex.female, "f": Sex.female, "woman": Sex.female, "ស្រី": Sex.female,
         "male": Sex.male, "m": Sex.male, "man": Sex.male, "ប្រុស": Sex.male, "other": Sex.other}


def _key(header: str) -> str:
    """A header as compared: case, spaces, underscores, hyphens and dots do not matter."""
    return re.sub(r"[\s_\-.()]+", "", header).casefold()


def _choice(value: str) -> str:
    """A status or reason as typed ("Pre-release", "lost contact") in its stored form."""
    return re.sub(r"[\s\-]+", "_", value.strip()).casefold()


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """Why one row cannot be imported: its row number in the spreadsheet (the header is row 1)."""

    row: int
    column: str
    message: str


@dataclass
class Checked:
    """What :func:`check` found: the rows ready to import and the bad ones."""

    kind: str
    rows_total: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # the good rows, cleaned

    @property
    def rows_bad(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def listed(self) -> list[RowError]:
        """The errors shown: those of the first :data:`MAX_LISTED` bad rows."""
        rows = sorted({e.row for e in self.errors})[:MAX_LISTED]
        last = rows[-1] if rows else 0
        return [e for e in self.errors if e.row <= last]

    @property
    def ok(self) -> bool:
        return not self.errors and self.rows_total > 0


# --- reading a file ------------------------------------------------------------------------------


def _refuse(message: str) -> ActionRefused:
    return ActionRefused(message, "file")


def read_table(content: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header and the ``(row number, cells)`` of a CSV (UTF-8) or Excel (.xlsx) file.

    :raises ActionRefused: (field ``file``) when the file is too big, empty, or neither.
    """
    if len(content) > MAX_BYTES:
        raise _refuse(_("The file is larger than %(mb)s MB; split it into smaller files.", mb=MAX_BYTES // (1024 * 1024)))
    if not content.strip():
        raise _refuse(_("The file is empty."))
    if content.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(content)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(_("This is an old Excel file (.xls); save it as .xlsx or as CSV UTF-8 and try again."))
    else:
        rows = _csv_rows(content)
    for number, cells in rows:
        if any(_blank(c) is not None for c in cells):
            header = ["" if c is None else str(c).strip() for c in cells]
            if number != 1:
                raise _refuse(_("The first row must name the columns (row %(row)s is the first one filled).", row=number))
            return header, rows
    raise _refuse(_("The file is empty."))


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(_("This is not a CSV file in UTF-8 or an Excel (.xlsx) file. In Excel or LibreOffice, save it as “CSV UTF-8” or as .xlsx.")) from None
    if "\x00" in text:
        raise _refuse(_("This is not a CSV file in UTF-8 or an Excel (.xlsx) file. In Excel or LibreOffice, save it as “CSV UTF-8” or as .xlsx."))
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, cells
        except csv.Error as exc:
            raise _refuse(_("The file could not be read as CSV near row %(row)s: %(error)s", row=reader.line_num, error=str(exc))) from None

    return rows()


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        # Formulas as written, not their last results: a formula cell is refused (FORMULA), never
        # taken silently as its cached value or as an empty cell when it has none.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
    except Exception:  # noqa: BLE001 - a damaged or foreign zip: openpyxl raises many kinds
        raise _refuse(_("The file could not be read as an Excel workbook (.xlsx).")) from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
                yield number, list(cells)
        except Exception:  # noqa: BLE001
            raise _refuse(_("The file could not be read as an Excel workbook (.xlsx).")) from None
        finally:
            workbook.close()

    return rows()


def _blank(value: Any) -> Any:
    """A cell's value, or None when it is empty; text stripped, whole numbers without ``.0``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _map_header(kind: str, header: list[str]) -> tuple[dict[int, Column], dict[str, str], list[str]]:
    """``{cell index: column}``, ``{column name: header as written}`` and the ignored headers."""
    known: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        for name in (column.name, *column.aliases):
            known[_key(name)] = column
    mapping: dict[int, Column] = {}
    written: dict[str, str] = {}
    ignored = []
    for index, title in enumerate(header):
        if not title:
            continue
        column = known.get(_key(title))
        if column is None:
            ignored.append(title)
        elif column.name in written:
            raise _refuse(_("The columns “%(a)s” and “%(b)s” both hold %(column)s; keep one.", a=written[column.name], b=title, column=column.name))
        else:
            mapping[index] = column
            written[column.name] = title
    if not mapping:
        raise _refuse(_("The first row must name the columns, for example: %(example)s.", example=", ".join(c.name for c in COLUMNS[kind][:4])))
    if kind == "persons" and "name" not in written:
        raise _refuse(_("The file has no column “name” (also accepted: %(aliases)s).", aliases=", ".join(PERSON_COLUMNS[0].aliases)))
    if kind == "cases" and not ({"name", "date_of_birth"} <= set(written) or "id_number" in written):
        raise _refuse(_("The file needs columns to find each person: “name” and “date_of_birth”, or “id_number”."))
    return mapping, written, ignored


# --- values --------------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_SHORT_YEAR = re.compile(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}")


class _BadValue(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_date(value: Any) -> date | None:
    """A date cell: an Excel date, ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (day first, as in Cambodia).

    :raises _BadValue: with the reason, for anything else (``04/23/2020``, ``3/4/20``, ``43921``).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if match := _ISO.fullmatch(text):
            year, month, day = (int(g) for g in match.groups())
        elif match := _DAY_FIRST.fullmatch(text):
            day, month, year = (int(g) for g in match.groups())
            if month > 12 and day <= 12:
                raise _BadValue(_("“%(value)s” reads as month/day/year; write dates as DD/MM/YYYY (day first) or YYYY-MM-DD.", value=text))
        elif _SHORT_YEAR.fullmatch(text):
            raise _BadValue(_("“%(value)s” has a two-digit year; write the year in full (DD/MM/YYYY or YYYY-MM-DD).", value=text))
        else:
            raise _BadValue(_("“%(value)s” is not a date; write it as YYYY-MM-DD or DD/MM/YYYY.", value=text))
        parsed = date(year, month, day)
    except ValueError:
        raise _BadValue(_("“%(value)s” is not a date that exists.", value=text)) from None
    if parsed < EARLIEST:
        raise _BadValue(_("%(value)s is before 1900: check the year.", value=text))
    return parsed


@dataclass
class _Row:
    """One data row being checked: its cells by column name, and its errors."""

    number: int
    values: dict[str, Any]
    written: dict[str, str]
    errors: list[RowError]

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, self.written.get(column, column), message))

    def text(self, column: str) -> str | None:
        value = self.values.get(column)
        return None if value is None else str(value)

    def day(self, column: str) -> date | None:
        try:
            return parse_date(self.values.get(column))
        except _BadValue as exc:
            self.fail(column, exc.message)
            return None


def read_rows(kind: str, content: bytes) -> tuple[Checked, list[_Row]]:
    """Read and map a file without looking at the database: the rows to check, and a
    :class:`Checked` with their number and the ignored columns.

    :raises ActionRefused: (field ``file``) for a file refused as a whole.
    """
    header, cells = read_table(content)
    mapping, written, ignored = _map_header(kind, header)
    checked = Checked(kind=kind, ignored_columns=ignored)
    rows = []
    empty_run = 0
    for number, row in cells:
        if all(_blank(c) is None for c in row):
            empty_run += 1
            if empty_run > MAX_EMPTY_RUN:
                break  # the data has ended; a sheet formatted down to row 1,000,000 is not read on
            continue  # an empty line: not a row of data (it keeps its number)
        empty_run = 0
        if len(rows) >= MAX_ROWS:
            raise _refuse(_("The file has more than %(n)s rows; split it into smaller files.", n=format_number(MAX_ROWS)))
        values = {column.name: _blank(row[i]) if i < len(row) else None for i, column in mapping.items()}
        rows.append(_Row(number, values, written, checked.errors))
        for name, value in values.items():
            if isinstance(value, str) and value.startswith(FORMULA):
                rows[-1].fail(name, _("“%(value)s” is a spreadsheet formula, not a value: type the value itself.", value=value[:60]))
    checked.rows_total = len(rows)
    if not rows:
        raise _refuse(_("The file has column names but no rows."))
    return checked, rows


def _lengths(row: _Row, model: type, values: dict[str, Any]) -> None:
    for name, message in too_long(model, values).items():
        row.fail(name, message)


def _name_key(name: str, born: date | None) -> tuple[str, date | None]:
    return " ".join(name.split()).casefold(), born


# --- checking ------------------------------------------------------------------------------------


def check(session: Session, org_id: int, kind: str, content: bytes, today: date) -> Checked:
    """Read ``content`` and check every row against the rules and the organisation's records.

    Writes nothing. :raises ActionRefused: (field ``file``) when the file as a whole cannot be
    read: not CSV or .xlsx, no header, a required column missing, too big.
    """
    if kind not in KINDS:
        raise ActionRefused(_("Choose one of the options."), "kind")
    checked, rows = read_rows(kind, content)
    if kind == "persons":
        _check_persons(session, org_id, rows, checked, today)
    else:
        _check_cases(session, org_id, rows, checked, today)
    return checked


def _check_persons(session: Session, org_id: int, rows: list[_Row], checked: Checked, today: date) -> None:
    existing = {
        _name_key(name, born)
        for name, born in session.execute(select(Person.name, Person.date_of_birth).where(Person.org_id == org_id, Person.date_of_birth.is_not(None)))
    }
    id_numbers = set(session.scalars(select(Person.id_number).where(Person.org_id == org_id, Person.id_number.is_not(None))))
    seen: dict[tuple[str, date | None], int] = {}
    seen_ids: dict[str, int] = {}
    for row in rows:
        before = len(checked.errors)
        name = row.text("name")
        if name is None:
            row.fail("name", _("The name is missing."))
        sex = None
        if (raw := row.text("sex")) is not None:
            sex = SEXES.get(raw.casefold())
            if sex is None:
                row.fail("sex", _("“%(value)s” is not a sex: write female, male or other (F or M).", value=raw))
        born = row.day("date_of_birth")
        if born is not None and born > today:
            row.fail("date_of_birth", _("The date of birth cannot be in the future."))
        values = {c.name: row.text(c.name) for c in PERSON_COLUMNS if c.kind == "text" and c.name != "sex"}
        _lengths(row, Person, values)
        if name is not None and born is not None:
            key = _name_key(name, born)
            if key in existing:
                row.fail("name", _("%(name)s, born %(born)s, is already a person of this organisation.", name=name, born=born.isoformat()))
            elif key in seen:
                row.fail("name", _("Same name and date of birth as row %(row)s.", row=seen[key]))
            seen.setdefault(key, row.number)
        if (number := values.get("id_number")) is not None:
            if number in id_numbers:
                row.fail("id_number", _("A person of this organisation already has the ID number %(number)s.", number=number))
            elif number in seen_ids:
                row.fail("id_number", _("Same ID number as row %(row)s.", row=seen_ids[number]))
            seen_ids.setdefault(number, row.number)
        if len(checked.errors) == before:
            checked.records.append({**values, "sex": sex, "date_of_birth": born})


@dataclass(frozen=True)
class _People:
    """The organisation's persons, found by name and date of birth or by ID number."""

    by_name: dict[tuple[str, date | None], list[int]]
    by_id_number: dict[str, list[int]]
    names: dict[int, str]

    @classmethod
    def load(cls, session: Session, org_id: int) -> _People:
        by_name: dict[tuple[str, date | None], list[int]] = {}
        by_id_number: dict[str, list[int]] = {}
        names = {}
        for pid, name, born, number in session.execute(
            select(Person.id, Person.name, Person.date_of_birth, Person.id_number).where(Person.org_id == org_id)
        ):
            by_name.setdefault(_name_key(name, born), []).append(pid)
            if number:
                by_id_number.setdefault(number, []).append(pid)
            names[pid] = name
        return cls(by_name, by_id_number, names)

    def find(self, row: _Row, name: str | None, born: date | None, number: str | None) -> int | None:
        """The one person the row names, or None with the reason recorded on the row."""
        if (name is None or born is None) and number is None:
            row.fail("name", _("Give the person's name and date of birth, or their ID number."))
            return None
        by_name = set(self.by_name.get(_name_key(name, born), [])) if name is not None and born is not None else set()
        by_number = set(self.by_id_number.get(number, [])) if number is not None else set()
        if by_name and by_number and not by_name & by_number:
            row.fail("id_number", _("The ID number %(number)s belongs to another person than %(name)s.", number=number, name=name))
            return None
        # Both known: the person they share; else the one that finds someone (the ID number
        # may be missing from the person's record, or the name spelt differently).
        found = (by_name & by_number) or by_name or by_number
        if not found:
            who = name if name is not None else number
            row.fail("name", _("No person of this organisation matches %(who)s; import the persons first.", who=who))
            return None
        if len(found) > 1:
            row.fail("name", _("%(n)s persons of this organisation match %(who)s; add the ID number to tell them apart.", n=len(found), who=name or number))
            return None
        return next(iter(found))


def _prisons(session: Session, org_id: int) -> dict[str, str]:
    """``{normalised name: name as stored}``: the reference list and the organisation's own."""
    known = {prisons.normalise(p): p for p in prisons.PRISONS}
    for name in session.scalars(select(Case.prison).where(Case.org_id == org_id, Case.prison.is_not(None)).distinct()):
        known.setdefault(prisons.normalise(name), name)
    return known


def _case_managers(session: Session, org_id: int) -> dict[str, int]:
    """``{email in lower case: user id}`` of the staff who can hold a caseload (as
    :func:`core.services.cases.case_managers`)."""
    rows = session.execute(
        select(User.email, User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id, Membership.role.in_([Role.case_manager.value, Role.admin.value]), User.is_active.is_(True))
    )
    return {email.casefold(): uid for email, uid in rows}


def _check_cases(session: Session, org_id: int, rows: list[_Row], checked: Checked, today: date) -> None:
    people = _People.load(session, org_id)
    known_prisons = _prisons(session, org_id)
    managers = _case_managers(session, org_id)
    existing = {
        (person_id, number)
        for person_id, number in session.execute(select(Case.person_id, Case.prisoner_number).where(Case.org_id == org_id, Case.prisoner_number.is_not(None)))
    }
    seen: dict[tuple[int, str], int] = {}
    statuses = {s.value for s in CaseStatus}
    reasons = {r.value for r in CloseReason}
    for row in rows:
        before = len(checked.errors)
        name, number = row.text("name"), row.text("id_number")
        born = row.day("date_of_birth")
        dob_bad = len(checked.errors) > before
        dates = {c.name: row.day(c.name) for c in CASE_COLUMNS if c.kind == "date" and c.name != "date_of_birth"}
        person_id = None if dob_bad else people.find(row, name, born, number)
        values = {n: row.text(n) for n in ("programme", "prison", "prisoner_number")}
        _lengths(row, Case, values)

        manager_id = None
        if (email := row.text("case_manager_email")) is not None:
            manager_id = managers.get(email.casefold())
            if manager_id is None:
                row.fail("case_manager_email", _("No case manager of this organisation has the email %(email)s.", email=email))

        if (prison := values["prison"]) is not None:
            stored = known_prisons.get(prisons.normalise(prison))
            if stored is None:
                close = difflib.get_close_matches(prisons.normalise(prison), list(known_prisons), n=1, cutoff=0.6)
                if close:
                    row.fail("prison", _("Unknown prison “%(prison)s”; did you mean “%(suggestion)s”?", prison=prison, suggestion=known_prisons[close[0]]))
                else:
                    row.fail("prison", _("Unknown prison “%(prison)s”; use a name from the list in the import guide.", prison=prison))
            values["prison"] = stored

        status = CaseStatus.referred
        if (raw := row.text("status")) is not None:
            if _choice(raw) in statuses:
                status = CaseStatus(_choice(raw))
            else:
                row.fail("status", _("“%(value)s” is not a status: write %(choices)s.", value=raw, choices=", ".join(sorted(statuses))))
        reason = None
        if (raw := row.text("close_reason")) is not None:
            if _choice(raw) in reasons:
                reason = CloseReason(_choice(raw))
            else:
                row.fail("close_reason", _("“%(value)s” is not a reason for closing: write %(choices)s.", value=raw, choices=", ".join(sorted(reasons))))

        _check_case_dates(row, status, reason, dates, today)

        if person_id is not None and (prisoner := values["prisoner_number"]) is not None:
            key = (person_id, prisoner)
            if key in existing:
                row.fail("prisoner_number", _("%(name)s already has a case with prisoner number %(number)s.", name=people.names[person_id], number=prisoner))
            elif key in seen:
                row.fail("prisoner_number", _("Same person and prisoner number as row %(row)s.", row=seen[key]))
            seen.setdefault(key, row.number)

        if len(checked.errors) == before and person_id is not None:
            checked.records.append({
                "person_id": person_id, "person_name": people.names[person_id], "programme": values["programme"] or "",
                "case_manager_id": manager_id, "prison": values["prison"], "prisoner_number": values["prisoner_number"],
                "status": status, "close_reason": reason, **dates,
            })


def _check_case_dates(row: _Row, status: CaseStatus, reason: CloseReason | None, dates: dict[str, date | None], today: date) -> None:
    start, end = dates["sentence_start"], dates["sentence_end"]
    expected, released = dates["expected_release"], dates["actual_release"]
    closed, opened = dates["closed_on"], dates["opened_on"]
    for column in ("sentence_start", "actual_release", "closed_on", "opened_on"):
        if dates[column] is not None and dates[column] > today:  # type: ignore[operator]
            row.fail(column, _("This date cannot be in the future."))
    if start and end and end < start:
        row.fail("sentence_end", _("The sentence cannot end before it starts."))
    if start and expected and expected < start:
        row.fail("expected_release", _("The release cannot come before the sentence starts."))
    if start and released and released < start:
        row.fail("actual_release", _("The release cannot come before the sentence starts."))
    if status in (CaseStatus.released, CaseStatus.follow_up) and released is None:
        row.fail("actual_release", _("A released case needs the date the person was released."))
    if status in (CaseStatus.referred, CaseStatus.pre_release) and released is not None:
        row.fail("status", _("A case with a release date is at least “released”; correct the status or the date."))
    if status is CaseStatus.closed:
        if reason is None:
            row.fail("close_reason", _("A closed case needs the reason for closing."))
        if closed is None:
            row.fail("closed_on", _("A closed case needs the date it was closed."))
        elif released and closed < released:
            row.fail("closed_on", _("The case cannot close before the release."))
    else:
        if reason is not None:
            row.fail("close_reason", _("Only a closed case has a reason for closing."))
        if closed is not None:
            row.fail("closed_on", _("Only a closed case has a closing date."))
    if opened and closed and closed < opened:
        row.fail("closed_on", _("The case cannot close before it was opened."))


# --- importing -----------------------------------------------------------------------------------


def clean_filename(filename: str) -> str:
    """The base name of an uploaded file, for display (never used to store anything)."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()
    return (name or "upload")[-200:]


def record_batch(session: Session, org_id: int, user_id: int | None, filename: str, content: bytes, checked: Checked) -> ImportBatch:
    """Keep a checked file (flushed): the page of the dry run and the later import read it."""
    batch = ImportBatch(
        org_id=org_id,
        user_id=user_id,
        kind=checked.kind,
        filename=clean_filename(filename),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        status="checked",
        rows_total=checked.rows_total,
        rows_bad=checked.rows_bad,
    )
    session.add(batch)
    session.flush()
    return batch


def run(
    session: Session,
    org_id: int,
    batch: ImportBatch,
    *,
    hooks: OrgHooks,
    user_id: int | None,
    today: date,
    progress: Progress | None = None,
) -> int:
    """Import a checked file whole, in the session's transaction (the caller commits).

    Marks the batch imported first (so a second run of the same batch, even at the same moment,
    is refused), checks the file again against the records as they are now, and writes every row
    or, on any refusal or failure, lets the caller roll back all of it. Returns the rows written.

    :raises ActionRefused: the batch was imported already, or a row is bad now.
    """
    claimed = session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.org_id == org_id, ImportBatch.status == "checked")
        .values(status="imported", imported_at=datetime.now(timezone.utc))
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ActionRefused(_("This file was imported already; nothing was imported again."))
    checked = check(session, org_id, batch.kind, batch.content, today)
    if checked.errors:
        raise ActionRefused(ngettext(
            "%(num)s row of the file cannot be imported now; nothing was imported. Check the file again.",
            "%(num)s rows of the file cannot be imported now; nothing was imported. Check the file again.",
            checked.rows_bad,
        ))
    if batch.kind == "persons":
        written = _insert_persons(session, org_id, checked.records, progress)
    else:
        written = _insert_cases(session, org_id, batch, checked.records, hooks, user_id, today, progress)
    session.execute(
        update(ImportBatch).where(ImportBatch.id == batch.id).values(rows_imported=written, rows_bad=0)
        .execution_options(synchronize_session=False)
    )
    session.expire(batch)
    return written


def _chunks(records: list[dict[str, Any]]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    for start in range(0, len(records), CHUNK):
        yield start, records[start : start + CHUNK]


def _insert_persons(session: Session, org_id: int, records: list[dict[str, Any]], progress: Progress | None) -> int:
    # One INSERT per chunk (an ORM bulk insert: nothing needs the new ids). Objects added one by
    # one would cost a statement per row on SQLite, which cannot return ids in a set order.
    for start, chunk in _chunks(records):
        session.execute(insert(Person), [{"org_id": org_id, **values} for values in chunk])
        if progress:
            progress(start + len(chunk), len(records))
    return len(records)


def _insert_cases(
    session: Session, org_id: int, batch: ImportBatch, records: list[dict[str, Any]], hooks: OrgHooks,
    user_id: int | None, today: date, progress: Progress | None,
) -> int:
    """Cases with their timeline: ``core.case_opened`` on the opening day and, for a case past
    ``referred``, one ``core.status_changed`` from ``referred`` to its status, dated by the day
    it got there (docs/import.md)."""
    opened_summary = _("Imported from %(file)s (import %(id)s)", file=batch.filename, id=batch.id)
    for start, chunk in _chunks(records):
        cases = []
        for values in chunk:
            fields = {k: v for k, v in values.items() if k != "person_name"}
            fields["opened_on"] = fields["opened_on"] or today
            cases.append(Case(org_id=org_id, **fields))
        session.add_all(cases)
        session.flush()
        events = []
        for case, values in zip(cases, chunk):
            events.append(Event(
                org_id=org_id, case_id=case.id, kind="core.case_opened", occurred_on=case.opened_on, recorded_by_id=user_id,
                summary=f"{values['person_name']}. {opened_summary}", payload={"import": batch.id},
            ))
            if case.status != CaseStatus.referred:
                payload: dict[str, Any] = {"from": CaseStatus.referred.value, "to": CaseStatus(case.status).value, "import": batch.id}
                if case.close_reason:
                    payload["close_reason"] = CloseReason(case.close_reason).value
                events.append(Event(
                    org_id=org_id, case_id=case.id, kind="core.status_changed", occurred_on=_status_day(case),
                    recorded_by_id=user_id, summary=opened_summary, payload=payload,
                ))
        session.add_all(events)
        session.flush()
        by_id = {case.id: case for case in cases}
        for event in events:
            hooks.on_event_recorded(session, event, by_id[event.case_id])
        if progress:
            progress(start + len(chunk), len(records))
    return len(records)


def _status_day(case: Case) -> date:
    """When an imported case reached its status: closed on its closing day; released and in
    follow-up on its release day; pre-release on its opening day."""
    if case.status == CaseStatus.closed and case.closed_on:
        return case.closed_on
    if case.status in (CaseStatus.released, CaseStatus.follow_up) and case.actual_release:
        return case.actual_release
    return case.opened_on


# --- the web's and the command line's entry points -----------------------------------------------


def check_upload(ctx: Context, kind: str, filename: str, content: bytes) -> ImportBatch:
    """Dry run of an uploaded file, kept as a checked :class:`ImportBatch` of the current user."""
    checked = check(ctx.session, ctx.org_id, kind, content, ctx.today)
    return record_batch(ctx.session, ctx.org_id, ctx.user.id, filename, content, checked)


def get_batch(ctx: Context, batch_id: int) -> ImportBatch:
    """The import of this organisation with this id, or :class:`RecordNotFound`."""
    batch = ctx.session.scalar(select(ImportBatch).where(ImportBatch.id == batch_id, ImportBatch.org_id == ctx.org_id))
    if batch is None:
        raise RecordNotFound
    return batch


def recheck(ctx: Context, batch: ImportBatch) -> Checked:
    """The checks of a not yet imported batch, against the records as they are now."""
    return check(ctx.session, ctx.org_id, batch.kind, batch.content, ctx.today)


def run_batch(ctx: Context, batch: ImportBatch, progress: Progress | None = None) -> int:
    """:func:`run` as the current user."""
    return run(ctx.session, ctx.org_id, batch, hooks=ctx.hooks, user_id=ctx.user.id, today=ctx.today, progress=progress)


def history(ctx: Context, limit: int = 50) -> list[Row]:
    """The organisation's imports, newest first (without the files' content)."""
    return list(ctx.session.execute(
        select(
            ImportBatch.id, ImportBatch.kind, ImportBatch.filename, ImportBatch.status, ImportBatch.rows_total,
            ImportBatch.rows_bad, ImportBatch.rows_imported, ImportBatch.created_at, ImportBatch.imported_at,
            User.name.label("user_name"),
        )
        .outerjoin(User, User.id == ImportBatch.user_id)
        .where(ImportBatch.org_id == ctx.org_id)
        .order_by(ImportBatch.id.desc())
        .limit(limit)
    ))


def column_names(kind: str) -> list[str]:
    """The columns of ``kind`` in the order of the sample files and the exports."""
    return [c.name for c in COLUMNS[kind]]


__all__ = [
    "CASE_COLUMNS",
    "CHUNK",
    "COLUMNS",
    "Checked",
    "KINDS",
    "MAX_BYTES",
    "MAX_LISTED",
    "MAX_ROWS",
    "PERSON_COLUMNS",
    "RowError",
    "check",
    "check_upload",
    "column_names",
    "get_batch",
    "history",
    "parse_date",
    "read_rows",
    "read_table",
    "record_batch",
    "recheck",
    "run",
    "run_batch",
]
