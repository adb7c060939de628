"""Randomization: minimization from the screening's factors, the log in the database verifies and
replays with prt.trial's own functions, idempotent by client UUID, serialized (PostgreSQL threads)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.web.enrolment.common import ELIGIBLE, allocation_key, enrolled  # noqa: F401 (fixture)


def test_an_enrolled_person_is_randomized_and_the_log_verifies_and_replays(world, allocation_key):
    from prt.trial.allocation_log import verify_entries
    from prt.web.audit.models import AuditEvent
    from prt.web.randomization import services
    from prt.web.randomization.models import AllocationEntry

    coordinator = world.users["coordinator_same_site"]
    person = enrolled(world.site1, "BOU-200", coordinator)
    result = services.randomize(person, client_uuid=uuid.uuid4(), actor=coordinator)
    person.refresh_from_db()
    assert result.outcome == "allocated" and result.seq == 1 and result.participant == "BOU-200"
    assert (person.status, person.arm) == ("randomized", result.arm)
    rows = list(AllocationEntry.objects.order_by("seq"))
    assert [r.seq for r in rows] == [0, 1] and rows[1].participant == person
    header, line = (json.loads(r.line) for r in rows)
    assert header["type"] == "header" and header["config"]["measure"] == "kl" and header["source"] == "pcg64"
    assert line["factors"] == {"age": 45, "sex": "female", "pain": 6, "opioid": "no"}  # from the screening
    assert line["timestamp"] == "2026-03-10T16:00:00Z"
    check = verify_entries(services.log_entries(), key=allocation_key)
    assert check.authenticated and check.n_allocations == 1 and check.head == result.hash
    replay = services.verify()
    assert [(a.participant, a.arm) for a in replay.allocations] == [("BOU-200", result.arm)]
    reasons = [e.reason for e in AuditEvent.objects.filter(model="participants.participant", action="update")]
    assert reasons[-1] == "randomized by minimization (allocation log line 2)"


def test_a_retry_and_a_second_request_return_the_first_allocation(world, allocation_key):
    from prt.web.errors import Refused
    from prt.web.randomization import services
    from prt.web.randomization.models import AllocationEntry

    person = enrolled(world.site1, "BOU-201", None)
    other = enrolled(world.site1, "BOU-202", None)
    request = uuid.uuid4()
    first = services.randomize(person, client_uuid=request, actor=None)
    retry = services.randomize(person, client_uuid=request, actor=None)
    again = services.randomize(person, client_uuid=uuid.uuid4(), actor=None)
    assert retry.outcome == again.outcome == "replayed"
    assert (retry.arm, retry.hash, again.hash) == (first.arm, first.hash, first.hash)
    with pytest.raises(Refused) as reused:
        services.randomize(other, client_uuid=request, actor=None)
    assert reused.value.status == 409 and reused.value.field == "client_uuid"
    assert AllocationEntry.objects.count() == 2


def test_only_an_enrolled_consented_eligible_person_is_randomized(world, allocation_key):
    from prt.web.enrolment import services as enrolment
    from prt.web.errors import Refused
    from prt.web.randomization import services
    from prt.web.randomization.models import AllocationEntry

    screened = enrolment.screen_person(world.site1, "BOU-203", ELIGIBLE, None).participant
    for person in (screened, world.a):  # world.a: enrolled without a screening here
        with pytest.raises(Refused) as refused:
            services.randomize(person, client_uuid=uuid.uuid4(), actor=None)
        assert refused.value.status == 409
    assert not AllocationEntry.objects.exists()


def test_without_the_key_nobody_is_randomized(world, settings, tmp_path):
    from prt.web.errors import Refused
    from prt.web.randomization import services

    person = enrolled(world.site1, "BOU-204", None)
    settings.PRT_ALLOCATION_KEY_FILE = str(tmp_path / "missing.key")
    with pytest.raises(Refused) as refused:
        services.randomize(person, client_uuid=uuid.uuid4(), actor=None)
    assert refused.value.status == 503 and "prt trial keygen" in refused.value.message


def test_a_tampered_log_stops_randomization_and_the_rows_are_append_only(world, allocation_key):
    from django.db import connection

    from prt.errors import InputError
    from prt.web.errors import Refused
    from prt.web.randomization import services
    from prt.web.randomization.models import AllocationEntry

    services.randomize(enrolled(world.site1, "BOU-205", None), client_uuid=uuid.uuid4(), actor=None)
    row = AllocationEntry.objects.get(seq=1)
    with pytest.raises(InputError):
        row.save()
    with pytest.raises(InputError):
        row.delete()
    with pytest.raises(InputError):
        AllocationEntry.objects.all().update(line="")
    forged = row.line.replace('"arm":"%s"' % json.loads(row.line)["arm"], '"arm":"prt"')
    forged = forged if forged != row.line else row.line.replace('"arm":"prt"', '"arm":"placebo"')
    forge = "UPDATE randomization_allocationentry SET line = %s WHERE seq = 1"
    if connection.vendor == "postgresql":  # the database refuses the edit itself (migration 0003's trigger)
        from django.db import DatabaseError, transaction

        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(forge, [forged])
        with connection.cursor() as cursor:  # a superuser who turns triggers off is still caught
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(forge, [forged])
            cursor.execute("SET LOCAL session_replication_role = origin")
    else:
        with connection.cursor() as cursor:  # what the model refuses, a direct SQL edit does
            cursor.execute(forge, [forged])
    with pytest.raises(Refused) as refused:
        services.randomize(enrolled(world.site1, "BOU-206", None), client_uuid=uuid.uuid4(), actor=None)
    assert refused.value.status == 503 and "line 2" in refused.value.message
    assert AllocationEntry.objects.count() == 2


def test_many_allocations_balance_the_arms_and_replay(world, allocation_key):
    from prt.web.randomization import services

    arms = []
    for i in range(12):
        person = enrolled(world.site1, f"BOU-3{i:02d}", None, age=str(25 + 4 * i), sex=("female", "male")[i % 2])
        arms.append(services.randomize(person, client_uuid=uuid.uuid4(), actor=None).arm)
    counts = {arm: arms.count(arm) for arm in ("prt", "placebo", "usual_care")}
    assert max(counts.values()) - min(counts.values()) <= 4  # the trial's arm-size rule D(n) = 4
    replay = services.verify()
    assert [a.arm for a in replay.allocations] == arms


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_randomizations_are_serialized_none_lost(allocation_key, fast_hashing):
    """50 people randomized at once, 25 of them twice in the same instant: 50 allocations, one chain.

    75 threads (each with its own connection) stay under PostgreSQL's default 100 connections."""
    import threading

    from django.db import connection

    from prt.web.accounts.models import Membership, Site, User
    from prt.web.randomization import services
    from prt.web.randomization.models import AllocationEntry, RandomizationRequest

    site = Site.objects.create(code="boulder", name="Boulder", timezone="America/Denver")
    coordinator = User.objects.create_user("coordinator", password=None)
    Membership.objects.create(user=coordinator, site=site, role="coordinator")
    people = [enrolled(site, f"BOU-{i:03d}", coordinator) for i in range(50)]
    requests = [uuid.uuid4() for _ in people]
    pairs = [(i, 0) for i in range(50)] + [(i, 1) for i in range(0, 50, 2)]
    barrier = threading.Barrier(len(pairs))
    results, errors = {}, []

    def run(i, copy):
        try:
            barrier.wait()
            results[(i, copy)] = services.randomize(people[i], client_uuid=requests[i], actor=coordinator)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AllocationEntry.objects.count() == 51 and RandomizationRequest.objects.count() == 50
    for i in range(50):
        outcomes = sorted(r.outcome for (j, _), r in results.items() if j == i)
        if i % 2 == 0:
            assert results[(i, 0)].hash == results[(i, 1)].hash  # the duplicate got the first allocation
            assert outcomes == ["allocated", "replayed"]
        else:
            assert outcomes == ["allocated"]
    replay = services.verify()
    assert sorted(a.participant for a in replay.allocations) == [p.study_id for p in people]
    assert [a.seq for a in replay.allocations] == list(range(1, 51))
