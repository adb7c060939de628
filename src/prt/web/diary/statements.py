"""The daily-pain submission's SQL, written once per database from the models' own metadata.

Why not the ORM for these statements: a rating through the API is the platform's hottest
path (issue 13: 300 submissions per second on 2 cores), and building each query through Django's
query compiler cost more CPU than running it (docs/benchmarks.md, "Web platform"). Table and
column names come from ``Model._meta`` and every value goes through its field's
``get_db_prep_save``, so the rows are exactly those the ORM writes; the constraints (one entry per
day, the rating's range, one receipt per client UUID) are the database's, as before;
tests/web/diary/test_statements.py compares the rows with the ORM's on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connections

from prt.web.accounts.models import Site
from prt.web.audit import trail
from prt.web.audit.models import AuditEvent
from prt.web.diary.models import DiarySubmission, PainRating
from prt.web.participants.models import Participant
from prt.web.sqlrows import Columns

ENTRY_FIELDS = ("id", "participant", "day", "rating", "created_at", "updated_at")
RECEIPT_FIELDS = ("client_uuid", "participant", "entry", "rating", "received_at")


@dataclass(frozen=True)
class Statements:
    #: The participant's status, their site's time zone and their entry for a day (its columns,
    #: NULL when there is none), in one statement; the participant's row locked where the database
    #: has row locks (PostgreSQL), so one participant's submissions are serialized. Where
    #: ``together``, also the id a new entry will have (drawn from its sequence when there is none).
    lock: str
    #: How to read the entry's columns of ``lock``'s row back into a PainRating.
    entry: Columns
    #: A new entry (its id given where ``together``, else returned).
    insert_entry: str
    #: A receipt (its primary key is the client UUID: a retry fails here).
    insert_receipt: str
    #: Whether a new entry, its audit event and the receipt go to the database as one statement
    #: (PostgreSQL's data-modifying WITH: one round trip instead of three).
    together: bool


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


@lru_cache(maxsize=8)
def statements(using: str = DEFAULT_DB_ALIAS) -> Statements:
    connection = connections[using]
    q = connection.ops.quote_name
    together = connection.vendor == "postgresql"
    participant, site, table = q(Participant._meta.db_table), q(Site._meta.db_table), q(PainRating._meta.db_table)
    entry = Columns.of(PainRating, "e", connection)
    selected = [f"p.{q(_column(Participant, 'status'))}", f"s.{q(_column(Site, 'timezone'))}", *entry.selected]
    if together:  # evaluated only when the day has no entry (CASE), so a change draws no id
        selected.append(f"CASE WHEN e.{q(PainRating._meta.pk.column)} IS NULL THEN nextval(pg_get_serial_sequence("
                        f"'{table}', '{PainRating._meta.pk.column}')) END")
    lock = (f"SELECT {', '.join(selected)} "
            f"FROM {participant} p INNER JOIN {site} s ON s.{q(Site._meta.pk.column)} = p.{q(_column(Participant, 'site'))} "
            f"LEFT JOIN {table} e ON e.{q(_column(PainRating, 'participant'))} = "
            f"p.{q(Participant._meta.pk.column)} AND e.{q(_column(PainRating, 'day'))} = %s "
            f"WHERE p.{q(Participant._meta.pk.column)} = %s")
    if connection.features.has_select_for_update_of:
        lock += " FOR UPDATE OF p"
    elif connection.features.has_select_for_update:
        lock += " FOR UPDATE"
    entry_columns = [q(_column(PainRating, f)) for f in ENTRY_FIELDS]
    if together:
        insert_entry = (f"INSERT INTO {table} ({', '.join(entry_columns)}) "
                        f"VALUES ({', '.join(['%s'] * len(ENTRY_FIELDS))})")
    else:
        insert_entry = (f"INSERT INTO {table} ({', '.join(entry_columns[1:])}) "
                        f"VALUES ({', '.join(['%s'] * (len(ENTRY_FIELDS) - 1))}) RETURNING {entry_columns[0]}")
    receipt_columns = ", ".join(q(_column(DiarySubmission, f)) for f in RECEIPT_FIELDS)
    insert_receipt = (f"INSERT INTO {q(DiarySubmission._meta.db_table)} ({receipt_columns}) "
                      f"VALUES ({', '.join(['%s'] * len(RECEIPT_FIELDS))})")
    return Statements(lock, entry, insert_entry, insert_receipt, together)


def _prep(model, name: str, value, connection):
    return model._meta.get_field(name).get_db_prep_save(value, connection=connection)


@dataclass(frozen=True)
class Locked:
    """What the lock read: the participant's status, their site's time zone, their entry for the
    day (None when there is none) and, where a new entry is stored with its receipt, its id."""

    status: str
    timezone: str
    entry: PainRating | None
    new_entry_id: int | None


def lock_participant(participant_pk: int, day: date, using: str = DEFAULT_DB_ALIAS) -> Locked | None:
    """The participant's :class:`Locked` row, locked until the transaction ends; None when there is
    no such participant."""
    connection = connections[using]
    found = statements(using)
    with connection.cursor() as cursor:
        cursor.execute(found.lock, [_prep(PainRating, "day", day, connection), participant_pk])
        row = cursor.fetchone()
    if row is None:
        return None
    end = 2 + len(found.entry.attnames)
    return Locked(row[0], row[1], found.entry.instance(row[2:end], using, connection),
                  row[end] if found.together else None)


def new_entry(participant_pk: int, day: date, rating: int, now: datetime, locked: Locked,
              using: str = DEFAULT_DB_ALIAS) -> PainRating:
    """A new entry for the day. Where the lock drew its id (PostgreSQL) it is not stored yet
    (``_state.adding``): :func:`insert_receipt` stores it with the receipt. Elsewhere it is stored
    now, its id the database's, as the ORM's ``create`` leaves it."""
    entry = PainRating(id=locked.new_entry_id, participant_id=participant_pk, day=day, rating=rating,
                       created_at=now, updated_at=now)
    if locked.new_entry_id is None:
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(statements(using).insert_entry, _entry_params(entry, ENTRY_FIELDS[1:], connection))
            entry.pk = cursor.fetchone()[0]
        entry._state.adding, entry._state.db = False, using
    return entry


def _entry_params(entry: PainRating, fields: tuple[str, ...], connection) -> list:
    return [_prep(PainRating, name, getattr(entry, PainRating._meta.get_field(name).attname), connection)
            for name in fields]


def insert_receipt(client_uuid: uuid.UUID, participant_pk: int, entry: PainRating, rating: int, now: datetime,
                   audit: AuditEvent | None = None, using: str = DEFAULT_DB_ALIAS) -> None:
    """The submission's receipt, with ``audit`` (a new event, ``trail.event``) and ``entry`` when it
    is not stored yet (:func:`new_entry`): one statement where the database allows it. Raises
    IntegrityError, and stores none of them, when the client UUID was used before."""
    connection = connections[using]
    found = statements(using)
    receipt = [_prep(DiarySubmission, "client_uuid", client_uuid, connection), participant_pk, entry.pk, rating,
               _prep(DiarySubmission, "received_at", now, connection)]
    parts: list[tuple[str, str, list]] = []  # (name, statement, parameters) in order
    if entry._state.adding:
        parts.append(("entry", found.insert_entry, _entry_params(entry, ENTRY_FIELDS, connection)))
    if audit is not None:
        parts.append(("audited", *trail.insert_statement(audit, using)))
    parts.append(("receipt", found.insert_receipt, receipt))
    event_pk = None
    with connection.cursor() as cursor:
        if found.together and len(parts) > 1:
            ctes = ", ".join(f"{name} AS ({sql})" for name, sql, _ in parts)
            tail = "SELECT * FROM audited" if audit is not None else "SELECT 1"
            cursor.execute(f"WITH {ctes} {tail}", [p for _, _, params in parts for p in params])
            event_pk = cursor.fetchone()[0]
        else:
            for name, sql, params in parts:
                cursor.execute(sql, params)
                if name == "audited":
                    event_pk = cursor.fetchone()[0]
    if entry._state.adding:
        entry._state.adding, entry._state.db = False, using
    if audit is not None:
        trail.stored(audit, event_pk, using)
