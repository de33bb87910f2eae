"""Light pages for phones on slow connections (issue 11, part 4): no page of the demo is over
100 KB of HTML (there is no inline script: the CSP forbids it), and the static files the pages
share are fingerprinted, cached for a year and gzipped."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from core.db import make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.models import Case, Organisation
from core.plugins import get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app

MAX_PAGE = 100 * 1024
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')
LINK = re.compile(r'href="(/[^"#?]*)"')


@pytest.fixture(scope="module")
def admin(demo_db: str, demo_logins: list[tuple[str, str, str]]) -> Iterator[TestClient]:
    app = create_app(get_settings(demo_db, secret_key="test-secret"), get_plugin_manager())
    email = next(e for slug, role, e in demo_logins if slug == "fresh-start" and role == "admin")
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/login")
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"}, follow_redirects=False)
        assert response.status_code == 303
        yield client


def _pages(client: TestClient, demo_db: str) -> list[str]:
    """The dashboard, every page the navigation links to, and the biggest case's page and its person's."""
    dashboard = client.get("/")
    nav = dashboard.text.split("<main", 1)[0]
    pages = ["/"] + sorted({link for link in LINK.findall(nav) if not link.startswith("/static/") and link not in ("/", "/logout")})
    engine = make_engine(demo_db)
    with make_session_factory(engine)() as session:
        org = session.scalar(select(Organisation.id).where(Organisation.slug == "fresh-start"))
        case = session.scalars(select(Case).where(Case.org_id == org).order_by(Case.id)).first()
        assert case is not None
        pages += [f"/cases/{case.id}", f"/persons/{case.person_id}"]
    engine.dispose()
    return pages


def test_no_page_of_the_demo_is_over_100_kb(admin: TestClient, demo_db: str) -> None:
    pages = _pages(admin, demo_db)
    assert len(pages) >= 10, pages  # the navigation of an organisation with every module
    sizes = {}
    for url in pages:
        response = admin.get(url)
        assert response.status_code == 200, url
        assert "<script>" not in response.text and "<script " not in response.text.replace('<script src=', ''), url
        sizes[url] = len(response.content)
    assert max(sizes.values()) < MAX_PAGE, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]


def test_static_files_are_fingerprinted_cached_for_a_year_and_gzipped(admin: TestClient) -> None:
    page = admin.get("/")
    assets = ASSET.findall(page.text)
    assert {a.split("?")[0] for a in assets} >= {"/static/app.css", "/static/app.js", "/static/vendor/htmx.min.js"}
    for asset in assets:
        assert re.search(r"\?v=[0-9a-f]{10}$", asset), asset
        response = admin.get(asset, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200
        cache = response.headers["cache-control"]
        assert "max-age=31536000" in cache and "public" in cache and "immutable" in cache
        if asset.startswith("/static/vendor/htmx"):
            # httpx decodes the body; the header says it travelled gzipped, and it is much smaller.
            assert response.headers.get("content-encoding") == "gzip"
            assert len(gzip.compress(response.content)) < len(response.content) / 2


def test_pages_are_not_compressed(admin: TestClient) -> None:
    """Pages hold the CSRF token beside text a visitor chooses (a search): compressing them would
    let an attacker guess the token from the sizes (BREACH)."""
    response = admin.get("/cases?q=So", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200 and "content-encoding" not in response.headers
