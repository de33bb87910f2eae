"""A module's ``hooks`` file that fails while it is imported (see test_loading_failures.py)."""

raise RuntimeError("this module is broken on purpose")
