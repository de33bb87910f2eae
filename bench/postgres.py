"""The same benchmark on PostgreSQL: a throw-away server, filled at the design size, measured.

Starts a server with :func:`core.testing_postgres.start_server` (initdb in a temporary folder, a
Unix socket only, ``fsync=off``: the set-up the test suite uses), creates an empty database, runs
``bench.generate`` into it and then ``bench.run`` against it (pages, baseline, start-up, load
test), and removes the server at the end. Options after ``--`` go to ``bench.run``.

    .venv/bin/python -m bench.postgres                                  # full size: ~5 min to fill, then the run
    .venv/bin/python -m bench.postgres --scale 0.01 -- --rounds 3       # a quick one
    .venv/bin/python -m bench.postgres -- --json bench/figures-postgresql.json --demo-rounds 0
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--scale", default=1.0, show_default=True, type=float, help="Passed to bench.generate.")
@click.option("--seed", default=2, show_default=True, type=int, help="Passed to bench.generate.")
@click.option("--today", help="Passed to bench.generate (YYYY-MM-DD).")
@click.option("--wait-for", type=click.Path(dir_okay=False), help="After filling, wait until this file exists before measuring (to measure when the machine is quiet).")
@click.argument("run_args", nargs=-1, type=click.UNPROCESSED)
def main(scale: float, seed: int, today: str | None, wait_for: str | None, run_args: tuple[str, ...]) -> None:
    """Fill a throw-away PostgreSQL server at the design size and run bench.run against it."""
    import psycopg

    from core.testing_postgres import start_server

    server = start_server()
    if server is None:
        raise click.ClickException("PostgreSQL is not installed (no initdb / pg_ctl found)")
    try:
        with psycopg.connect(server.url().replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        url = server.url("bench")
        click.echo(f"PostgreSQL {version} at {url}")
        started = time.perf_counter()
        generate = [sys.executable, "-m", "bench.generate", "--database-url", url, "--scale", str(scale), "--seed", str(seed)]
        if today:
            generate += ["--today", today]
        subprocess.run(generate, cwd=ROOT, check=True)
        click.echo(f"filled in {time.perf_counter() - started:.0f} s")
        if wait_for:
            click.echo(f"waiting for {wait_for} to exist")
            while not Path(wait_for).exists():
                time.sleep(2)
        subprocess.run([sys.executable, "-m", "bench.run", "--database-url", url, *run_args], cwd=ROOT, check=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
