"""Uploads: a file of the wrong type (whatever its name or content type says), an oversized file
and path tricks in names are refused or made harmless at the field, and nothing is written; a
file is served only to the organisation that owns it."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Attachment, Membership, Role, User
from core.services.admin import create_organisation
from plugins.housing.models import HousingAttachment
from tests.conftest import login, post_form
from tests.plugins.housing.conftest import PDF, assessment_form, counts, fresh, payment_form, png, refused, send

TEXT = b"just some text, not a picture\n" * 20
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
BIG = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF\n"


PHOTO_REFUSALS = [
    ("roof.jpg", TEXT, "image/jpeg"),  # a photo's name, text inside
    ("setup.exe", EXE, "application/octet-stream"),  # an executable
    ("photo.jpg", EXE, "image/jpeg"),  # an executable named as a photo, sent as one
    ("scan.pdf", PDF, "application/pdf"),  # a real PDF, but a photo field takes no PDF
]


def test_a_photo_field_refuses_what_is_not_a_photo_and_names_cannot_play_tricks(home, client_for, db: Session) -> None:  # noqa: ANN001
    before = counts(db)
    client = client_for(Role.case_manager, "a")
    url = f"/housing/cases/{home.family.case.id}/assess"
    for name, content, content_type in PHOTO_REFUSALS:
        refused(send(client, url, assessment_form(home.family), [("photos", (name, content, content_type))]), "Choose a photo (JPEG, PNG or WebP).", "photos")
        # one good photo beside a bad one: still nothing written
        refused(send(client, url, assessment_form(home.family), [("photos", ("good.png", png(), "image/png")), ("photos", (name, content, content_type))]),
                "Choose a photo (JPEG, PNG or WebP).", "photos")
    assert counts(db) == before  # no attachment, no assessment, no event
    # an empty file input is no file: the assessment goes through without a photo
    assert send(client, url, assessment_form(home.family), [("photos", ("", b"", "application/octet-stream"))]).status_code == 303

    # path tricks in the names of good photos: stored under a random key, shown with a safe base name
    response = send(client, url, assessment_form(home.family), [("photos", (name, png(), "image/png")) for name, _stored in TRICKS])
    assert response.status_code == 303, response.text[:1500]
    stored = list(fresh(db).scalars(select(Attachment).order_by(Attachment.id.desc()).limit(len(TRICKS))))
    assert len(stored) == len(TRICKS)
    for attachment in stored:
        assert attachment.media_type == "image/png" and attachment.plugin == "housing"
        assert "/" not in attachment.filename and "\\" not in attachment.filename and ".." not in attachment.filename
        assert not any(ord(c) < 32 for c in attachment.filename) and attachment.filename.endswith(".png")
        assert attachment.url == f"/files/{attachment.key}" and len(attachment.key) >= 40
    names = {a.filename for a in stored}
    assert {"passwd.png", "x.png", "index.php.png", "shell.php.png"} <= names
    page = client.get(f"/housing/cases/{home.family.case.id}").text
    assert all(a.url in page for a in stored) and "etc/passwd" not in page




def test_an_invoice_must_be_a_photo_or_a_pdf_by_its_content_and_not_too_large(approved, client_for, db: Session) -> None:  # noqa: ANN001
    finance = client_for(Role.finance, "a")
    url = f"/housing/repairs/{approved.repair.id}/payments"
    before = counts(db)
    for name, content in (("invoice.pdf", TEXT), ("invoice.pdf", b"%PDF-1.4 but never ends"), ("run.sh", b"#!/bin/sh\nrm -rf /\n"), ("x.exe", EXE)):
        refused(send(finance, url, payment_form(), [("invoice", (name, content, "application/pdf"))]),
                "Choose a photo (JPEG, PNG or WebP) or a PDF file.", "invoice")
    refused(send(finance, url, payment_form(), [("invoice", ("big.pdf", BIG, "application/pdf"))]), "The file is larger than 10 MB.", "invoice")
    assert counts(db) == before


TRICKS = [
    ("../../etc/passwd.png", "passwd.png"),
    ("..\\..\\x.png", "x.png"),
    ("/var/www/html/index.php.png", "index.php.png"),
    ("evil\nname.png", "evilname.png"),
    ("nul\x00byte.png", "nulbyte.png"),
    ("shell.php", "shell.php.png"),
]


def test_a_file_is_served_only_to_its_own_organisation(home, client_for, db: Session, registry, world) -> None:  # noqa: ANN001
    link = fresh(db).scalar(select(HousingAttachment))
    attachment = db.get(Attachment, link.attachment_id)
    own = client_for(Role.viewer, "a").get(attachment.url)
    assert own.status_code == 200 and own.headers["content-type"].startswith("image/jpeg") and own.content[:2] == b"\xff\xd8"
    assert client_for(Role.admin, "b").get(attachment.url).status_code == 404  # another organisation (without the module)
    org = create_organisation(db, "org-c", "Organisation C", sorted(registry.modules))  # another organisation with the module
    user = User(email="admin@c.test", name="Admin C", password_hash=db.get(User, world.users[("a", Role.admin)]).password_hash)
    db.add(user)
    db.flush()
    db.add(Membership(user_id=user.id, org_id=org.id, role=Role.admin))
    db.commit()
    other = TestClient(client_for(Role.admin, "a").app, raise_server_exceptions=False)
    login(other, "admin@c.test")
    assert other.get(attachment.url).status_code == 404
    assert other.get(f"/housing/repairs/{home.repair.id}").status_code == 404
    anonymous = TestClient(client_for(Role.admin, "a").app, raise_server_exceptions=False)
    assert anonymous.get(attachment.url, follow_redirects=False).status_code in (302, 303, 401, 404)
    assert post_form(client_for(Role.admin, "b"), "/housing/settings", {}).status_code == 404
