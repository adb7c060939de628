"""Writing the audit trail: :func:`record` one event, :func:`snapshot` and :func:`diff` the values.

Callers record inside the same database transaction as the change itself, so a change and its
audit event are committed together or not at all.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from prt.web.audit.models import AuditEvent


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``instance`` as JSON-ready values (foreign keys by id)."""
    names = set(fields) if fields is not None else None
    out = {}
    for field in instance._meta.concrete_fields:
        if names is not None and field.name not in names:
            continue
        out[field.name] = field.value_from_object(instance)
    return json.loads(json.dumps(out, cls=DjangoJSONEncoder))


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, list]:
    """``{field: [old, new]}`` for each field whose value differs (all fields on create or delete)."""
    old, new = old or {}, new or {}
    return {name: [old.get(name), new.get(name)] for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)}


def record(actor, action: str, instance: models.Model, changes: dict[str, list], reason: str = "") -> AuditEvent:
    """Append one event about ``instance`` (call inside the transaction that made the change)."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action, model=instance._meta.label_lower, object_id=str(instance.pk),
        changes=changes, reason=reason.strip())
