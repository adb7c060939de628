"""Login: Argon2 hashes, the throttle (lockout after repeated failures, per username, also in the
admin), and the login page's messages. Time is the test clock, never the wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from prt.web import settings as web_settings
from prt.web.accounts import throttle
from prt.web.accounts.models import LoginThrottle, User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def person(db, fast_hashing):
    return User.objects.create_user("Kim", password=PASSWORD)


def sign_in(client, username, password, path="/login/"):
    return client.post(path, {"username": username, "password": password})


def test_argon2_is_the_password_hasher(db, settings, client):
    settings.PASSWORD_HASHERS = web_settings.PASSWORD_HASHERS  # the real list, not the tests' fast one
    assert web_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    user = User.objects.create_user("argon", password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$")
    assert sign_in(client, "argon", PASSWORD).status_code == 302


def test_the_login_page_and_a_successful_sign_in(person, client):
    page = client.get("/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'autocomplete="current-password"' in html and 'name="csrfmiddlewaretoken"' in html
    response = sign_in(client, "Kim", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_says_so_without_saying_which_part(person, client):
    response = sign_in(client, "Kim", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_lockout_after_five_failures_then_released_after_fifteen_minutes(person, client, clock):
    for attempt in range(1, 5):
        assert sign_in(client, "Kim", f"wrong-{attempt}").status_code == 200
    locked = sign_in(client, "Kim", "wrong-5")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # While locked, even the right password is refused (and not checked).
    assert sign_in(client, "Kim", PASSWORD).status_code == 429
    clock.advance(minutes=14, seconds=59)
    assert sign_in(client, "Kim", PASSWORD).status_code == 429
    clock.advance(seconds=1)
    assert sign_in(client, "Kim", PASSWORD).status_code == 302
    assert not LoginThrottle.objects.filter(username="kim").exists()  # success clears the count


def test_the_throttle_is_per_username_case_insensitive_and_for_unknown_names_too(person, client):
    for _ in range(5):
        sign_in(client, "KIM ", "wrong")
    assert sign_in(client, "kim", PASSWORD).status_code == 429
    for _ in range(5):
        sign_in(client, "nobody-by-this-name", "wrong")
    assert sign_in(client, "nobody-by-this-name", "x").status_code == 429  # same answer: no enumeration
    other = User.objects.create_user("Sam", password=PASSWORD)
    assert sign_in(client, other.username, PASSWORD).status_code == 302  # others are unaffected


def test_failures_spread_over_more_than_the_window_do_not_lock(person, client, clock):
    for _ in range(4):
        sign_in(client, "Kim", "wrong")
    clock.advance(minutes=16)
    for _ in range(4):
        sign_in(client, "Kim", "wrong")
    assert sign_in(client, "Kim", PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(db, fast_hashing, client):
    User.objects.create_superuser("boss", password=PASSWORD)
    for _ in range(5):
        sign_in(client, "boss", "wrong", "/admin/login/")
    response = sign_in(client, "boss", PASSWORD, "/admin/login/")
    assert response.status_code == 200 and "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


T0 = datetime(2026, 1, 1, tzinfo=dt_timezone.utc)


@hsettings(max_examples=200, derandomize=True)
@given(st.lists(st.integers(0, 40 * 60), max_size=30))
def test_next_state_locks_exactly_when_the_limit_is_reached_within_the_window(gaps):
    """Against a direct count: a lockout starts at the failure that makes ``limit`` failures since the
    count began, the count beginning afresh after a lockout or after ``window`` without locking."""
    limit, window = 5, timedelta(minutes=15)
    state, now = throttle.State(0, None, None), T0
    count, start = 0, None
    for gap in gaps:
        now += timedelta(seconds=gap)
        state = throttle.next_state(state, now, limit, window)
        if start is None or now - start >= window:
            count, start = 0, now
        count += 1
        if count == limit:
            assert state.locked_until == now + window and state.failures == 0
            count, start = 0, None
        else:
            assert state.failures == count and state.first_failure_at == start
