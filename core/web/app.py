"""The application factory: ``create_app(settings)`` builds a Litestar app; nothing is global."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Litestar, Request, Response, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.di import Provide
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.openapi import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope
from sqlalchemy.exc import DataError

from core.auth import LANGUAGE_COOKIE, PUBLIC, AuthMiddleware, LoginThrottle, permission_guard, role_permissions
from core.db import make_engine, make_session_factory
from core.errors import ActionRefused, InvalidInput, RecordNotFound
from core.i18n import LOCALES, Catalogs, negotiate, set_translations
from core.i18n import gettext as _
from core.plugins import PluginRegistry, get_plugin_manager
from core.settings import Settings, get_settings
from core.web import api, files, pages
from core.web.deps import provide_ctx, provide_db
from core.web.templating import STATIC, build_environment

log = logging.getLogger(__name__)

STATIC_CACHE = CacheControlHeader(max_age=365 * 24 * 3600, public=True, immutable=True)
"""Static files are cached for a year: pages link them with a fingerprint of their content
(core.web.templating.static_url), so a new release changes their address."""
GZIP = DefineMiddleware(CompressionMiddleware, config=CompressionConfig(backend="gzip", minimum_size=500, gzip_compress_level=6))
"""Static files are gzipped (the middleware sits on their routers only). Pages and API answers
are not: compressing a response that holds a secret (the CSRF token) next to text an attacker can
put in it (a search) leaks the secret (BREACH); a reverse proxy may compress them where that risk
is judged acceptable."""


def _static_router(path: str, directory: Path, name: str) -> Router:
    return create_static_files_router(
        path=path, directories=[directory], opt={"permission": PUBLIC}, name=name, cache_control=STATIC_CACHE, middleware=[GZIP]
    )


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    # No page needs these browser features; a script that got in could not use them either.
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
"""Sent when ``secure_cookies`` is on, i.e. the site is served over HTTPS only."""


async def security_headers(message: Message, scope: Scope) -> None:
    """Add the CSP and friends to every response, including Litestar's own 404 and 405 answers
    for addresses no route takes (``before_send`` runs for those; route middleware does not)."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", []))
        # A response that sets its own CSP (an attachment, core.web.files) keeps it.
        own = any(name.lower() == b"content-security-policy" for name, _value in headers)
        extra = [h for h in SECURITY_HEADERS if not (own and h[0] == b"content-security-policy")]
        if scope["app"].state.settings.secure_cookies:
            extra.append(HSTS)
        message["headers"] = headers + extra  # type: ignore[typeddict-item]


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/schema")


def _visitor_language(request: Request[Any, Any, Any]) -> None:
    """Make the visitor's language current for an answer no route gave (an unknown address).

    Such requests never pass :class:`AuthMiddleware`, which sets the language of routed ones; the
    cookie or ``Accept-Language`` stand in for the account's choice. The request's task ends with
    this answer, so the language set here is not reset.
    """
    if "locale" in request.scope.get("state", {}):
        return
    locale = request.cookies.get(LANGUAGE_COOKIE) or negotiate(request.headers.get("accept-language"))
    set_translations(locale if locale in LOCALES else "en", request.app.state.catalogs)


def _error_page(request: Request[Any, Any, Any], status: int, title: str, detail: str = "") -> Response[Any]:
    if _wants_json(request):
        body: dict[str, Any] = {"status_code": status, "detail": detail or title}
        return Response(body, status_code=status)
    return Template("error.html", context={"status": status, "title": title, "detail": detail}, status_code=status)


