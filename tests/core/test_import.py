"""Importing persons and cases from CSV and Excel files, and downloading the lists (issue 8, part 6).

Against the real database (SQLite and PostgreSQL): every check names its row and column, a file
with one bad row among thousands writes nothing, a failure during the write leaves nothing, and
the command line, the pages and the downloads do what docs/import.md says.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, exc, select, text

from core.cli import main
from core.errors import ActionRefused
from core.models import Case, CaseStatus, Event, ImportBatch, Person, Role
from core.plugin_api import hookimpl
from core.services import exports, imports
from tests.conftest import post_form
from tests.core.conftest import count, fresh

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
TODAY = date.today()
FUTURE = (TODAY + timedelta(days=400)).isoformat()


def csv_file(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def checked(ctx, kind: str, content: bytes) -> imports.Checked:
    return imports.check(ctx.session, ctx.org_id, kind, content, ctx.today)


def errors_by_row(result: imports.Checked) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for error in result.errors:
        found.setdefault(error.row, []).append((error.column, error.message))
    return found


def import_file(ctx, kind: str, content: bytes, filename: str = "file.csv") -> int:
    """Check, keep and import a file as the web does, and commit."""
    result = checked(ctx, kind, content)
    assert result.errors == [], result.errors
    batch = imports.record_batch(ctx.session, ctx.org_id, ctx.user.id, filename, content, result)
    written = imports.run_batch(ctx, batch)
    ctx.session.commit()
    return written


# --- the samples, formats and whole-file refusals ------------------------------------------------


def test_the_sample_files_import_into_an_empty_organisation_persons_first(ctx_for, db):
    ctx = ctx_for(Role.admin, "a")
    cases_sample = (SAMPLES / "cases.csv").read_bytes()
    before = checked(ctx, "cases", cases_sample)
    assert before.rows_bad == before.rows_total == 5  # nobody to attach the cases to yet
    assert all("import the persons first" in e.message for e in before.errors)

    assert import_file(ctx, "persons", (SAMPLES / "persons.csv").read_bytes(), "persons.csv") == 6
    assert import_file(ctx, "cases", cases_sample, "cases.csv") == 5
    assert count(db, Person) == 6 and count(db, Case) == 5
    dara = db.scalar(select(Person).where(Person.name == "Sok Dara"))
    assert (dara.sex, dara.date_of_birth, dara.name_km) == ("male", date(1990, 4, 12), "សុខ ដារា")
    assert db.scalar(select(Person.date_of_birth).where(Person.name == "Chan Sreymom")) == date(1994, 11, 23)  # DD/MM/YYYY

    closed = db.scalar(select(Case).where(Case.prisoner_number == "P-30977"))
    assert (closed.status, closed.close_reason, closed.closed_on, closed.actual_release) == ("closed", "completed", date(2025, 12, 31), date(2023, 1, 28))
    timeline = db.execute(select(Event.kind, Event.occurred_on, Event.payload, Event.recorded_by_id).where(Event.case_id == closed.id).order_by(Event.id)).all()
    assert [(k, d) for k, d, _p, _u in timeline] == [("core.case_opened", date(2022, 10, 3)), ("core.status_changed", date(2025, 12, 31))]
    assert timeline[1].payload["to"] == "closed" and timeline[1].payload["close_reason"] == "completed"
    assert {u for *_rest, u in timeline} == {ctx.user.id}
    follow_up = db.scalar(select(Case).where(Case.prisoner_number == "P-20488"))
    assert db.scalar(select(Event.occurred_on).where(Event.case_id == follow_up.id, Event.kind == "core.status_changed")) == date(2024, 6, 12)
    by_id = db.scalar(select(Case).where(Case.prisoner_number == "P-41120"))  # found by ID number alone
    assert by_id.person.name == "Keo Piseth" and by_id.opened_on == ctx.today and by_id.status == "referred"
    assert count(db, Event) == 5 + 4  # opened for each; a status change for the four past "referred"


def test_csv_with_byte_order_mark_semicolons_and_header_aliases():
    content = "\ufeffFull Name;DOB;Gender;Khmer-Name;Notes\nSok Dara;12/04/1990;F;សុខ ដារា;ignored\n".encode()
    result, rows = imports.read_rows("persons", content)
    assert result.ignored_columns == ["Notes"] and result.rows_total == 1
    assert rows[0].values == {"name": "Sok Dara", "date_of_birth": "12/04/1990", "sex": "F", "name_km": "សុខ ដារា"}
    assert rows[0].day("date_of_birth") == date(1990, 4, 12)
    assert imports.read_rows("persons", b"Name\tPhone number\nSok Dara\t012 345 678\n")[1][0].values == {"name": "Sok Dara", "phone": "012 345 678"}


def test_an_excel_workbook_with_date_cells_imports(ctx_for, db):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Date of birth", "Sex", "ID number"])
    sheet.append(["Sok Dara", date(1990, 4, 12), "male", 10456789])  # a number cell for the ID
    sheet.append([None, None, None, None])  # an empty line is skipped, its number kept
    sheet.append(["Chan Sreymom", "23/11/1994", "female", None])
    sheet.append(["Heng Vuthy", date(2200, 1, 1), "male", None])
    out = io.BytesIO()
    workbook.save(out)
    ctx = ctx_for(Role.admin, "a")
    result = checked(ctx, "persons", out.getvalue())
    assert errors_by_row(result) == {5: [("Date of birth", "The date of birth cannot be in the future.")]}

    sheet.delete_rows(5)
    out = io.BytesIO()
    workbook.save(out)
    assert import_file(ctx, "persons", out.getvalue(), "persons.xlsx") == 2
    assert sorted(fresh(db).execute(select(Person.name, Person.date_of_birth, Person.id_number)).all()) == [
        ("Chan Sreymom", date(1994, 11, 23), None), ("Sok Dara", date(1990, 4, 12), "10456789")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Excel file"),
        (b"PK\x03\x04 not really a workbook", "could not be read as an Excel workbook"),
        (b"", "empty"),
        (b"Sok Dara,1990-04-12\n", "must name the columns"),
        (b"\n\nname\nSok Dara\n", "row 3 is the first one filled"),
        (b"date_of_birth,sex\n1990-04-12,male\n", "no column"),
        (b"name,Full name\nSok Dara,Sok Dara\n", "both hold name"),
        (b"name,sex\n", "no rows"),
        ("name\nSok Dara\n".encode("utf-16"), "not a CSV file"),
    ],
)
def test_files_refused_as_a_whole_say_why(content, message):
    with pytest.raises(ActionRefused) as refused:
        imports.read_rows("persons", content)
    assert message in refused.value.message and refused.value.field == "file"


def test_cases_need_columns_to_find_the_person():
    with pytest.raises(ActionRefused, match="find each person"):
        imports.read_rows("cases", b"name,prison\nSok Dara,CC1 Prey Sar\n")


def test_too_many_rows_or_bytes_are_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    with pytest.raises(ActionRefused, match="more than 3 rows"):
        imports.read_rows("persons", csv_file("name", *(f"P{i}" for i in range(4))))
    assert imports.read_rows("persons", csv_file("name", "A", "", "B", "C"))[0].rows_total == 3
    monkeypatch.setattr(imports, "MAX_EMPTY_RUN", 2)
    assert imports.read_rows("persons", csv_file("name", "A", "", "", "B", "", "", "", "C"))[0].rows_total == 2
    monkeypatch.setattr(imports, "MAX_BYTES", 100)
    with pytest.raises(ActionRefused, match="larger than"):
        imports.read_rows("persons", csv_file("name", "x" * 200))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-04-03", date(2020, 4, 3)),
        ("03/04/2020", date(2020, 4, 3)),
        ("3/4/2020", date(2020, 4, 3)),
        ("2020-04-03 00:00:00", date(2020, 4, 3)),
        ("04/23/2020", "month/day/year"),
        ("3/4/20", "two-digit year"),
        ("31/02/2020", "not a date that exists"),
        ("43921", "not a date"),
        ("April 3", "not a date"),
        ("1850-01-01", "before 1900"),
    ],
)
def test_dates_are_iso_or_day_first_and_ambiguous_forms_are_refused(value, expected):
    if isinstance(expected, date):
        assert imports.parse_date(value) == expected
    else:
        with pytest.raises(Exception, match=expected):
            imports.parse_date(value)


# --- row checks ----------------------------------------------------------------------------------


def test_every_bad_person_row_is_listed_with_its_row_column_and_reason(ctx_for, make_person):
    make_person("a", name="Sok Dara", date_of_birth=date(1990, 4, 12), id_number="010456789")
    make_person("b", name="Keo Piseth", date_of_birth=date(1998, 9, 2))  # another organisation's: not a duplicate
    content = csv_file(
        "name,sex,date_of_birth,id_number,village",
        "Chan Sreymom,female,1994-11-23,,Phum 1",  # 2: good
        ",female,1994-11-23,,",  # 3: no name
        "Heng Vuthy,man?,1985-01-30,,",  # 4: sex
        f"Meas Bopha,F,{FUTURE},,",  # 5: born in the future
        "Long Kosal,M,1899-12-31,,",  # 6: before 1900
        "SOK  dara,male,12/04/1990,,",  # 7: an existing person (case and spaces do not matter)
        "Chan Sreymom,female,23/11/1994,,",  # 8: twice in the file
        "Ly Channary,female,1979-12-31,010456789,",  # 9: an existing person's ID number
        f"Touch Rithy,male,1980-01-01,,{'x' * 101}",  # 10: too long
        "Keo Piseth,male,1998-09-02,,",  # 11: good (organisation b's person)
    )
    result = checked(ctx_for(Role.admin, "a"), "persons", content)
    found = errors_by_row(result)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert found[3] == [("name", "The name is missing.")]
    assert found[4][0][0] == "sex" and "female, male or other" in found[4][0][1]
    assert found[5] == [("date_of_birth", "The date of birth cannot be in the future.")]
    assert found[6][0][0] == "date_of_birth" and "before 1900" in found[6][0][1]
    assert found[7][0][0] == "name" and "already a person of this organisation" in found[7][0][1]
    assert found[8] == [("name", "Same name and date of birth as row 2.")]
    assert found[9][0][0] == "id_number" and "already has the ID number" in found[9][0][1]
    assert found[10] == [("village", "Use at most 100 characters.")]
    assert (result.rows_total, result.rows_bad, len(result.records)) == (10, 8, 2)


def test_every_bad_case_row_is_listed_with_its_row_column_and_reason(ctx_for, make_person, make_case, world):
    dara = make_person("a", name="Sok Dara", date_of_birth=date(1990, 4, 12), id_number="111")
    make_person("a", name="Chan Sreymom", date_of_birth=date(1994, 11, 23), id_number="222")
    make_person("a", name="Heng Vuthy", date_of_birth=date(1985, 1, 30))
    make_person("a", name="Heng Vuthy", date_of_birth=date(1985, 1, 30))  # two of the same: ambiguous
    make_case("a", dara, prison="Battambang Provincial Prison", prisoner_number="P-1")
    make_case("a", make_person("a", name="Ouk Narith", date_of_birth=date(1991, 1, 1)), prison="Secret Annex Prison")
    manager = world.email("a", Role.case_manager)
    header = "name,date_of_birth,id_number,case_manager_email,prison,prisoner_number,sentence_start,sentence_end,expected_release,actual_release,status,close_reason,closed_on"
    content = csv_file(
        header,
        f"Sok Dara,1990-04-12,,{manager},cc1 prey  sar,P-2,2020-01-01,2026-01-01,2026-01-01,,pre-release,,",  # 2: good
        "Nobody Here,1990-01-01,,,,,,,,,,,",  # 3: no such person
        "Heng Vuthy,1985-01-30,,,,,,,,,,,",  # 4: two persons match
        f"Chan Sreymom,1994-11-23,,{world.email('a', Role.viewer)},,,,,,,,,",  # 5: not a case manager
        f"Chan Sreymom,1994-11-23,,{world.email('b', Role.case_manager)},,,,,,,,,",  # 6: another organisation's
        "Chan Sreymom,1994-11-23,,,Kampot Provincial Prision,,,,,,,,",  # 7: unknown prison, with a suggestion
        "Chan Sreymom,1994-11-23,,,Secret Annex Prison,P-7,,,,,,,",  # 8: good: named on a case already
        "Chan Sreymom,1994-11-23,,,,,2020-01-01,2019-01-01,2019-06-01,,,,",  # 9: sentence ends before it starts
        "Chan Sreymom,1994-11-23,,,,,2020-01-01,,,2019-12-01,released,,",  # 10: released before the sentence
        f"Chan Sreymom,1994-11-23,,,,,,,,{FUTURE},released,,",  # 11: released in the future
        "Chan Sreymom,1994-11-23,,,,,,,,,follow_up,,",  # 12: released without a date
        "Chan Sreymom,1994-11-23,,,,,,,,2024-01-01,closed,,",  # 13: closed without reason and date
        "Chan Sreymom,1994-11-23,,,,,,,,,escaped,,",  # 14: unknown status
        "Sok Dara,1990-04-12,,,,P-1,,,,,,,",  # 15: the case exists
        "Sok Dara,1990-04-12,,,,P-2,,,,,,,",  # 16: twice in the file (row 2)
        ",,222,,,P-9,,,,2024-01-01,closed,re-offended,2024-06-30",  # 17: good, by ID number
        "Sok Dara,1990-04-12,222,,,,,,,,,,",  # 18: name and ID number of two persons
        "Chan Sreymom,1994-11-23,,,,,,,,2024-01-01,,completed,",  # 19: released date on a referred case; reason on an open case
        ",,,,,,,,,,,,",  # an empty line
        "Chan Sreymom,31/31/1994,,,,,,,,,,,",  # 21: a bad date of birth (and no search for the person)
    )
    result = checked(ctx_for(Role.admin, "a"), "cases", content)
    found = errors_by_row(result)
    assert sorted(found) == [3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 21]
    assert found[3] == [("name", "No person of this organisation matches Nobody Here; import the persons first.")]
    assert "2 persons of this organisation match Heng Vuthy" in found[4][0][1]
    assert found[5][0][0] == "case_manager_email" and "No case manager" in found[5][0][1]
    assert found[6][0][0] == "case_manager_email"
    assert found[7] == [("prison", "Unknown prison “Kampot Provincial Prision”; did you mean “Kampot Provincial Prison”?")]
    assert found[9] == [("sentence_end", "The sentence cannot end before it starts."), ("expected_release", "The release cannot come before the sentence starts.")]
    assert found[10] == [("actual_release", "The release cannot come before the sentence starts.")]
    assert found[11] == [("actual_release", "This date cannot be in the future.")]
    assert found[12] == [("actual_release", "A released case needs the date the person was released.")]
    assert {c for c, _m in found[13]} == {"close_reason", "closed_on"}
    assert found[14][0][0] == "status" and "is not a status" in found[14][0][1]
    assert found[15] == [("prisoner_number", "Sok Dara already has a case with prisoner number P-1.")]
    assert found[16] == [("prisoner_number", "Same person and prisoner number as row 2.")]
    assert found[18][0][0] == "id_number" and "another person" in found[18][0][1]
    assert {c for c, _m in found[19]} == {"status", "close_reason"}
    assert [c for c, _m in found[21]] == ["date_of_birth"]
    good = {r["prisoner_number"]: r for r in result.records}
    assert sorted(good, key=str) == ["P-2", "P-7", "P-9"]
    assert good["P-2"]["prison"] == "CC1 Prey Sar" and good["P-2"]["status"] == CaseStatus.pre_release  # spelt as the list
    assert good["P-9"]["close_reason"] == "re_offended"


def test_only_the_first_bad_rows_are_listed_but_all_are_counted(ctx_for, monkeypatch):
    monkeypatch.setattr(imports, "MAX_LISTED", 2)
    result = checked(ctx_for(Role.admin, "a"), "persons", csv_file("name,sex", *(f"P{i},x" for i in range(5))))
    assert result.rows_bad == 5 and [e.row for e in result.listed] == [2, 3]


# --- all or nothing ------------------------------------------------------------------------------


def thousands(n: int, bad_at: int | None = None) -> bytes:
    lines = ["name,sex,date_of_birth,province"]
    for i in range(n):
        born = FUTURE if i == bad_at else (date(1960, 1, 1) + timedelta(days=i * 5)).isoformat()
        lines.append(f"Person {i:05d},{'female' if i % 2 else 'male'},{born},Kandal")
    return csv_file(*lines)


class Statements:
    """Counts the SQL statements a block sends (to show the checks do not query row by row)."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine, self.n = engine, 0

    def _count(self, *args: object) -> None:
        self.n += 1

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


def test_one_bad_row_in_thousands_writes_nothing_and_fixed_the_file_imports_whole(ctx_for, db):
    ctx = ctx_for(Role.admin, "a")
    before = count(db, Person)
    bad = thousands(3000, bad_at=1500)
    with Statements(db.get_bind()) as statements:
        result = checked(ctx, "persons", bad)
    assert [(e.row, e.column) for e in result.errors] == [(1502, "date_of_birth")]  # header is row 1
    assert statements.n <= 5
    batch = imports.record_batch(db, ctx.org_id, ctx.user.id, "register.csv", bad, result)
    db.commit()
    with pytest.raises(ActionRefused, match="1 row of the file cannot be imported"):
        imports.run_batch(ctx, batch)
    db.rollback()
    assert count(db, Person) == before
    assert fresh(db).get(ImportBatch, batch.id).status == "checked"

    good = thousands(3000)
    seen: list[tuple[int, int]] = []
    result = checked(ctx, "persons", good)
    batch = imports.record_batch(db, ctx.org_id, ctx.user.id, "register.csv", good, result)
    with Statements(db.get_bind()) as statements:
        written = imports.run_batch(ctx, batch, progress=lambda done, total: seen.append((done, total)))
    db.commit()
    assert written == 3000 and count(db, Person) == before + 3000
    assert seen[-1] == (3000, 3000) and len(seen) == 3000 // imports.CHUNK
    assert statements.n < 40  # chunks, not one insert per row
    stored = fresh(db).get(ImportBatch, batch.id)
    assert (stored.status, stored.rows_imported, stored.rows_total) == ("imported", 3000, 3000) and stored.imported_at


