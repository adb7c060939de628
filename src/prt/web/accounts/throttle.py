"""Login throttling: after ``PRT_LOGIN_FAILURE_LIMIT`` failed sign-ins of one username within the
lockout period, that username is locked for ``PRT_LOGIN_LOCKOUT_SECONDS`` (OWASP ASVS 4.0, 2.2.1).

Kept per username, whether or not the account exists, so a lockout tells an attacker nothing; a
locked username is refused before its password is checked (no password guessing while locked).
State lives in the database, so every server process sees the same count. :func:`next_state` is the
rule as a pure function; :func:`locked_until`, :func:`record_failure` and :func:`record_success`
apply it to the stored row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from prt.web.accounts.models import LoginThrottle


class State(NamedTuple):
    failures: int
    first_failure_at: datetime | None
    locked_until: datetime | None


def key(username: str) -> str:
    """The throttle key of a typed username: case-folded and trimmed, as people retype it."""
    return username.strip().casefold()[:150]


def next_state(state: State, now: datetime, limit: int, lockout: timedelta) -> State:
    """The state after one more failure at ``now``: failures older than ``lockout`` are forgotten;
    the ``limit``-th failure locks the username until ``now + lockout`` and starts a new count."""
    failures, first = state.failures, state.first_failure_at
    if first is None or now - first >= lockout:
        failures, first = 0, now
    failures += 1
    if failures >= limit:
        return State(0, None, now + lockout)
    return State(failures, first, state.locked_until)


def _policy() -> tuple[int, timedelta]:
    return settings.PRT_LOGIN_FAILURE_LIMIT, timedelta(seconds=settings.PRT_LOGIN_LOCKOUT_SECONDS)


def locked_until(username: str, now: datetime | None = None) -> datetime | None:
    """When the lockout of ``username`` ends, or None when it may try to sign in now."""
    now = now or timezone.now()
    until = LoginThrottle.objects.filter(username=key(username)).values_list("locked_until", flat=True).first()
    return until if until is not None and until > now else None


def record_failure(username: str, now: datetime | None = None) -> datetime | None:
    """Count a failed sign-in; returns the end of the lockout when this failure started one."""
    now = now or timezone.now()
    limit, lockout = _policy()
    LoginThrottle.objects.get_or_create(username=key(username))
    with transaction.atomic():
        row = LoginThrottle.objects.select_for_update().get(username=key(username))
        state = next_state(State(row.failures, row.first_failure_at, row.locked_until), now, limit, lockout)
        row.failures, row.first_failure_at, row.locked_until = state
        row.save(update_fields=["failures", "first_failure_at", "locked_until"])
    return state.locked_until if state.locked_until and state.locked_until > now else None


def record_success(username: str) -> None:
    """A successful sign-in clears the count."""
    LoginThrottle.objects.filter(username=key(username)).delete()
