"""Rendering a full page: the layout needs the user, the navigation and the organisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Response
from litestar.response import Redirect, Template

from core.context import Context
from core.errors import ActionRefused, InvalidInput

T = TypeVar("T")


def render(ctx: Context, template: str, status_code: int = 200, **context: Any) -> Template:
    """A full page with the navigation items the user may see (from every enabled module)."""
    menu = [item for item in ctx.hooks.menu_items(ctx.organisation) if ctx.user.can(item.permission)]
    return Template(template, context={"user": ctx.user, "menu": menu, **context}, status_code=status_code)


def see_other(path: str) -> Redirect:
    """Post/redirect/get: 303 makes the browser follow with a GET."""
    return Redirect(path, status_code=303)


def act(
    ctx: Context,
    action: Callable[[], T],
    then: str | Callable[[T], str],
    refused: Callable[[dict[str, str]], Response[Any]],
) -> Response[Any]:
    """One user action, one database transaction (post/redirect/get).

    Runs ``action``; commits and redirects (303) to ``then`` (or ``then(result)``). When the
    action is refused (:class:`InvalidInput` or :class:`ActionRefused`), rolls back, so nothing
    of it is written, and returns ``refused(errors)``: the form again, its messages at their
    fields (``{field: message}``), usually with status 422.
    """
    try:
        result = action()
    except (InvalidInput, ActionRefused) as exc:
        ctx.session.rollback()
        return refused(exc.errors)
    ctx.session.commit()
    return see_other(then(result) if callable(then) else then)
