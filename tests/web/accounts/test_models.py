"""Sites, users and memberships: a user holds roles at several sites; each site has its own calendar day."""

from __future__ import annotations

from datetime import date, datetime, timezone as dt_timezone

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from prt.web.accounts.models import CARE_ROLES, ROLES, Membership, Site, User


def test_roles_are_those_of_issues_13_and_14():
    assert ROLES == ("participant", "coordinator", "therapist", "physician", "rater", "analyst", "admin")
    assert set(CARE_ROLES) <= set(ROLES)


def test_a_site_day_follows_its_time_zone():
    denver = Site(code="boulder", name="Boulder", timezone="America/Denver")
    # 03:00 UTC on 11 March is still 10 March in Denver (UTC-6 in daylight time), and 11 March in UTC.
    instant = datetime(2026, 3, 11, 3, 0, tzinfo=dt_timezone.utc)
    assert denver.today(instant) == date(2026, 3, 10)
    assert Site(code="x", name="x", timezone="UTC").today(instant) == date(2026, 3, 11)


@pytest.mark.django_db
def test_site_fields_are_validated():
    with pytest.raises(ValidationError) as exc:
        Site(code="Bad Code", name="x", timezone="Mars/Olympus").full_clean()
    assert set(exc.value.message_dict) == {"code", "timezone"}


@pytest.mark.django_db
def test_a_user_holds_roles_at_several_sites(world):
    user = User.objects.create_user("multi")
    Membership.objects.create(user=user, site=world.site1, role="coordinator")
    Membership.objects.create(user=user, site=world.site1, role="therapist")
    Membership.objects.create(user=user, site=world.site2, role="analyst")
    assert user.roles_at(world.site1) == {"coordinator", "therapist"}
    assert user.roles_at(world.site2) == {"analyst"}
    assert user.site_ids_with(*CARE_ROLES) == {world.site1.pk}
    assert user.has_role("analyst") and not user.has_role("physician")


@pytest.mark.django_db
def test_a_role_is_held_once_per_site_and_must_be_known(world):
    user = world.users["coordinator_same_site"]
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=user, site=world.site1, role="coordinator")


@pytest.mark.django_db
def test_an_unknown_role_is_refused_by_the_database(world):
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=world.users["analyst"], site=world.site1, role="superhero")


def test_a_request_s_user_comes_with_their_participant_record_and_staff_flag_in_one_query(world):
    """accounts.backends.get_user: the user, their participant row with its site, and whether they
    hold a staff role now (the second factor's question), read together; a role granted after
    sign-in counts from the next request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from prt.web.accounts.backends import ThrottledModelBackend
    from prt.web.accounts.models import Membership
    from prt.web.accounts.twofactor import is_staff_user
    from prt.web.participants.access import own_participant

    backend = ThrottledModelBackend()
    participant_user = world.users["participant_a"]
    with CaptureQueriesContext(connection) as queries:
        user = backend.get_user(participant_user.pk)
        assert own_participant(user) == world.a and own_participant(user).site.code == world.a.site.code
        assert not is_staff_user(user)
    assert len(queries.captured_queries) == 1
    staff = backend.get_user(world.users["coordinator_same_site"].pk)
    with CaptureQueriesContext(connection) as queries:
        assert own_participant(staff) is None and is_staff_user(staff)
    assert len(queries.captured_queries) == 0
    Membership.objects.create(user=participant_user, site=world.site1, role="therapist")
    assert is_staff_user(backend.get_user(participant_user.pk))
    participant_user.is_active = False
    participant_user.save()
    assert backend.get_user(participant_user.pk) is None
