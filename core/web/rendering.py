"""Rendering a full page: the layout needs the user, the navigation and the organisation."""

from __future__ import annotations

from typing import Any

from litestar.response import Redirect, Template

from core.context import Context


def render(ctx: Context, template: str, status_code: int = 200, **context: Any) -> Template:
    """A full page with the navigation items the user may see (from every enabled module)."""
    menu = [item for item in ctx.hooks.menu_items(ctx.organisation) if ctx.user.can(item.permission)]
    return Template(template, context={"user": ctx.user, "menu": menu, **context}, status_code=status_code)


def see_other(path: str) -> Redirect:
    """Post/redirect/get: 303 makes the browser follow with a GET."""
    return Redirect(path, status_code=303)
