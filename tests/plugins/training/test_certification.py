"""Attendance, assessment, certification and the public verification page: the whole path
enrol -> attend -> assess -> certify -> verify, and each refusal on the way."""

from __future__ import annotations

import io
import re
import sys

import pytest
from litestar.testing import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Case, Event, Role
from plugins.training import services
from plugins.training.models import Attendance, Certificate, Cohort, Enrolment, TrainingSession, VerifyAttempt
from tests.conftest import post_form, unavailable


def _fresh(db: Session) -> None:
    db.rollback()
    db.expire_all()


def _sessions(db: Session, cohort: Cohort) -> list[TrainingSession]:
    _fresh(db)
    return list(db.scalars(select(TrainingSession).where(TrainingSession.cohort_id == cohort.id).order_by(TrainingSession.held_on)))


def _enrolment(db: Session, case: Case) -> Enrolment:
    _fresh(db)
    enrolment = db.scalar(select(Enrolment).where(Enrolment.case_id == case.id))
    assert enrolment is not None
    return enrolment


@pytest.fixture
def enrolled(client_for, make_case, make_cohort, db: Session) -> tuple[Case, Cohort, Enrolment]:
    """A case of ``a`` enrolled in a cohort of 4 held sessions (pass mark 60, attendance 75 %)."""
    case, cohort = make_case("a"), make_cohort("a", sessions=4)
    assert post_form(client_for(Role.case_manager, "a"), f"/training/cases/{case.id}/enrolments", {"cohort_id": cohort.id}).status_code == 303
    return case, cohort, _enrolment(db, case)


def _mark(client, session: TrainingSession, enrolment: Enrolment, present: bool, htmx: bool = False):  # noqa: ANN001, ANN202
    headers = {"HX-Request": "true"} if htmx else {}
    return post_form(client, f"/training/sessions/{session.id}/attendance/{enrolment.id}", {"present": "1" if present else "0"}, headers=headers)


def test_attendance_sheet_toggles_with_htmx_and_without_js(client_for, enrolled, db: Session) -> None:
    case, cohort, enrolment = enrolled
    session = _sessions(db, cohort)[0]
    client = client_for(Role.case_manager, "a")
    sheet = client.get(f"/training/sessions/{session.id}")
    assert sheet.status_code == 200
    assert f'id="student-{enrolment.id}"' in sheet.text and 'hx-post="/training/sessions/' in sheet.text
    assert 'name="present" value="1"' in sheet.text  # a plain form too

    response = _mark(client, session, enrolment, True, htmx=True)  # htmx: the row alone, swapped in place
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.strip().startswith(f'<tr id="student-{enrolment.id}" data-present="yes"')
    response = _mark(client, session, enrolment, False)  # no JavaScript: post, redirect to the sheet
    assert response.status_code == 303 and response.headers["location"].startswith(f"/training/sessions/{session.id}")
    _fresh(db)
    (mark,) = db.scalars(select(Attendance)).all()
    assert (mark.session_id, mark.enrolment_id, mark.present) == (session.id, enrolment.id, False)

    assert post_form(client, f"/training/sessions/{_sessions(db, cohort)[1].id}/all-present").status_code == 303
    _fresh(db)
    assert sorted(a.present for a in db.scalars(select(Attendance))) == [False, True]
    assert _mark(client_for(Role.viewer, "a"), session, enrolment, True).status_code == 403
    assert _mark(client_for(Role.admin, "b"), session, enrolment, True).status_code == 404


def test_assessment_scores_are_validated(client_for, enrolled, db: Session) -> None:
    _case, _cohort, enrolment = enrolled
    client = client_for(Role.case_manager, "a")
    response = post_form(client, f"/training/enrolments/{enrolment.id}/assessment", {"practical_score": "120", "theory_score": "abc"})
    assert response.status_code == 422
    assert "Enter a percentage between 0 and 100." in response.text and "Enter a whole number." in response.text
    assert post_form(client, f"/training/enrolments/{enrolment.id}/assessment", {"practical_score": "72", "theory_score": ""}).status_code == 303
    enrolment = _enrolment(db, _case)
    assert (enrolment.practical_score, enrolment.theory_score) == (72, None)


