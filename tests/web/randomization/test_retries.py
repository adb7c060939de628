"""A randomization retry is answered from its receipt before the allocation lock is taken, so retries
never queue behind other randomizations (benchmarks/bench_web_randomize.py, docs/benchmarks.md)."""

from __future__ import annotations

import uuid

import pytest

from tests.web.enrolment.common import allocation_key, enrolled  # noqa: F401 (fixture)


def test_a_retry_is_answered_without_waiting_for_the_allocation_lock(world, allocation_key):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from prt.web.errors import Refused
    from prt.web.randomization import services

    person = enrolled(world.site1, "BOU-400", None)
    other = enrolled(world.site1, "BOU-401", None)
    request = uuid.uuid4()
    first = services.randomize(person, client_uuid=request, actor=None)
    with CaptureQueriesContext(connection) as queries:
        retry = services.randomize(person, client_uuid=request, actor=None)
    assert (retry.outcome, retry.hash, retry.arm, retry.seq) == ("replayed", first.hash, first.arm, first.seq)
    assert len(queries.captured_queries) == 1  # the receipt (with its log line); no lock, no write
    assert "randomization_allocationlock" not in queries.captured_queries[0]["sql"]
    with CaptureQueriesContext(connection) as queries, pytest.raises(Refused) as refused:
        services.randomize(other, client_uuid=request, actor=None)  # another person's UUID: refused, no lock
    assert (refused.value.status, refused.value.field) == (409, "client_uuid")
    assert len(queries.captured_queries) == 1
    second = services.randomize(person, client_uuid=uuid.uuid4(), actor=None)  # a second request: same answer
    assert (second.outcome, second.hash) == ("replayed", first.hash)
