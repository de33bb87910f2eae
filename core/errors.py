"""Errors that services raise and the web layer turns into messages (never a 500)."""

from __future__ import annotations


class ActionRefused(Exception):
    """A user action that does not fit the rules; nothing of it is written.

    :param message: a translated sentence for the user.
    :param field: the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> dict[str, str]:
        """``{field: message}`` (``"__all__"`` when no field), like :class:`InvalidInput`'s, so a
        form can show either kind of refusal the same way."""
        return {self.field or "__all__": self.message}


class RecordNotFound(Exception):
    """The record does not exist in the current organisation (shown as 404, never as 403)."""


class InvalidInput(Exception):
    """Several field-level messages at once: ``{field name: translated message}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