def _trigger(db, name: str) -> None:
    """A real failure inside the database while rows are written: the insert of ``name`` fails."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text(f"CREATE TRIGGER boom BEFORE INSERT ON persons WHEN NEW.name = '{name}' BEGIN SELECT RAISE(ABORT, 'boom'); END"))
    else:
        db.execute(text(f"CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.name = '{name}' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
        db.execute(text("CREATE TRIGGER boom BEFORE INSERT ON persons FOR EACH ROW EXECUTE FUNCTION boom()"))
    db.commit()


def test_a_failure_in_the_database_during_the_write_leaves_nothing(ctx_for, db):
    ctx = ctx_for(Role.admin, "a")
    content = thousands(1200)
    _trigger(db, "Person 01100")  # in the third chunk: two chunks were flushed already
    result = checked(ctx, "persons", content)
    batch = imports.record_batch(db, ctx.org_id, ctx.user.id, "register.csv", content, result)
    db.commit()
    progress: list[int] = []
    with pytest.raises(exc.DBAPIError):
        imports.run_batch(ctx, batch, progress=lambda done, total: progress.append(done))
    assert progress == [500, 1000]
    db.rollback()
    assert count(db, Person) == 0
    assert fresh(db).get(ImportBatch, batch.id).status == "checked"


class RefuseOneCase:
    """A module that refuses one timeline event (as a module may, raising ActionRefused)."""

    @hookimpl
    def on_event_recorded(self, session, event, case):  # noqa: ANN001, ANN201
        if case.prisoner_number == "P-0700":
            raise ActionRefused("a module refused this case")


def test_a_module_refusing_one_case_during_the_write_leaves_no_case_and_no_event(ctx_for, db, registry):
    ctx = ctx_for(Role.admin, "a")
    import_file(ctx, "persons", thousands(800))
    lines = ["name,date_of_birth,prison,prisoner_number,status,actual_release"]
    for i in range(800):
        lines.append(f"Person {i:05d},{(date(1960, 1, 1) + timedelta(days=i * 5)).isoformat()},CC1 Prey Sar,P-{i:04d},released,2024-01-01")
    content = csv_file(*lines)
    result = checked(ctx, "cases", content)
    assert result.errors == []
    batch = imports.record_batch(db, ctx.org_id, ctx.user.id, "cases.csv", content, result)
    db.commit()
    registry.pm.register(RefuseOneCase())
    with pytest.raises(ActionRefused, match="a module refused"):
        imports.run_batch(ctx, batch)
    db.rollback()
    assert (count(db, Case), count(db, Event)) == (0, 0)
    assert fresh(db).get(ImportBatch, batch.id).status == "checked"


# --- command line --------------------------------------------------------------------------------


def test_command_line_dry_run_lists_bad_rows_and_the_import_writes_everything(database_url, world, db, tmp_path):
    def run(*args: str):  # noqa: ANN202
        return CliRunner().invoke(main, ["--database-url", database_url, "import", *args])

    bad = tmp_path / "persons.csv"
    bad.write_bytes(csv_file("name,date_of_birth", "Sok Dara,1990-04-12", f"Chan Sreymom,{FUTURE}", ",1990-01-01"))
    result = run("persons", str(bad), "--org", "org-a", "--dry-run")
    assert result.exit_code == 1
    assert "row 3, date_of_birth: The date of birth cannot be in the future." in result.output
    assert "row 4, name: The name is missing." in result.output
    assert "2 of 3 rows cannot be imported; nothing was imported" in result.output
    assert run("persons", str(bad), "--org", "org-a").exit_code == 1
    assert count(db, Person) == 0 and count(db, ImportBatch) == 0

    dry = run("persons", str(SAMPLES / "persons.csv"), "--org", "org-a", "--dry-run")
    assert dry.exit_code == 0 and "6 persons ready to import (dry run: nothing written)" in dry.output
    assert count(db, Person) == 0 and count(db, ImportBatch) == 0
    done = run("persons", str(SAMPLES / "persons.csv"), "--org", "org-a")
    assert done.exit_code == 0, done.output
    assert "imported 6 persons into org-a" in done.output
    cases = run("cases", str(SAMPLES / "cases.csv"), "--org", "org-a")
    assert cases.exit_code == 0, cases.output
    assert (count(db, Person), count(db, Case)) == (6, 5)
    batches = fresh(db).execute(select(ImportBatch.kind, ImportBatch.status, ImportBatch.user_id, ImportBatch.rows_imported).order_by(ImportBatch.id)).all()
    assert [tuple(b) for b in batches] == [("persons", "imported", None, 6), ("cases", "imported", None, 5)]
    assert set(fresh(db).scalars(select(Event.recorded_by_id))) == {None}

    again = run("cases", str(SAMPLES / "cases.csv"), "--org", "org-a")
    assert again.exit_code == 1 and "already has a case with prisoner number P-10231" in again.output
    assert run("persons", str(SAMPLES / "persons.csv"), "--org", "nowhere").exit_code != 0
    not_csv = tmp_path / "photo.csv"
    not_csv.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    refused = run("persons", str(not_csv), "--org", "org-a")
    assert refused.exit_code == 1 and "not a CSV file" in refused.output


# --- pages ---------------------------------------------------------------------------------------


def upload(client, kind: str, content: bytes, filename: str = "persons.csv"):  # noqa: ANN001, ANN201
    return client.post(
        "/imports", data={"kind": kind, "_csrf_token": client.cookies.get("hc_csrf", "")},
        files={"file": (filename, content, "text/csv")}, follow_redirects=False,
    )


def test_upload_dry_run_page_import_and_the_persons_are_there(client_for, db):
    client = client_for(Role.admin, "a")
    assert client.get("/imports").status_code == 200
    assert 'href="/imports"' in client.get("/").text  # the menu entry

    bad = upload(client, "persons", csv_file("name,date_of_birth", "Sok Dara,1990-04-12", f"Chan Sreymom,{FUTURE}"))
    assert bad.status_code == 303
    page = client.get(bad.headers["location"])
    assert "1 row of 2 cannot be imported" in page.text and "The date of birth cannot be in the future." in page.text
    assert "<td>3</td><td>date_of_birth</td>" in page.text and "/run" not in page.text

    good = upload(client, "persons", (SAMPLES / "persons.csv").read_bytes())
    url = good.headers["location"]
    page = client.get(url)
    assert "6 rows ready to import." in page.text and "Import 6 rows" in page.text and "<progress" in page.text
    assert count(db, Person) == 0
    ran = post_form(client, f"{url}/run")
    assert ran.status_code == 303 and ran.headers["location"] == url
    assert "6 rows imported." in client.get(url).text
    assert "Sok Dara" in client.get("/persons?q=Sok").text and count(db, Person) == 6

    again = post_form(client, f"{url}/run")
    assert again.status_code == 422 and "imported already" in again.text
    assert count(db, Person) == 6
    history = client.get("/imports").text
    assert "persons.csv" in history and "6 rows imported" in history and "1 bad row" in history


def test_the_upload_form_refuses_a_missing_file_or_kind_and_an_unreadable_file(client_for, db):
    client = client_for(Role.admin, "a")
    missing = client.post("/imports", data={"kind": "persons", "_csrf_token": client.cookies.get("hc_csrf", "")},
                          files={"other": ("x.txt", b"", "text/plain")}, follow_redirects=False)
    assert missing.status_code == 422 and "Choose a file." in missing.text
    assert upload(client, "nonsense", b"name\nx\n").status_code == 422
    refused = upload(client, "persons", b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png")
    assert refused.status_code == 422 and "not a CSV file" in refused.text
    assert count(db, ImportBatch) == 0


def test_another_organisations_import_is_not_found_and_a_case_manager_may_not_import(client_for, db):
    client = client_for(Role.admin, "a")
    url = upload(client, "persons", (SAMPLES / "persons.csv").read_bytes()).headers["location"]
    other = client_for(Role.admin, "b")
    assert other.get(url).status_code == 404
    assert post_form(other, f"{url}/run").status_code == 404
    assert "persons.csv" not in other.get("/imports").text
    manager = client_for(Role.case_manager, "a")
    assert manager.get("/imports").status_code == 403 and manager.get(url).status_code == 403
    assert post_form(manager, f"{url}/run").status_code == 403
    assert upload(manager, "persons", b"name\nx\n").status_code == 403
    assert count(db, Person) == 0


# --- downloads -----------------------------------------------------------------------------------


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(body: bytes) -> list[dict[str, object]]:
    rows = list(load_workbook(io.BytesIO(body), read_only=True).worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_person_and_case_lists_download_with_the_pages_filters_and_import_back(client_for, ctx_for, db, world):
    ctx = ctx_for(Role.admin, "a")
    import_file(ctx, "persons", (SAMPLES / "persons.csv").read_bytes())
    import_file(ctx, "cases", (SAMPLES / "cases.csv").read_bytes())
    client = client_for(Role.case_manager, "a")
    assert 'href="/persons.csv?q=Chan"' in client.get("/persons?q=Chan").text

    found = client.get("/persons.csv?q=Chan")
    assert found.status_code == 200 and 'filename="persons-org-a.csv"' in found.headers["content-disposition"]
    assert [(r["name"], r["date_of_birth"], r["sex"]) for r in read_csv(found.content)] == [("Chan Sreymom", "1994-11-23", "female")]
    everyone = client.get("/persons.xlsx")
    rows = read_xlsx(everyone.content)
    assert len(rows) == 6 and list(rows[0]) == imports.column_names("persons")
    assert {r["name"]: r["date_of_birth"] for r in rows}["Sok Dara"].date() == date(1990, 4, 12)  # a date cell

    released = read_csv(client.get("/cases.csv?status=released").content)
    assert [(r["name"], r["prison"], r["actual_release"], r["status"]) for r in released] == [
        ("Ly Channary", "Kampot Provincial Prison", "2025-05-05", "released")]
    in_prison = read_xlsx(client.get("/cases.xlsx?prison=CC1+Prey+Sar").content)
    assert [r["name"] for r in in_prison] == ["Keo Piseth"]
    all_cases = client.get("/cases.csv").content

    # An export imports back: into another organisation as new records, persons first.
    other = ctx_for(Role.admin, "b")
    assert import_file(other, "persons", everyone.content, "persons.xlsx") == 6
    assert import_file(other, "cases", all_cases) == 5
    # ... and into the same one, every row is a duplicate.
    assert checked(ctx, "persons", everyone.content).rows_bad == 6

    assert client_for(Role.viewer, "a").get("/persons.csv").status_code == 403


def test_a_download_longer_than_the_cap_is_refused_with_a_message(client_for, make_person, monkeypatch):
    make_person("a", name="Sok Dara")
    make_person("a", name="Sok Dina")
    monkeypatch.setattr(exports, "EXPORT_CAP", 1)
    response = client_for(Role.admin, "a").get("/persons.csv")
    assert response.status_code in (400, 422) and "More than 1 rows match" in response.text


def test_a_download_of_names_with_control_characters_drops_them_not_a_server_error(client_for, make_person):
    """openpyxl refuses control characters in a cell: a person named through the API with one
    (``"Sok\\x10Dara"``) made ``/persons.xlsx`` a 500. Found by tests/fuzz (docs/security.md, "Bad input")."""
    make_person("a", name="Sok\x10 Dara\x07")
    client = client_for(Role.admin, "a")
    response = client.get("/persons.xlsx")
    assert response.status_code == 200
    assert [r["name"] for r in read_xlsx(response.content)] == ["Sok Dara"]
    assert read_csv(client.get("/persons.csv").content)[0]["name"] == "Sok\x10 Dara\x07"  # CSV keeps what was typed
