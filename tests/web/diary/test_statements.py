"""diary/statements.py writes the rows the ORM writes: the same values read back through the ORM,
for any day, rating and instant (microseconds, time zones); a new entry, its audit event and the
receipt are stored together or not at all; the database's constraints still hold."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.web.audit import trail
from prt.web.audit.models import AuditEvent
from prt.web.diary import statements
from prt.web.diary.models import DiarySubmission, PainRating

FIELDS = ("day", "rating", "created_at", "updated_at")


def _values(entry: PainRating) -> tuple:
    return tuple(getattr(entry, f) for f in FIELDS)


def _create(participant, day, rating, now, key, actor=None) -> tuple[PainRating, AuditEvent]:
    """What a created submission stores: the entry, its audit event and the receipt."""
    locked = statements.lock_participant(participant.pk, day)
    assert locked.entry is None
    entry = statements.new_entry(participant.pk, day, rating, now)
    event = trail.event(actor, "create", entry, trail.diff(None, trail.snapshot(entry)))
    statements.insert_receipt(key, participant.pk, entry, rating, now, audit=event)
    return entry, event


instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                        timezones=st.just(dt_timezone.utc))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), rating=st.integers(0, 10),
       now=instants)
def test_an_entry_its_audit_event_and_receipt_read_back_as_the_orm_s(world, day, rating, now):
    with transaction.atomic():
        key = uuid.uuid4()
        written, event = _create(world.a, day, rating, now, key, world.a.user)
        by_orm = PainRating.objects.create(participant=world.b, day=day, rating=rating, created_at=now,
                                           updated_at=now)
        stored = PainRating.objects.get(pk=written.pk)
        assert _values(stored) == _values(written) == _values(PainRating.objects.get(pk=by_orm.pk))
        assert (stored.participant_id, written._state.adding, event._state.adding) == (world.a.pk, False, False)
        found = statements.lock_participant(world.a.pk, day).entry
        assert found.pk == written.pk and _values(found) == _values(written) and not found._state.adding
        assert statements.lock_participant(world.a.pk, day + timedelta(days=1)).entry is None
        receipt = DiarySubmission.objects.get(pk=key)
        assert (receipt.participant_id, receipt.entry_id, receipt.rating, receipt.received_at) == (
            world.a.pk, written.pk, rating, now)
        audited = AuditEvent.objects.get(pk=event.pk)
        assert (audited.action, audited.object_id, audited.actor_id) == ("create", str(written.pk), world.a.user.pk)
        assert audited.changes == trail.diff(None, trail.snapshot(stored))  # the stored row, ids included
        transaction.set_rollback(True)


def test_the_lock_reads_the_status_the_site_s_time_zone_and_only_that_participant_s_entry(world):
    day = date(2026, 3, 10)
    for person in (world.a, world.c):
        locked = statements.lock_participant(person.pk, day)
        assert (locked.status, locked.timezone, locked.entry) == (person.status, person.site.timezone, None)
    assert statements.lock_participant(10**9, day) is None
    theirs = PainRating.objects.create(participant=world.b, day=day, rating=3)
    assert statements.lock_participant(world.a.pk, day).entry is None
    mine = statements.lock_participant(world.b.pk, day)
    assert mine.entry.pk == theirs.pk


def test_a_new_entry_its_audit_event_and_receipt_are_stored_together_or_not_at_all(world):
    now = datetime(2026, 3, 10, 16, tzinfo=dt_timezone.utc)
    key = uuid.uuid4()
    entry, _ = _create(world.a, date(2026, 3, 10), 4, now, key)
    with pytest.raises(IntegrityError), transaction.atomic():  # the same client UUID: a retry
        _create(world.a, date(2026, 3, 11), 5, now, key)
    assert PainRating.objects.count() == 1 and DiarySubmission.objects.count() == 1
    assert AuditEvent.objects.filter(model="diary.painrating").count() == 1
    # an existing entry: the receipt and the audit event only
    again = trail.event(None, "update", entry, {"rating": [4, 4]}, reason="checked")
    statements.insert_receipt(uuid.uuid4(), world.a.pk, entry, 4, now, audit=again)
    assert again.pk is not None and DiarySubmission.objects.count() == 2


def test_the_database_s_constraints_still_refuse(world):
    now = datetime(2026, 3, 10, 16, tzinfo=dt_timezone.utc)
    entry, _ = _create(world.a, date(2026, 3, 10), 4, now, uuid.uuid4())

    def a_second_entry_for_the_day():
        statements.lock_participant(world.a.pk, date(2026, 3, 11))
        duplicate = statements.new_entry(world.a.pk, date(2026, 3, 10), 5, now)
        statements.insert_receipt(uuid.uuid4(), world.a.pk, duplicate, 5, now)

    def out_of_range():
        _create(world.a, date(2026, 3, 12), 11, now, uuid.uuid4())

    for write in (a_second_entry_for_the_day, out_of_range):
        with pytest.raises(IntegrityError), transaction.atomic():
            write()
    assert PainRating.objects.count() == 1 and DiarySubmission.objects.count() == 1


def _first(participant, day, rating, now, key, actor=None):
    """A day's first rating as the one statement (PostgreSQL): (stored, entry, event)."""
    entry = statements.new_entry(participant.pk, day, rating, now)
    event = trail.event(actor, "create", entry, trail.diff(None, trail.snapshot(entry)))
    return statements.create_first_of_day(key, entry, event), entry, event


