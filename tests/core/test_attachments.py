"""Attachments: what is accepted is decided by the content; names cannot reach storage; a file is
served only to its own organisation, while its module is enabled."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.models import Attachment, AttachmentContent
from core.services import attachments
from core.services.attachments import MAX_BYTES, attachment_content, safe_filename, save_attachment

from ..conftest import World


def picture(fmt: str = "PNG", size: tuple[int, int] = (40, 30), exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 120, 40))
    image.save(out, fmt, **({"exif": exif} if exif else {}))
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def count(db: Session) -> tuple[int, int]:
    return db.scalar(select(func.count()).select_from(Attachment)), db.scalar(select(func.count()).select_from(AttachmentContent))


def test_a_photo_and_a_pdf_are_stored_with_their_real_type(db: Session, world: World) -> None:
    org = world.org_ids["a"]
    photo = save_attachment(db, org, filename="roof.JPG", content=picture("JPEG"), plugin="housing")
    invoice = save_attachment(db, org, filename="invoice.pdf", content=PDF, plugin="housing", allowed=("pdf",))
    assert (photo.media_type, photo.kind, photo.filename) == ("image/jpeg", "image", "roof.jpg")
    assert (invoice.media_type, invoice.kind, invoice.filename) == ("application/pdf", "pdf", "invoice.pdf")
    assert attachment_content(db, invoice) == PDF
    assert invoice.size == len(PDF) and len(invoice.sha256) == 64
    assert photo.url == f"/files/{photo.key}" and len(photo.key) >= 40 and photo.key != invoice.key


def test_photos_lose_their_metadata_and_are_scaled_down(db: Session, world: World) -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (11.0, 33.0, 0.0)}  # GPSInfo: where the family lives
    big = picture("JPEG", (4000, 1000), exif=exif.tobytes())
    assert Image.open(io.BytesIO(big)).getexif()  # the upload carries it
    stored = save_attachment(db, world.org_ids["a"], filename="home.jpg", content=big, plugin="housing")
    image = Image.open(io.BytesIO(attachment_content(db, stored)))
    assert not image.getexif()
    assert image.size == (2560, 640)


@pytest.mark.parametrize(
    ("name", "content", "allowed"),
    [
        ("photo.jpg", b"just some text, not a photo", ("image", "pdf")),
        ("setup.png", b"MZ\x90\x00\x03" + b"\x00" * 200, ("image", "pdf")),  # a Windows program
        ("tool.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, ("image", "pdf")),  # a Linux program
        ("page.png", b"<html><script>alert(1)</script></html>", ("image",)),
        ("cut.pdf", b"%PDF-1.4\n1 0 obj", ("pdf",)),  # a PDF cut short
        ("photo.png", picture("PNG"), ("pdf",)),  # a photo where a PDF is asked for
        ("anim.gif", picture("GIF"), ("image",)),  # not one of the image types kept
        ("invoice.pdf", PDF, ("image",)),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_at_its_field(db: Session, world: World, name: str, content: bytes, allowed: tuple[str, ...]) -> None:
    with pytest.raises(InvalidInput) as refused:
        save_attachment(db, world.org_ids["a"], filename=name, content=content, plugin="housing", allowed=allowed, field="invoice")
    assert list(refused.value.errors) == ["invoice"]
    assert "Choose" in refused.value.errors["invoice"]
    assert count(db) == (0, 0)


def test_an_empty_or_oversized_file_is_refused(db: Session, world: World) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        save_attachment(db, world.org_ids["a"], filename="x.pdf", content=b"", plugin="housing")
    too_big = b"%PDF-1.4\n" + b"0" * MAX_BYTES + b"\n%%EOF\n"
    with pytest.raises(InvalidInput, match="larger than 10 MB"):
        save_attachment(db, world.org_ids["a"], filename="x.pdf", content=too_big, plugin="housing")
    assert count(db) == (0, 0)


def test_a_decompression_bomb_is_refused(db: Session, world: World) -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(out, "PNG")  # 60 million pixels of one colour: a small file
    bomb = out.getvalue()
    assert len(bomb) < MAX_BYTES
    with pytest.raises(InvalidInput):
        save_attachment(db, world.org_ids["a"], filename="x.png", content=bomb, plugin="housing")


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("/absolute/path/photo.png", "photo.png"),
        ("a\x00b\nc\r.png", "abc.png"),
        ("photo.exe", "photo.exe.png"),
        ('quote"s <and> pipes|.png', "quote_s _and_ pipes_.png"),
        ("..", "file.png"),
        ("", "file.png"),
        (".hidden.png", "hidden.png"),
        ("x" * 300 + ".png", "x" * 120 + ".png"),
    ],
)
def test_path_tricks_in_a_name_leave_only_a_safe_base_name(name: str, kept: str) -> None:
    assert safe_filename(name, "image/png") == kept


def test_a_name_keeps_its_own_spelling_of_the_real_extension() -> None:
    assert safe_filename("រូបថត.JPEG", "image/jpeg") == "រូបថត.jpg"
    assert safe_filename("scan.pdf", "image/jpeg") == "scan.pdf.jpg"


# --- serving ---------------------------------------------------------------------------------------


def _stored(db: Session, org_id: int, plugin: str = "housing", content: bytes | None = None, name: str = "roof.png") -> Attachment:
    attachment = save_attachment(db, org_id, filename=name, content=content or picture(), plugin=plugin)
    db.commit()
    return attachment


def test_a_file_is_served_to_its_own_organisation_with_its_own_headers(db: Session, world: World, client_for) -> None:  # noqa: ANN001
    photo = _stored(db, world.org_ids["a"], name="roof photo.png")
    invoice = _stored(db, world.org_ids["a"], content=PDF, name="invoice.pdf")
    client = client_for(org="a")
    response = client.get(photo.url)
    assert response.status_code == 200
    assert response.content == attachment_content(db, photo)
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == "inline; filename*=UTF-8''roof%20photo.png"
    assert response.headers["content-security-policy"] == attachments_csp()
    assert "private" in response.headers["cache-control"]
    pdf = client.get(invoice.url)
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-disposition"].startswith("attachment;")


def attachments_csp() -> str:
    from core.web.files import FILE_CSP

    return FILE_CSP


def test_nobody_else_gets_a_file(db: Session, world: World, client_for, app) -> None:  # noqa: ANN001
    from litestar.testing import TestClient

    photo = _stored(db, world.org_ids["a"])
    assert client_for(org="b").get(photo.url).status_code == 404  # another organisation
    anonymous = TestClient(app, raise_server_exceptions=False).get(photo.url, follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401) and anonymous.content != attachment_content(db, photo)
    assert client_for(org="a").get("/files/" + "x" * 43).status_code == 404  # a guessed key


def test_a_file_of_a_module_the_organisation_does_not_run_is_not_served(db: Session, world: World, client_for) -> None:  # noqa: ANN001
    # Organisation B runs training only: a housing file of its own (left from when it ran
    # housing) is hidden like the module.
    hidden = _stored(db, world.org_ids["b"], plugin="housing")
    shown = _stored(db, world.org_ids["b"], plugin="training")
    client = client_for(org="b")
    assert client.get(hidden.url).status_code == 404
    assert client.get(shown.url).status_code == 200


def test_module_api_names_are_public() -> None:
    import core.plugin_api as api

    for name in ("Attachment", "MultipartForm", "store_attachment", "save_attachment", "get_attachment", "uploads", "attachment_content"):
        assert name in api.__all__ and getattr(api, name) is not None
    assert attachments.uploads({"f": "text"}, "f") == []


def test_a_photo_cut_short_is_refused_with_a_message_not_a_server_error(db: Session, world: World) -> None:
    """Pillow's ``verify()`` passes a JPEG whose end is missing (an upload cut off); re-encoding
    it then failed with an OSError, a 500. Found by tests/fuzz (docs/security.md, "Bad input")."""
    whole = picture("JPEG", (800, 600))
    with pytest.raises(InvalidInput) as refused:
        save_attachment(db, world.org_ids["a"], filename="roof.jpg", content=whole[: len(whole) // 2], plugin="housing", field="photos")
    assert refused.value.errors == {"photos": "The photo could not be read: it is damaged or incomplete. Choose the photo again."}
    assert count(db) == (0, 0)


def test_a_photo_cut_short_is_refused_even_after_weasyprint_is_imported(db: Session, world: World) -> None:
    """WeasyPrint (training certificates) turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES when
    imported, which padded a cut-short photo with grey and stored it; the upload check does not
    depend on that flag."""
    from PIL import ImageFile

    import weasyprint  # noqa: F401 - its import sets the flag

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    whole = picture("JPEG", (800, 600))
    with pytest.raises(InvalidInput, match="damaged or incomplete"):
        save_attachment(db, world.org_ids["a"], filename="roof.jpg", content=whole[: len(whole) // 2], plugin="housing")
    assert count(db) == (0, 0)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as WeasyPrint wants it for its own images
