"""Writing the audit trail: :func:`record` one event, :func:`snapshot` and :func:`diff` the values.

Callers record inside the same database transaction as the change itself, so a change and its
audit event are committed together or not at all.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, models

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


def event(actor, action: str, instance: models.Model, changes: dict[str, list], reason: str = "") -> AuditEvent:
    """A new event about ``instance``, checked against the trail's rules (``AuditEvent.check_new``)
    but not stored: :func:`record` stores one; the diary stores one with its receipt."""
    new = AuditEvent(actor=actor if actor is not None and actor.is_authenticated else None,
                     action=action, model=instance._meta.label_lower, object_id=str(instance.pk),
                     changes=changes, reason=reason.strip())
    new.check_new()
    return new


#: The columns an insert writes: every concrete field but the database's own id.
_STORED = tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key)


@lru_cache(maxsize=16)
def insert_sql(using: str = DEFAULT_DB_ALIAS, source: str | None = None) -> str:
    """The INSERT of one event (``RETURNING`` its id), its values the parameters of
    :func:`insert_statement`; with ``source`` (a table or WITH query's name) one row per row of
    ``source``: none when it has none (the diary's first rating of a day, ``diary/statements``)."""
    q = connections[using].ops.quote_name
    values = ", ".join(["%s"] * len(_STORED))
    rows = f"VALUES ({values})" if source is None else f"SELECT {values} FROM {source}"
    return (f"INSERT INTO {q(AuditEvent._meta.db_table)} ({', '.join(q(f.column) for f in _STORED)}) "
            f"{rows} RETURNING {q(AuditEvent._meta.pk.column)}")


def insert_statement(new: AuditEvent, using: str = DEFAULT_DB_ALIAS) -> tuple[str, list]:
    """The INSERT of ``new`` (``RETURNING`` its id) and its parameters: each value through its
    field's ``pre_save`` and ``get_db_prep_save``, as Django's insert compiler prepares them.

    Why not ``AuditEvent.objects.create``: every audited change goes through here, the diary's
    300 submissions a second among them, and compiling the insert cost more CPU than running it
    (docs/benchmarks.md, "Web platform"); tests/web/audit/test_trail.py compares the rows."""
    connection = connections[using]
    return insert_sql(using), [f.get_db_prep_save(f.pre_save(new, True), connection) for f in _STORED]


def stored(new: AuditEvent, pk: int, using: str = DEFAULT_DB_ALIAS) -> AuditEvent:
    """``new`` marked as the stored row ``pk`` (as ``Model.save`` leaves an instance)."""
    new.pk = pk
    new._state.adding, new._state.db = False, using
    return new


def record(actor, action: str, instance: models.Model, changes: dict[str, list], reason: str = "",
           using: str = DEFAULT_DB_ALIAS) -> AuditEvent:
    """Append one event about ``instance`` (call inside the transaction that made the change)."""
    new = event(actor, action, instance, changes, reason)
    with connections[using].cursor() as cursor:
        cursor.execute(*insert_statement(new, using))
        return stored(new, cursor.fetchone()[0], using)