def test_certification_is_refused_naming_what_is_missing(client_for, enrolled, db: Session) -> None:
    case, cohort, enrolment = enrolled
    officer = client_for(Role.programme_officer, "a")
    sessions = _sessions(db, cohort)
    for session in sessions[:2]:  # 2 of 4 = 50 %, the course needs 75 %
        _mark(officer, session, enrolment, True)
    post_form(officer, f"/training/enrolments/{enrolment.id}/assessment", {"practical_score": "55", "theory_score": ""})
    response = post_form(officer, f"/training/enrolments/{enrolment.id}/certify")
    assert response.status_code == 422
    text = response.text.replace("&#39;", "'")
    assert "Attendance is 50%; the course needs 75%." in text
    assert "The practical score is 55%; the pass mark is 60%." in text
    assert "The theory score is not recorded yet." in text
    _fresh(db)
    assert db.scalars(select(Certificate)).all() == []
    assert db.scalars(select(Event).where(Event.kind.in_(["training.certified", "training.completed"]))).all() == []
    assert post_form(client_for(Role.case_manager, "a"), f"/training/enrolments/{enrolment.id}/certify").status_code == 403


def test_the_whole_path_enrol_attend_assess_certify_verify(client_for, enrolled, app, db: Session) -> None:
    case, cohort, enrolment = enrolled
    officer = client_for(Role.programme_officer, "a")
    sessions = _sessions(db, cohort)
    for i, session in enumerate(sessions):
        _mark(officer, session, enrolment, present=i != 0, htmx=True)  # 3 of 4 = 75 %
    post_form(officer, f"/training/enrolments/{enrolment.id}/assessment", {"practical_score": "60", "theory_score": "81"})
    page = officer.get(f"/training/enrolments/{enrolment.id}").text
    assert "75% (3 of 4 sessions)" in page and "Not yet possible" not in page

    response = post_form(officer, f"/training/enrolments/{enrolment.id}/certify")
    assert response.status_code == 303, response.text
    _fresh(db)
    (certificate,) = db.scalars(select(Certificate)).all()
    assert re.fullmatch(r"HC-\d{4}-\d{6}", certificate.number)
    assert re.fullmatch(rf"[A-Z2-9]{{{services.CODE_LENGTH}}}", certificate.verification_code)
    assert (certificate.holder_name, certificate.course_title) == ("Sok Dara", "Motorbike repair")
    assert _enrolment(db, case).status == "completed"
    kinds = {e.kind: e for e in db.scalars(select(Event).where(Event.case_id == case.id, Event.kind.like("training.%")))}
    assert set(kinds) == {"training.enrolled", "training.completed", "training.certified"}
    assert kinds["training.completed"].payload["attendance"] == 75
    assert kinds["training.certified"].payload["number"] == certificate.number
    assert certificate.verification_code not in str(kinds["training.certified"].payload)
    again = post_form(officer, f"/training/enrolments/{enrolment.id}/certify")
    assert again.status_code == 422 and "This student already has a certificate." in again.text
    assert post_form(officer, f"/training/enrolments/{enrolment.id}/assessment", {"practical_score": "10", "theory_score": "10"}).status_code == 422

    tab = officer.get(f"/training/cases/{case.id}/tab").text
    assert certificate.number in tab and "75%" in tab and "81" in tab
    assert certificate.number in officer.get(f"/training/enrolments/{enrolment.id}").text

    public = TestClient(app, raise_server_exceptions=False)  # an employer, not signed in
    assert public.get("/verify").status_code == 200
    found = public.get("/verify", params={"number": certificate.number, "code": certificate.verification_code.lower()})
    assert found.status_code == 200 and 'id="verify-result"' in found.text
    assert "Sok Dara" in found.text and "Motorbike repair" in found.text
    assert "CC1" not in found.text and "Ministry of Labour" not in found.text  # nothing else about the person or course
    wrong_code = public.get("/verify", params={"number": certificate.number, "code": "AAAAAAAAAA"})
    wrong_number = public.get("/verify", params={"number": "HC-2000-999999", "code": certificate.verification_code})
    assert wrong_code.status_code == wrong_number.status_code == 404

    def answer(text: str) -> str:
        return re.search(r"<section class=\"narrow\">.*?</form>", text, re.S).group(0).split("<form")[0]  # type: ignore[union-attr]

    assert answer(wrong_code.text) == answer(wrong_number.text)
    odd = public.get("/verify", params={"number": "HC-2000-999999", "code": "ក១២"})  # not ASCII: still just "not found"
    assert odd.status_code == 404 and answer(odd.text) == answer(wrong_number.text)
    assert "Sok Dara" not in wrong_code.text


