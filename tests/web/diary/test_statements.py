"""diary/statements.py writes the rows the ORM writes: the same values read back through the ORM,
for any day, rating and instant (microseconds, time zones); the database's constraints still hold."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.web.diary import statements
from prt.web.diary.models import DiarySubmission, PainRating

FIELDS = ("day", "rating", "created_at", "updated_at")


def _values(entry: PainRating) -> tuple:
    return tuple(getattr(entry, f) for f in FIELDS)


instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                        timezones=st.just(dt_timezone.utc))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), rating=st.integers(0, 10),
       now=instants)
def test_an_entry_and_its_receipt_read_back_as_the_orm_s(world, day, rating, now):
    with transaction.atomic():
        written = statements.insert_entry(world.a.pk, day, rating, now)
        key = uuid.uuid4()
        statements.insert_receipt(key, world.a.pk, written.pk, rating, now)
        by_orm = PainRating.objects.create(participant=world.b, day=day, rating=rating, created_at=now,
                                           updated_at=now)
        stored = PainRating.objects.get(pk=written.pk)
        assert _values(stored) == _values(written) == _values(PainRating.objects.get(pk=by_orm.pk))
        assert (stored.participant_id, written._state.adding) == (world.a.pk, False)
        found = statements.entry_for(world.a.pk, day)
        assert found.pk == written.pk and _values(found) == _values(written)
        assert statements.entry_for(world.a.pk, day + timedelta(days=1)) is None
        receipt = DiarySubmission.objects.get(pk=key)
        assert (receipt.participant_id, receipt.entry_id, receipt.rating, receipt.received_at) == (
            world.a.pk, written.pk, rating, now)
        transaction.set_rollback(True)


def test_the_lock_reads_the_status_and_the_site_s_time_zone(world):
    assert statements.lock_participant(world.a.pk) == (world.a.status, world.a.site.timezone)
    assert statements.lock_participant(world.c.pk) == (world.c.status, world.c.site.timezone)
    assert statements.lock_participant(10**9) is None


def test_the_database_s_constraints_still_refuse(world):
    now = datetime(2026, 3, 10, 16, tzinfo=dt_timezone.utc)
    entry = statements.insert_entry(world.a.pk, date(2026, 3, 10), 4, now)
    key = uuid.uuid4()
    statements.insert_receipt(key, world.a.pk, entry.pk, 4, now)
    for write in (lambda: statements.insert_entry(world.a.pk, date(2026, 3, 10), 5, now),  # a second for the day
                  lambda: statements.insert_entry(world.a.pk, date(2026, 3, 11), 11, now),  # out of range
                  lambda: statements.insert_receipt(key, world.a.pk, entry.pk, 4, now)):  # a used UUID
        with pytest.raises(IntegrityError), transaction.atomic():
            write()
    assert PainRating.objects.count() == 1 and DiarySubmission.objects.count() == 1
