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

import logging
import os
import random
import runpy
import sqlite3
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
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


@dataclass
class Scenario:
    name: str
    title: str
    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    scenario: Scenario
    times: dict[str, list[float]] = field(default_factory=dict)  # url -> wall-clock seconds
    cpu: list[float] = field(default_factory=list)  # CPU seconds of this process (all threads)

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
    """Ids the scenarios need: the heaviest timelines and typical ones of the organisation."""
    from core.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            org_id = conn.execute(text("SELECT id FROM organisations WHERE slug = :s"), {"s": org_slug}).scalar_one()
            counts = conn.execute(
                text("SELECT case_id, count(*) FROM events WHERE org_id = :o GROUP BY case_id"), {"o": org_id}
            ).all()
            prisoner = conn.execute(
                text("SELECT prisoner_number FROM cases WHERE org_id = :o ORDER BY id LIMIT 1 OFFSET 100"), {"o": org_id}
            ).scalar()
            analyzed = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar() if engine.dialect.name == "sqlite" else None
            version = conn.execute(text("SELECT sqlite_version()")).scalar() if engine.dialect.name == "sqlite" else conn.execute(text("SHOW server_version")).scalar()
            totals = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("persons", "cases", "events")}  # noqa: S608
    finally:
        engine.dispose()
    rng = random.Random(seed)
    heavy = [c for c, n in sorted(counts, key=lambda r: -r[1]) if n >= 400][:20]
    typical_pool = [c for c, n in counts if 20 <= n <= 60]
    typical = rng.sample(typical_pool, min(20, len(typical_pool)))
    sizes = dict(counts)
    return {
        "org_id": org_id,
        "heavy": heavy,
        "typical": typical,
        "heavy_events": statistics.median(sizes[c] for c in heavy) if heavy else 0,
        "typical_events": statistics.median(sizes[c] for c in typical) if typical else 0,
        "prisoner": prisoner,
        "analyzed": analyzed,
        "version": version,
        "totals": totals,
    }


def scenarios(picked: dict[str, Any]) -> list[Scenario]:
    searches = [*SEARCHES, (picked["prisoner"], "")]
    search_urls = ["/cases?" + urlencode({k: v for k, v in (("q", q), ("status", s)) if v}) for q, s in searches]
    hx = {"HX-Request": "true", "HX-Current-URL": "http://testserver/cases", "HX-Target": "results"}
    return [
        Scenario("case_list_search", "case list: name prefix + status (page)", search_urls),
        Scenario("case_list_search_htmx", "case list: name prefix + status (htmx rows)", search_urls, hx),
        Scenario("case_list_page2", "case list: search, page 2 (htmx rows)", [u + "&page=2" for u in search_urls], hx),
        Scenario("case_list_all", "case list: no filter, first page", ["/cases"]),
        Scenario("case_page_heavy", f"case page, ~{picked['heavy_events']:.0f} events", [f"/cases/{c}" for c in picked["heavy"]]),
        Scenario("case_page_typical", f"case page, ~{picked['typical_events']:.0f} events", [f"/cases/{c}" for c in picked["typical"]]),
        Scenario("timeline_older", "timeline 'show older' (htmx, page 2 of ~500)", [f"/cases/{c}/timeline?page=2" for c in picked["heavy"]], hx),
        Scenario("dashboard", "dashboard (case manager)", ["/"]),
    ]


def make_client(database_url: str, email: str, password: str):  # noqa: ANN201 - TestClient
    from litestar.testing import TestClient

    from core.plugins import get_plugin_manager
    from core.settings import get_settings
    from core.web.app import create_app

    app = create_app(get_settings(database_url, secret_key="bench"), get_plugin_manager())
    client = TestClient(app, raise_server_exceptions=True)
    client.__enter__()
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise click.ClickException(f"could not sign in as {email}: {response.status_code}")
    return app, client


def measure(client: Any, scenario: Scenario, rounds: int, warmup: int) -> Result:
    result = Result(scenario, {u: [] for u in scenario.urls})
    for r in range(warmup + rounds):
        for url in scenario.urls:
            cpu_started = time.process_time()
            started = time.perf_counter()
            response = client.get(url, headers=scenario.headers)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            if response.status_code != 200:
                raise click.ClickException(f"{url}: HTTP {response.status_code}")
            if r >= warmup:
                result.times[url].append(elapsed)
                result.cpu.append(cpu)
    return result


