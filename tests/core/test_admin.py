"""Administration: modules per organisation, staff and roles, and who may do it."""

from __future__ import annotations

import litestar
import pytest
from litestar.params import FromPath
from litestar.testing import TestClient
from sqlalchemy import select

from core.auth import verify_password
from core.contributions import MenuItem, Module, hookimpl
from core.models import Membership, OrganisationModule, Role, User
from core.plugins import PluginRegistry, get_plugin_manager
from tests.conftest import login, post_form
from tests.core.conftest import count, field_errors, fresh


@litestar.get("/probe/cases/{case_id:int}", opt={"permission": "cases.view"}, sync_to_thread=False)
def _probe_page(case_id: FromPath[int]) -> str:
    return f"probe {case_id}"


class MenuProbe:
    """A module with a menu item and a page of its own, to watch them come and go."""

    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Probe", route_handlers=[_probe_page])

    @hookimpl
    def register_menu_items(self) -> list[MenuItem]:
        return [MenuItem("Probe reports", "/probe/cases/1", "dashboard.view", order=50)]


@pytest.fixture
def registry() -> PluginRegistry:
    """Every installed module plus the probe (enabled for organisation "a" only, like the others)."""
    return get_plugin_manager(extra_plugins=[("probe", MenuProbe())])


def _module_row(html: str, module: str) -> str:
    start = html.index(f'data-module="{module}"')
    return html[start : html.index("</tr>", start)]


def test_disabling_a_module_hides_it_for_that_organisation_only(make_case, client_for, db, world):
    case_a, case_b = make_case("a"), make_case("b")
    admin = client_for(Role.admin, "a")
    colleague = client_for(Role.case_manager, "a")
    neighbour = client_for(Role.case_manager, "b")
    page = colleague.get(f"/cases/{case_a.id}").text
    assert 'data-tab="training"' in page and "Probe reports" in page
    assert colleague.get(f"/training/cases/{case_a.id}/tab").status_code == 200
    assert colleague.get(f"/probe/cases/{case_a.id}").text == f"probe {case_a.id}"

    for module in ("training", "probe"):
        response = post_form(admin, f"/admin/modules/{module}", {"enabled": "0"})
        assert response.status_code == 303

    page = colleague.get(f"/cases/{case_a.id}").text
    assert 'data-tab="training"' not in page and 'data-tab="grants"' in page
    assert "Probe reports" not in page
    assert colleague.get(f"/training/cases/{case_a.id}/tab").status_code == 404
    assert colleague.get(f"/probe/cases/{case_a.id}").status_code == 404
    assert "Disabled" in _module_row(admin.get("/admin").text, "training")
    # Organisation "b" keeps its training module.
    assert neighbour.get(f"/training/cases/{case_b.id}/tab").status_code == 200
    assert 'data-tab="training"' in neighbour.get(f"/cases/{case_b.id}").text
    enabled = dict(fresh(db).execute(select(OrganisationModule.org_id, OrganisationModule.enabled).where(OrganisationModule.module == "training")).all())
    assert enabled == {world.org_ids["a"]: False, world.org_ids["b"]: True}

    assert post_form(admin, "/admin/modules/training", {"enabled": "1"}).status_code == 303
    assert colleague.get(f"/training/cases/{case_a.id}/tab").status_code == 200
    assert 'data-tab="training"' in colleague.get(f"/cases/{case_a.id}").text


def test_a_module_an_organisation_never_enabled_answers_404(make_case, client_for):
    case_b = make_case("b")
    client = client_for(Role.admin, "b")
    assert client.get(f"/grants/cases/{case_b.id}/tab").status_code == 404
    assert 'data-tab="grants"' not in client.get(f"/cases/{case_b.id}").text
    assert post_form(client, "/admin/modules/grants", {"enabled": "1"}).status_code == 303
    assert client.get(f"/grants/cases/{case_b.id}/tab").status_code == 200


def test_enabling_a_module_that_is_not_installed_is_refused(client_for, db):
    response = post_form(client_for(Role.admin, "a"), "/admin/modules/astrology", {"enabled": "1"})
    assert response.status_code == 422
    assert "No module of this name is installed." in response.text
    assert fresh(db).scalar(select(OrganisationModule).where(OrganisationModule.module == "astrology")) is None


# --- staff and roles -----------------------------------------------------------------------------


def test_an_admin_adds_a_staff_member_who_can_then_sign_in_with_that_role(client_for, app, db, world):
    admin = client_for(Role.admin, "a")
    response = post_form(admin, "/admin/staff", {"name": "Kosal Trainer", "email": " Kosal@Example.org ", "password": "long enough password", "role": "programme_officer"})
    assert response.status_code == 303
    user = fresh(db).scalar(select(User).where(User.email == "kosal@example.org"))
    assert user is not None and user.name == "Kosal Trainer"
    assert db.get(Membership, (user.id, world.org_ids["a"])).role == Role.programme_officer
    assert user.password_hash.startswith("$argon2") and verify_password(user.password_hash, "long enough password")
    assert "Kosal Trainer" in admin.get("/admin").text

    client = TestClient(app)
    login(client, "kosal@example.org", "long enough password")
    assert client.get("/").status_code == 200
    assert client.get("/persons/new").status_code == 403  # a programme officer does not register persons


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"name": "  "}, "name", "This field is required."),
        ({"password": "short"}, "password", "Use at least 10 characters."),
        ({"role": "superuser"}, "role", "Choose one of the options."),
        ({"name": "N" * 201}, "name", "Use at most 200 characters."),
    ],
)
def test_a_refused_staff_member_shows_the_message_beside_the_field_and_writes_nothing(client_for, db, form, field, message):
    before = count(db, User)
    data = {"name": "Kosal Trainer", "email": "kosal@example.org", "password": "long enough password", "role": "viewer", **form}
    response = post_form(client_for(Role.admin, "a"), "/admin/staff", data)
    assert response.status_code == 422
    assert field_errors(response.text)[field] == message
    assert count(db, User) == before


