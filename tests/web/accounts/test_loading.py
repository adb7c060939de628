"""accounts/loading.py loads a request's user as the ORM would: every field of the user, their
participant record and its site equal to ``select_related("participant__site")``'s, and the staff
flag equal to a membership query, for every login of the test world and for ids that match none."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.web.accounts import loading
from prt.web.accounts.models import User
from prt.web.accounts.twofactor import STAFF_ROLES


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_every_login_loads_as_the_orm_loads_it(world):
    users = list(User.objects.all())
    users[0].last_login = None
    users[0].save()
    for expected in User.objects.select_related("participant__site").order_by("pk"):
        user, staff = loading.load_user(str(expected.pk), STAFF_ROLES)
        assert _fields(user) == _fields(expected) and not user._state.adding
        assert staff == expected.memberships.filter(role__in=STAFF_ROLES).exists()
        participant = getattr(expected, "participant", None)
        if participant is None:
            assert getattr(user, "participant", None) is None
        else:
            assert _fields(user.participant) == _fields(participant)
            assert _fields(user.participant.site) == _fields(participant.site)
            assert user.participant.user is user
    assert any(loading.load_user(u.pk, STAFF_ROLES)[1] for u in users)
    assert not all(loading.load_user(u.pk, STAFF_ROLES)[1] for u in users)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user_id=st.one_of(st.text(max_size=30), st.integers(), st.just(2**63), st.just(-(2**63) - 1),
                         st.just("9" * 30)))
def test_a_session_id_that_is_no_user_finds_none(world, user_id):
    if User.objects.filter(pk=user_id if isinstance(user_id, int) else -1).exists():
        return
    if isinstance(user_id, str) and user_id.strip().lstrip("+-").isdecimal() and \
            User.objects.filter(pk=int(user_id)).exists():  # isdecimal: int() refuses "²", a digit
        return
    assert loading.load_user(user_id, STAFF_ROLES) is None
