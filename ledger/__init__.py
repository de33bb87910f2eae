"""The double-entry ledger every module posts through (an always-on built-in).

Public API for modules: :mod:`ledger.api`. Only this package imports beancount.
"""
