"""The pytest plugin ``core.testing`` (the ``hc_*`` fixtures), used as a module author uses it:
in a project of its own (pytester's temporary folder, where this repository's conftest files do
not apply), found through the ``pytest11`` entry point of the installed package."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from core.plugins import get_plugin_manager
from core.testing_postgres import find_bin_dir
from tests.conftest import unavailable

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True, scope="module")
def _modules_imported_once() -> None:
    """Import every installed module here, before the in-process runs: pytester removes from
    ``sys.modules`` what a run imported, and a module imported a second time would declare its
    tables again on the shared metadata."""
    get_plugin_manager()

# A module author's tests, written against the fixtures alone.
AUTHOR_TESTS = '''
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.models import Case, Role


def test_staff_sign_in_with_their_role(hc_org, hc_staff, hc_client) -> None:
    assert hc_org.slug == "test-org" and hc_org.name == "Test organisation"
    assert set(hc_staff) == set(Role)
    assert hc_client(Role.admin).get("/").status_code == 200
    assert hc_client(Role.viewer).get("/admin").status_code == 403


def test_a_case_through_core_services(hc_case, hc_ctx, hc_client, hc_api, hc_session) -> None:
    case = hc_case("Chan Sophea", released_days_ago=30)
    ctx = hc_ctx(Role.case_manager)
    assert case.status == "released" and case.case_manager_id == ctx.user.id
    assert hc_session.scalar(select(Case.org_id).where(Case.id == case.id)) == ctx.org_id
    assert "Chan Sophea" in hc_client().get(f"/cases/{case.id}").text
    assert hc_api(Role.viewer).get(f"/api/cases/{case.id}").status_code == 200


def test_the_ledger_helper(hc_ledger) -> None:
    hc_ledger.open("Assets:Bank:USD")
    txn = hc_ledger.post(date(2026, 3, 1), "School fee", [
        ("Expenses:Schooling:Fees", Decimal("25.00"), "USD"),
        ("Assets:Bank:USD", Decimal("-25.00"), "USD"),
    ], meta={"plugin": "schooling"})
    assert txn.narration == "School fee"
    assert hc_ledger.balance("Expenses:Schooling:Fees") == Decimal("25.00")
    assert hc_ledger.balance("Assets:Bank:USD") == Decimal("-25.00")
    assert hc_ledger.balance("Assets:Bank:USD", "KHR") == 0
    assert hc_ledger.check() == []


def test_family_and_consent_for_a_module_that_needs_them(hc_case, hc_relative, hc_consent, hc_ctx) -> None:
    from core.plugin_api import family_of, get_person, has_consent

    case = hc_case("Chan Sophea")
    mother = hc_relative(case, "Chan Srey", relation="parent")
    ctx = hc_ctx(Role.case_manager)
    assert [(str(r.value), p.name) for r, p, _link in family_of(ctx, get_person(ctx, case.person_id))] == [("parent", "Chan Srey")]
    hc_consent(case, "share_with_partners", given_days_ago=10)
    hc_consent(mother, "photos", given_days_ago=10, withdrawn_days_ago=2)
    assert has_consent(ctx, case.person_id, "share_with_partners")
    assert not has_consent(ctx, mother.id, "photos")  # withdrawn two days ago
    assert has_consent(ctx, mother.id, "photos", on=ctx.today - timedelta(days=5))  # held then


def test_the_other_organisation_sees_nothing_of_ours(hc_case, hc_client, hc_other_org, hc_other_staff) -> None:
    case = hc_case()
    assert hc_other_org.slug == "other-org"
    assert hc_other_staff[Role.admin].email == "admin@other-org.test"
    assert hc_client(Role.admin).get(f"/cases/{case.id}").status_code == 200
    assert hc_client(Role.admin, hc_other_org).get(f"/cases/{case.id}").status_code == 404
'''

# A module's tests that override hc_modules (as its conftest would).
ONLY_TRAINING = '''
import pytest

from core.models import Role


@pytest.fixture
def hc_modules():
    return ["training"]


def test_a_module_not_chosen_answers_404(hc_client) -> None:
    admin = hc_client(Role.admin)
    assert admin.get("/training").status_code == 200
    assert admin.get("/grants").status_code == 404
    assert admin.post_form("/admin/modules/grants", {"enabled": "1"}).status_code == 303
    assert admin.get("/grants").status_code == 200


def test_the_other_organisation_has_the_same_modules(hc_client) -> None:
    assert hc_client(Role.admin, "other-org").get("/grants").status_code == 404
'''


def test_registered_as_a_pytest_plugin() -> None:
    (ep,) = [ep for ep in entry_points(group="pytest11") if ep.name == "homecoming"]
    assert ep.value == "core.testing"


def test_a_module_project_uses_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_author=AUTHOR_TESTS, test_only_training=ONLY_TRAINING)
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=7)


def test_every_fixture_is_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "--fixtures")
    text = result.stdout.str()
    for name in ("hc_modules", "hc_database_url", "hc_registry", "hc_session", "hc_org", "hc_staff", "hc_other_org",
                 "hc_other_staff", "hc_ctx", "hc_app", "hc_client", "hc_api", "hc_case", "hc_relative", "hc_consent", "hc_ledger"):
        assert f"\n{name}" in text, name
    assert "no docstring available" not in text.split("fixtures defined from core.testing")[1].split("fixtures defined from")[0]


def test_postgresql_with_the_option(pytester: pytest.Pytester) -> None:
    if find_bin_dir() is None:
        unavailable("PostgreSQL is not installed (apt-get install postgresql): --hc-postgresql not tested")
    pytester.makepyfile(test_author=AUTHOR_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers", "--hc-postgresql", "-v", "-k", "postgresql and (ledger or other)")
    result.assert_outcomes(passed=2, deselected=8)
    result.stdout.fnmatch_lines(["*test_the_ledger_helper[[]postgresql[]] PASSED*", "*test_the_other_organisation_sees_nothing_of_ours[[]postgresql[]] PASSED*"])
