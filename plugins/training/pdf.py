"""The certificate as a PDF, in English or Khmer, drawn by WeasyPrint.

WeasyPrint needs Pango (with HarfBuzz, which shapes Khmer) and a Khmer font on the server
(Debian: ``libpango-1.0-0 libpangoft2-1.0-0 fonts-khmeros``). It is imported here, when a PDF
is asked for, and nowhere else: the module loads and every other page works on a server
without it, and the PDF link answers a page that says what is missing.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from core.plugin_api import use_locale

LANGUAGES = ("en", "km")
TEMPLATE = "training/certificate_pdf.html"


class PdfUnavailable(Exception):
    """WeasyPrint or the system libraries it needs (Pango) are not installed."""


def certificate_pdf(environment: Environment, catalogs: Any, language: str, **context: Any) -> bytes:
    """The certificate page rendered in ``language`` (``en`` or ``km``) and printed to PDF.

    :param environment: the app's Jinja environment (its gettext follows :func:`use_locale`).
    :param catalogs: the app's compiled catalogs.
    :raises PdfUnavailable: WeasyPrint cannot be imported or cannot load Pango.
    """
    try:
        # Imported here on purpose (see the module docstring): it loads Pango through cffi and
        # raises OSError, not ImportError, when the library is missing.
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(str(exc)) from exc
    with use_locale(language, catalogs):
        html = environment.get_template(TEMPLATE).render(language=language, **context)
        return HTML(string=html).write_pdf()
