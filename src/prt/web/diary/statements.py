"""The daily-pain submission's SQL, written once per database from the models' own metadata.

Why not the ORM for these four statements: a rating through the API is the platform's hottest
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
from prt.web.diary.models import DiarySubmission, PainRating
from prt.web.participants.models import Participant

ENTRY_FIELDS = ("id", "participant", "day", "rating", "created_at", "updated_at")
RECEIPT_FIELDS = ("client_uuid", "participant", "entry", "rating", "received_at")


@dataclass(frozen=True)
class Statements:
    #: The participant's status and their site's time zone; the participant's row locked where the
    #: database has row locks (PostgreSQL), so one participant's submissions are serialized.
    lock: str
    #: The participant's entry for a day (all its columns), for ``PainRating.objects.raw``.
    entry: str
    #: A new entry; returns its id.
    insert_entry: str
    #: A receipt (its primary key is the client UUID: a retry fails here).
    insert_receipt: str


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


@lru_cache(maxsize=8)
def statements(using: str = DEFAULT_DB_ALIAS) -> Statements:
    connection = connections[using]
    q = connection.ops.quote_name
    participant, site = q(Participant._meta.db_table), q(Site._meta.db_table)
    lock = (f"SELECT p.{q(_column(Participant, 'status'))}, s.{q(_column(Site, 'timezone'))} "
            f"FROM {participant} p INNER JOIN {site} s ON s.{q(Site._meta.pk.column)} = p.{q(_column(Participant, 'site'))} "
            f"WHERE p.{q(Participant._meta.pk.column)} = %s")
    if connection.features.has_select_for_update_of:
        lock += " FOR UPDATE OF p"
    elif connection.features.has_select_for_update:
        lock += " FOR UPDATE"
    entry_columns = [q(_column(PainRating, f)) for f in ENTRY_FIELDS]
    entry = (f"SELECT {', '.join(entry_columns)} FROM {q(PainRating._meta.db_table)} "
             f"WHERE {q(_column(PainRating, 'participant'))} = %s AND {q(_column(PainRating, 'day'))} = %s")
    placeholders = ", ".join(["%s"] * (len(ENTRY_FIELDS) - 1))
    insert_entry = (f"INSERT INTO {q(PainRating._meta.db_table)} ({', '.join(entry_columns[1:])}) "
                    f"VALUES ({placeholders}) RETURNING {entry_columns[0]}")
    receipt_columns = ", ".join(q(_column(DiarySubmission, f)) for f in RECEIPT_FIELDS)
    insert_receipt = (f"INSERT INTO {q(DiarySubmission._meta.db_table)} ({receipt_columns}) "
                      f"VALUES ({', '.join(['%s'] * len(RECEIPT_FIELDS))})")
    return Statements(lock, entry, insert_entry, insert_receipt)


def _prep(model, name: str, value, connection):
    return model._meta.get_field(name).get_db_prep_save(value, connection=connection)


def lock_participant(participant_pk: int, using: str = DEFAULT_DB_ALIAS) -> tuple[str, str] | None:
    """(status, site time zone) of the participant, their row locked until the transaction ends."""
    with connections[using].cursor() as cursor:
        cursor.execute(statements(using).lock, [participant_pk])
        return cursor.fetchone()


def entry_for(participant_pk: int, day: date, using: str = DEFAULT_DB_ALIAS) -> PainRating | None:
    """The participant's entry for ``day``, or None."""
    connection = connections[using]
    found = PainRating.objects.db_manager(using).raw(
        statements(using).entry, [participant_pk, _prep(PainRating, "day", day, connection)])
    return next(iter(found), None)


def insert_entry(participant_pk: int, day: date, rating: int, now: datetime,
                 using: str = DEFAULT_DB_ALIAS) -> PainRating:
    """A new entry, stored; returned as the ORM would have returned it from ``create``."""
    connection = connections[using]
    at = _prep(PainRating, "created_at", now, connection)
    with connection.cursor() as cursor:
        cursor.execute(statements(using).insert_entry,
                       [participant_pk, _prep(PainRating, "day", day, connection), rating, at, at])
        pk = cursor.fetchone()[0]
    return PainRating.from_db(using, [f.attname for f in PainRating._meta.concrete_fields],
                              [pk, participant_pk, day, rating, now, now])  # ENTRY_FIELDS' order


def insert_receipt(client_uuid: uuid.UUID, participant_pk: int, entry_pk: int, rating: int, now: datetime,
                   using: str = DEFAULT_DB_ALIAS) -> None:
    """The submission's receipt; IntegrityError when its client UUID was used before."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(statements(using).insert_receipt, [
            _prep(DiarySubmission, "client_uuid", client_uuid, connection), participant_pk, entry_pk, rating,
            _prep(DiarySubmission, "received_at", now, connection)])
