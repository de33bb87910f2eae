"""One's own account (``/account``): details, signed-in devices, signing out elsewhere or
everywhere, changing one's password; and the session cookie every sign-in sets."""

from __future__ import annotations

from functools import partial
from typing import Any

import litestar
from litestar import Request, Response
from litestar.response import Template

from core import auth
from core.context import Context
from core.i18n import LOCALE_NAMES
from core.services import account
from core.settings import Settings
from core.web.deps import Ctx
from core.web.forms import Form
from core.web.rendering import act, render, see_other

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True, status_code=303)


def set_session_cookie(response: Response[Any], settings: Settings, token: str) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Lax, for the whole site, and
    Secure when the site is served over HTTPS (``secure_cookies``)."""
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        max_age=settings.session_hours * 3600,
    )


def signed_out(request: Request[Any, Any, Any]) -> Response[Any]:
    """To the sign-in page, the session cookie deleted (a cookie is known by name and path)."""
    response = see_other("/login")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


def _token(request: Request[Any, Any, Any]) -> str | None:
    return request.cookies.get(auth.SESSION_COOKIE)


def _page(
    ctx: Context, request: Request[Any, Any, Any], errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    settings: Settings = request.app.state.settings
    return render(
        ctx,
        "account/index.html",
        status_code,
        devices=account.devices(ctx, _token(request), settings.session_idle_minutes),
        language=LOCALE_NAMES.get(ctx.user.locale, ctx.user.locale),
        errors=errors or {},
        min_password=auth.MIN_PASSWORD,
        changed=request.query_params.get("changed") == "1",
    )


@get("/account", opt={"permission": "account"})
def account_page(ctx: Ctx, request: Request[Any, Any, Any]) -> Template:
    return _page(ctx, request)


@post("/account/password", opt={"permission": "account"})
def change_password(ctx: Ctx, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    return act(
        ctx,
        lambda: account.change_password(
            ctx,
            str(data.get("current_password", "")),
            str(data.get("new_password", "")),
            str(data.get("new_password_again", "")),
            _token(request),
            request.app.state.login_throttle,
        ),
        "/account?changed=1",
        lambda errors: _page(ctx, request, errors, 422),
    )


@post("/account/sign-out-others", opt={"permission": "account"})
def sign_out_others(ctx: Ctx, request: Request[Any, Any, Any]) -> Response[Any]:
    """End every other session and every API token of the user; this one stays."""
    return act(ctx, lambda: account.sign_out_everywhere(ctx, keep_token=_token(request)), "/account#devices",
               lambda errors: _page(ctx, request, errors, 422))


@post("/account/sign-out-everywhere", opt={"permission": "account"})
def sign_out_everywhere(ctx: Ctx, request: Request[Any, Any, Any]) -> Response[Any]:
    """End every session (this one too) and every API token of the user."""
    account.sign_out_everywhere(ctx)
    ctx.session.commit()
    return signed_out(request)


ROUTES = [account_page, change_password, sign_out_others, sign_out_everywhere]
