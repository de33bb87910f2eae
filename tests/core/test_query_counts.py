"""No page issues a query per row (issue 11): the demo is loaded at two sizes, a fifth (40 persons and 13 cases
in the bigger organisation: every list shorter than a page) and the whole (66 cases, full pages,
ten times the module records), every page an administrator reaches by following links is
requested in both, and the number of SQL statements a page issues must not grow with the data.

Pages are found by crawling from the dashboard (links only, never a form), so a module's new page
is covered as soon as something links to it. Addresses are grouped by their shape (numbers
replaced, query keys kept). A query per row shows as the same SQL text issued again and again:
for each shape and each statement, the most times it was issued over a few addresses is
compared. A statement issued once in the bigger database and never in the smaller one is a page
that loads a part only when it has rows (the grants' tranches when there are grants, the pager's
count when there is a second page): that is allowed; issued more than once, and more often than
in the smaller database, it is a query per row.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from litestar.testing import TestClient
from sqlalchemy import event

from core.db import make_engine, make_session_factory
from core.demo import DEMO_PASSWORD, load_demo
from core.migrate import upgrade
from core.plugins import get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from tests.conftest import DEMO_TODAY

SMALL = 0.2  # of the demo's persons, cases and so module records
PER_SHAPE = 4  # addresses tried per shape
MAX_PAGES = 400
LINK = re.compile(r'(?:href|hx-get)="(/[^"#]*)"')
SKIP = re.compile(r"^/(static/|logout|login|calendar/|schema)|\.(pdf|ics)(\?|$)")


def shape(url: str) -> str:
    parts = urlsplit(url.replace("&amp;", "&"))
    path = re.sub(r"/\d+(?=/|$)", "/{n}", parts.path)
    keys = sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


def _client(url: str, email: str) -> Iterator[TestClient]:
    app = create_app(get_settings(url, secret_key="test-secret"), get_plugin_manager())
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/login")
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"}, follow_redirects=False)
        assert response.status_code == 303
        yield client


def crawl(client: TestClient) -> dict[str, list[tuple[str, Counter[str]]]]:
    """Every shape reached from the dashboard: ``shape -> [(address, times each statement ran)]``."""
    statements: list[str] = []
    engine = client.app.state.engine

    def count(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    found: dict[str, list[tuple[str, Counter[str]]]] = defaultdict(list)
    queue, seen = ["/"], {"/"}
    queued: dict[str, int] = defaultdict(int)
    event.listen(engine, "before_cursor_execute", count)
    try:
        while queue and len(seen) < MAX_PAGES:
            url = queue.pop(0)
            key = shape(url)
            client.get(url)  # once to warm caches (the first request of a shape loads templates)
            statements.clear()
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            if response.status_code != 200:
                continue
            found[key].append((url, Counter(statements)))
            if "html" not in response.headers.get("content-type", ""):
                continue
            for link in LINK.findall(response.text):
                link = link.replace("&amp;", "&")
                if link not in seen and not SKIP.search(link) and queued[shape(link)] < PER_SHAPE:
                    seen.add(link)
                    queued[shape(link)] += 1
                    queue.append(link)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return {key: urls for key, urls in found.items() if urls}


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[tuple[str, str, str]]]:
    path: Path = tmp_path_factory.mktemp("demo-small") / "demo.db"
    registry = get_plugin_manager()
    upgrade(f"sqlite:///{path}", registry)
    engine = make_engine(f"sqlite:///{path}")
    try:
        with make_session_factory(engine)() as session:
            logins = load_demo(session, registry, today=DEMO_TODAY, scale=SMALL)
    finally:
        engine.dispose()
    return f"sqlite:///{path}", logins


def _admin(logins: list[tuple[str, str, str]]) -> str:
    return next(e for slug, role, e in logins if slug == "fresh-start" and role == "admin")


def most(urls: list[tuple[str, Counter[str]]]) -> Counter[str]:
    """For each statement, the most times one of the addresses issued it."""
    out: Counter[str] = Counter()
    for _url, counts in urls:
        out |= counts
    return out


def test_no_page_issues_more_statements_when_the_data_grows(small_demo, demo_db: str, demo_logins) -> None:  # noqa: ANN001
    small = crawl_all(small_demo[0], _admin(small_demo[1]))
    big = crawl_all(demo_db, _admin(demo_logins))
    common = sorted(set(small) & set(big))
    assert len(common) >= 60, sorted(small)  # the crawl reached the pages of every module
    grew = {}
    for key in common:
        before, after = most(small[key]), most(big[key])
        repeated = {" ".join(sql.split())[:160]: (before[sql], n) for sql, n in after.items() if n > max(before[sql], 1)}
        if repeated:
            grew[key] = repeated
    assert not grew, "\n".join(f"{key}: {repeated}" for key, repeated in grew.items())


def crawl_all(url: str, email: str) -> dict[str, list[tuple[str, Counter[str]]]]:
    for client in _client(url, email):
        return crawl(client)
    raise AssertionError("no client")
