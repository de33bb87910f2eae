from core.models import Role
from tests.conftest import post_form


def test_case_manager_sees_dashboard(client_for):
    client = client_for(Role.case_manager, "a")
    response = client.get("/")
    assert response.status_code == 200
    assert "Follow-ups due or overdue" in response.text


def test_create_person_shows_field_errors(client_for):
    client = client_for(Role.case_manager, "a")
    response = post_form(client, "/persons", {"name": "", "date_of_birth": "not a date"})
    assert response.status_code == 422
    assert "This field is required." in response.text
    assert "Enter a valid date" in response.text
