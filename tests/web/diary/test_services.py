"""The diary's rules: one rating per participant per day at their site, only today, idempotent by
client UUID, every create and change audited with the old and new values."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from prt.web.audit.models import AuditEvent
from prt.web.diary import scale, services
from prt.web.diary.models import DiarySubmission, PainRating
from prt.web.errors import Refused
from tests.web.conftest import NOW

TODAY = date(2026, 3, 10)  # NOW at the Boulder site (America/Denver)


def submit(world, rating, *, who=None, key=None, day=TODAY, participant=None):
    participant = participant or world.a
    return services.submit_rating(participant, client_uuid=key or uuid.uuid4(), day=day, rating=rating,
                                  actor=who or participant.user)


def test_the_scale_comes_from_the_pain_nrs_definition():
    from prt import instruments

    item = instruments.get("pain_nrs").items[0]
    assert scale.bounds() == (item.minimum, item.maximum) == (0, 10)
    assert scale.values() == tuple(range(0, 11))
    assert (scale.anchor(0), scale.anchor(10), scale.anchor(5)) == ("no pain", "worst pain imaginable", "")
    assert (scale.band(0), scale.band(4), scale.band(6), scale.band(7)) == ("no pain", "mild", "moderate", "severe")


def test_a_first_rating_is_created_and_audited(world):
    done = submit(world, 4)
    assert done.outcome == "created" and (done.entry.day, done.entry.rating) == (TODAY, 4)
    event = AuditEvent.objects.get(model="diary.painrating")
    assert (event.action, event.object_id, event.actor) == ("create", str(done.entry.pk), world.users["participant_a"])
    assert event.changes["rating"] == [None, 4] and event.changes["day"] == [None, "2026-03-10"]


def test_a_same_day_change_updates_the_one_entry_with_old_and_new_values_and_a_reason(world):
    first = submit(world, 4)
    second = submit(world, 7)
    assert second.outcome == "changed" and second.entry.pk == first.entry.pk
    assert PainRating.objects.get().rating == 7
    change = AuditEvent.objects.get(model="diary.painrating", action="update")
    assert change.changes == {"rating": [4, 7]} and change.reason == services.SAME_DAY_REASON
    assert submit(world, 7).outcome == "unchanged"
    assert AuditEvent.objects.filter(model="diary.painrating").count() == 2


def test_a_retry_with_the_same_uuid_returns_the_first_entry_and_writes_nothing(world, clock):
    key = uuid.uuid4()
    first = submit(world, 4, key=key)
    submit(world, 6)  # a later change by another submission
    retry = submit(world, 9, key=key)  # the phone retries its old request (even with another value)
    assert retry.outcome == "replayed" and retry.entry.pk == first.entry.pk and retry.entry.rating == 6
    clock.advance(days=1)  # a retry arriving after midnight is still answered, not refused
    assert submit(world, 4, key=key).outcome == "replayed"
    assert PainRating.objects.count() == 1 and DiarySubmission.objects.count() == 2
    assert AuditEvent.objects.filter(model="diary.painrating").count() == 2


def test_a_uuid_of_another_participant_is_a_conflict(world):
    key = uuid.uuid4()
    submit(world, 4, key=key)
    with pytest.raises(Refused) as exc:
        submit(world, 4, key=key, participant=world.b)
    assert (exc.value.field, exc.value.status) == ("client_uuid", 409)
    assert not PainRating.objects.filter(participant=world.b).exists()


@pytest.mark.parametrize("day", [date(2026, 3, 9), date(2026, 3, 11), date(2025, 3, 10)])
def test_only_today_at_the_site(world, day):
    with pytest.raises(Refused, match=r"date: .*only for today \(2026-03-10"):
        submit(world, 4, day=day)
    assert not PainRating.objects.exists() and not AuditEvent.objects.filter(model="diary.painrating").exists()


def test_today_is_the_site_s_calendar_day(world, clock):
    clock.advance(hours=10)  # 02:00 UTC on 11 March: still 10 March in Denver, already 11 March in London
    assert submit(world, 3).entry.day == date(2026, 3, 10)
    assert submit(world, 3, participant=world.c, day=date(2026, 3, 11)).entry.day == date(2026, 3, 11)


def test_yesterday_s_entry_can_no_longer_be_changed(world, clock):
    entry = submit(world, 4).entry
    assert services.editable(entry)
    clock.advance(days=1)
    assert not services.editable(entry)
    with pytest.raises(Refused, match="date: "):
        submit(world, 2, day=TODAY)
    assert PainRating.objects.get().rating == 4


@pytest.mark.parametrize("rating", [-1, 11, 4.0, True, "4", None, 10**20])
def test_out_of_range_or_non_integer_ratings_are_refused(world, rating):
    with pytest.raises(Refused, match="rating: expected a whole number from 0 to 10"):
        submit(world, rating)
    assert not PainRating.objects.exists() and not DiarySubmission.objects.exists()


@pytest.mark.parametrize("status", ["screened", "ineligible", "completed", "withdrawn"])
def test_the_diary_is_closed_outside_enrolment_and_treatment(world, status):
    world.a.status, world.a.arm = status, "prt" if status == "completed" else ""
    world.a.save()
    with pytest.raises(Refused) as exc:
        submit(world, 4)
    assert (exc.value.field, exc.value.status) == ("participant", 403)


def test_a_retry_after_withdrawal_is_answered_from_its_receipt(world):
    key = uuid.uuid4()
    first = submit(world, 4, key=key)
    world.a.status = "withdrawn"
    world.a.save()
    retry = submit(world, 4, key=key)
    assert (retry.outcome, retry.entry.pk) == ("replayed", first.entry.pk)


def test_the_database_refuses_a_second_entry_for_a_day_and_an_out_of_range_rating(world):
    from django.db import IntegrityError, transaction

    submit(world, 4)
    for fields in ({"day": TODAY, "rating": 5}, {"day": date(2026, 3, 1), "rating": 11}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PainRating.objects.create(participant=world.a, created_at=NOW, updated_at=NOW, **fields)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_and_double_taps_write_one_entry_on_postgresql(world):
    """Eight threads at once: four send one UUID (a retry storm), four others new UUIDs (double taps)."""
    import threading

    from django.db import connection

    key = uuid.uuid4()
    keys = [key] * 4 + [uuid.uuid4() for _ in range(4)]
    barrier = threading.Barrier(len(keys))
    outcomes, errors = [], []

    def worker(k):
        try:
            barrier.wait(timeout=30)
            outcomes.append(submit(world, 5, key=k).outcome)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(outcomes).count("created") == 1 and outcomes.count("replayed") == 3
    assert PainRating.objects.filter(participant=world.a).count() == 1
    assert DiarySubmission.objects.count() == 5
    assert AuditEvent.objects.filter(model="diary.painrating").count() == 1


def test_a_participant_withdrawn_since_their_record_was_read_is_refused_and_nothing_stored(world):
    """The signed-in participant's record says enrolled, the database withdrawn (a coordinator
    withdrew them a moment ago): the day's first rating is refused (on PostgreSQL the one-statement
    path checks the status under the lock and stores nothing; the general path refuses)."""
    from prt.web.participants.models import Participant

    Participant.objects.filter(pk=world.a.pk).update(status="withdrawn")
    assert world.a.status == "enrolled"
    with pytest.raises(Refused) as refused:
        submit(world, 4)
    assert refused.value.status == 403
    assert not PainRating.objects.exists() and not DiarySubmission.objects.exists()
    assert not AuditEvent.objects.filter(model="diary.painrating").exists()
