"""Check that ``search_hybrid.py`` returns exactly what core's ``search_cases`` and ``prisons``
return (rows, has_more, total), on a database filled by ``bench.generate``.

    .venv/bin/python -m bench.experiments.check_search_same sqlite:////tmp/bench-scratch/idx.db
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from sqlalchemy import select

from bench.generate import ORGS, staff_email
from bench.run import SEARCHES
from core.auth import load_current_user, role_permissions
from core.context import Context
from core.db import make_engine, make_session_factory
from core.models import Organisation, Role, User
from core.plugins import get_plugin_manager
from core.services import cases

QUERIES = [q for q, _ in SEARCHES] + ["S", "s", "sok d", "01/2019/0007", "", "%", "_", "Chan Dara", "  Kim  "]
STATUSES = [None, "closed", "referred", "released"]
OFFSETS = [0, 50, 500]


def main(url: str) -> None:
    registry = get_plugin_manager()
    original_search, original_prisons = cases.search_cases, cases.prisons
    runpy.run_path(str(Path(__file__).with_name("search_hybrid.py")))
    hybrid_search, hybrid_prisons = cases.search_cases, cases.prisons
    cases.search_cases, cases.prisons = original_search, original_prisons
    engine = make_engine(url)
    n = 0
    with make_session_factory(engine)() as session:
        for spec in ORGS:
            org_id = session.scalar(select(Organisation.id).where(Organisation.slug == spec.slug))
            user_id = session.scalar(select(User.id).where(User.email == staff_email(spec.slug, Role.case_manager, 1)))
            user = load_current_user(session, user_id, org_id, role_permissions(registry))
            assert user is not None
            ctx = Context(session, user, registry)
            assert original_prisons(ctx) == hybrid_prisons(ctx)
            for q in QUERIES:
                for status in STATUSES:
                    for manager in (None, user_id):
                        for offset in OFFSETS:
                            a = original_search(ctx, q, status, manager, None, 50, offset)
                            b = hybrid_search(ctx, q, status, manager, None, 50, offset)
                            assert [tuple(r) for r in a[0]] == [tuple(r) for r in b[0]], (spec.slug, q, status, offset)
                            assert a[1:] == b[1:], (spec.slug, q, status, offset, a[1:], b[1:])
                            n += 1
    engine.dispose()
    print(f"identical results for {n} searches and the prisons of {len(ORGS)} organisations")


if __name__ == "__main__":
    main(sys.argv[1])
