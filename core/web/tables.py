"""Any list as a download: CSV (UTF-8 with a byte order mark, so spreadsheet programs read Khmer
right) or an Excel workbook with a bold, frozen header row.

Values are written as they are: ``Decimal`` and ``date`` stay numbers and dates in Excel (never
floats in CSV: ``str(Decimal)``); ``None`` is an empty cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from litestar import Response

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_SHEET = re.compile(r"[\\/*?:\[\]]")  # characters Excel refuses in a sheet's name
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"^[+-]?[\d\s().-]*$")  # "+855 12 345 678", "-5": data, not formulas


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (bool, int, Decimal, date, datetime)):
        return value
    text = str(value)
    # Text a spreadsheet program would run as a formula (CSV injection) is quoted as text.
    if text.startswith(_FORMULA) and not _NUMBER_LIKE.match(text):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: a bold, frozen ``header`` and its ``rows``; optionally ``above``
    the header (a title line) and ``below`` the rows after an empty line (totals)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    above: Sequence[Sequence[Any]] = ()
    below: Sequence[Sequence[Any]] = ()


def _number_format(value: Any) -> str | None:
    """Dates as dates; a Decimal with as many decimals as it carries (a money amount carries its
    currency's: 12.50 USD, 40000 KHR), with thousands separators."""
    if isinstance(value, (date, datetime)):
        return "yyyy-mm-dd" if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm"
    if isinstance(value, Decimal) and value.is_finite():
        places = -value.as_tuple().exponent  # type: ignore[operator]
        return "#,##0" if places <= 0 else "#,##0." + "0" * places
    return None


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An Excel workbook of ``sheets``. Text is always text (a name starting with ``=`` never
    becomes a formula); numbers, Decimals and dates stay numbers and dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell(sheet: Any, value: Any, font: Font | None = None) -> WriteOnlyCell:
        if isinstance(value, str):
            # Control characters (pasted in, or typed into an address) have no place in a
            # worksheet: openpyxl refuses them, and the download failed (docs/security.md, "Bad input").
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        out = WriteOnlyCell(sheet, value=value)  # None: an empty cell
        if isinstance(out.value, str):
            out.data_type = "s"  # never a formula, whatever it starts with
        elif (fmt := _number_format(value)) is not None:
            out.number_format = fmt
        if font is not None:
            out.font = font
        return out

    for spec in sheets:
        sheet = workbook.create_sheet(_UNSAFE_SHEET.sub(" ", spec.title)[:31] or "list")
        sheet.freeze_panes = f"A{len(spec.above) + 2}"
        for row in spec.above:
            sheet.append([cell(sheet, v, bold) for v in row])
        sheet.append([cell(sheet, name, bold) for name in spec.header])
        for row in spec.rows:
            sheet.append([cell(sheet, v) for v in row])
        if spec.below:
            sheet.append([])
            for row in spec.below:
                sheet.append([cell(sheet, v, bold if n == 0 else None) for n, v in enumerate(row)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _name(filename: str) -> str:
    return _UNSAFE.sub("-", filename).strip("-") or "list"


def workbook_download(filename: str, sheets: Sequence[Sheet]) -> Response[bytes]:
    """An Excel workbook of several sheets (or one with a title line or totals) as a download
    named ``<filename>.xlsx``."""
    name = _name(filename)
    return Response(xlsx_bytes(sheets), media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def table_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> Response[bytes]:
    """The list as a CSV or Excel download named ``<filename>.<fmt>``.

    :param fmt: ``"csv"`` or ``"xlsx"`` (anything else is treated as ``"csv"``).
    """
    name = _name(filename)
    if fmt == "xlsx":
        return workbook_download(name, [Sheet(name, header, rows)])
    return Response(csv_bytes(header, rows), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
