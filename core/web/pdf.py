"""Printing a page to PDF with WeasyPrint, in English or Khmer (certificates, monthly sheets).

WeasyPrint needs Pango (with HarfBuzz, which shapes Khmer) and a Khmer font on the server
(Debian: ``libpango-1.0-0 libpangoft2-1.0-0 fonts-khmeros``). It is imported here, when a PDF
is asked for, and nowhere else: every module loads and every other page works on a server
without it, and the caller answers a page that says what is missing.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from core.i18n import LOCALES, use_locale


class PdfUnavailable(Exception):
    """WeasyPrint or the system libraries it needs (Pango) are not installed."""


def pdf_language(asked: str, fallback: str | None = None) -> str:
    """``asked`` when it is a language the app speaks, else ``fallback`` if it is one, else English."""
    return asked if asked in LOCALES else (fallback if fallback in LOCALES else "en")


def render_pdf(request: Request[Any, Any, Any], template: str, language: str, **context: Any) -> bytes:
    """``template`` rendered in ``language`` by the app's Jinja environment and printed to PDF.

    :raises PdfUnavailable: WeasyPrint cannot be imported or cannot load Pango.
    """
    try:
        # Imported here on purpose (see the module docstring): it loads Pango through cffi and
        # raises OSError, not ImportError, when the library is missing.
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(str(exc)) from exc
    environment = request.app.template_engine.engine  # type: ignore[union-attr]
    with use_locale(language, request.app.state.catalogs):
        html = environment.get_template(template).render(language=language, **context)
        return HTML(string=html).write_pdf()
