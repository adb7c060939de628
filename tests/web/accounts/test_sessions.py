"""accounts/sessions.py reads Django's database sessions as Django's own store does: the same data
for a live session, nothing (and the key forgotten) for an expired or unknown one, whatever the key."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.web.accounts.sessions import SessionStore


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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.none(), st.text(max_size=60), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789",
                                                               min_size=32, max_size=40)))
def test_any_cookie_value_reads_as_django_reads_it(world, key):
    assert SessionStore(key).load() == DjangoStore(key).load() == {}


def test_signing_out_ends_the_session_at_once(world):
    store = SessionStore()
    store["_auth_user_id"] = "1"
    store.save()
    SessionStore(store.session_key).delete()
    assert SessionStore(store.session_key).load() == {}
