"""Translations: the catalogs compile, are up to date with the code, Khmer covers the pages staff
use every day, and a user who picks Khmer gets the interface, dates and messages in Khmer.

The catalog tests need no database; the page tests run on SQLite and PostgreSQL like the others.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from babel.dates import format_date as babel_format_date
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from core import default_hooks, i18n
from core.context import Context
from core.i18n import Catalogs, negotiate, use_locale
from core.i18n_labels import LABELS
from core.models import CaseStatus, CloseReason, GoalArea, GoalState, Relation, Role, Sex, User
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from core.web.forms import option_label, payload_items
from core.web.templating import build_environment
from tests.conftest import post_form

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "core" / "locale"
POT = LOCALE_DIR / "messages.pot"
KM_PO = LOCALE_DIR / "km" / "LC_MESSAGES" / "messages.po"
UPDATE_HINT = "run the extract and update commands of docs/i18n.md"

MIN_KHMER_COVERAGE = 0.95
"""Share of all messages the Khmer catalog must translate. A developer who adds a few strings
without knowing Khmer still passes; the pages below must be translated in full."""

REQUIRED_AREAS = (
    # navigation, sign-in, errors
    "templates/base.html",
    "templates/login.html",
    "templates/error.html",
    "core/web/pages.py",
    # dashboard, lists, the person and case pages and their forms
    "templates/dashboard.html",
    "templates/cases/list.html",
    "templates/cases/_rows.html",
    "templates/cases/detail.html",
    "templates/cases/_timeline.html",
    "templates/cases/_event_form.html",
    "templates/cases/form.html",
    "templates/persons/",
    # statuses, close reasons, roles, relations, goal and payload choices; event kinds, menu
    "core/i18n_labels.py",
    "core/default_hooks.py",
    "core/services/cases.py",
    # validation messages
    "core/validation.py",
    "core/schemas.py",
    "core/services/persons.py",
)
"""Every message used in these files must have a Khmer translation."""

KEY_MESSAGES = {
    "Dashboard": "ផ្ទាំងគ្រប់គ្រង",
    "Cases": "ករណី",
    "Persons": "បុគ្គល",
    "Sign in": "ចូលប្រព័ន្ធ",
    "Sign out": "ចាកចេញ",
    "Case manager": "អ្នកគ្រប់គ្រងករណី",
    "Prison": "ពន្ធនាគារ",
    "Released": "បានដោះលែង",
    "Follow-up": "ការតាមដាន",
    "Follow-up visit": "ការចុះតាមដាន",
    "This field is required.": "ត្រូវតែបំពេញចន្លោះនេះ។",
}
"""Terms staff know; a change to these needs a Khmer-speaking reviewer."""

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


# --- helpers ---------------------------------------------------------------------------------------


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale, abort_invalid=True)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


def _show(ids: set) -> str:
    return "\n".join(f"  {i!r}" for i in sorted(ids, key=str))


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return not message.fuzzy and all(strings)


def _extract(tmp_path: Path) -> Catalog:
    """Run pybabel's extraction with the project's babel.cfg, as docs/i18n.md says."""
    out = tmp_path / "extracted.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(out), str(ROOT)])
    return _read(out)


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs()


@pytest.fixture
def km(catalogs: Catalogs) -> Iterator[None]:
    with use_locale("km", catalogs):
        yield


# --- the catalogs ----------------------------------------------------------------------------------


def test_every_catalog_compiles_without_errors() -> None:
    po_files = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po"))
    assert KM_PO in po_files
    for path in po_files:
        locale = path.parents[1].name
        catalog = _read(path, locale)
        problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
        assert not problems, f"{path.relative_to(ROOT)}: {problems}"
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        Translations(fp=buffer)  # what core.i18n.Catalogs does at start-up


def test_khmer_has_one_plural_form() -> None:
    catalog = _read(KM_PO, "km")
    assert catalog.num_plurals == 1
    assert catalog.plural_expr == "0"
    for message in catalog:
        if message.pluralizable and message.id:
            assert len(message.string) == 1, message.id


def test_the_template_holds_every_message_of_the_code(tmp_path: Path) -> None:
    """A string added to (or removed from) a template or module without re-extracting fails."""
    extracted, pot = _ids(_extract(tmp_path)), _ids(_read(POT))
    new, gone = extracted - pot, pot - extracted
    assert not new, f"messages missing from core/locale/messages.pot ({UPDATE_HINT}):\n{_show(new)}"
    assert not gone, f"messages in core/locale/messages.pot no longer in the code ({UPDATE_HINT}):\n{_show(gone)}"


def test_the_khmer_catalog_is_updated_from_the_template() -> None:
    pot, km = _ids(_read(POT)), _ids(_read(KM_PO, "km"))
    assert not pot - km, f"messages missing from the Khmer catalog ({UPDATE_HINT}):\n{_show(pot - km)}"
    assert not km - pot, f"stale messages in the Khmer catalog ({UPDATE_HINT}):\n{_show(km - pot)}"


def test_khmer_translates_navigation_login_dashboard_lists_person_and_case_pages() -> None:
    catalog = _read(KM_PO, "km")
    required = [m for m in catalog if m.id and any(loc.startswith(REQUIRED_AREAS) for loc, _line in m.locations)]
    assert len(required) > 150  # the areas above are really found
    untranslated = {m.id for m in required if not _translated(m)}
    assert not untranslated, f"these messages of the everyday pages need a Khmer translation:\n{_show(untranslated)}"
    for msgid, khmer in KEY_MESSAGES.items():
        assert catalog[msgid].string == khmer, msgid


def test_khmer_covers_nearly_every_message() -> None:
    messages = [m for m in _read(KM_PO, "km") if m.id]
    done = sum(_translated(m) for m in messages)
    assert done / len(messages) >= MIN_KHMER_COVERAGE, f"{done} of {len(messages)} messages translated"


def test_translations_keep_every_placeholder() -> None:
    for message in _read(KM_PO, "km"):
        if not message.id or not _translated(message):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (message.id, text)
            # a stray % breaks formatting; "%%" is a literal percent sign, as in the English
            assert "%" not in PLACEHOLDER.sub("", text).replace("%%", ""), (message.id, text)


def test_every_khmer_message_formats_with_its_placeholders(km: None) -> None:
    for message in _read(KM_PO, "km"):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            values = {name: "1" for name in PLACEHOLDER.findall(message.id[1])}
            text = i18n.ngettext(message.id[0], message.id[1], 2, **values)
        else:
            values = {name: "1" for name in PLACEHOLDER.findall(message.id)}
            text = i18n.gettext(message.id, **values)
        assert "%(" not in text and text.strip(), message.id


# --- labels of stored values -----------------------------------------------------------------------


def _payload_choices() -> set[str]:
    values: set[str] = set()
    for kind in default_hooks.register_event_kinds():
        for info in (kind.schema.model_fields.values() if kind.schema else ()):
            annotation = info.annotation
            if typing.get_origin(annotation) is typing.Literal:
                values.update(str(v) for v in typing.get_args(annotation))
    return values


def test_every_core_choice_value_has_an_extracted_label() -> None:
    values = {m.value for enum in (Role, CaseStatus, CloseReason, Sex, Relation, GoalArea, GoalState) for m in enum}
    values |= _payload_choices()
    missing = values - set(LABELS)
    assert not missing, f"add these values to core/i18n_labels.py: {sorted(missing)}"
    assert not set(LABELS.values()) - _ids(_read(POT)), UPDATE_HINT


def test_choice_values_payload_fields_and_event_kinds_show_in_khmer(km: None) -> None:
    assert option_label("pre_release") == "ត្រៀមដោះលែង"
    assert option_label("case_manager") == "អ្នកគ្រប់គ្រងករណី"
    assert option_label("guardian") == "អាណាព្យាបាល"
    assert option_label("not_started") == "មិនទាន់ចាប់ផ្ដើម"
    assert option_label("some_module_value") == "Some module value"  # no translation: English words
    kinds = {k.kind: k for k in default_hooks.register_event_kinds()}
    assert str(kinds["core.follow_up_visit"].label) == "ការចុះតាមដាន"
    assert payload_items(kinds["core.follow_up_visit"], {"place": "home", "wellbeing": "good"}) == [
        ("ទីកន្លែង", "ផ្ទះ"),
        ("ស្ថានភាពរបស់គាត់", "ល្អ"),
    ]
    offence = payload_items(kinds["core.reoffended"], {"stage": "charged", "offence_date": "2025-03-14"})
    assert offence == [("ដំណាក់កាល", "ត្រូវបានចោទប្រកាន់"), ("ថ្ងៃប្រព្រឹត្តបទល្មើស", babel_format_date(date(2025, 3, 14), "medium", locale="km"))]
    # Typed text is shown as typed, never looked up in the catalog.
    assert payload_items(kinds["core.family_contact"], {"contact": "phone", "who": "Note"}) == [
        ("មធ្យោបាយ", "ទូរស័ព្ទ"),
        ("ជាមួយអ្នកណា", "Note"),
    ]


def test_dates_and_numbers_are_formatted_for_khmer(km: None) -> None:
    assert i18n.format_date(date(2025, 3, 14)) == babel_format_date(date(2025, 3, 14), "medium", locale="km")
    assert "មីនា" in i18n.format_date(date(2025, 3, 14))  # March
    assert i18n.format_number(1234567) == "1,234,567"


# --- templates -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jinja():  # noqa: ANN201 - a jinja2 Environment
    return build_environment(None, [])


def _render(jinja, source: str, **context: object) -> str:  # noqa: ANN001
    return jinja.from_string(source).render(**context)


def test_template_gettext_fills_and_escapes_placeholders_in_khmer(jinja, km: None) -> None:  # noqa: ANN001
    assert _render(jinja, '{{ _("Page %(n)s", n=2) }}') == "ទំព័រ 2"
    assert _render(jinja, '{{ ngettext("%(num)s case", "%(num)s cases", n, num=n|number) }}', n=1200) == "1,200 ករណី"
    assert _render(jinja, '{{ _("Edit %(name)s", name=name) }}', name="<b>Dara</b>") == "កែសម្រួល &lt;b&gt;Dara&lt;/b&gt;"
    assert _render(jinja, "{{ _('Cases')|length > 0 }}") == "True"


def test_trans_blocks_with_plurals_render(jinja, km: None) -> None:  # noqa: ANN001
    source = "{% trans count=n %}{{ count }} visitor{% pluralize %}{{ count }} visitors{% endtrans %}"
    assert _render(jinja, source, n=1) == "1 visitor"  # not in the catalog: the English words
    assert _render(jinja, source, n=3) == "3 visitors"
    assert _render(jinja, "{% trans %}Cases{% endtrans %}") == "ករណី"


# --- language negotiation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "locale"),
    [("km-KH,km;q=0.9,en;q=0.8", "km"), ("km", "km"), ("fr-FR,fr;q=0.9", "en"), ("en-GB,km;q=0.5", "en"), ("", "en"), (None, "en")],
)
def test_accept_language_picks_a_supported_locale(header: str | None, locale: str) -> None:
    assert negotiate(header) == locale


# --- pages -----------------------------------------------------------------------------------------


@pytest.fixture
def khmer_case(db: Session, ctx_for: Callable[..., Context]) -> tuple[int, int, date]:
    """A case of the case manager of org ``a`` with an expected release: (case id, person id, date)."""
    ctx = ctx_for(Role.case_manager, "a")
    person = persons.create_person(ctx, PersonIn(name="Sok Dara", name_km="សុខ ដារា", sex="male", province="Kandal"))
    release = ctx.today + timedelta(days=30)
    case = cases.create_case(
        ctx, CaseIn(person_id=person.id, case_manager_id=ctx.user.id, prison="CC1", prisoner_number="P-17", expected_release=release)
    )
    db.commit()
    return case.id, person.id, release


def _pick(client: TestClient, locale: str, next_page: str = "/") -> None:
    response = post_form(client, "/language", {"locale": locale, "next": next_page})
    assert response.status_code == 303
    assert response.headers["location"] == next_page


def test_a_user_who_picks_khmer_sees_dashboard_lists_and_case_page_in_khmer(client_for, khmer_case, db: Session, world) -> None:  # noqa: ANN001
    case_id, person_id, release = khmer_case
    client = client_for(Role.case_manager, "a")
    assert '<html lang="en">' in client.get("/").text

    _pick(client, "km")
    assert db.get(User, world.users[("a", Role.case_manager)]).locale == "km"  # kept on the account

    dashboard = client.get("/")
    assert dashboard.status_code == 200
    html = dashboard.text
    assert '<html lang="km">' in html
    for khmer in ("ផ្ទាំងគ្រប់គ្រង", "ករណីដែលខ្ញុំទទួលបន្ទុក", "ការដោះលែងក្នុងរយៈពេល 90 ថ្ងៃខាងមុខ", "បានបញ្ជូនមក", "ចាកចេញ", "អ្នកគ្រប់គ្រងករណី"):
        assert khmer in html, khmer
    assert babel_format_date(release, "medium", locale="km") in html
    assert '<span lang="km">សុខ ដារា</span>' in html
    assert "Follow-ups due or overdue" not in html and "Sign out" not in html

    listing = client.get("/cases").text
    for khmer in ("ឈ្មោះ ឬលេខអ្នកទោស", "ពន្ធនាគារ", "លេខអ្នកទោស", "1 ករណី", "បានបញ្ជូនមក"):
        assert khmer in listing, khmer
    assert '<span lang="km">សុខ ដារា</span>' in listing

    page = client.get(f"/cases/{case_id}").text
    for khmer in ("កាលប្បវត្តិ", "ផែនការដោះលែង", "បានបើកករណី", "ថ្ងៃដោះលែងរំពឹងទុក", "ស្ថានភាពថ្មី", "ត្រៀមដោះលែង", "ការចុះតាមដាន"):
        assert khmer in page, khmer
    assert babel_format_date(release, "medium", locale="km") in page
    assert '<span lang="km">សុខ ដារា</span>' in page

    person = client.get(f"/persons/{person_id}").text
    for khmer in ("ថ្ងៃខែឆ្នាំកំណើត", "លេខអត្តសញ្ញាណប័ណ្ណ", "ប្រុស", "គ្រួសារ", "ភ្ជាប់សមាជិកគ្រួសារ"):
        assert khmer in person, khmer

    _pick(client, "en")
    assert "Follow-ups due or overdue" in client.get("/").text


PAGES = {
    Role.case_manager: (
        "/", "/persons", "/persons?q=Sok", "/persons/new", "/persons/{person}", "/persons/{person}/edit",
        "/persons/lookup?q=Sok", "/cases", "/cases?status=referred", "/cases/new", "/cases/{case}",
        "/cases/{case}/edit", "/cases/{case}/timeline", "/cases/{case}/events/new?kind=core.follow_up_visit",
        "/cases/{case}/events/new?kind=core.reoffended", "/cases/{case}/events/new?kind=core.family_contact",
    ),
    Role.admin: ("/admin", "/training/cases/{case}/tab", "/cases/{case}", "/reports/recidivism"),
}


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_renders_in_khmer(client_for, khmer_case, role: Role) -> None:  # noqa: ANN001
    """No page breaks on a Khmer placeholder (a KeyError would be a 500)."""
    case_id, person_id, _release = khmer_case
    client = client_for(role, "a")  # one client per test: see the report on tests/conftest.py
    _pick(client, "km")
    for url in PAGES[role]:
        response = client.get(url.format(case=case_id, person=person_id))
        assert response.status_code == 200, url
        assert '<html lang="km">' in response.text or "<html" not in response.text, url
        assert "%(" not in response.text, url


def test_an_unknown_address_answers_in_the_chosen_language(client_for) -> None:  # noqa: ANN001
    """A path no route takes skips the middleware that sets the language; the cookie stands in."""
    client = client_for(Role.case_manager, "a")
    _pick(client, "km")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert '<html lang="km">' in response.text and "រកមិនឃើញ" in response.text  # "Not found"


def test_khmer_messages_of_refused_forms_keep_their_values(client_for, khmer_case) -> None:  # noqa: ANN001
    case_id, _person_id, _release = khmer_case
    client = client_for(Role.case_manager, "a")
    _pick(client, "km")

    response = post_form(client, "/persons", {"name": "", "date_of_birth": "not a date"})
    assert response.status_code == 422
    assert "ត្រូវតែបំពេញចន្លោះនេះ។" in response.text
    assert "សូមបញ្ចូលកាលបរិច្ឆេទឱ្យបានត្រឹមត្រូវ" in response.text

    response = post_form(client, "/persons", {"name": "x" * 201})
    assert response.status_code == 422
    assert "សូមប្រើមិនលើសពី 200 តួអក្សរ។" in response.text

    response = post_form(client, "/persons", {"name": "Sok", "date_of_birth": (date.today() + timedelta(days=2)).isoformat()})
    assert response.status_code == 422
    assert "ថ្ងៃខែឆ្នាំកំណើតមិនអាចជាថ្ងៃអនាគតបានទេ។" in response.text  # a validator's ValueError

    response = post_form(client, f"/cases/{case_id}/status", {"status": "referred"})
    assert response.status_code == 422
    assert "ករណីមិនអាចប្ដូរពី «បានបញ្ជូនមក» ទៅ «បានបញ្ជូនមក» បានទេ។" in response.text

    response = post_form(client, f"/cases/{case_id}/events", {"kind": "core.follow_up_visit", "occurred_on": date.today().isoformat(), "payload.place": "home", "payload.wellbeing": "good"})
    assert response.status_code == 303
    page = client.get(f"/cases/{case_id}").text
    assert "ទីកន្លែង: ផ្ទះ" in page and "ស្ថានភាពរបស់គាត់: ល្អ" in page


def test_a_signed_out_visitor_gets_the_language_of_the_cookie_or_the_browser(app: Litestar) -> None:
    with TestClient(app) as client:
        page = client.get("/login", headers={"Accept-Language": "km-KH,km;q=0.9,en;q=0.5"}).text
        assert '<html lang="km">' in page and "ចូលប្រព័ន្ធ" in page and "ពាក្យសម្ងាត់" in page
        assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "fr,en;q=0.5"}).text

        _pick(client, "km", "/login")  # no account: the choice is kept in a cookie
        assert client.cookies.get("hc_lang") == "km"
        page = client.get("/login", headers={"Accept-Language": "en"}).text
        assert '<html lang="km">' in page and "ចូលប្រព័ន្ធ" in page  # the cookie wins over the browser

        response = post_form(client, "/login", {"email": "nobody@example.org", "password": "wrong", "next": "/"})
        assert response.status_code == 400
        assert "អ៊ីមែល ឬពាក្យសម្ងាត់មិនត្រឹមត្រូវ" in response.text

        _pick(client, "en", "/login")
        assert "Sign in" in client.get("/login", headers={"Accept-Language": "km"}).text
