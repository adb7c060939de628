"""prt.web.postgresql: the per-request health check sends nothing on a quiet connection and still
replaces a connection the server has closed (as Django's ``SELECT 1`` check did)."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def checked(monkeypatch):
    """The default connection with health checks on, open and idle; counts Django's SELECT 1 checks."""
    from django.db import connections

    connection = connections["default"]
    connection.ensure_connection()
    monkeypatch.setattr(connection, "health_check_enabled", True)  # set by connect() from CONN_HEALTH_CHECKS
    calls = []
    real = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: calls.append(1) or real())
    return connection, calls


def _new_request(connection) -> int:
    """What a request's first query does: the health check, then a query; the server's process id."""
    connection.health_check_done = False  # as django.db.close_old_connections leaves it
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_quiet_connection_is_used_without_a_round_trip(checked):
    connection, calls = checked
    first = _new_request(connection)
    assert [_new_request(connection) for _ in range(3)] == [first] * 3
    assert calls == []


def test_a_connection_the_server_closed_is_replaced(checked):
    import psycopg

    from prt.web.postgresql.base import quiet

    connection, calls = checked
    before = _new_request(connection)
    settings = connection.get_connection_params()
    with psycopg.connect(**settings, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [before])
    deadline = time.monotonic() + 5
    while quiet(connection.connection) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not quiet(connection.connection)
    after = _new_request(connection)
    assert after != before and calls == [1]


def test_a_connection_inside_a_transaction_is_not_quiet(checked):
    from django.db import transaction

    from prt.web.postgresql.base import quiet

    connection, _ = checked
    assert quiet(connection.connection)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert not quiet(connection.connection)
    raw = connection.connection
    connection.close()
    assert not quiet(raw)
