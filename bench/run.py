"""Measure pages through HTTP against a database filled by ``bench.generate``.

Builds the real app (:func:`core.web.app.create_app`), signs in as a case manager of the big
organisation and times each request with Litestar's ``TestClient`` (the whole ASGI stack:
middleware, auth, guards, handlers in worker threads, Jinja templates). Prints n, median and p95
per scenario; it asserts nothing about time.

    taskset -c 0 .venv/bin/python -m bench.run                 # all scenarios, one core
    taskset -c 0 .venv/bin/python -m bench.run --detail        # also per search query
    .venv/bin/python -m bench.run --explain                    # SQL of each scenario + query plans
    taskset -c 0 .venv/bin/python -m bench.run --sample case_list_search   # where the time goes
    .venv/bin/python -m bench.run --preload bench/experiments/count_cap_200.py  # try a change first
"""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import runpy
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click
from sqlalchemy import event, text

from bench.generate import BENCH_PASSWORD, DEFAULT_DATABASE_URL, ORGS, staff_email
from core.models import Role

SEARCHES = [
    # (q, status): common and rare Latin prefixes, Khmer prefixes, a prisoner number, no match.
    ("So", "closed"),
    ("Sok", "follow_up"),
    ("Chan", "released"),
    ("K", "pre_release"),
    ("Kim D", "closed"),
    ("Heng Sreymom", "follow_up"),
    ("Ly", "referred"),
    ("Pich", ""),
    ("Touch Rithy", "closed"),
    ("Sok S", "closed"),  # between: about 1,000 persons
    ("សុខ", "closed"),
    ("ចាន់ ដារា", "follow_up"),
    ("Mao B", "referred"),
    ("Zz", "closed"),  # matches nobody
]


TARGETS_MS = {
    # issue 11, on SQLite, one worker: p95 targets in milliseconds
    "dashboard": 50, "case_list_search": 50, "case_list_search_htmx": 50, "case_list_page2": 50, "case_list_all": 50,
    "case_page_heavy": 50, "case_page_typical": 50, "recidivism_report": 1000, "trial_balance": 500,
}
PAGE_TARGET_MS = 100  # every other page
NO_TARGET = {"ledger_export_year", "ledger_export_book", "ledger_check"}  # measured, no target in the issue


@dataclass
class Scenario:
    name: str
    title: str
    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    user: str = "manager"  # which signed-in client: manager, admin (big organisation), small_admin (the smallest)
    method: str = "GET"
    data: dict[str, str] | None = None
    expect: int = 200
    rounds: int | None = None  # overrides --rounds (the slow ones)
    warmup: int | None = None

    def send(self, client: Any, url: str) -> Any:
        if self.method == "POST":
            data = {**(self.data or {}), "_csrf_token": client.cookies.get("hc_csrf", "")}
            return client.post(url, data=data, headers=self.headers, follow_redirects=False)
        return client.get(url, headers=self.headers)

    @property
    def target_ms(self) -> float | None:
        if self.name in NO_TARGET:
            return None
        return TARGETS_MS.get(self.name, PAGE_TARGET_MS)


