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
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from litestar import Response

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
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


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str = "list") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = WriteOnlyCell(sheet, value=value)
        text.data_type = "s"  # never a formula, whatever it starts with
        return text

    heading = []
    for name in header:
        title = WriteOnlyCell(sheet, value=name)
        title.font = bold
        heading.append(title)
    sheet.append(heading)
    for row in rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> Response[bytes]:
    """The list as a CSV or Excel download named ``<filename>.<fmt>``.

    :param fmt: ``"csv"`` or ``"xlsx"`` (anything else is treated as ``"csv"``).
    """
    name = _UNSAFE.sub("-", filename).strip("-") or "list"
    if fmt == "xlsx":
        body, media_type = xlsx_bytes(header, rows, name), XLSX_MEDIA_TYPE
    else:
        fmt, body, media_type = "csv", csv_bytes(header, rows), "text/csv; charset=utf-8"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})
