"""accounts/sessions.py reads the database sessions as Django's own store does (the same data for
a live session, nothing and the key forgotten for an expired or unknown one, whatever the key), and
reads the signed-in user in the same statement: the authentication backend takes that user only
when its id is the one the session's data names."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoDatabaseStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.web.accounts import loading
from prt.web.accounts.models import Session, User
from prt.web.accounts.sessions import SessionStore, user_id_of


class DjangoStore(DjangoDatabaseStore):
    """Django's database store over the same table, its lookup through the ORM."""

    __qualname__ = "SessionStore"  # the data's signature is salted with the store's class name

    @classmethod
    def get_model_class(cls):
        return Session


def test_a_live_session_reads_as_django_reads_it(world):
    store = DjangoStore()
    store.update({"_auth_user_id": "7", "flag": True, "text": "é ✓"})
    store.create()
    ours, theirs = SessionStore(store.session_key), DjangoStore(store.session_key)
    assert ours.load() == theirs.load() == {"_auth_user_id": "7", "flag": True, "text": "é ✓"}
    row, expected = ours._get_session_from_db(), Session.objects.get(pk=store.session_key)
    assert (row.session_key, row.session_data, row.expire_date) == (
        expected.session_key, expected.session_data, expected.expire_date)


def test_an_expired_session_is_empty_and_its_key_forgotten(world, clock):
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(60)
    store.save()
    assert SessionStore(store.session_key).load() == {"x": 1, "_session_expiry": 60}
    clock.advance(seconds=61)
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    assert DjangoStore(store.session_key).load() == {}


#: What a cookie can carry: no NUL and no lone surrogate (no HTTP header holds one, and the
#: databases refuse them, in Django's store too).
cookie_text = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.none(), st.text(cookie_text, max_size=60),
                     st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=32, max_size=40)))
def test_any_cookie_value_reads_as_django_reads_it(world, key):
    assert SessionStore(key).load() == DjangoStore(key).load() == {}


def test_signing_out_ends_the_session_at_once(world):
    store = SessionStore()
    store["_auth_user_id"] = "1"
    store.save()
    SessionStore(store.session_key).delete()
    assert SessionStore(store.session_key).load() == {}


@settings(max_examples=30, deadline=None)
@given(value=st.one_of(st.none(), st.integers(-10, 10**6), st.text(max_size=12), st.booleans()))
def test_the_row_s_user_id_is_the_data_s_when_it_is_a_whole_number(value):
    expected = int(value) if isinstance(value, int) else (
        int(value) if isinstance(value, str) and value.strip().lstrip("+-").isdecimal() else None)
    assert user_id_of({SESSION_KEY: value}) == expected
    assert user_id_of({}) is None


def test_signing_in_records_the_user_beside_the_session(world):
    user = world.users["participant_a"]
    client = world.client_for("participant_a")
    row = Session.objects.get(pk=client.session.session_key)
    assert row.user_id == user.pk


def test_a_signed_in_request_reads_its_user_with_the_session(world):
    client = world.client_for("participant_a")
    client.get("/api/diary")  # warm: the URL tree and the API loaded
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/diary").status_code == 200
    users = [q["sql"] for q in queries.captured_queries if f'FROM "{User._meta.db_table}"' in q["sql"]
             or f'JOIN "{User._meta.db_table}"' in q["sql"]]
    assert len(users) == 1 and Session._meta.db_table in users[0]  # one statement: the session and its user


def test_the_user_read_with_the_row_is_taken_only_for_the_id_the_data_names(world):
    a, b = world.users["participant_a"], world.users["participant_b"]
    store = SessionStore()
    store[SESSION_KEY] = str(a.pk)
    store.save()
    Session.objects.filter(pk=store.session_key).update(user=b)  # a row that disagrees with its data
    assert SessionStore(store.session_key).load()[SESSION_KEY] == str(a.pk)
    assert loading.take(a.pk) is None  # b was read with the row; a is loaded by id instead
    Session.objects.filter(pk=store.session_key).update(user=a)
    SessionStore(store.session_key).load()
    taken = loading.take(str(a.pk))
    assert taken is not None and taken[0].pk == a.pk and loading.take(a.pk) is None  # once only


def test_an_offer_nobody_took_is_gone_when_the_request_ends(world):
    from django.core.signals import request_finished

    a = world.users["participant_a"]
    loading.offer(a.pk, (a, False))
    request_finished.send(sender=None)
    assert loading.take(a.pk) is None
