"""Persons: registering and editing with field-level messages, search, paging, family links."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.errors import ActionRefused, InvalidInput
from core.models import Person, PersonLink, Relation, Role
from core.schemas import PersonIn, PersonLinkIn
from core.services import persons
from core.validation import parse
from tests.conftest import post_form
from tests.core.conftest import count, field_errors, fresh


def test_registering_a_person_stores_every_field_and_shows_them(client_for, db):
    client = client_for(Role.case_manager, "a")
    form = {
        "name": "  Sok Dara ",
        "name_km": "សុខ ដារា",
        "sex": "male",
        "date_of_birth": "1990-04-17",
        "id_number": "010203040",
        "phone": "012 345 678",
        "village": "Phum 3",
        "commune": "Prek Pra",
        "district": "Chbar Ampov",
        "province": "Phnom Penh",
    }
    response = post_form(client, "/persons", form)
    assert response.status_code == 303
    person_id = int(response.headers["location"].rsplit("/", 1)[1])

    fresh(db)
    person = db.get(Person, person_id)
    assert person is not None
    assert (person.name, person.name_km, person.sex, person.date_of_birth) == ("Sok Dara", "សុខ ដារា", "male", date(1990, 4, 17))
    assert (person.id_number, person.province) == ("010203040", "Phnom Penh")
    page = client.get(f"/persons/{person_id}")
    assert page.status_code == 200
    assert "Sok Dara" in page.text and "សុខ ដារា" in page.text and "Chbar Ampov" in page.text


def test_invalid_person_form_answers_422_with_each_message_beside_its_field_and_writes_nothing(client_for, db):
    client = client_for(Role.case_manager, "a")
    before = count(db, Person)
    response = post_form(
        client,
        "/persons",
        {"name": "   ", "date_of_birth": "17/04/1990", "sex": "unknown", "phone": "0" * 41, "name_km": "សុខ"},
    )
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert errors["name"] == "This field is required."
    assert errors["date_of_birth"].startswith("Enter a valid date")
    assert errors["sex"] == "Choose one of the options."
    assert errors["phone"] == "Use at most 40 characters."
    assert "name_km" not in errors
    assert 'value="សុខ"' in response.text  # what was typed is kept
    assert count(db, Person) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", (date.today() + timedelta(days=1)).isoformat(), "The date of birth cannot be in the future."),
        ("date_of_birth", "1850-01-01", "Enter a date after 1900."),
        ("name", "x" * 201, "Use at most 200 characters."),
        ("id_number", "9" * 61, "Use at most 60 characters."),
        ("village", "v" * 101, "Use at most 100 characters."),
        ("province", "p" * 101, "Use at most 100 characters."),
    ],
)
def test_person_values_the_database_cannot_hold_are_refused_per_field(ctx_for, db, field, value, message):
    ctx = ctx_for(Role.case_manager, "a")
    with pytest.raises(InvalidInput) as refused:
        persons.create_person(ctx, parse(PersonIn, {"name": "Sok Dara", field: value}))
    assert refused.value.errors == {field: message}
    assert count(db, Person) == 0


def test_values_at_the_column_limits_are_stored(ctx_for, db):
    ctx = ctx_for(Role.case_manager, "a")
    data = {"name": "n" * 200, "id_number": "9" * 60, "phone": "0" * 40, **{f: "x" * 100 for f in ("village", "commune", "district", "province")}}
    person = persons.create_person(ctx, parse(PersonIn, data))
    db.commit()
    assert count(db, Person) == 1
    assert db.get(Person, person.id).id_number == "9" * 60


def test_editing_a_person_saves_changes_and_refuses_bad_input_without_writing(client_for, make_person, db):
    person = make_person("a", name="Sok Dara", phone="011 111 111")
    client = client_for(Role.case_manager, "a")
    form = client.get(f"/persons/{person.id}/edit")
    assert form.status_code == 200 and 'value="011 111 111"' in form.text

    refused = post_form(client, f"/persons/{person.id}", {"name": "Sok Dara", "phone": "012 222 222", "date_of_birth": "2999-01-01"})
    assert refused.status_code == 422
    assert field_errors(refused.text) == {"date_of_birth": "The date of birth cannot be in the future."}
    fresh(db)
    assert db.get(Person, person.id).phone == "011 111 111"

    saved = post_form(client, f"/persons/{person.id}", {"name": "Sok Dara", "phone": "012 222 222"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/persons/{person.id}"
    fresh(db)
    assert db.get(Person, person.id).phone == "012 222 222"


# --- search and paging ---------------------------------------------------------------------------


def _names(rows: list[Person]) -> set[str]:
    return {p.name for p in rows}


def test_search_matches_the_start_of_latin_or_khmer_names_ignoring_case_or_an_exact_id_number(make_person, ctx_for):
    make_person("a", name="Sok Dara", name_km="សុខ ដារា", id_number="111222333")
    make_person("a", name="sokha Keo", name_km="សុខា កែវ")
    make_person("a", name="Chan Sophea", name_km="ចាន់ សុភា", id_number="999")
    make_person("a", name="Heng 50%_off")
    make_person("b", name="Sok Vuthy")  # another organisation's: never found from "a"
    ctx = ctx_for(Role.viewer, "a")

    def search(q: str) -> set[str]:
        return _names(persons.search_persons(ctx, q)[0])

    assert search("sok") == {"Sok Dara", "sokha Keo"}
    assert search("SOK") == {"Sok Dara", "sokha Keo"}
    assert search("  Sok D ") == {"Sok Dara"}
    assert search("សុខ") == {"Sok Dara", "sokha Keo"}
    assert search("សុខា") == {"sokha Keo"}
    assert search("ចាន់") == {"Chan Sophea"}
    assert search("111222333") == {"Sok Dara"}
    assert search("1112") == set()  # ID numbers match whole, not by prefix
    assert search("Dara") == set()  # the start of the name, not anywhere in it
    assert search("Heng 50%") == {"Heng 50%_off"}
    assert search("%") == set()  # LIKE wildcards are taken literally
    assert search("_") == set()
    assert search("") == {"Sok Dara", "sokha Keo", "Chan Sophea", "Heng 50%_off"}


def test_person_list_shows_50_rows_a_page_with_a_link_to_the_next(ctx_for, db, client_for):
    ctx = ctx_for(Role.case_manager, "a")
    for i in range(51):
        persons.create_person(ctx, PersonIn(name=f"Keo {i:03d}"))
    db.commit()
    client = client_for(Role.viewer, "a")

    first = client.get("/persons", params={"q": "keo"})
    assert first.status_code == 200
    assert first.text.count('<a href="/persons/') == 50
    assert "Keo 000" in first.text and "Keo 049" in first.text and "Keo 050" not in first.text
    assert "page=2" in first.text

    second = client.get("/persons", params={"q": "keo", "page": 2})
    assert second.text.count('<a href="/persons/') == 1
    assert "Keo 050" in second.text
    assert "page=3" not in second.text and "page=1" in second.text


def test_htmx_search_answers_only_the_rows_fragment(make_person, client_for):
    make_person("a", name="Sok Dara")
    make_person("a", name="Chan Sophea")
    client = client_for(Role.viewer, "a")

    fragment = client.get("/persons", params={"q": "sok"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Sok Dara" in fragment.text and "Chan Sophea" not in fragment.text
    assert "<html" not in fragment.text and "<header" not in fragment.text and "<table" in fragment.text

    page = client.get("/persons", params={"q": "sok"})
    assert "<html" in page.text and "Sok Dara" in page.text


# --- family links --------------------------------------------------------------------------------


def test_a_family_link_shows_on_both_persons_with_the_inverse_relation(make_person, client_for, db):
    son = make_person("a", name="Sok Dara")
    mother = make_person("a", name="Sok Sreymom")
    client = client_for(Role.case_manager, "a")

    response = post_form(client, f"/persons/{son.id}/family", {"relative_id": mother.id, "relation": "parent"})
    assert response.status_code == 303
    assert count(db, PersonLink) == 1

    def family_row(person_id: int, relative: str) -> str:
        page = client.get(f"/persons/{person_id}").text
        section = page[page.index('id="family"') :]
        row = next(r for r in section.split("<tr>") if relative in r)
        return row

    assert "Parent" in family_row(son.id, "Sok Sreymom")
    assert "Child" in family_row(mother.id, "Sok Dara")


@pytest.mark.parametrize(
    ("relation", "seen_from_relative"),
    [
        (Relation.parent, Relation.child),
        (Relation.child, Relation.parent),
        (Relation.spouse, Relation.spouse),
        (Relation.sibling, Relation.sibling),
        (Relation.guardian, Relation.other),
    ],
)
def test_family_of_lists_links_from_either_side(make_person, ctx_for, relation, seen_from_relative):
    person, relative = make_person("a", name="Keo Dara"), make_person("a", name="Keo Bopha")
    ctx = ctx_for(Role.case_manager, "a")
    persons.link_family(ctx, person, PersonLinkIn(relative_id=relative.id, relation=relation))

    assert [(r, p.id) for r, p, _ in persons.family_of(ctx, person)] == [(relation, relative.id)]
    assert [(r, p.id) for r, p, _ in persons.family_of(ctx, relative)] == [(seen_from_relative, person.id)]


def test_family_links_refuse_self_another_organisations_person_and_duplicates(make_person, ctx_for, db):
    dara, bopha = make_person("a", name="Keo Dara"), make_person("a", name="Keo Bopha")
    stranger = make_person("b", name="Keo Vuthy")
    ctx = ctx_for(Role.case_manager, "a")
    persons.link_family(ctx, dara, PersonLinkIn(relative_id=bopha.id, relation=Relation.sibling))
    db.commit()

    refusals = [
        (dara, dara.id, "A person cannot be linked to themselves."),
        (dara, stranger.id, "Choose a person of this organisation."),
        (dara, 10_000_000, "Choose a person of this organisation."),
        (dara, bopha.id, "These two persons are already linked."),
        (bopha, dara.id, "These two persons are already linked."),  # the same link seen from the other side
    ]
    for person, relative_id, message in refusals:
        with pytest.raises(ActionRefused) as refused:
            persons.link_family(ctx, person, PersonLinkIn(relative_id=relative_id, relation=Relation.spouse))
        assert (refused.value.field, refused.value.message) == ("relative_id", message)
    assert count(db, PersonLink) == 1


def test_refused_family_link_shows_the_message_beside_the_field(make_person, client_for, db):
    dara = make_person("a", name="Keo Dara")
    client = client_for(Role.case_manager, "a")

    response = post_form(client, f"/persons/{dara.id}/family", {"relative_id": dara.id, "relation": "spouse"})
    assert response.status_code == 422
    assert field_errors(response.text)["relative_id"] == "A person cannot be linked to themselves."

    missing = post_form(client, f"/persons/{dara.id}/family", {"relative_id": "", "relation": "cousin"})
    assert missing.status_code == 422
    errors = field_errors(missing.text)
    assert errors["relative_id"] == "This field is required."
    assert errors["relation"] == "Choose one of the options."
    assert count(db, PersonLink) == 0