@pytest.mark.postgresql
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), rating=st.integers(0, 10),
       now=instants)
def test_a_first_rating_in_one_statement_stores_the_rows_of_the_general_path(world, day, rating, now):
    with transaction.atomic():
        general, general_event = _create(world.b, day, rating, now, uuid.uuid4(), world.b.user)
        key = uuid.uuid4()
        stored, entry, event = _first(world.a, day, rating, now, key, world.a.user)
        assert stored and not entry._state.adding and not event._state.adding
        assert _values(PainRating.objects.get(pk=entry.pk)) == _values(PainRating.objects.get(pk=general.pk))
        receipt = DiarySubmission.objects.get(pk=key)
        assert (receipt.participant_id, receipt.entry_id, receipt.rating, receipt.received_at) == (
            world.a.pk, entry.pk, rating, now)
        audited, reference = AuditEvent.objects.get(pk=event.pk), AuditEvent.objects.get(pk=general_event.pk)
        assert (audited.action, audited.object_id, audited.actor_id, audited.reason) == (
            "create", str(entry.pk), world.a.user.pk, "")
        assert audited.changes == trail.diff(None, trail.snapshot(PainRating.objects.get(pk=entry.pk)))
        assert {k: v for k, v in audited.changes.items() if k not in ("id", "participant")} == {
            k: v for k, v in reference.changes.items() if k not in ("id", "participant")}
        transaction.set_rollback(True)


@pytest.mark.postgresql
def test_a_first_rating_in_one_statement_stores_nothing_when_it_does_not_apply(world):
    """The day has an entry, the diary is closed, or the UUID was used: nothing is stored, and the
    caller's transaction stays usable (a savepoint)."""
    from prt.web.participants.models import Participant

    now = datetime(2026, 3, 10, 16, tzinfo=dt_timezone.utc)
    day = date(2026, 3, 10)
    used = uuid.uuid4()
    assert _first(world.a, day, 4, now, used)[0]
    counts = (PainRating.objects.count(), DiarySubmission.objects.count(), AuditEvent.objects.count())
    assert not _first(world.a, day, 6, now, uuid.uuid4())[0]  # the day has its entry
    assert not _first(world.b, day, 6, now, used)[0]  # another participant's UUID
    Participant.objects.filter(pk=world.c.pk).update(status="withdrawn")
    assert not _first(world.c, day, 6, now, uuid.uuid4())[0]  # the diary is closed
    assert (PainRating.objects.count(), DiarySubmission.objects.count(), AuditEvent.objects.count()) == counts
    assert PainRating.objects.get(participant=world.a).rating == 4


def test_entry_ids_are_drawn_once_each_rising_in_a_process_and_none_inherited_by_a_fork(world):
    import os

    if not statements.statements().together:
        pytest.skip("SQLite: a new entry's id is the database's, drawn by its insert")
    from tests.web.helpers import in_threads

    pool = statements.EntryIds()
    drawn: list[int] = []
    in_threads(lambda: drawn.extend(pool.take() for _ in range(20)), 4)  # each on its own connection
    assert len(drawn) == len(set(drawn)) == 80
    mine = [pool.take() for _ in range(5)]
    assert mine == sorted(mine) and not set(mine) & set(drawn)
    pool.forget()
    assert pool.take() > max(mine + drawn)
    statements.ENTRY_IDS.forget()
    statements.ENTRY_IDS.take()
    assert sum(len(v) for v in statements.ENTRY_IDS._ids.values()) == statements.EntryIds.BLOCK - 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what it inherited, and leaves
        os.write(write, str(sum(len(v) for v in statements.ENTRY_IDS._ids.values())).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"0"
