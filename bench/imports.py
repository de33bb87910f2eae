"""Time the persons import (issue 8, part 6) on files of a few thousand rows.

For each size, a fresh SQLite database (``core.migrate.upgrade``) with one organisation; then the
dry run (``imports.check``) and the whole import (``imports.run``, one transaction) of a generated
persons file, the way ``homecoming import persons`` does them. Prints n, median and p95 of each
step in milliseconds; it asserts nothing about time (tests/core/test_import.py checks the import
writes all or nothing and issues a bounded number of statements).

    .venv/bin/python -m bench.imports --rounds 5 --rows 3000 --rows 20000
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy.orm import Session

from bench.run import ms, percentile
from core.db import make_engine
from core.migrate import upgrade
from core.plugins import get_plugin_manager
from core.services import imports
from core.services.admin import create_organisation


def persons_file(rows: int) -> bytes:
    lines = ["name,sex,date_of_birth,province"]
    lines += [f"Person {i:06d},{'female' if i % 2 else 'male'},{(date(1960, 1, 1) + timedelta(days=i % 20000)).isoformat()},Kandal"
              for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def one_round(rows: int, content: bytes, folder: Path) -> tuple[float, float]:
    """``(seconds to check, seconds to import)`` into a new database."""
    url = f"sqlite:///{folder / f'imports-{rows}-{time.monotonic_ns()}.db'}"
    registry = get_plugin_manager()
    upgrade(url, registry)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            org = create_organisation(session, "bench", "Import bench", [])
            session.commit()
            started = time.perf_counter()
            checked = imports.check(session, org.id, "persons", content, date.today())
            check_s = time.perf_counter() - started
            assert checked.ok, checked.errors[:3]
            batch = imports.record_batch(session, org.id, None, "bench.csv", content, checked)
            started = time.perf_counter()
            written = imports.run(session, org.id, batch, hooks=registry.hooks_for([]), user_id=None, today=date.today())
            session.commit()
            import_s = time.perf_counter() - started
            assert written == rows
    finally:
        engine.dispose()
    return check_s, import_s


@click.command()
@click.option("--rows", "sizes", type=int, multiple=True, default=(3000, 20000), show_default=True)
@click.option("--rounds", type=int, default=5, show_default=True)
def main(sizes: tuple[int, ...], rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            content = persons_file(rows)
            timings = [one_round(rows, content, Path(folder)) for _ in range(rounds)]
            for name, values in (("dry run", [t[0] for t in timings]), ("import", [t[1] for t in timings])):
                click.echo(f"persons x {rows:>6}  {name:<8} n={len(values)}  median {ms(statistics.median(values))} ms"
                           f"  p95 {ms(percentile(values, 95))} ms")


if __name__ == "__main__":
    main()
