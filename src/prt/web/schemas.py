"""The API's shared response schemas: a message, and a refusal naming each field at fault."""

from __future__ import annotations

from ninja import Schema


class Message(Schema):
    detail: str


class FieldError(Schema):
    field: str
    message: str


class Refusal(Schema):
    detail: str
    errors: list[FieldError] = []
