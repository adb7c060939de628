"""The web's one refusal: an :class:`~prt.errors.InputError` that names the field and its HTTP status.

Pages show the message; the API answers ``{"detail": "FIELD: message", "errors": [...]}`` with the
status. Messages name the field and what is allowed, never the submitted value (developers' guide).
"""

from __future__ import annotations

from prt.errors import InputError


class Refused(InputError):
    """A request refused: ``field`` at fault, ``status`` 422 (invalid), 403 (not allowed now) or 409."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status
