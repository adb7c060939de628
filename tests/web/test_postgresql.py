"""prt.web.postgresql: the per-request health check sends nothing on a quiet connection and still
replaces a connection the server has closed (as Django's ``SELECT 1`` check did); the hot path's
statements are prepared once per connection, unless ``prepared=off``, and Django's own never."""

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


def _prepared_statements(connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _a_rating(participant_user):
    """A day's first rating and a change, through the service as the API makes them."""
    import uuid

    from prt.web.diary import services

    participant = participant_user.participant
    for rating in (3, 4):
        services.submit_rating(participant, client_uuid=uuid.uuid4(), day=participant.site.today(), rating=rating,
                               actor=participant_user)


def test_the_hot_path_s_statements_are_prepared_once_per_connection_and_django_s_never(world, checked):
    from django.db import connections

    from prt.web.accounts.sessions import SessionStore
    from prt.web.diary import statements

    connection, _ = checked
    connection.close()
    statements.ENTRY_IDS.forget()
    user = world.users["participant_a"]
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session.create()
    for _ in range(2):
        SessionStore(session.session_key).load()
    _a_rating(user)
    list(type(user).objects.filter(pk=user.pk))  # a query of Django's own
    prepared = _prepared_statements(connections["default"])
    assert len(prepared) == len(set(prepared))  # each once, whatever it ran
    assert [s for s in prepared if "accounts_session" in s]  # the session with its user
    assert [s for s in prepared if s.startswith("WITH open AS")]  # a day's first rating
    assert [s for s in prepared if "FOR UPDATE OF" in s]  # the change's lock
    assert not [s for s in prepared if '"accounts_user"."id" =' in s]  # Django's ORM: bound on the client
    assert all("$1" in s for s in prepared if "accounts_session" in s)


def test_prepared_off_prepares_nothing_and_changes_nothing_else(world, checked, settings):
    from django.db import connections

    connection, _ = checked
    connection.close()
    connection.settings_dict["OPTIONS"] = {**connection.settings_dict["OPTIONS"], "prepared": "off"}
    try:
        _a_rating(world.users["participant_a"])
        assert _prepared_statements(connections["default"]) == []
        from prt.web.diary.models import PainRating

        assert PainRating.objects.get(participant=world.a).rating == 4
    finally:
        connection.settings_dict["OPTIONS"].pop("prepared")
        connection.close()