def test_a_login_of_another_organisation_is_given_a_role_here(client_for, db, world):
    response = post_form(client_for(Role.admin, "a"), "/admin/staff", {"name": "ignored", "email": world.email("b", Role.viewer), "password": "", "role": "case_manager"})
    assert response.status_code == 303
    user_id = world.users[("b", Role.viewer)]
    assert fresh(db).get(Membership, (user_id, world.org_ids["a"])).role == Role.case_manager
    assert db.get(Membership, (user_id, world.org_ids["b"])).role == Role.viewer


def test_adding_someone_already_on_the_staff_does_not_change_their_role(client_for, db, world):
    """"Add a staff member" is not a back door around the rules of changing a role."""
    admin = client_for(Role.admin, "a")
    response = post_form(admin, "/admin/staff", {"name": "Admin A", "email": world.email("a", Role.admin), "password": "", "role": "viewer"})
    assert response.status_code == 422
    assert "already" in field_errors(response.text)["email"]
    assert fresh(db).get(Membership, (world.users[("a", Role.admin)], world.org_ids["a"])).role == Role.admin


def test_an_admin_changes_a_role_and_it_applies_at_once(client_for, db, world):
    admin = client_for(Role.admin, "a")
    manager = client_for(Role.case_manager, "a")
    assert manager.get("/persons/new").status_code == 200
    manager_id = world.users[("a", Role.case_manager)]

    response = post_form(admin, f"/admin/staff/{manager_id}/role", {"role": "viewer"})
    assert response.status_code == 303
    assert fresh(db).get(Membership, (manager_id, world.org_ids["a"])).role == Role.viewer
    # Their sessions in this organisation ended with the change; signed in again, the new role holds.
    assert manager.get("/persons/new", follow_redirects=False).headers["location"].startswith("/login")
    login(manager, world.email("a", Role.case_manager))
    assert manager.get("/persons/new").status_code == 403

    refused = post_form(admin, f"/admin/staff/{manager_id}/role", {"role": "emperor"})
    assert refused.status_code == 422
    assert fresh(db).get(Membership, (manager_id, world.org_ids["a"])).role == Role.viewer


def test_the_last_admin_can_be_neither_demoted_nor_removed(client_for, db, world):
    admin = client_for(Role.admin, "a")
    admin_id = world.users[("a", Role.admin)]
    message = "An organisation needs at least one administrator."

    for url, form in ((f"/admin/staff/{admin_id}/role", {"role": "case_manager"}), (f"/admin/staff/{admin_id}/remove", {})):
        response = post_form(admin, url, form)
        assert response.status_code == 422
        assert message in response.text
        assert fresh(db).get(Membership, (admin_id, world.org_ids["a"])).role == Role.admin

    # With a second administrator, the first may step down.
    other = world.users[("a", Role.case_manager)]
    assert post_form(admin, f"/admin/staff/{other}/role", {"role": "admin"}).status_code == 303
    assert post_form(admin, f"/admin/staff/{admin_id}/role", {"role": "case_manager"}).status_code == 303
    assert fresh(db).get(Membership, (admin_id, world.org_ids["a"])).role == Role.case_manager


def test_removing_a_staff_member_ends_their_access(client_for, db, world):
    viewer = client_for(Role.viewer, "a")
    viewer_id = world.users[("a", Role.viewer)]
    assert post_form(client_for(Role.admin, "a"), f"/admin/staff/{viewer_id}/remove").status_code == 303
    assert fresh(db).get(Membership, (viewer_id, world.org_ids["a"])) is None
    response = viewer.get("/persons", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


def test_staff_of_another_organisation_cannot_be_changed_from_here(client_for, db, world):
    admin = client_for(Role.admin, "a")
    stranger = world.users[("b", Role.admin)]
    for url, form in ((f"/admin/staff/{stranger}/role", {"role": "viewer"}), (f"/admin/staff/{stranger}/remove", {})):
        assert post_form(admin, url, form).status_code in (404, 422)
    assert fresh(db).get(Membership, (stranger, world.org_ids["b"])).role == Role.admin


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.admin])
def test_only_admins_administer(client_for, db, world, role):
    client = client_for(role, "a")
    target = world.users[("a", Role.viewer)]
    assert client.get("/admin").status_code == 403
    assert post_form(client, "/admin/modules/training", {"enabled": "0"}).status_code == 403
    assert post_form(client, "/admin/staff", {"name": "X", "email": "x@example.org", "password": "long enough password", "role": "admin"}).status_code == 403
    assert post_form(client, f"/admin/staff/{target}/role", {"role": "admin"}).status_code == 403
    assert post_form(client, f"/admin/staff/{target}/remove").status_code == 403
    assert 'href="/admin"' not in client.get("/").text.split("<main>")[0]  # no menu item either (auditors do see "/admin/audit")
    fresh(db)
    assert db.get(OrganisationModule, (world.org_ids["a"], "training")).enabled
    assert db.get(Membership, (target, world.org_ids["a"])).role == Role.viewer
    assert db.scalar(select(User).where(User.email == "x@example.org")) is None
