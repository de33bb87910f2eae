"""Proposed (a product decision): the case list counts matches up to 200 rather than 1,000 and
says "More than 200 cases" (``core.services.cases.COUNT_CAP``, which the template reads). Counting stops five times
sooner on common prefixes, where the count is the dearest query of the page.

    .venv/bin/python -m bench.run --preload bench/experiments/count_cap_200.py
"""

from core.services import cases

cases.COUNT_CAP = 200
