"""The export opens in beancount's own tools, run as subprocesses from the virtualenv:
``bean-check`` exits 0 on every file, ``bean-query`` reads the balances our SQL computes and the
entries' metadata, and ``fava --read-only`` serves the books with no errors.

The books: the ledger's demo year (USD and KHR, monthly changes of dollars into riel at a recorded
price, a reversal, a closed quarter) plus entries for a case and a microbusiness's own book with a
closed account, exported by ``homecoming ledger export`` (whole and ``--year``). The tools read
text, which does not depend on the database, so this runs on SQLite only.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.cli import main
from core.db import make_engine, make_session_factory
from core.models import Case, Person
from core.services.admin import create_organisation
from ledger.api import (
    Book,
    JournalTransaction,
    balances,
    close_account,
    create_book,
    credit,
    debit,
    from_minor,
    general_book,
    open_account,
    post,
)
from ledger.demo import load
from tests.conftest import unavailable

TODAY = date(2026, 5, 14)
SLUG = "tools"
BIN = Path(sys.executable).parent
#: no pickle cache beside the files (beancount's loader writes one by default)
ENV = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"}


@dataclass
class Export:
    out: Path
    whole: dict[str, Path]  # book name -> file of the whole book
    files: list[Path]  # every exported file (whole and --year)
    balances: dict[str, dict[tuple[str, str], int]]  # book name -> ledger.api.balances
    case_ids: tuple[int, int]  # a case with the demo's spending, a case with the entries below
    case_entries: dict[tuple[str, int], int]  # (book name, case id) -> entries with that case_id
    grants_entries: dict[str, int]  # book name -> entries whose metadata plugin is "grants"


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        unavailable(f"{name} is not installed in the virtualenv (scripts/setup.sh test)")
    return str(path)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=60)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Export:
    work = tmp_path_factory.mktemp("tools")
    shutil.copy(_sqlite_template, work / "tools.db")
    url = f"sqlite:///{work / 'tools.db'}"
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        org = create_organisation(s, SLUG, "Tools test", [])
        cases = []
        for name in ("Dara", "Sokha"):
            person = Person(org_id=org.id, name=name)
            s.add(person)
            s.flush()
            cases.append(Case(org_id=org.id, person_id=person.id, opened_on=date(2025, 1, 1)))
        s.add_all(cases)
        s.flush()
        demo_case, case = cases
        load(s, org, [demo_case], {}, TODAY)
        general = general_book(s, org.id)
        for day, amount in ((20, D("120.00")), (21, D("35.50"))):
            post(s, general, date(2026, 4, day), "Start-up grant for a participant", [
                debit("Expenses:Programme:Reintegration-Grants", amount, "USD"), credit("Assets:Bank:USD", amount, "USD"),
            ], meta={"case_id": case.id, "grant_id": 3, "plugin": "grants"}, links=["grant-3"])
        small = create_book(s, org.id, "Noodle stall", reference="grant-3")
        opened = {name: open_account(s, small, name, ["KHR"], date(2026, 4, 1)) for name in ("Assets:Cash", "Equity:Owner", "Expenses:Stall-Rent")}
        post(s, small, date(2026, 4, 20), "Grant received", [debit("Assets:Cash", D("400000"), "KHR"), credit("Equity:Owner", D("400000"), "KHR")],
             meta={"case_id": case.id, "plugin": "grants"}, links=["grant-3"])
        post(s, small, date(2026, 4, 25), "Rent of the stall", [debit("Expenses:Stall-Rent", D("60000"), "KHR"), credit("Assets:Cash", D("60000"), "KHR")])
        close_account(s, opened["Expenses:Stall-Rent"], date(2026, 4, 30))
        s.commit()
        case_ids = (demo_case.id, case.id)
        books = list(s.scalars(select(Book).where(Book.org_id == org.id).order_by(Book.id)))
        names = [b.name for b in books]
        sums = {b.name: balances(s, b) for b in books}
        metas = {b.name: [t.meta or {} for t in s.scalars(select(JournalTransaction).where(JournalTransaction.book_id == b.id))] for b in books}
    engine.dispose()

    out = work / "export"
    runner = CliRunner()
    whole = runner.invoke(main, ["--database-url", url, "ledger", "export", "--org", SLUG, "--out", str(out)])
    assert whole.exit_code == 0, whole.output
    yearly = runner.invoke(main, ["--database-url", url, "ledger", "export", "--org", SLUG, "--out", str(out), "--year", str(TODAY.year)])
    assert yearly.exit_code == 0, yearly.output
    whole_files = [Path(line) for line in whole.output.split()]
    files = whole_files + [Path(line) for line in yearly.output.split()]
    assert len(whole_files) == len(names) == 2 and sorted(files) == sorted(out.glob("*.beancount"))
    return Export(
        out=out,
        whole=dict(zip(names, whole_files, strict=True)),
        files=files,
        balances=sums,
        case_ids=case_ids,
        case_entries={(name, c): sum(1 for m in ms if m.get("case_id") == c) for name, ms in metas.items() for c in case_ids},
        grants_entries={name: sum(1 for m in ms if m.get("plugin") == "grants") for name, ms in metas.items()},
    )


def broken_copy(source: Path, folder: Path) -> Path:
    """A copy of ``source`` with an entry that does not balance, on an account never opened."""
    folder.mkdir(exist_ok=True)
    text = re.sub(r'^option "title" ".*"$', 'option "title" "Broken copy"', source.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE)
    text += '\n2026-05-14 * "Does not balance"\n  Assets:Bank:USD  1.00 USD\n  Expenses:Nowhere  -0.50 USD\n'
    path = folder / "broken.beancount"
    path.write_text(text, encoding="utf-8")
    return path


def assert_no_cache_beside(export: Export) -> None:
    assert sorted(export.out.iterdir()) == sorted(export.files)


def test_bean_check_passes_every_exported_file(export: Export, tmp_path: Path) -> None:
    bean_check = tool("bean-check")
    runs = {f.name: subprocess.Popen([bean_check, str(f)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV) for f in export.files}
    for name, proc in runs.items():
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{name}:\n{output}"
        assert output.strip() == "", f"{name}:\n{output}"
    # the control: bean-check does fail, naming both faults
    broken = run(bean_check, str(broken_copy(export.whole["General"], tmp_path / "broken")))
    assert broken.returncode != 0
    assert "Expenses:Nowhere" in broken.stdout + broken.stderr and "does not balance" in (broken.stdout + broken.stderr).lower()
    assert_no_cache_beside(export)


def bean_query(path: Path, query: str) -> list[dict[str, str]]:
    result = run(tool("bean-query"), "--format", "csv", str(path), query)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower(), result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def count(path: Path, where: str) -> int:
    rows = bean_query(path, f"SELECT count(*) AS n FROM #transactions WHERE {where}")
    return int(rows[0]["n"]) if rows else 0  # an aggregate over no rows gives no row


def test_bean_query_reads_the_balances_our_sql_computes(export: Export) -> None:
    for book, path in export.whole.items():
        rows = bean_query(path, "SELECT account, sum(position) AS balance GROUP BY account")
        found: dict[tuple[str, str], D] = {}
        for row in rows:
            for number, currency in re.findall(r"(-?\d+(?:\.\d+)?) ([A-Z][A-Z0-9'._-]*)", row["balance"]):
                found[(row["account"], currency)] = D(number)
        expected = {key: from_minor(minor, key[1]) for key, minor in export.balances[book].items() if minor}
        assert found == expected, book
        # to the last cent and riel, the figures are the same Decimals (exponent included)
        for key, value in found.items():
            assert str(value) == str(expected[key]), key
    general, small = export.balances["General"], export.balances["Noodle stall"]
    assert general[("Assets:Bank:USD", "USD")] and general[("Assets:Cash:KHR", "KHR")] and general[("Income:Donations:Unrestricted", "KHR")]
    assert small[("Assets:Cash", "KHR")] == 340000 and small[("Expenses:Stall-Rent", "KHR")] == 60000
    assert_no_cache_beside(export)


def test_bean_query_finds_entries_by_their_metadata(export: Export) -> None:
    demo_case, case = export.case_ids
    assert export.case_entries[("General", case)] == 2 and export.case_entries[("Noodle stall", case)] == 1
    assert export.case_entries[("General", demo_case)] >= 12 and export.case_entries[("Noodle stall", demo_case)] == 0
    assert export.grants_entries == {"General": 2, "Noodle stall": 1}
    for book, path in export.whole.items():
        for case_id in export.case_ids:
            assert count(path, f"meta['case_id'] = {case_id}") == export.case_entries[(book, case_id)], (book, case_id)
        assert count(path, "meta['plugin'] = 'grants'") == export.grants_entries[book]
        assert count(path, "'grant-3' IN links") == export.grants_entries[book]
    general = export.whole["General"]
    assert count(general, "'reversal' IN tags") == 1
    assert count(general, "meta['plugin'] = 'demo'") > 100
    # every entry carries its database id and hash
    assert count(general, "meta['db_id'] IS NULL OR meta['hash'] IS NULL") == 0
    rows = bean_query(general, f"SELECT meta['db_id'] AS id, meta['hash'] AS hash FROM #transactions WHERE meta['case_id'] = {case}")
    assert len(rows) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", r["hash"]) and int(r["id"]) > 0 for r in rows)
    assert_no_cache_beside(export)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LEDGER_DATA = re.compile(r'<script type="application/json" id="ledger-data">(.*?)</script>', re.DOTALL)


def ledger_data(response: httpx.Response) -> dict:
    match = LEDGER_DATA.search(response.text)
    assert match, response.text[:500]
    return json.loads(match.group(1))


def test_fava_serves_every_exported_file_read_only_without_errors(export: Export, tmp_path: Path) -> None:
    fava = tool("fava")
    broken = broken_copy(export.whole["General"], tmp_path / "broken")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "fava.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [fava, "--read-only", "--host", "127.0.0.1", "--port", str(port), *map(str, export.files), str(broken)],
            stdout=sink, stderr=subprocess.STDOUT, env=ENV,
        )
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, f"fava exited with {proc.returncode}:\n{log.read_text()}"
                try:
                    index = client.get("/")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"fava did not answer within 30 s:\n{log.read_text()}")
                    time.sleep(0.2)
            assert index.status_code == 302
            first = index.headers["location"].removeprefix(base).split("/")[1]
            home = client.get(index.headers["location"])
            assert home.status_code == 200
            ledgers = {ledger_data(home)["options"]["title"]: first}
            ledgers |= {title: url.strip("/") for title, url in ledger_data(home)["other_ledgers"]}
            assert len(ledgers) == len(export.files) + 1, ledgers
            for title, slug in ledgers.items():
                pages = [client.get(f"/{slug}/{page}/") for page in ("income_statement", "balance_sheet", "journal", "errors")]
                assert [p.status_code for p in pages] == [200] * 4, title
                errors = [ledger_data(p)["errors"] for p in pages]
                if title == "Broken copy":  # the control: fava reports what bean-check reports
                    assert all(len(e) >= 2 for e in errors), errors
                    continue
                assert errors == [[]] * 4, (title, errors)
                sheet = client.get(f"/{slug}/api/balance_sheet")
                assert sheet.status_code == 200 and "data" in sheet.json(), title
            # --read-only: fava refuses every request but GET, so the source cannot be changed
            put = client.put(f"/{first}/api/source", json={"file_path": str(export.files[0]), "source": "", "sha256sum": ""})
            assert put.status_code == 401
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert "Traceback" not in log.read_text(), log.read_text()
    assert export.files[0].read_text(encoding="utf-8").strip()
    assert_no_cache_beside(export)
