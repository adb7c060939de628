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


def json_body(request) -> object:
    """A request's JSON body, read strictly by :func:`prt.files.loads_json` (the web's one JSON reader).

    Not UTF-8 or malformed JSON: 400 naming ``body``. A NUL character in any key or text: 422
    naming the field (no database stores it; PostgreSQL refuses it outright).
    """
    from prt.errors import InputError
    from prt.files import loads_json

    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("body", "expected UTF-8 JSON", status=400) from None
    try:
        data = loads_json(text, "body")
    except InputError as exc:
        raise Refused("body", str(exc).removeprefix("body: "), status=400) from None
    _refuse_nul(data, "body")
    return data


def _refuse_nul(value: object, field: str) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise Refused(field, "contains a NUL character, which no text field accepts")
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key) if field == "body" else f"{field}.{key}"
            _refuse_nul(key, name)
            _refuse_nul(item, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_nul(item, f"{field}[{i}]")
