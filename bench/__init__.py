"""Benchmarks at the design size (issue 2): ``bench.generate`` fills a database, ``bench.run``
measures pages through HTTP. See ``bench/README.md``."""
