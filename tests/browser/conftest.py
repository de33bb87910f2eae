"""Browser fixtures: the app on a real uvicorn server filled with demo data, and Chromium pages
that record console errors, uncaught exceptions and CSP violations.

Chromium is Debian's (``/usr/bin/chromium`` or ``chromium`` on ``PATH``), driven by Playwright;
without it the tests skip, or fail under ``HOMECOMING_TEST_STRICT=1`` (CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from core.db import make_engine, make_session_factory
from core.demo import DEMO_PASSWORD, load_demo
from core.migrate import upgrade
from core.plugins import get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from tests.conftest import unavailable

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # No network here (nor in CI): keep Chromium from phoning home and flooding refused connections.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

CASE_MANAGER = "case.manager@fresh-start.demo"
"""The first demo case manager of the organisation that enables every module."""


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str
    password: str = DEMO_PASSWORD


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on ``http://127.0.0.1:<free port>``, on a SQLite database holding the demo data.

    One server for the session: tests add data (events) but must not rely on each other's.
    """
    database_url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'demo.db'}"
    registry = get_plugin_manager()
    upgrade(database_url, registry)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            load_demo(session, registry)
    finally:
        engine.dispose()
    app = create_app(get_settings(database_url, secret_key="browser-test-secret"), registry)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # bound before the thread starts: no race for the port
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    ready = threading.Event()
    for _ in range(200):  # up to 10 s
        if server.started or not thread.is_alive():
            break
        ready.wait(0.05)
    if not server.started:
        server.should_exit = True
        thread.join(5)
        sock.close()
        pytest.fail("the live server did not start")
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", database_url)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _chromium_path() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium through Playwright, shared by the session (each test gets its own context)."""
    executable = _chromium_path()
    if executable is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[test]')")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure means: no usable browser
        playwright.stop()
        unavailable(f"Chromium is not installed or Playwright cannot launch it ({executable}): {exc}")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@dataclass
class Problems:
    """What went wrong in the page while a test ran: console errors, page errors, CSP violations."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.csp_violations, *self.server_errors]

    def watch(self, page: Any) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("response", self._on_response)

    def _on_console(self, message: Any) -> None:
        if message.type == "error":  # CSP violations are logged as errors too
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _on_response(self, response: Any) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")


# Init scripts run before the page's own scripts and are not subject to its CSP.
_REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__hcReportCsp(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
});
"""


def new_page(
    browser: Any, server: LiveServer, viewport: dict[str, int], locale: str = "en-GB"
) -> tuple[Any, Any, Problems]:
    """A fresh context (no cookies) and page on ``server``, with its problems recorded."""
    context = browser.new_context(base_url=server.url, viewport=viewport, locale=locale)
    context.set_default_timeout(5_000)
    problems = Problems()
    context.expose_function("__hcReportCsp", lambda text: problems.csp_violations.append(text))
    context.add_init_script(_REPORT_CSP)
    page = context.new_page()
    problems.watch(page)
    return context, page, problems


@pytest.fixture
def page_for(browser: Any, live_server: LiveServer) -> Iterator[Callable[[dict[str, int]], tuple[Any, Problems]]]:
    """``page, problems = page_for(PHONE)``: a signed-out page of its own on the live server."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP) -> tuple[Any, Problems]:
        context, page, problems = new_page(browser, live_server, viewport)
        contexts.append(context)
        return page, problems

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a test saves its screenshots (``HOMECOMING_SCREENSHOTS=<folder>`` to keep them)."""
    keep = os.environ.get("HOMECOMING_SCREENSHOTS")
    folder = Path(keep) / request.node.name if keep else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder
