"""Translations and locale-aware formatting.

The current request's translations live in a context variable set by the web middleware (or by
:func:`use_locale` in the CLI and tests), so services, validators and templates all translate
with the same call. Catalogs are ``.po`` files compiled in memory at start-up: no build step and
no binary files in the repository.
"""

from __future__ import annotations

import gettext as _gettext
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, Translations

LOCALES = ("en", "km")
"""Languages a user can pick; English is the source language."""

LOCALE_NAMES = {"en": "English", "km": "ខ្មែរ"}
CORE_LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[tuple[str, _gettext.NullTranslations]] = ContextVar(
    "homecoming_translations", default=("en", _gettext.NullTranslations())
)


class Catalogs:
    """The compiled catalogs of core and every module, one merged ``Translations`` per locale."""

    def __init__(self, locale_dirs: Iterable[Path] = ()) -> None:
        self._by_locale: dict[str, _gettext.NullTranslations] = {}
        dirs = [CORE_LOCALE_DIR, *locale_dirs]
        for locale in LOCALES:
            merged: Translations | None = None
            for folder in dirs:
                po_path = folder / locale / "LC_MESSAGES" / "messages.po"
                if not po_path.exists():
                    continue
                with po_path.open("rb") as po:
                    catalog = read_po(po, locale=locale)
                buffer = BytesIO()
                write_mo(buffer, catalog)
                buffer.seek(0)
                translations = Translations(fp=buffer)
                if merged is None:
                    merged = translations
                else:
                    merged.merge(translations)
            self._by_locale[locale] = merged or _gettext.NullTranslations()

    def get(self, locale: str) -> _gettext.NullTranslations:
        return self._by_locale.get(locale) or _gettext.NullTranslations()


def negotiate(accept_language: str | None) -> str:
    """Pick a supported locale from an ``Accept-Language`` header (English when none fits)."""
    if not accept_language:
        return "en"
    wanted = [part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")]
    for tag in wanted:
        language = tag.split("_")[0].lower()
        if language in LOCALES:
            return language
    return "en"


def set_translations(locale: str, catalogs: Catalogs) -> object:
    """Make ``locale`` current for this context; returns a token for :func:`reset_translations`."""
    return _current.set((locale, catalogs.get(locale)))


def reset_translations(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


@contextmanager
def use_locale(locale: str, catalogs: Catalogs | None = None) -> Iterator[None]:
    """Translate and format in ``locale`` inside the block (CLI commands, PDF rendering, tests)."""
    token = set_translations(locale, catalogs or Catalogs())
    try:
        yield
    finally:
        reset_translations(token)


def current_locale() -> str:
    return _current.get()[0]


def gettext(message: str, **variables: object) -> str:
    """Translate ``message`` into the current locale; ``%(name)s`` placeholders are filled."""
    text = _current.get()[1].gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """Translate the singular or plural form for ``n`` into the current locale; ``%(num)s`` is
    ``n`` and other ``%(name)s`` placeholders take ``variables``."""
    text = _current.get()[1].ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def lazy_gettext(message: str, **variables: object) -> LazyProxy:
    """A string translated when it is shown, for labels defined at import time."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for extraction without translating it (yet).

    For English text that must be a plain ``str`` where it is written (a pydantic ``Field``
    title, a ``ValueError`` raised in a validator, a table of labels) and is passed through
    :func:`gettext` later, when it is shown. ``pybabel extract`` finds ``N_("...")`` calls.
    """
    return message


def translate(message: str) -> str:
    """The current translation of ``message`` with no placeholder filled (for Jinja's i18n)."""
    return _current.get()[1].gettext(message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    """The current translation of a plural message with no placeholder filled."""
    return _current.get()[1].ngettext(singular, plural, n)


_ = gettext


def format_date(value: date | datetime | None, format: str = "medium") -> str:  # noqa: A002
    """Format a date (or the date of a datetime) for the current locale; ``None`` gives ``""``.
    ``format`` is a Babel format name (``short``, ``medium``, ``long``, ``full``) or pattern."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return babel_dates.format_datetime(value, format=format, locale=current_locale())
    return babel_dates.format_date(value, format=format, locale=current_locale())


def format_number(value: int | Decimal | None) -> str:
    if value is None:
        return ""
    return babel_numbers.format_decimal(value, locale=current_locale())


#: currencies shown without decimals whatever CLDR says (the ledger keeps them in whole units)
WHOLE_UNIT_CURRENCIES = frozenset({"KHR"})


def format_money(amount: Decimal | None, currency: str) -> str:
    """Format a Decimal amount of ``currency`` (USD, KHR) for the current locale."""
    if amount is None:
        return ""
    if isinstance(amount, float):  # pragma: no cover - a programming error, never user input
        raise TypeError("money must be Decimal, not float")
    if currency in WHOLE_UNIT_CURRENCIES:
        # CLDR gives the riel two decimals, but riel are counted whole (and kept whole in the
        # ledger): the locale's own currency pattern, without its fraction digits.
        pattern = Locale.parse(current_locale()).currency_formats["standard"].pattern.split(";")[0]
        return babel_numbers.format_currency(
            amount, currency, format=re.sub(r"\.0+", "", pattern), currency_digits=False, locale=current_locale()
        )
    return babel_numbers.format_currency(amount, currency, locale=current_locale())


def format_percent(value: float | Decimal | None, decimals: int = 1) -> str:
    """A share from 0 to 1 as a percentage for the current locale (``0.125`` -> ``12.5%``)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return babel_numbers.format_percent(value, format=pattern, locale=current_locale())
