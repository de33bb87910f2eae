"""One Jinja environment: site overrides, then each module's templates, then core's.

A template may extend the one it overrides with the ``default:`` prefix, e.g. a site's
``base.html`` can start with ``{% extends "default:base.html" %}``.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup

from core import i18n
from core.services.cases import close_reason_label, status_label
from core.web.forms import option_label, payload_items

CORE_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STATIC = Path(__file__).resolve().parents[1] / "static"


@cache
def static_url(path: str) -> str:
    """The address of core's static file ``path`` with a fingerprint of its content
    (``/static/app.css?v=1a2b3c4d5e``): static files are cached for a year (core.web.app), so a
    changed file must get a new address. Read once per process; a file that is missing (htmx
    before ``homecoming assets``) gets its plain address."""
    file = STATIC / path
    if not file.is_file():
        return f"/static/{path}"
    return f"/static/{path}?v={hashlib.sha256(file.read_bytes()).hexdigest()[:10]}"


def build_environment(overrides: Path | None, module_template_dirs: list[Path]) -> Environment:
    core_loader = FileSystemLoader(CORE_TEMPLATES)
    loaders: list[Any] = []
    if overrides is not None:
        loaders.append(FileSystemLoader(overrides))
    loaders.extend(FileSystemLoader(d) for d in module_template_dirs)
    loaders.append(core_loader)
    loaders.append(PrefixLoader({"default": core_loader}, delimiter=":"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Jinja's "new style" gettext: ``_("Page %(n)s", n=page)``, ``ngettext(s, p, n)`` (``%(num)s``
    # is n) and ``{% trans %}`` blocks all fill placeholders the same way, escaping the values.
    env.install_gettext_callables(i18n.translate, i18n.translate_plural, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        current_locale=i18n.current_locale,
        locales=i18n.LOCALE_NAMES,
        status_label=status_label,
        close_reason_label=close_reason_label,
        option_label=option_label,
        payload_items=payload_items,
        static_url=static_url,
    )
    env.filters.update(
        date=i18n.format_date,
        number=i18n.format_number,
        money=i18n.format_money,
        percent=i18n.format_percent,
        t=lambda message: i18n.gettext(str(message)),
        nl2br=lambda text: Markup("<br>").join(text.splitlines()) if text else "",
    )
    return env
