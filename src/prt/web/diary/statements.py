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

import os
import threading
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction

from prt.web import sqlrows
from prt.web.accounts.models import Site
from prt.web.audit import trail
from prt.web.audit.models import AuditEvent
from prt.web.diary.models import DiarySubmission, PainRating
from prt.web.participants.models import DIARY_STATUSES, Participant
from prt.web.sqlrows import Columns

ENTRY_FIELDS = ("id", "participant", "day", "rating", "created_at", "updated_at")
RECEIPT_FIELDS = ("client_uuid", "participant", "entry", "rating", "received_at")


@dataclass(frozen=True)
class Statements:
    #: The participant's status, their site's time zone and their entry for a day (its columns,
    #: NULL when there is none), in one statement; the participant's row locked where the database
    #: has row locks (PostgreSQL), so one participant's submissions are serialized.
    lock: str
    #: How to read the entry's columns of ``lock``'s row back into a PainRating.
    entry: Columns
    #: A new entry (its id given where ``together``, else returned).
    insert_entry: str
    #: A receipt (its primary key is the client UUID: a retry fails here).
    insert_receipt: str
    #: Whether a new entry, its audit event and the receipt go to the database as one statement
    #: (PostgreSQL's data-modifying WITH: one round trip instead of three); a new entry's id is then
    #: drawn ahead (:data:`ENTRY_IDS`).
    together: bool
    #: Where ``together``: a day's first rating as one statement outside any transaction
    #: (:func:`create_first_of_day`): the participant's row locked while their diary is open, the
    #: entry unless the day has one, and then its audit event and the receipt; one column, the
    #: audit event's id, NULL when nothing was stored. None elsewhere.
    create_first: str | None
    #: Where ``together``: ``ENTRY_IDS.BLOCK`` new ids from the entries' sequence.
    draw_ids: str | None


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


@lru_cache(maxsize=8)
def statements(using: str = DEFAULT_DB_ALIAS) -> Statements:
    connection = connections[using]
    q = connection.ops.quote_name
    together = connection.vendor == "postgresql"
    participant, site, table = q(Participant._meta.db_table), q(Site._meta.db_table), q(PainRating._meta.db_table)
    entry = Columns.of(PainRating, "e", connection)
    selected = [f"p.{q(_column(Participant, 'status'))}", f"s.{q(_column(Site, 'timezone'))}", *entry.selected]
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
                        f"VALUES ({_marks(len(ENTRY_FIELDS))})")
    else:
        insert_entry = (f"INSERT INTO {table} ({', '.join(entry_columns[1:])}) "
                        f"VALUES ({_marks(len(ENTRY_FIELDS) - 1)}) RETURNING {entry_columns[0]}")
    receipt_columns = ", ".join(q(_column(DiarySubmission, f)) for f in RECEIPT_FIELDS)
    receipt_table = q(DiarySubmission._meta.db_table)
    insert_receipt = f"INSERT INTO {receipt_table} ({receipt_columns}) VALUES ({_marks(len(RECEIPT_FIELDS))})"
    create_first = draw_ids = None
    if together:
        pk = q(Participant._meta.pk.column)
        event_pk = q(AuditEvent._meta.pk.column)
        create_first = (
            f"WITH open AS (SELECT {pk} FROM {participant} WHERE {pk} = %s AND "
            f"{q(_column(Participant, 'status'))} IN ({_marks(len(DIARY_STATUSES))}) FOR UPDATE), "
            f"entry AS (INSERT INTO {table} ({', '.join(entry_columns)}) "
            f"SELECT {_marks(len(ENTRY_FIELDS))} FROM open ON CONFLICT DO NOTHING RETURNING {entry_columns[0]}), "
            f"audited AS ({trail.insert_sql(using, source='entry')}), "
            f"receipt AS (INSERT INTO {receipt_table} ({receipt_columns}) "
            f"SELECT {_marks(len(RECEIPT_FIELDS))} FROM entry) "
            f"SELECT (SELECT {event_pk} FROM audited)")
        draw_ids = (f"SELECT nextval(pg_get_serial_sequence('{table}', '{PainRating._meta.pk.column}')) "
                    f"FROM generate_series(1, {EntryIds.BLOCK})")
    return Statements(lock, entry, insert_entry, insert_receipt, together, create_first, draw_ids)


class EntryIds:
    """New entries' ids drawn from their sequence ahead of use, :data:`BLOCK` at a time, in each
    process (PostgreSQL): a day's first rating is then one statement with its audit event, whose
    ``changes`` name the entry's id (as the ORM's pooled sequence optimizers do, e.g. Hibernate's
    ``allocationSize``). Ids stay unique (each is drawn from the sequence once); an id drawn but
    not stored leaves a gap, as a rolled-back insert does. A forked process starts with none."""

    BLOCK = 32

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, list[int]] = {}

    def take(self, using: str = DEFAULT_DB_ALIAS) -> int:
        with self._lock:
            ids = self._ids.get(using)
            if ids:
                return ids.pop()
        with sqlrows.cursor(connections[using]) as cursor:
            cursor.execute(statements(using).draw_ids)
            drawn = sorted(row[0] for row in cursor.fetchall())
        with self._lock:  # the smallest first: a process's entries get rising ids
            self._ids.setdefault(using, []).extend(reversed(drawn[1:]))
        return drawn[0]

    def forget(self) -> None:
        """Draw anew from the sequence (when a drawn id was refused as taken)."""
        with self._lock:
            self._ids.clear()

    def _after_fork(self) -> None:
        # A new lock too: another thread of the parent may have held it at the fork.
        self._lock, self._ids = threading.Lock(), {}