def capture_sql(app: Any, client: Any, scenario: Scenario, url: str) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append((statement, parameters))

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        client.get(url, headers=scenario.headers)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return statements


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
        client.get(url, headers=scenario.headers)
    sampler = Sampler()
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)  # else Python code holding the GIL is under-sampled next to SQLite's C calls
    sampler.start()
    started = time.perf_counter()
    n = 0
    for _ in range(rounds):
        for url in scenario.urls:
            client.get(url, headers=scenario.headers)
            n += 1
    sampler.stopped.set()
    sampler.join()
    sys.setswitchinterval(switch)
    click.echo(f"{scenario.name}: {n} requests in {time.perf_counter() - started:.2f} s (sampling slows them down)")
    sampler.report()


@click.command()
@click.option("--database-url", default=DEFAULT_DATABASE_URL, show_default="sqlite:///bench/bench.db")
@click.option("--rounds", default=20, show_default=True, help="Times each URL of a scenario is measured.")
@click.option("--warmup", default=2, show_default=True, help="Untimed rounds first.")
@click.option("--only", multiple=True, help="Run only these scenarios (repeatable).")
@click.option("--detail", is_flag=True, help="Also print the median of each URL.")
@click.option("--explain", is_flag=True, help="Print each scenario's SQL, its time in SQLite alone and its query plan.")
@click.option("--sample", "sample_scenario", help="Sample this scenario's threads instead of timing: where the time goes.")
@click.option("--preload", type=click.Path(exists=True, dir_okay=False), multiple=True, help="Run this Python file before building the app (to try a change by monkeypatching).")
@click.option("--cpu", type=int, help="Pin the process to this CPU (like taskset -c N).")
@click.option("--seed", default=1, show_default=True)
def main(database_url: str, rounds: int, warmup: int, only: tuple[str, ...], detail: bool, explain: bool, sample_scenario: str | None, preload: tuple[str, ...], cpu: int | None, seed: int) -> None:
    """Time the case list, the case page and the dashboard through HTTP."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the test client logs every request
    for path in preload:
        runpy.run_path(path, run_name="__bench_preload__")
    slug = ORGS[0].slug
    email = staff_email(slug, Role.case_manager, 1)
    picked = pick_cases(database_url, slug, seed)
    app, client = make_client(database_url, email, BENCH_PASSWORD)
    chosen = [s for s in scenarios(picked) if not only or s.name in only]
    totals = ", ".join(f"{n:,} {t}" for t, n in picked["totals"].items())
    click.echo(f"database: {database_url} ({totals})")
    analyzed = "" if picked["analyzed"] is None else (", ANALYZEd" if picked["analyzed"] else ", not ANALYZEd")
    click.echo(f"engine {picked['version']}{analyzed}; CPUs allowed: {sorted(os.sched_getaffinity(0))}; signed in as {email}")
    if preload:
        click.echo(f"preloaded: {', '.join(preload)}")
    try:
        if sample_scenario:
            scenario = next((s for s in chosen if s.name == sample_scenario), None)
            if scenario is None:
                raise click.ClickException(f"no scenario {sample_scenario!r}")
            sample_requests(client, scenario, rounds)
            return
        if explain:
            for scenario in chosen:
                explain_urls = scenario.urls if scenario.name == "case_list_search" else scenario.urls[:1]
                for url in explain_urls:
                    explain_request(app, client, scenario, url, database_url)
            return
        click.echo(f"load average before: {os.getloadavg()[0]:.2f} (other processes on these cores make wall times noisy; CPU times less so)")
        click.echo(f"\n{'':<24} {'':<46} {'':>5} {'wall clock, ms':^23}  {'CPU, ms':^15}")
        click.echo(f"{'scenario':<24} {'what':<46} {'n':>5} {'median':>7} {'p95':>7} {'max':>7}  {'median':>7} {'p95':>7}")
        for scenario in chosen:
            result = measure(client, scenario, rounds, warmup)
            values = result.all
            click.echo(
                f"{scenario.name:<24} {scenario.title:<46} {len(values):>5} {ms(statistics.median(values))} {ms(percentile(values, 95))} {ms(max(values))}"
                f"  {ms(statistics.median(result.cpu))} {ms(percentile(result.cpu, 95))}"
            )
            if detail and len(scenario.urls) > 1:
                for url, ts in result.times.items():
                    click.echo(f"{'':<24}   {url[:60]:<60} median {ms(statistics.median(ts))} p95 {ms(percentile(ts, 95))}")
        click.echo(f"\nload average after: {os.getloadavg()[0]:.2f}")
    finally:
        client.__exit__(None, None, None)


if __name__ == "__main__":
    main()