def test_verification_is_rate_limited_per_address_in_the_shared_database(app, db: Session) -> None:
    public = TestClient(app, raise_server_exceptions=False)
    for _ in range(services.VERIFY_LIMIT_PER_MINUTE):
        assert public.get("/verify", params={"number": "HC-2000-000001", "code": "X"}).status_code == 404
    limited = public.get("/verify", params={"number": "HC-2000-000001", "code": "X"})
    assert limited.status_code == 429 and 'id="verify-limited"' in limited.text
    _fresh(db)
    (row,) = db.scalars(select(VerifyAttempt)).all()  # counted where every app server sees it
    assert row.count == services.VERIFY_LIMIT_PER_MINUTE + 1
    # Another address, or the next minute, starts afresh.
    assert services.allow_verification(db, "203.0.113.9")
    assert services.allow_verification(db, row.ip, now=(row.minute + 1) * 60)


# --- the certificate as a PDF ------------------------------------------------------------------


@pytest.fixture
def certified(client_for, enrolled, db: Session) -> Certificate:
    _case, cohort, enrolment = enrolled
    officer = client_for(Role.programme_officer, "a")
    for session in _sessions(db, cohort):
        _mark(officer, session, enrolment, True)
    post_form(officer, f"/training/enrolments/{enrolment.id}/assessment", {"practical_score": "90", "theory_score": "90"})
    assert post_form(officer, f"/training/enrolments/{enrolment.id}/certify").status_code == 303
    _fresh(db)
    return db.scalars(select(Certificate)).one()


def _pdf(response) -> tuple[str, set[str]]:  # noqa: ANN001
    """The text and the font names of a PDF answer."""
    reader = PdfReader(io.BytesIO(response.content))
    (page,) = reader.pages
    fonts = {str(f["/BaseFont"]) for f in page["/Resources"]["/Font"].get_object().values() if "/BaseFont" in f.get_object()}
    return page.extract_text(), fonts


def test_certificate_pdf_in_english_and_in_khmer_with_a_khmer_font(client_for, certified: Certificate) -> None:
    try:
        import weasyprint  # noqa: F401 - only to know whether this machine can draw PDFs
    except (ImportError, OSError):
        unavailable("WeasyPrint cannot load Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-khmeros)")
    client = client_for(Role.viewer, "a")
    english = client.get(f"/training/certificates/{certified.id}/pdf", params={"lang": "en"})
    assert english.status_code == 200 and english.headers["content-type"] == "application/pdf"
    text, _fonts = _pdf(english)
    for expected in ("Certificate", "Sok Dara", "Motorbike repair", "Ministry of Labour", "240", certified.number, certified.verification_code):
        assert expected in text, expected

    khmer = client.get(f"/training/certificates/{certified.id}/pdf", params={"lang": "km"})
    assert khmer.status_code == 200
    text, fonts = _pdf(khmer)
    assert any("KhmerOS" in f.replace(" ", "").replace("-", "") for f in fonts), fonts
    assert "Sok Dara" in text and certified.number in text
    joined = text.replace(" ", "")  # the extractor puts spaces between some shaped clusters
    assert "ស្ថាប័នចេញវិញ្ញាបនបត្រ" in joined and "ចេញនៅថ្ងៃ" in joined  # "Certifying body", "Issued on"
    assert "This certifies that" not in text
    assert client_for(Role.admin, "b").get(f"/training/certificates/{certified.id}/pdf").status_code == 404


def test_without_weasyprint_the_pdf_link_answers_a_clear_page(client_for, certified: Certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as on a server without it
    response = client_for(Role.viewer, "a").get(f"/training/certificates/{certified.id}/pdf")
    assert response.status_code == 503 and 'id="pdf-unavailable"' in response.text and certified.number in response.text