@dataclass
class Result:
    scenario: Scenario
    times: dict[str, list[float]] = field(default_factory=dict)  # url -> wall-clock seconds
    cpu: list[float] = field(default_factory=list)  # CPU seconds of this process (all threads)
    size: int = 0  # bytes of the largest response body
    sent: int = 0  # bytes of it on the wire (the test client asks for gzip, as browsers do)
    statements: int = 0
    sql: list[float] = field(default_factory=list)  # baseline (a): the same statements on the DB-API cursor
    render: list[float] = field(default_factory=list)  # baseline (b): the same templates from the same context
    sql_cpu: list[float] = field(default_factory=list)
    render_cpu: list[float] = field(default_factory=list)
    baseline_note: str = ""

    @property
    def all(self) -> list[float]:
        return [t for ts in self.times.values() for t in ts]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def pick_cases(database_url: str, org_slug: str, seed: int) -> dict[str, Any]:
    """Ids the scenarios need: the heaviest timelines and typical ones of the organisation, the
    persons with the largest families, the grants with most movements, the books and accounts."""
    from core.db import make_engine

    engine = make_engine(database_url)
    q = lambda conn, sql, **kw: conn.execute(text(sql), kw)
    try:
        with engine.connect() as conn:
            org_id = q(conn, "SELECT id FROM organisations WHERE slug = :s", s=org_slug).scalar_one()
            small_slug = ORGS[-1].slug
            small_id = q(conn, "SELECT id FROM organisations WHERE slug = :s", s=small_slug).scalar_one()
            counts = q(conn, "SELECT case_id, count(*) FROM events WHERE org_id = :o GROUP BY case_id", o=org_id).all()
            prisoner = q(conn, "SELECT prisoner_number FROM cases WHERE org_id = :o ORDER BY id LIMIT 1 OFFSET 100", o=org_id).scalar()
            families = q(conn, "SELECT person_id, count(*) FROM person_links WHERE org_id = :o GROUP BY person_id ORDER BY 2 DESC, 1 LIMIT 10", o=org_id).all()
            plain = q(conn, "SELECT p.id FROM persons p WHERE p.org_id = :o AND p.id IN (SELECT person_id FROM cases) ORDER BY p.id LIMIT 10 OFFSET 500", o=org_id).scalars().all()
            analyzed = q(conn, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar() if engine.dialect.name == "sqlite" else None
            version = q(conn, "SELECT sqlite_version()").scalar() if engine.dialect.name == "sqlite" else q(conn, "SHOW server_version").scalar()
            totals = {t: q(conn, f"SELECT count(*) FROM {t}").scalar() for t in ("persons", "cases", "events", "ledger_transactions")}
            grants = []
            has_grants = q(conn, "SELECT count(*) FROM grants WHERE org_id = :o", o=org_id).scalar()
            if has_grants:
                grants = q(conn, "SELECT grant_id FROM grant_movements WHERE org_id = :o GROUP BY grant_id ORDER BY count(*) DESC, grant_id LIMIT 10", o=org_id).scalars().all()
            book = q(conn, "SELECT id FROM ledger_books WHERE org_id = :o AND kind = 'general' ORDER BY id LIMIT 1", o=org_id).scalar()
            small_book = q(conn, "SELECT id FROM ledger_books WHERE org_id = :o AND kind = 'general' ORDER BY id LIMIT 1", o=small_id).scalar()
            accounts = []
            if book:
                accounts = q(conn, "SELECT a.id FROM ledger_accounts a WHERE a.book_id = :b AND a.name IN ('Assets:Bank:USD', 'Expenses:Programme:Housing', 'Income:Donations:General') ORDER BY a.name", b=book).scalars().all()
            last_year = q(conn, "SELECT max(date) FROM ledger_transactions WHERE book_id = :b", b=book).scalar() if book else None
    finally:
        engine.dispose()
    rng = random.Random(seed)
    heavy = [c for c, n in sorted(counts, key=lambda r: -r[1]) if n >= 400][:20]
    typical_pool = [c for c, n in counts if 20 <= n <= 60]
    typical = rng.sample(typical_pool, min(20, len(typical_pool)))
    sizes = dict(counts)
    if isinstance(last_year, str):
        last_year = date.fromisoformat(last_year)
    return {
        "org_id": org_id,
        "heavy": heavy,
        "typical": typical,
        "heavy_events": statistics.median(sizes[c] for c in heavy) if heavy else 0,
        "typical_events": statistics.median(sizes[c] for c in typical) if typical else 0,
        "prisoner": prisoner,
        "persons": [p for p, _n in families[:5]] + list(plain[:5]),
        "grants": list(grants),
        "book": book,
        "small_book": small_book,
        "accounts": list(accounts),
        "export_year": (last_year.year - 1) if last_year else None,
        "analyzed": analyzed,
        "version": version,
        "dialect": engine.dialect.name,
        "totals": totals,
    }


def scenarios(picked: dict[str, Any]) -> list[Scenario]:
    searches = [*SEARCHES, (picked["prisoner"], "")]
    search_urls = ["/cases?" + urlencode({k: v for k, v in (("q", q), ("status", s)) if v}) for q, s in searches]
    hx = {"HX-Request": "true", "HX-Current-URL": "http://testserver/cases", "HX-Target": "results"}
    login = {"email": staff_email(ORGS[0].slug, Role.case_manager, 2), "password": BENCH_PASSWORD, "next": "/"}
    out = [
        Scenario("login_page", "the sign-in form (GET /login): the floor", ["/login"], user="anonymous"),
        Scenario("login", "sign in (POST /login, argon2 check)", ["/login"], user="anonymous", method="POST", data=login, expect=303),
        Scenario("dashboard", "dashboard (case manager)", ["/"]),
        Scenario("case_list_search", "case list: name prefix + status (page)", search_urls),
        Scenario("case_list_search_htmx", "case list: name prefix + status (htmx rows)", search_urls, hx),
        Scenario("case_list_page2", "case list: search, page 2 (htmx rows)", [u + "&page=2" for u in search_urls], hx),
        Scenario("case_list_all", "case list: no filter, first page", ["/cases"]),
        Scenario("case_page_heavy", f"case page, ~{picked['heavy_events']:.0f} events", [f"/cases/{c}" for c in picked["heavy"]]),
        Scenario("case_page_typical", f"case page, ~{picked['typical_events']:.0f} events", [f"/cases/{c}" for c in picked["typical"]]),
        Scenario("timeline_older", "timeline 'show older' (htmx, page 2 of ~500)", [f"/cases/{c}/timeline?page=2" for c in picked["heavy"]], hx),
        Scenario("person_page", "person page (5 largest families, 5 others)", [f"/persons/{p}" for p in picked["persons"]]),
        Scenario("follow_ups", "due and overdue follow-ups", ["/follow-ups"]),
        Scenario("recidivism_report", "recidivism report", ["/reports/recidivism"], user="admin", rounds=5),
    ]
    for name, url in (("training", "/training"), ("grants", "/grants"), ("family_visits", "/family-visits"), ("housing", "/housing"),
                      ("release_support", "/release-support"), ("community", "/community")):
        out.append(Scenario(f"module_{name}", f"{name}: main list (admin)", [url], user="admin"))
    if picked["grants"]:
        out.append(Scenario("grant_page", "grant page (10 with most movements)", [f"/grants/{g}" for g in picked["grants"]], user="admin"))
    if picked["book"]:
        book = picked["book"]
        out += [
            Scenario("trial_balance", "trial balance, book of the big organisation", [f"/ledger/books/{book}"], user="admin", rounds=5),
            Scenario("account_journal", "account journal (bank, housing, donations)", [f"/ledger/accounts/{a}" for a in picked["accounts"]], user="admin"),
            Scenario("ledger_export_year", f"ledger export, one year ({picked['export_year']}) of the big book",
                     [f"/ledger/books/{book}/export?year={picked['export_year']}"], user="admin", rounds=3, warmup=1),
        ]
    if picked["small_book"]:
        out += [
            Scenario("ledger_export_book", "ledger export, whole book of the small organisation", [f"/ledger/books/{picked['small_book']}/export"],
                     user="small_admin", rounds=3, warmup=1),
            Scenario("ledger_check", "ledger check + verify (small organisation, POST)", ["/ledger/checks"], user="small_admin", method="POST",
                     expect=303, rounds=3, warmup=0),
        ]
    return out


class Clients:
    """One Litestar ``TestClient`` on the app (several would each run the app's lifespan), with one
    signed-in cookie jar per user; :meth:`as_user` puts that user's jar in place."""

    def __init__(self, app: Any) -> None:
        from litestar.testing import TestClient

        self.client = TestClient(app, raise_server_exceptions=True)
        self.client.__enter__()
        self.jars: dict[str, Any] = {}

    def sign_in(self, user: str, email: str | None, password: str) -> None:
        import httpx

        client = self.client
        client.cookies = httpx.Cookies()
        client.get("/login")
        if email is not None:
            response = client.post(
                "/login",
                data={"email": email, "password": password, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"},
                follow_redirects=False,
            )
            if response.status_code != 303:
                raise click.ClickException(f"could not sign in as {email}: {response.status_code}")
        self.jars[user] = httpx.Cookies(client.cookies)

    def as_user(self, user: str) -> Any:
        self.client.cookies = self.jars[user]
        return self.client

    def close(self) -> None:
        self.client.__exit__(None, None, None)


def make_client(database_url: str, email: str, password: str) -> tuple[Any, Any]:
    """The app and a ``TestClient`` signed in as ``email`` (``bench.training`` uses it); close the
    client with ``client.__exit__(None, None, None)``."""
    app = make_app(database_url)
    clients = Clients(app)
    clients.sign_in("user", email, password)
    return app, clients.as_user("user")


def make_app(database_url: str) -> Any:
    from core.plugins import get_plugin_manager
    from core.settings import get_settings
    from core.web.app import create_app

    return create_app(get_settings(database_url, secret_key="bench"), get_plugin_manager())


def measure(client: Any, scenario: Scenario, rounds: int, warmup: int) -> Result:
    result = Result(scenario, {u: [] for u in scenario.urls})
    rounds = scenario.rounds if scenario.rounds is not None else rounds
    warmup = scenario.warmup if scenario.warmup is not None else warmup
    for r in range(warmup + rounds):
        for url in scenario.urls:
            cpu_started = time.process_time()
            started = time.perf_counter()
            response = scenario.send(client, url)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            if response.status_code != scenario.expect:
                raise click.ClickException(f"{scenario.name} {url}: HTTP {response.status_code}")
            if len(response.content) > result.size:
                result.size, result.sent = len(response.content), response.num_bytes_downloaded
            if r >= warmup:
                result.times[url].append(elapsed)
                result.cpu.append(cpu)
    return result


# --- the bare baseline: the same SQL on the DB-API cursor, the same templates from the same context ---


class RenderCapture:
    """Wraps ``jinja2.Template.render`` to keep (template, context) of each outermost render while on."""

    def __init__(self) -> None:
        import jinja2

        self.jinja2 = jinja2
        self.original = jinja2.Template.render
        self.on = False
        self.captured: list[tuple[Any, dict[str, Any]]] = []
        self.local = threading.local()
        capture = self

        def render(template: Any, *args: Any, **kwargs: Any) -> str:
            depth = getattr(capture.local, "depth", 0)
            if capture.on and depth == 0:
                capture.captured.append((template, dict(*args, **kwargs)))
            capture.local.depth = depth + 1
            try:
                return capture.original(template, *args, **kwargs)
            finally:
                capture.local.depth = depth

        jinja2.Template.render = render  # type: ignore[method-assign]

    def rerender(self) -> None:
        for template, context in self.captured:
            self.original(template, **context)


def capture_request(app: Any, client: Any, scenario: Scenario, url: str, renders: RenderCapture | None = None) -> list[tuple[str, Any, bool]]:
    statements: list[tuple[str, Any, bool]] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters, executemany))

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", before)
    if renders is not None:
        renders.captured = []
        renders.on = True
    try:
        scenario.send(client, url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        if renders is not None:
            renders.on = False
    return statements


def capture_sql(app: Any, client: Any, scenario: Scenario, url: str) -> list[tuple[str, Any]]:
    return [(sql, params) for sql, params, _many in capture_request(app, client, scenario, url)]


def baseline(app: Any, client: Any, scenario: Scenario, result: Result, renders: RenderCapture, rounds: int) -> None:
    """(a) every statement the request issued, run again on a raw DB-API connection and fetched to
    the end (one transaction, rolled back), and (b) every template it rendered, rendered again from
    the context it was given; each timed per URL and round, summed over the URL's statements."""
    engine = app.state.engine
    rounds = scenario.rounds if scenario.rounds is not None else rounds
    sql_times: list[float] = []
    render_times: list[float] = []
    sql_cpu: list[float] = []
    render_cpu: list[float] = []
    notes = set()
    for url in scenario.urls:
        statements = capture_request(app, client, scenario, url, renders)
        captured = list(renders.captured)
        result.statements = max(result.statements, len(statements))
        raw = engine.raw_connection()
        try:
            for _ in range(rounds):
                cursor = raw.cursor()
                started, cpu_started = time.perf_counter(), time.process_time()
                if engine.dialect.name == "sqlite":
                    cursor.execute("BEGIN")  # so that the savepoints below nest in a transaction that is rolled back
                for n, (sql, params, many) in enumerate(statements):
                    if many:
                        notes.add("executemany skipped")
                        continue
                    write = not sql.lstrip().upper().startswith(("SELECT", "WITH"))
                    if write:
                        cursor.execute(f"SAVEPOINT bench_{n}")
                    try:
                        cursor.execute(sql, params)
                        if cursor.description is not None:
                            cursor.fetchall()
                    except Exception:  # noqa: BLE001 - e.g. an INSERT whose key exists now
                        notes.add("some writes refused")
                    if write:
                        try:
                            cursor.execute(f"RELEASE SAVEPOINT bench_{n}")
                        except Exception:  # noqa: BLE001
                            cursor.execute(f"ROLLBACK TO SAVEPOINT bench_{n}")
                sql_times.append(time.perf_counter() - started)
                sql_cpu.append(time.process_time() - cpu_started)
                cursor.close()
                raw.rollback()
        finally:
            raw.close()
        renders.captured = captured
        try:
            for _ in range(rounds):
                started, cpu_started = time.perf_counter(), time.process_time()
                renders.rerender()
                render_times.append(time.perf_counter() - started)
                render_cpu.append(time.process_time() - cpu_started)
        except Exception as exc:  # noqa: BLE001 - a context that cannot be rendered twice
            notes.add(f"re-render failed: {type(exc).__name__}")
            render_times.append(0.0)
            render_cpu.append(0.0)
    result.sql, result.render, result.baseline_note = sql_times, render_times, "; ".join(sorted(notes))
    result.sql_cpu, result.render_cpu = sql_cpu, render_cpu


def explain_request(app: Any, client: Any, scenario: Scenario, url: str, database_url: str) -> None:
    """Each statement of one request: its plan and how long SQLite takes to run it to the end."""
    statements = capture_sql(app, client, scenario, url)
    click.echo(f"\n=== {scenario.name}: {url} ({len(statements)} statements)")
    if not database_url.startswith("sqlite"):
        raw = app.state.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for sql, params in statements:
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
                took = next((line for line in reversed(plan) if line.startswith("Execution Time")), "")
                click.echo(f"\n{took}  {' '.join(sql.split())[:400]}\n          params {params}")
                for line in plan:
                    click.echo(f"          plan: {line}")
            raw.rollback()
        finally:
            raw.close()
        return
    db = sqlite3.connect(database_url.split("///", 1)[1])
    try:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            runs = []
            for _ in range(7):
                started = time.perf_counter()
                rows = db.execute(sql, params).fetchall()
                runs.append(time.perf_counter() - started)
            one_line = " ".join(sql.split())
            click.echo(f"\n{statistics.median(runs) * 1000:7.2f} ms  {len(rows):4} rows  {one_line[:400]}")
            click.echo(f"          params {params}")
            for row in db.execute("EXPLAIN QUERY PLAN " + sql, params):
                click.echo(f"          plan: {'  ' * (row[1] and 1)}{row[3]}")
    finally:
        db.close()


ROOT = Path(__file__).resolve().parents[1]
IDLE_FILES = ("threading.py", "queue.py", "selectors.py")


def _idle(top: tuple[str, str]) -> bool:
    """A thread waiting for work (its innermost Python frame is a wait or an empty queue)."""
    return top[0].endswith(IDLE_FILES) or (top[0].endswith("concurrent/futures/thread.py") and top[1] == "_worker")
CATEGORIES = [
    # (label, test on one frame (filename, function)), first match from the innermost frame out
    ("SQLite executing the statement", lambda f, n: f.endswith("sqlalchemy/engine/default.py") and n.startswith("do_execute")),
    ("SQLite stepping through rows (fetch)", lambda f, n: f.endswith("sqlalchemy/engine/cursor.py") and n.startswith("fetch")),
    ("Jinja template rendering", lambda f, n: f.endswith(".html") or "/jinja2/" in f or "/markupsafe/" in f),
    ("SQLAlchemy (compile, ORM, result rows)", lambda f, n: "/sqlalchemy/" in f),
    ("Homecoming code (core/, plugins/)", lambda f, n: f.startswith((str(ROOT / "core"), str(ROOT / "plugins")))),
    ("Litestar, anyio, asyncio (framework)", lambda f, n: "/litestar/" in f or "/anyio/" in f or "/asyncio/" in f or "/msgspec/" in f),
]


class Sampler(threading.Thread):
    """A small statistical profiler over every thread of the process except the client's
    (cProfile sees one thread only; the app runs in the test client's portal thread and in
    worker threads). Each sample is attributed to the innermost frame that says what it is."""

    def __init__(self, interval: float = 0.0005) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.client_thread = threading.get_ident()
        self.stacks: list[list[tuple[str, str]]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        me = threading.get_ident()
        while not self.stopped.is_set():
            for tid, frame in sys._current_frames().items():
                if tid in (me, self.client_thread):
                    continue
                stack = []
                f: Any = frame
                while f is not None:
                    stack.append((f.f_code.co_filename, f.f_code.co_name))
                    f = f.f_back
                if _idle(stack[0]):
                    continue
                self.stacks.append(stack)
            time.sleep(self.interval)

    def report(self, top: int = 25) -> None:
        categories: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        for stack in self.stacks:
            label = "other"
            for filename, name in stack:
                found = next((c for c, test in CATEGORIES if test(filename, name)), None)
                if found:
                    label = found
                    break
            categories[label] += 1
            for key in {f"{_short(fn)}:{name}" for fn, name in stack}:
                inclusive[key] += 1
        total = max(1, len(self.stacks))
        click.echo(f"\n{len(self.stacks)} samples of busy app threads; share of time by what ran:")
        for label, n in categories.most_common():
            click.echo(f"  {100 * n / total:5.1f} %  {label}")
        click.echo(f"\nfunctions by inclusive share (top {top}):")
        for key, n in inclusive.most_common(top):
            click.echo(f"  {100 * n / total:5.1f} %  {key}")


def _short(filename: str) -> str:
    for marker in ("site-packages/", f"{ROOT}/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def sample_requests(client: Any, scenario: Scenario, rounds: int) -> None:
    for url in scenario.urls:  # warm up
        scenario.send(client, url)
    sampler = Sampler()
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)  # else Python code holding the GIL is under-sampled next to SQLite's C calls
    sampler.start()
    started = time.perf_counter()
    n = 0
    for _ in range(rounds):
        for url in scenario.urls:
            scenario.send(client, url)
            n += 1
    sampler.stopped.set()
    sampler.join()
    sys.setswitchinterval(switch)
    click.echo(f"{scenario.name}: {n} requests in {time.perf_counter() - started:.2f} s (sampling slows them down)")
    sampler.report()


# --- the machine, processes of their own: demo loader, start-up, load test ------------------------


def machine(picked: dict[str, Any] | None = None) -> dict[str, str]:
    import sqlalchemy

    from bench.ledger import cpu_model

    model = cpu_model()
    out = {
        "cpu": f"{model}, {os.cpu_count()} CPUs (this process may use {sorted(os.sched_getaffinity(0))})",
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "software": f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version} (module), SQLAlchemy {sqlalchemy.__version__}, "
                    f"Litestar {_version('litestar')}, Jinja2 {_version('jinja2')}, uvicorn {_version('uvicorn')}",
    }
    if picked is not None:
        out["database"] = f"{picked['dialect']} {picked['version']}"
    return out


def _version(dist: str) -> str:
    from importlib.metadata import version

    try:
        return version(dist)
    except Exception:  # noqa: BLE001
        return "?"


def rss_of(pid: int | str = "self") -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB from /proc."""
    values = {}
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = row.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _all_cpus() -> None:
    """In a child process: undo ``--cpu`` (the server of the load test has the machine's cores)."""
    os.sched_setaffinity(0, range(os.cpu_count() or 1))


def homecoming_command(database_url: str, *args: str) -> list[str]:
    # what the ``homecoming`` script runs (core.cli has no __main__ of its own)
    return [sys.executable, "-c", "import sys; from core.cli import main; sys.exit(main())", "--database-url", database_url, *args]


def time_demo(rounds: int) -> list[float]:
    """``homecoming demo`` into a fresh SQLite file, in a fresh process, wall clock."""
    times = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
            url = f"sqlite:///{folder}/demo.db"
            started = time.perf_counter()
            done = subprocess.run(homecoming_command(url, "demo"), cwd=ROOT, capture_output=True, text=True, check=False, preexec_fn=_all_cpus)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise click.ClickException(f"homecoming demo failed: {done.stderr[-2000:]}")
    return times


class Server:
    """``homecoming serve`` (uvicorn, one process) on a free loopback port."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        env = {**os.environ, "HOMECOMING_SECRET_KEY": "bench-secret-key-for-the-load-test"}
        self.started = time.perf_counter()
        self.process = subprocess.Popen(homecoming_command(database_url, "serve", "--host", "127.0.0.1", "--port", str(self.port)),
                                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_all_cpus)  # noqa: PLW1509
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_first_answer(self, timeout: float = 60) -> float:
        """Seconds from starting the process to the first answered request (GET /login, 200)."""
        import httpx

        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise click.ClickException(f"the server stopped: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.base + "/login", timeout=1).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.005)
        raise click.ClickException("the server did not answer within a minute")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def time_startup(database_url: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        server = Server(database_url)
        try:
            times.append(server.wait_first_answer())
        finally:
            server.stop()
    return times


def load_test(database_url: str, picked: dict[str, Any], clients: int, seconds: float, admins: int = 2) -> dict[str, Any]:
    """``clients`` threads, each signed in as its own case manager (or the admin for the module
    pages: ``admins`` of the clients) loop over a mix of pages against one uvicorn process on
    loopback for ``seconds``."""
    import httpx

    searches = ["/cases?" + urlencode({k: v for k, v in (("q", q), ("status", s)) if v}) for q, s in SEARCHES]
    manager_mix = ["/", *searches[:6], *[f"/cases/{c}" for c in picked["heavy"][:5] + picked["typical"][:5]],
                   *[f"/persons/{p}" for p in picked["persons"][:4]], "/follow-ups", "/cases"]
    admin_mix = ["/training", "/grants", "/family-visits", "/housing", "/release-support", "/community",
                 *[f"/grants/{g}" for g in picked["grants"][:3]], *[f"/ledger/accounts/{a}" for a in picked["accounts"][:2]]]
    server = Server(database_url)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    try:
        server.wait_first_answer()

        def worker(k: int) -> None:
            admin = k >= clients - admins
            email = staff_email(ORGS[0].slug, Role.admin, 1) if admin else staff_email(ORGS[0].slug, Role.case_manager, 1 + k)
            mix = admin_mix if admin else manager_mix
            rng = random.Random(k)
            with httpx.Client(base_url=server.base, timeout=30, follow_redirects=True) as http:
                http.get("/login")
                r = http.post("/login", data={"email": email, "password": BENCH_PASSWORD, "next": "/", "_csrf_token": http.cookies.get("hc_csrf", "")})
                if r.status_code != 200:  # followed the redirect to the dashboard
                    with lock:
                        errors[f"login {r.status_code}"] += 1
                    return
                barrier.wait()
                mine = []
                while time.perf_counter() < stop_at:
                    url = rng.choice(mix)
                    t0 = time.perf_counter()
                    try:
                        response = http.get(url)
                        ok = response.status_code == 200
                        code = str(response.status_code)
                    except httpx.HTTPError as exc:
                        ok, code = False, type(exc).__name__
                    mine.append(time.perf_counter() - t0)
                    if not ok:
                        with lock:
                            errors[f"{url} {code}"] += 1
                with lock:
                    latencies.extend(mine)

        barrier = threading.Barrier(clients + 1)
        threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
        for t in threads:
            t.start()
        stop_at = time.perf_counter() + 3600
        barrier.wait(timeout=120)
        started = time.perf_counter()
        stop_at = started + seconds
        for t in threads:
            t.join(seconds + 60)
        elapsed = time.perf_counter() - started
        rss, hwm = rss_of(server.process.pid)
    finally:
        server.stop()
    return {"clients": clients, "admins": admins, "seconds": elapsed, "requests": len(latencies), "throughput": len(latencies) / elapsed if elapsed else 0,
            "errors": sum(errors.values()), "error_kinds": dict(errors), "median": statistics.median(latencies) if latencies else 0,
            "p95": percentile(latencies, 95) if latencies else 0, "server_rss": rss, "server_hwm": hwm}


def static_files(client: Any) -> list[dict[str, Any]]:
    """What a phone downloads besides the page on a first visit: each static file the dashboard
    names, with its size as sent (gzip or brotli asked for), its encoding and cache lifetime."""
    import re

    html = client.get("/").text
    out = []
    click.echo("\nstatic files named by the dashboard (first visit; Accept-Encoding: gzip, br):")
    for url in sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))):
        response = client.get(url, headers={"Accept-Encoding": "gzip, br"})
        raw = response.num_bytes_downloaded if hasattr(response, "num_bytes_downloaded") else len(response.content)
        row = {"url": url, "status": response.status_code, "bytes_sent": raw, "bytes": len(response.content),
               "encoding": response.headers.get("content-encoding", "none"), "cache_control": response.headers.get("cache-control", "none")}
        out.append(row)
        click.echo(f"  {url:<60} {row['status']} {raw / 1024:7.1f} KB sent ({row['bytes'] / 1024:.1f} KB), "
                   f"encoding {row['encoding']}, cache-control: {row['cache_control']}")
    page = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    click.echo(f"  the dashboard's HTML itself: encoding {page.headers.get('content-encoding', 'none')}, cache-control: {page.headers.get('cache-control', 'none')}")
    return out


# --- the command -----------------------------------------------------------------------------------


def _met(value_ms: float, target_ms: float | None) -> str:
    if target_ms is None:
        return "-"
    return "yes" if value_ms < target_ms else "NO"


@click.command()
@click.option("--database-url", default=DEFAULT_DATABASE_URL, show_default="sqlite:///bench/bench.db")
@click.option("--rounds", default=20, show_default=True, help="Times each URL of a scenario is measured.")
@click.option("--warmup", default=2, show_default=True, help="Untimed rounds first.")
@click.option("--only", multiple=True, help="Run only these scenarios (repeatable); 'none' for none.")
@click.option("--detail", is_flag=True, help="Also print the median of each URL.")
@click.option("--no-baseline", is_flag=True, help="Skip the bare baseline (same SQL on the DB-API cursor, same templates re-rendered).")
@click.option("--demo-rounds", default=1, show_default=True, help="Runs of `homecoming demo` into a fresh SQLite file (0: skip).")
@click.option("--startup-rounds", default=3, show_default=True, help="Fresh `homecoming serve` processes timed to their first answer (0: skip).")
@click.option("--load-seconds", default=20.0, show_default=True, help="Length of the load test (0: skip).")
@click.option("--load-clients", default=8, show_default=True, help="Concurrent clients of the load test.")
@click.option("--load-admins", multiple=True, type=int, help="How many of the clients are admins on the module lists, grants and journals (the rest: case managers); repeat for one load test each [default: 2, then 0].")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the figures to this JSON file.")
@click.option("--explain", is_flag=True, help="Print each scenario's SQL, its time in SQLite alone and its query plan.")
@click.option("--sample", "sample_scenario", help="Sample this scenario's threads instead of timing: where the time goes.")
@click.option("--preload", type=click.Path(exists=True, dir_okay=False), multiple=True, help="Run this Python file before building the app (to try a change by monkeypatching).")
@click.option("--cpu", type=int, help="Pin the process to this CPU (like taskset -c N).")
@click.option("--seed", default=1, show_default=True)
def main(database_url: str, rounds: int, warmup: int, only: tuple[str, ...], detail: bool, no_baseline: bool, demo_rounds: int,
         startup_rounds: int, load_seconds: float, load_clients: int, load_admins: tuple[int, ...], json_path: str | None, explain: bool, sample_scenario: str | None,
         preload: tuple[str, ...], cpu: int | None, seed: int) -> None:
    """Time every page of issue 11 through HTTP, beside a bare baseline; then the demo loader,
    start-up, a worker's memory and a load test on a real server."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the test client logs every request
    for path in preload:
        runpy.run_path(path, run_name="__bench_preload__")
    slug = ORGS[0].slug
    picked = pick_cases(database_url, slug, seed)
    renders = RenderCapture()
    app = make_app(database_url)
    users = {"manager": staff_email(slug, Role.case_manager, 1), "admin": staff_email(slug, Role.admin, 1),
             "small_admin": staff_email(ORGS[-1].slug, Role.admin, 1), "anonymous": None}
    all_scenarios = scenarios(picked)
    chosen = [s for s in all_scenarios if not only or s.name in only]
    clients = Clients(app)
    for user, email in users.items():
        if user == "manager" or any(s.user == user for s in all_scenarios if s.name in (sample_scenario, *[c.name for c in chosen])):
            clients.sign_in(user, email, BENCH_PASSWORD)
    info = machine(picked)
    totals = ", ".join(f"{n:,} {t}" for t, n in picked["totals"].items())
    click.echo(f"database: {database_url} ({totals})")
    analyzed = "" if picked["analyzed"] is None else (", ANALYZEd" if picked["analyzed"] else ", not ANALYZEd")
    for key, value in info.items():
        click.echo(f"{key:>13}: {value}{analyzed if key == 'database' else ''}")
    if preload:
        click.echo(f"preloaded: {', '.join(preload)}")
    report: dict[str, Any] = {"machine": info, "database_url": database_url, "totals": picked["totals"], "pages": {}}
    try:
        if sample_scenario:
            scenario = next((s for s in all_scenarios if s.name == sample_scenario), None)
            if scenario is None:
                raise click.ClickException(f"no scenario {sample_scenario!r}")
            sample_requests(clients.as_user(scenario.user), scenario, rounds)
            return
        if explain:
            for scenario in chosen:
                explain_urls = scenario.urls if scenario.name == "case_list_search" else scenario.urls[:1]
                for url in explain_urls:
                    explain_request(app, clients.as_user(scenario.user), scenario, url, database_url)
            return
        click.echo(f"\n{'':<24} {'':>5} {'wall clock, ms':^23}  {'CPU':>7}  {'target':>7} {'':>4}  {'baseline, ms (median)':^23} {'':>6} {'':>6} {'':>4}")
        click.echo(f"{'scenario':<24} {'n':>5} {'median':>7} {'p95':>7} {'max':>7}  {'median':>7}  {'p95 <':>7} {'met':>4}  {'SQL':>7} {'render':>7} {'ratio':>7} {'CPU r.':>7} {'over':>6} {'KB':>6} {'sent':>6} {'stmts':>5} {'RSS':>5}")
        for scenario in chosen:
            client = clients.as_user(scenario.user)
            result = measure(client, scenario, rounds, warmup)
            if not no_baseline and scenario.name != "login":
                baseline(app, client, scenario, result, renders, rounds)
            values = result.all
            med, p95 = statistics.median(values), percentile(values, 95)
            sql = statistics.median(result.sql) if result.sql else None
            rnd = statistics.median(result.render) if result.render else None
            ratio = med / (sql + rnd) if sql is not None and rnd is not None and sql + rnd > 0 else None
            cpu_base = statistics.median(result.sql_cpu) + statistics.median(result.render_cpu) if result.sql_cpu and result.render_cpu else 0
            cpu_ratio = statistics.median(result.cpu) / cpu_base if cpu_base else None
            target = scenario.target_ms
            click.echo(
                f"{scenario.name:<24} {len(values):>5} {ms(med)} {ms(p95)} {ms(max(values))}  {ms(statistics.median(result.cpu))}"
                f"  {target if target is not None else '-':>7} {_met(p95 * 1000, target):>4}"
                f"  {ms(sql) if sql is not None else '      -'} {ms(rnd) if rnd is not None else '      -'} {f'{ratio:6.2f}x' if ratio else '      -'} {f'{cpu_ratio:6.2f}x' if cpu_ratio else '      -'}"
                f" {(med - sql - rnd) * 1000 if ratio else 0:6.1f} {result.size / 1024:6.1f} {result.sent / 1024:6.1f} {result.statements:>5} {rss_of()[0]:5.0f}  {result.baseline_note}"
            )
            report["pages"][scenario.name] = {
                "title": scenario.title, "n": len(values), "median_ms": med * 1000, "p95_ms": p95 * 1000, "max_ms": max(values) * 1000,
                "cpu_median_ms": statistics.median(result.cpu) * 1000, "target_p95_ms": target,
                "met": None if target is None else p95 * 1000 < target, "sql_ms": sql * 1000 if sql is not None else None,
                "render_ms": rnd * 1000 if rnd is not None else None, "ratio": ratio,
                "overhead_ms": (med - sql - rnd) * 1000 if ratio else None, "cpu_ratio": cpu_ratio, "kb": result.size / 1024, "kb_sent": result.sent / 1024,
                "statements": result.statements, "note": result.baseline_note, "rss_after_mb": rss_of()[0],
            }
            if detail and len(scenario.urls) > 1:
                for url, ts in result.times.items():
                    click.echo(f"{'':<24}   {url[:60]:<60} median {ms(statistics.median(ts))} p95 {ms(percentile(ts, 95))}")
        report["static"] = static_files(clients.as_user("manager"))
        rss, hwm = rss_of()
        click.echo(f"\nmemory of this process after the scenarios (app + test client, one worker): RSS {rss:.0f} MB, peak {hwm:.0f} MB (target < 250 MB)")
        report["bench_process_rss_mb"], report["bench_process_peak_mb"] = rss, hwm
        click.echo(f"load average: {info['load average']} before, {' '.join(f'{x:.2f}' for x in os.getloadavg())} after the pages")
    finally:
        clients.close()
    if demo_rounds:
        times = time_demo(demo_rounds)
        report["demo_s"] = times
        click.echo(f"\ndemo loader (`homecoming demo` into a fresh SQLite file, new process): {', '.join(f'{t:.2f}' for t in times)} s")
    if startup_rounds:
        times = time_startup(database_url, startup_rounds)
        report["startup_s"] = times
        click.echo(f"app start-up (`homecoming serve` to the first answered request): median {statistics.median(times):.2f} s, "
                   f"max {max(times):.2f} s over {len(times)} (target < 2 s)")
    report["load"] = []
    for admins in (load_admins or (2, 0)) if load_seconds else ():
        load = load_test(database_url, picked, load_clients, load_seconds, admins)
        report["load"].append(load)
        click.echo(
            f"load test: {load['clients']} clients ({admins} admins) on loopback against one uvicorn process for {load['seconds']:.1f} s: "
            f"{load['requests']} requests, {load['throughput']:.1f}/s, errors {load['errors']} {load['error_kinds'] or ''}; "
            f"latency median {ms(load['median'])} ms, p95 {ms(load['p95'])} ms; server RSS {load['server_rss']:.0f} MB (peak {load['server_hwm']:.0f} MB)"
        )
    click.echo(f"load average after all: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if json_path:
        report["load_average_after"] = os.getloadavg()
        Path(json_path).write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
