"""Export to beancount: both currencies, prices, a cross-currency entry; zero loader errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

from beancount import loader
from beancount.core import data
from click.testing import CliRunner

from core.cli import main
from core.models import Organisation
from ledger.api import create_book, credit, debit, open_account, post, record_price, reverse
from ledger.check import check_org, load_own_text
from ledger.export import export_org
from tests.ledger.conftest import Ledger


def fill(lg: Ledger) -> None:
    s, b = lg.session, lg.book
    record_price(s, lg.org_id, date(2026, 1, 2), "USD", "KHR", D("4100"))
    post(s, b, date(2026, 1, 5), 'Donor "A" grant', [debit("Assets:Bank:USD", D("5000.00"), "USD"), credit("Income:Donations:Fund-A", D("5000.00"), "USD")],
         payee="Fund A", meta={"plugin": "core"}, links=["fund-a"])
    t = post(s, b, date(2026, 2, 1), "Exchange for cash", [credit("Assets:Bank:USD", D("100"), "USD", price=D("4100"), price_currency="KHR"), debit("Assets:Cash:KHR", D("410000"), "KHR")])
    post(s, b, date(2026, 2, 3), "Course materials", [debit("Expenses:Programme:Training", D("123500"), "KHR"), credit("Assets:Cash:KHR", D("123500"), "KHR")],
         meta={"case_id": lg.case_id, "grant_id": 9, "plugin": "grants"}, links=["grant-9"], tags=["training"])
    reverse(s, t, date(2026, 2, 4), "wrong rate")
    post(s, b, date(2027, 1, 10), "Bank fee", [debit("Expenses:Fees", D("1.25"), "USD"), credit("Assets:Bank:USD", D("1.25"), "USD")])
    small = create_book(s, lg.org_id, "Noodle stall", reference="grant-9")
    open_account(s, small, "Assets:Cash", ["KHR"], date(2026, 2, 1))
    open_account(s, small, "Equity:Owner", ["KHR"], date(2026, 2, 1))
    post(s, small, date(2026, 2, 2), "Grant received", [debit("Assets:Cash", D("400000"), "KHR"), credit("Equity:Owner", D("400000"), "KHR")], links=["grant-9"])
    s.commit()


def test_export_loads_with_zero_errors_and_carries_the_metadata(ledger: Ledger) -> None:
    fill(ledger)
    org = ledger.session.get(Organisation, ledger.org_id)
    general, small = export_org(ledger.session, org)
    entries, errors, _ = loader.load_string(general.text)
    assert errors == []
    assert {type(e).__name__ for e in entries} >= {"Open", "Commodity", "Price", "Transaction"}
    txns = [e for e in entries if isinstance(e, data.Transaction)]
    assert len(txns) == 5
    grant = next(t for t in txns if "grant-9" in t.links)
    assert (grant.meta["case_id"], grant.meta["grant_id"], grant.meta["plugin"]) == (ledger.case_id, 9, "grants")
    assert len(grant.meta["hash"]) == 64 and grant.meta["db_id"] > 0
    rev = next(t for t in txns if "reversal" in t.tags)
    assert any(link.startswith("reverses-") for link in rev.links)
    assert "@ 4100 KHR" in general.text
    assert "Donor \\\"A\\\" grant" in general.text
    assert load_own_text(small.text)[1] == []
    assert check_org(ledger.session, org) == {general.filename: [], small.filename: []}


def test_export_per_year_brings_balances_forward(ledger: Ledger) -> None:
    fill(ledger)
    org = ledger.session.get(Organisation, ledger.org_id)
    general = export_org(ledger.session, org, year=2027)[0]
    entries, errors, _ = loader.load_string(general.text)
    assert errors == []
    txns = [e for e in entries if isinstance(e, data.Transaction)]
    assert [t.narration for t in txns] == ["Balances brought forward to 2027", "Bank fee"]
    # assets carry over; 2026's income and expenses are closed into equity, so 2027 starts at zero
    forward = {(p.account, p.units.currency): p.units.number for p in txns[0].postings}
    assert forward[("Assets:Bank:USD", "USD")] == D("5000.00")
    assert not any(account.startswith(("Income", "Expenses")) for account, _c in forward)
    assert forward[("Equity:Earnings:Previous", "USD")] == D("-5000.00")
    assert general.filename.endswith("-2027.beancount")


def test_cli_export_check(ledger: Ledger, database_url: str, tmp_path: Path) -> None:
    fill(ledger)
    runner = CliRunner()
    out = runner.invoke(main, ["--database-url", database_url, "ledger", "export", "--org", ledger.org_slug, "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    files = sorted(tmp_path.glob("*.beancount"))
    assert len(files) == 2
    for f in files:
        assert loader.load_file(str(f))[1] == []
    out = runner.invoke(main, ["--database-url", database_url, "ledger", "check", "--org", ledger.org_slug])
    assert out.exit_code == 0, out.output
    assert out.output.count(": ok") == 2
    out = runner.invoke(main, ["--database-url", database_url, "ledger", "check", "--org", "nope"])
    assert out.exit_code != 0


def test_check_refuses_text_with_a_plugin_directive() -> None:
    import pytest

    with pytest.raises(ValueError, match="plugin"):
        load_own_text('plugin "os.system"\n')
