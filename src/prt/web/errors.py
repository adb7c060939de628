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


def parse_body(request, model, expected: dict[str, str], default: str):
    """A JSON body validated strictly by the pydantic ``model``; the first fault as a Refused naming
    its field: not an object, an unknown field (named only when it looks like a field name),
    a missing one, or a value not of the kind ``expected[field]`` (else ``default``) describes."""
    import re

    from pydantic import ValidationError

    data = json_body(request)
    fields = tuple(model.model_fields)
    if not isinstance(data, dict):
        raise Refused("body", f"expected a JSON object with {', '.join(fields)}")
    unknown = sorted(k for k in data if k not in fields)
    if unknown:
        name = unknown[0] if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", unknown[0]) else "body"
        raise Refused(name, f"unknown field (the fields are {', '.join(fields)})")
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error.get("loc") else "body"
        if error.get("type") == "missing":
            raise Refused(field, "required") from None
        raise Refused(field, f"expected {expected.get(field, default)}") from None


def allowed(call, *args, **kwargs):
    """``call(...)``, with Django's PermissionDenied answered as the API's 403."""
    from django.core.exceptions import PermissionDenied
    from ninja.errors import HttpError

    try:
        return call(*args, **kwargs)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or "not allowed") from None
