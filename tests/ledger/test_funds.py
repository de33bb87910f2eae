"""Funds, donor income, fund balances (held against beancount's reading of the export), budget
against actual, exchange rates at a date, and the recorded results of check and verify."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal as D

import pytest
from beancount import loader
from beancount.core import data
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from core.cli import main
from core.models import Case, Organisation, Person
from core.services.admin import create_organisation
from ledger.api import (
    Converter, LedgerError, create_fund, credit, debit, fund_available, general_book, get_fund, open_account, post,
    rate_on, record_donor_income, record_price, require_available, reverse,
)
from ledger.check import latest_runs, run_and_record, verify_org
from ledger.export import export_org
from ledger.funds import budget_vs_actual, fund_balances, set_budget_line
from ledger.models import CheckRun, JournalTransaction
from tests.ledger.conftest import OPENED, Ledger, journal_counts

DAY = date(2026, 3, 2)


@pytest.fixture
def funded(ledger: Ledger) -> Ledger:
    s = ledger.session
    create_fund(s, ledger.org_id, "EU-2026", "Reintegration 2026", OPENED, donor="European donor", restricted=True)
    create_fund(s, ledger.org_id, "General", "General support", OPENED, restricted=False)
    open_account(s, ledger.book, "Expenses:Programme:Housing", ["USD", "KHR"], OPENED)
    record_price(s, ledger.org_id, date(2026, 1, 2), "USD", "KHR", D("4000"))
    record_price(s, ledger.org_id, date(2026, 3, 1), "USD", "KHR", D("4100"))
    s.commit()
    return ledger


def spend(lg: Ledger, account: str, amount: str, currency: str, fund: str | None, on: date = DAY) -> JournalTransaction:
    cash = "Assets:Bank:USD" if currency == "USD" else "Assets:Cash:KHR"
    return post(lg.session, lg.book, on, f"Spending on {account}", [debit(account, D(amount), currency), credit(cash, D(amount), currency)],
                meta={"fund": fund} if fund else {})


def test_a_fund_opens_its_income_account_and_codes_are_checked(funded: Ledger) -> None:
    s = funded.session
    fund = get_fund(s, funded.org_id, "EU-2026")
    assert fund.income_account == "Income:Donations:EU-2026" and fund.restricted
    with pytest.raises(LedgerError, match="already has a fund"):
        create_fund(s, funded.org_id, "EU-2026", "Again", OPENED)
    with pytest.raises(LedgerError, match="code"):
        create_fund(s, funded.org_id, "eu 2026", "Bad code", OPENED)
    s.rollback()
    # an existing income account is adopted, not opened twice (Fund-A is in the test chart)
    adopted = create_fund(s, funded.org_id, "Fund-A", "Fund A", OPENED)
    assert adopted.income_account == "Income:Donations:Fund-A"


def test_donor_income_belongs_to_its_fund_and_spending_is_charged_by_metadata(funded: Ledger) -> None:
    s = funded.session
    eu = get_fund(s, funded.org_id, "EU-2026")
    income = record_donor_income(s, eu, DAY, D("1000.00"), "USD", "Assets:Bank:USD", reference="TT-55")
    # a leg on the fund's income account makes any entry the fund's
    gift = post(s, funded.book, DAY, "Riel gift", [debit("Assets:Cash:KHR", D("400000"), "KHR"), credit("Income:Donations:EU-2026", D("400000"), "KHR")])
    spent = spend(funded, "Expenses:Programme:Housing", "250.00", "USD", "EU-2026")
    spend(funded, "Expenses:Programme:Training", "100.00", "USD", "General")
    spend(funded, "Expenses:Fees", "3.00", "USD", None)
    s.commit()
    assert (income.fund, gift.fund, spent.fund) == ("EU-2026", "EU-2026", "EU-2026")
    assert income.meta == {"fund": "EU-2026", "plugin": "ledger", "reference": "TT-55"} and gift.meta == {"fund": "EU-2026"}
    rows = {b.fund.code if b.fund else None: b for b in fund_balances(s, funded.org_id)}
    assert rows["EU-2026"].income == {"USD": D("1000.00"), "KHR": D("400000")}
    assert rows["EU-2026"].balance == {"USD": D("750.00"), "KHR": D("400000")}
    assert rows["General"].balance == {"USD": D("-100.00")}
    assert rows[None].spent == {"USD": D("3.00")}
    # a reversal stays in the fund and gives the money back
    reverse(s, spent, DAY, "Paid twice")
    s.commit()
    rows = {b.fund.code if b.fund else None: b for b in fund_balances(s, funded.org_id)}
    assert rows["EU-2026"].balance == {"USD": D("1000.00"), "KHR": D("400000")}


@pytest.mark.parametrize(
    ("legs", "meta", "message"),
    [
        ("income", {"fund": "Nope"}, "no fund Nope"),
        ("income", {"fund": "General"}, "one fund only"),
        ("spend", {"fund": 5}, "code of a fund"),
        ("spend", {"case_id": "7"}, "positive whole number"),
        ("spend", {"grant_id": 0}, "positive whole number"),
    ],
)
def test_fund_and_case_metadata_are_checked_and_nothing_is_written(funded: Ledger, legs: str, meta: dict, message: str) -> None:
    lines = (
        [debit("Assets:Bank:USD", D("5"), "USD"), credit("Income:Donations:EU-2026", D("5"), "USD")]
        if legs == "income" else [debit("Expenses:Fees", D("5"), "USD"), credit("Assets:Bank:USD", D("5"), "USD")]
    )
    before = journal_counts(funded.session)
    with pytest.raises(LedgerError, match=message):
        post(funded.session, funded.book, DAY, "bad", lines, meta=meta)
    funded.session.rollback()
    assert journal_counts(funded.session) == before


def test_an_entry_cannot_name_another_organisations_case(funded: Ledger) -> None:
    s = funded.session
    other = create_organisation(s, "org-other", "Other", [])
    person = Person(org_id=other.id, name="Someone else")
    s.add(person)
    s.flush()
    case = Case(org_id=other.id, person_id=person.id, opened_on=OPENED)
    s.add(case)
    s.commit()
    with pytest.raises(LedgerError, match="not a case of this organisation"):
        spend_meta = {"case_id": case.id}
        post(s, funded.book, DAY, "x", [debit("Expenses:Fees", D("1"), "USD"), credit("Assets:Bank:USD", D("1"), "USD")], meta=spend_meta)


def test_rates_at_a_date_use_the_latest_price_either_way_round(funded: Ledger) -> None:
    s = funded.session
    assert rate_on(s, funded.org_id, "USD", "KHR", date(2026, 2, 15)) == (D("4000"), date(2026, 1, 2))
    assert rate_on(s, funded.org_id, "USD", "KHR", DAY) == (D("4100"), date(2026, 3, 1))
    assert rate_on(s, funded.org_id, "USD", "KHR", date(2025, 12, 31)) is None
    record_price(s, funded.org_id, date(2026, 3, 2), "KHR", "USD", D("0.00025"))  # 4,000 the other way round, later
    assert rate_on(s, funded.org_id, "USD", "KHR", DAY)[0] == D("4000")
    to_usd = Converter(s, funded.org_id, "USD", DAY)
    assert to_usd(D("410000"), "KHR") == D("102.50") and to_usd(D("1.23"), "USD") == D("1.23")
    assert to_usd.used() == [("USD", "KHR", D("4000"), date(2026, 3, 2))]
    with pytest.raises(LedgerError, match="no exchange rate from USD to KHR on or before 2025-06-01"):
        Converter(s, funded.org_id, "KHR", date(2025, 6, 1))(D("1"), "USD")


def test_a_restricted_fund_cannot_be_overspent_an_unrestricted_one_can(funded: Ledger) -> None:
    s = funded.session
    eu, general = get_fund(s, funded.org_id, "EU-2026"), get_fund(s, funded.org_id, "General")
    record_donor_income(s, eu, DAY, D("100.00"), "USD", "Assets:Bank:USD")
    record_donor_income(s, eu, DAY, D("41000"), "KHR", "Assets:Cash:KHR")
    s.commit()
    # 100 USD + 41,000 KHR at 4,100 = 110 USD
    assert fund_available(s, eu, "USD", DAY) == D("110.00")
    assert fund_available(s, eu, "KHR", DAY) == D("451000")
    require_available(s, eu, D("110.00"), "USD", DAY)
    with pytest.raises(LedgerError, match="has 110.00 USD left"):
        require_available(s, eu, D("110.01"), "USD", DAY)
    require_available(s, general, D("1000000"), "USD", DAY)


def test_budget_against_actual_per_fund_and_programme_in_one_currency(funded: Ledger) -> None:
    s = funded.session
    eu = get_fund(s, funded.org_id, "EU-2026")
    set_budget_line(s, funded.org_id, 2026, "Expenses:Programme", D("1000.00"), "USD", fund=eu)
    set_budget_line(s, funded.org_id, 2026, "Expenses:Programme:Housing", D("2050000"), "KHR")  # 500 USD at 4,100
    line = set_budget_line(s, funded.org_id, 2026, "Expenses:Programme:Housing", D("4100000"), "KHR")  # changes it
    spend(funded, "Expenses:Programme:Housing", "200.00", "USD", "EU-2026")
    spend(funded, "Expenses:Programme:Training", "410000", "KHR", "EU-2026")  # 100 USD
    spend(funded, "Expenses:Programme:Housing", "50.00", "USD", "General")
    spend(funded, "Expenses:Fees", "2.00", "USD", None)
    spend(funded, "Expenses:Programme:Housing", "999.00", "USD", "EU-2026", on=date(2027, 1, 5))  # next year
    s.commit()
    assert line.amount == D("4100000")
    report = budget_vs_actual(s, funded.org_id, 2026, "USD", DAY)
    (eu_fund, eu_rows, eu_total), (no_fund, all_rows, all_total) = report.by_fund
    assert eu_fund.code == "EU-2026" and no_fund is None
    assert [(r.account, r.budget, r.actual, r.remaining, r.used_percent) for r in eu_rows] == [
        ("Expenses:Programme", D("1000.00"), D("300.00"), D("700.00"), 30)
    ]
    assert [(r.account, r.budget, r.actual) for r in all_rows] == [("Expenses:Programme:Housing", D("1000.00"), D("250.00"))]
    assert [(r.account, r.budget, r.actual) for r in report.by_programme] == [
        ("Expenses:Programme", D("1000.00"), D("350.00")),
        ("Expenses:Programme:Housing", D("1000.00"), D("250.00")),
    ]
    assert report.unbudgeted == [("Expenses:Fees", D("2.00"))]
    assert report.rates == [("USD", "KHR", D("4100"), date(2026, 3, 1))]
    in_riel = budget_vs_actual(s, funded.org_id, 2026, "KHR", DAY)
    assert in_riel.by_fund[0][1][0].actual == D("1230000")
    with pytest.raises(LedgerError, match="expense account"):
        set_budget_line(s, funded.org_id, 2026, "Assets:Bank:USD", D("1"), "USD")
    with pytest.raises(LedgerError, match="No account Expenses:Travel"):
        set_budget_line(s, funded.org_id, 2026, "Expenses:Travel", D("1"), "USD")


def test_fund_balances_in_sql_equal_beancounts_reading_of_the_export(funded: Ledger) -> None:
    s = funded.session
    eu = get_fund(s, funded.org_id, "EU-2026")
    record_donor_income(s, eu, DAY, D("1234.56"), "USD", "Assets:Bank:USD")
    record_donor_income(s, eu, DAY, D("777000"), "KHR", "Assets:Cash:KHR")
    wrong = spend(funded, "Expenses:Programme:Housing", "200.10", "USD", "EU-2026")
    spend(funded, "Expenses:Programme:Training", "123400", "KHR", "EU-2026")
    spend(funded, "Expenses:Programme:Training", "19.99", "USD", "General")
    spend(funded, "Expenses:Fees", "1.50", "USD", None)
    reverse(s, wrong, DAY, "wrong amount")
    s.commit()
    org = s.get(Organisation, funded.org_id)
    (general,) = [e for e in export_org(s, org) if e.book.kind == "general"]
    entries, errors, _ = loader.load_string(general.text)
    assert errors == []
    from_beancount: dict[str | None, dict[str, D]] = defaultdict(lambda: defaultdict(D))
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                if p.account.split(":")[0] in ("Income", "Expenses"):
                    from_beancount[entry.meta.get("fund")][p.units.currency] -= p.units.number
    from_sql = {b.fund.code if b.fund else None: b.balance for b in fund_balances(s, funded.org_id)}
    for code, balance in from_beancount.items():
        assert {c: v for c, v in balance.items() if v} == {c: v for c, v in from_sql[code].items() if v}, code


def test_check_and_verify_results_are_recorded_and_append_only(funded: Ledger, database_url: str) -> None:
    s = funded.session
    org = s.get(Organisation, funded.org_id)
    record_donor_income(s, get_fund(s, org.id, "EU-2026"), DAY, D("10.00"), "USD", "Assets:Bank:USD")
    s.commit()
    result = CliRunner().invoke(main, ["--database-url", database_url, "ledger", "check", "--org", org.slug])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["--database-url", database_url, "ledger", "verify", "--org", org.slug])
    assert result.exit_code == 0, result.output
    s.expire_all()
    latest = latest_runs(s, org.id)
    assert {k: (r.ok, r.source, r.transactions) for k, r in latest.items()} == {"check": (True, "cli", 1), "verify": (True, "cli", 1)}
    # a later run is the latest; the earlier one stays
    run_and_record(s, org, "verify", source="web")
    s.commit()
    assert latest_runs(s, org.id)["verify"].source == "web"
    assert s.scalar(select(func.count()).select_from(CheckRun)) == 3
    with pytest.raises(DatabaseError, match="append-only"):
        s.execute(text("UPDATE ledger_check_runs SET ok = false"))
    s.rollback()


@pytest.mark.parametrize(
    ("table", "change", "problem"),
    [
        ("ledger_transactions", "UPDATE ledger_transactions SET fund = 'General'", "differs from its metadata"),
        # a moved posting date would move it out of (or into) a trial balance at a date
        ("ledger_postings", "UPDATE ledger_postings SET date = '2026-01-05'", "posting's date differs"),
    ],
)
def test_verify_notices_a_copied_column_changed_behind_the_apps_back(funded: Ledger, table: str, change: str, problem: str) -> None:
    s = funded.session
    record_donor_income(s, get_fund(s, funded.org_id, "EU-2026"), DAY, D("10.00"), "USD", "Assets:Bank:USD")
    s.commit()
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
    else:
        conn.execute(text(f"DROP TRIGGER {table}_no_update"))
    conn.execute(text(change))
    s.commit()
    s.expire_all()
    (b,) = verify_org(s, s.get(Organisation, funded.org_id))
    assert problem in b.problem


def test_the_migration_fills_the_new_columns_from_existing_metadata(tmp_path, registry) -> None:  # noqa: ANN001
    """0002 copies fund/case_id/grant_id out of the metadata of entries written before it, past
    the append-only trigger, and puts the trigger back."""
    from alembic import command
    from sqlalchemy import create_engine

    from core.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url, registry)
    command.upgrade(config, "0001_ledger")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organisations (id, slug, name, default_locale, follow_up_interval_days, follow_up_duration_months, created_at) VALUES (1, 'o', 'O', 'en', 90, 36, '2026-01-01')"))
        conn.execute(text("INSERT INTO ledger_books (id, org_id, kind, name, created_at) VALUES (1, 1, 'general', 'General', '2026-01-01')"))
        for seq, meta in enumerate(('{"fund": "EU", "case_id": 7, "grant_id": 3}', '{"plugin": "x"}'), start=1):
            conn.execute(
                text("INSERT INTO ledger_transactions (book_id, seq, date, flag, narration, meta, links, tags, created_at, hash, prev_hash) "
                     "VALUES (1, :seq, '2026-01-02', '*', 'n', :meta, '[]', '[]', '2026-01-02', 'h', 'p')"),
                {"seq": seq, "meta": meta},
            )
    command.upgrade(config, "heads")
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT fund, case_id, grant_id FROM ledger_transactions ORDER BY seq")).all()
        assert [tuple(r) for r in rows] == [("EU", 7, 3), (None, None, None)]
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("UPDATE ledger_transactions SET fund = 'X'"))
    engine.dispose()