#: This process's :class:`EntryIds`.
ENTRY_IDS = EntryIds()
os.register_at_fork(after_in_child=ENTRY_IDS._after_fork)


def _prep(model, name: str, value, connection):
    return model._meta.get_field(name).get_db_prep_save(value, connection=connection)


@dataclass(frozen=True)
class Locked:
    """What the lock read: the participant's status, their site's time zone and their entry for the
    day (None when there is none)."""

    status: str
    timezone: str
    entry: PainRating | None


def lock_participant(participant_pk: int, day: date, using: str = DEFAULT_DB_ALIAS) -> Locked | None:
    """The participant's :class:`Locked` row, locked until the transaction ends; None when there is
    no such participant."""
    connection = connections[using]
    found = statements(using)
    with sqlrows.cursor(connection) as cursor:
        cursor.execute(found.lock, [_prep(PainRating, "day", day, connection), participant_pk])
        row = cursor.fetchone()
    if row is None:
        return None
    return Locked(row[0], row[1], found.entry.instance(row[2:], using, connection))


def new_entry(participant_pk: int, day: date, rating: int, now: datetime, using: str = DEFAULT_DB_ALIAS) -> PainRating:
    """A new entry for the day. Where it is stored with its receipt (PostgreSQL) its id is drawn
    ahead (:data:`ENTRY_IDS`) and it is not stored yet (``_state.adding``): :func:`insert_receipt`
    or :func:`create_first_of_day` stores it. Elsewhere it is stored now, its id the database's, as
    the ORM's ``create`` leaves it."""
    together = statements(using).together
    entry = PainRating(id=ENTRY_IDS.take(using) if together else None, participant_id=participant_pk, day=day,
                       rating=rating, created_at=now, updated_at=now)
    if not together:
        connection = connections[using]
        with sqlrows.cursor(connection) as cursor:
            cursor.execute(statements(using).insert_entry, _entry_params(entry, ENTRY_FIELDS[1:], connection))
            entry.pk = cursor.fetchone()[0]
        entry._state.adding, entry._state.db = False, using
    return entry


def _entry_params(entry: PainRating, fields: tuple[str, ...], connection) -> list:
    return [_prep(PainRating, name, getattr(entry, PainRating._meta.get_field(name).attname), connection)
            for name in fields]


def _receipt_params(client_uuid: uuid.UUID, participant_pk: int, entry_pk: int, rating: int, now: datetime,
                    connection) -> list:
    """RECEIPT_FIELDS' values: a submission of ``rating`` by the participant about entry ``entry_pk``."""
    return [_prep(DiarySubmission, "client_uuid", client_uuid, connection), participant_pk, entry_pk, rating,
            _prep(DiarySubmission, "received_at", now, connection)]


def insert_receipt(client_uuid: uuid.UUID, participant_pk: int, entry: PainRating, rating: int, now: datetime,
                   audit: AuditEvent | None = None, using: str = DEFAULT_DB_ALIAS) -> None:
    """The submission's receipt, with ``audit`` (a new event, ``trail.event``) and ``entry`` when it
    is not stored yet (:func:`new_entry`): one statement where the database allows it. Raises
    IntegrityError, and stores none of them, when the client UUID was used before."""
    connection = connections[using]
    found = statements(using)
    receipt = _receipt_params(client_uuid, participant_pk, entry.pk, rating, now, connection)
    parts: list[tuple[str, str, list]] = []  # (name, statement, parameters) in order
    if entry._state.adding:
        parts.append(("entry", found.insert_entry, _entry_params(entry, ENTRY_FIELDS, connection)))
    if audit is not None:
        parts.append(("audited", *trail.insert_statement(audit, using)))
    parts.append(("receipt", found.insert_receipt, receipt))
    event_pk = None
    with sqlrows.cursor(connection) as cursor:
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


def create_first_of_day(client_uuid: uuid.UUID, entry: PainRating, audit: AuditEvent,
                        using: str = DEFAULT_DB_ALIAS) -> bool:
    """Store ``entry`` (new, from :func:`new_entry`), its ``audit`` event and the receipt as one
    statement, outside any transaction (PostgreSQL; a savepoint inside one): one round trip for a
    day's first rating instead of BEGIN, the lock, the insert and COMMIT. The participant's row is
    locked as :func:`lock_participant` locks it, and only while their diary is open (DIARY_STATUSES),
    so a submission and a withdrawal, or two submissions, are still serialized.

    True when all three were stored. False when none was: the day already has an entry (or a
    concurrent submission stored it first), the participant's diary is closed, or the client UUID
    was used before; the caller then takes the general path (lock, change, replay or refusal).
    """
    connection = connections[using]
    sql = statements(using).create_first
    entry_params = _entry_params(entry, ENTRY_FIELDS, connection)
    params = [entry.participant_id, *DIARY_STATUSES, *entry_params, *trail.insert_statement(audit, using)[1],
              *_receipt_params(client_uuid, entry.participant_id, entry.pk, entry.rating, entry.created_at,
                              connection)]
    try:
        # A savepoint only inside a caller's transaction: a refused UUID must not abort it.
        with transaction.atomic(using) if connection.in_atomic_block else nullcontext():
            with sqlrows.cursor(connection) as cursor:
                cursor.execute(sql, params)
                event_pk = cursor.fetchone()[0]
    except IntegrityError:
        return False
    if event_pk is None:
        return False
    entry._state.adding, entry._state.db = False, using
    trail.stored(audit, event_pk, using)
    return True