def _on_not_authorized(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _wants_json(request):
        detail = _("Wrong email or password, or the account is locked for a while.") if request.url.path == "/api/tokens" else _("Sign in first: send a bearer token.")
        return Response({"status_code": 401, "detail": detail}, status_code=401)
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.headers.get("hx-request"):
        return Response("", status_code=401, headers={"HX-Redirect": "/login"})
    return Redirect(f"/login?next={_safe_next(target)}")


def _safe_next(target: str) -> str:
    return quote(target if target.startswith("/") and not target.startswith("//") else "/", safe="")


def _on_not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    _visitor_language(request)
    return _error_page(request, 404, _("Not found"), _("There is nothing here, or it is not yours to see."))


def _on_forbidden(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if "csrf" in str(getattr(exc, "detail", "")).lower():  # Litestar's CSRF middleware refused it
        return _error_page(request, 403, _("Something is not right"), _("The form expired. Go back, reload the page and try again."))
    return _error_page(request, 403, _("Not allowed"), _("Your role does not allow this."))


def _on_refused(request: Request[Any, Any, Any], exc: ActionRefused) -> Response[Any]:
    errors = exc.errors
    if _wants_json(request):
        return Response({"status_code": 422, "detail": exc.message, "errors": errors}, status_code=422)
    return _error_page(request, 422, _("This cannot be done"), exc.message)


def _on_invalid(request: Request[Any, Any, Any], exc: InvalidInput) -> Response[Any]:
    if _wants_json(request):
        return Response({"status_code": 422, "detail": _("Some fields are not valid."), "errors": exc.errors}, status_code=422)
    return _error_page(request, 422, _("Some fields are not valid."), "; ".join(exc.errors.values()))


def _on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    _visitor_language(request)  # 405 for a path no route takes
    detail = exc.detail if exc.status_code < 500 else _("Something went wrong.")
    if _wants_json(request):
        body: dict[str, Any] = {"status_code": exc.status_code, "detail": detail}
        if exc.extra:
            body["extra"] = exc.extra
        return Response(body, status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 400:
        # Litestar's own details are English and technical ("Validation failed for GET /cases").
        detail = _("Something in the address or the form is not valid.")
    elif exc.status_code < 500:
        detail = _("This request cannot be handled.")
    return _error_page(request, exc.status_code, _("Something is not right"), str(detail))


def _on_overflow(request: Request[Any, Any, Any], exc: OverflowError) -> Response[Any]:
    """A number in the address or a form beyond what the database (64-bit integers) or a date can
    hold, such as ``?page=10**30``: bad input, answered 400 like any other (docs/security.md,
    "Bad input"); the request's transaction is rolled back, as for every error."""
    log.info("number out of range on %s %s: %s", request.method, request.url.path, exc)
    return _on_http(request, ClientException(detail=_("A number in the request is too large.")))


def _on_data_error(request: Request[Any, Any, Any], exc: DataError) -> Response[Any]:
    """PostgreSQL's "out of range" for such a number (SQLite's is the OverflowError above); any
    other data error is a server error."""
    if getattr(exc.orig, "sqlstate", None) == "22003":  # numeric_value_out_of_range
        return _on_overflow(request, OverflowError(str(exc.orig)))
    return _on_server_error(request, exc)


def _on_server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, _("Something went wrong."), _("The error was logged."))


def _freeze_startup_objects() -> None:
    """Keep what lives for the whole process (modules, the app, SQLAlchemy's and Litestar's caches)
    out of the cyclic garbage collector: without it a full collection pauses a request ~90 ms
    every few hundred requests at the design size (bench/README.md)."""
    gc.collect()
    gc.freeze()


def _module_routers(registry: PluginRegistry) -> list[Router]:
    """Each module's handlers under a router tagged with the module's name (404 when disabled)."""
    routers = []
    for name, loaded in registry.modules.items():
        handlers = list(loaded.module.route_handlers)
        if loaded.module.static is not None:
            handlers.append(
                _static_router(f"/static/{name}", loaded.module.static, f"static-{name}")
            )
        if handlers:
            # An always-on module's routes are not tagged: the guard never hides them.
            opt = {} if loaded.module.always_on else {"module": name}
            routers.append(Router(path="/", route_handlers=handlers, opt=opt))
    return routers


def create_app(settings: Settings | None = None, registry: PluginRegistry | None = None) -> Litestar:
    """Build the web app for ``settings`` with the modules of ``registry`` (default: installed)."""
    settings = settings or get_settings()
    registry = registry or get_plugin_manager(disabled=settings.disabled_plugins)
    engine = make_engine(settings.database_url)
    modules = [m.module for m in registry.modules.values()]
    environment = build_environment(settings.template_overrides, [m.templates for m in modules if m.templates])
    catalogs = Catalogs([m.locale for m in modules if m.locale])

    def dispose_engine() -> None:
        engine.dispose()

    return Litestar(
        route_handlers=[
            # One router: Litestar 2.25 wraps a sync handler twice when handlers of one path are
            # registered one by one at the app level.
            Router(path="/", route_handlers=[*pages.ROUTES, *files.ROUTES]),
            api.router,
            _static_router("/static", STATIC, "static"),
            *_module_routers(registry),
        ],
        dependencies={"ctx": Provide(provide_ctx), "db": Provide(provide_db)},
        guards=[permission_guard],
        middleware=[AuthMiddleware],
        before_send=[security_headers],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="hc_csrf",
            cookie_secure=settings.secure_cookies,
            # Pages carry the token in their forms and in htmx's headers; no script reads the cookie.
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=["/api/"],
        ),
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment)),
        plugins=[HTMXPlugin()],
        openapi_config=OpenAPIConfig(
            title="Homecoming API",
            version="0.1.0",
            path="/schema",
            openapi_router=Router(path="/schema", route_handlers=[], opt={"permission": PUBLIC}),
        ),
        exception_handlers={
            NotAuthorizedException: _on_not_authorized,
            NotFoundException: _on_not_found,
            RecordNotFound: _on_not_found,
            PermissionDeniedException: _on_forbidden,
            ActionRefused: _on_refused,
            InvalidInput: _on_invalid,
            HTTPException: _on_http,
            OverflowError: _on_overflow,
            DataError: _on_data_error,
            HTTP_500_INTERNAL_SERVER_ERROR: _on_server_error,
        },
        state=State(
            {
                "settings": settings,
                "registry": registry,
                "engine": engine,
                "session_factory": make_session_factory(engine),
                "write_session_factory": make_session_factory(engine, writes=True),
                "catalogs": catalogs,
                "perms_by_role": role_permissions(registry),
                "login_throttle": LoginThrottle(),
            }
        ),
        on_startup=[_freeze_startup_objects],
        on_shutdown=[dispose_engine],
        # Several photos in one form; each file is also held to core.services.attachments.MAX_BYTES.
        request_max_body_size=64 * 1024 * 1024,
        debug=settings.debug,
    )
