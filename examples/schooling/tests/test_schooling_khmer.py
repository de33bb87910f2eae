"""The module's own Khmer catalog (``Module(locale=...)``) is sound and merged into the app's."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

import homecoming_schooling
from core.plugin_api import Role

PO = Path(homecoming_schooling.__file__).parent / "locale" / "km" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_the_catalog_compiles_and_keeps_every_placeholder() -> None:
    with PO.open("rb") as po:
        catalog = read_po(po, locale="km", abort_invalid=True)
    assert not list(catalog.check())
    translated = [m for m in catalog if m.id and m.string]
    assert len(translated) >= 10
    for message in translated:
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(message.id)), message.id


def test_a_user_who_picks_khmer_sees_the_module_in_khmer(hc_client, hc_case) -> None:  # noqa: ANN001
    case = hc_case("Sok Dara")
    client = hc_client(Role.case_manager)
    assert client.post_form("/language", {"locale": "km", "next": "/"}).status_code == 303
    page = client.get(f"/schooling/cases/{case.id}").text
    assert '<html lang="km">' in page
    assert "ការសិក្សា" in page and "ចុះឈ្មោះកូនចូលរៀន" in page  # "Schooling", "Enrol a child"
    assert "ការសិក្សា" in client.get("/").text  # the menu item
