"""The API's shared schemas: a message, a refusal naming each field at fault, and the strict field
types every router uses (a date only as ``YYYY-MM-DD``, a client UUID only in its canonical form)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from ninja import Schema
from pydantic import BeforeValidator


class Message(Schema):
    detail: str


class FieldError(Schema):
    field: str
    message: str


class Refusal(Schema):
    detail: str
    errors: list[FieldError] = []


def iso_date(value):
    """Only ``YYYY-MM-DD`` strings (pydantic alone would also take numbers and datetimes)."""
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError("expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("expected a date as YYYY-MM-DD") from None


def canonical_uuid(value):
    """Only UUID strings in the canonical 8-4-4-4-12 form."""
    if not isinstance(value, str) or len(value) != 36:
        raise ValueError("expected a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError("expected a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e") from None


IsoDate = Annotated[date, BeforeValidator(iso_date)]
ClientUUID = Annotated[uuid.UUID, BeforeValidator(canonical_uuid)]
