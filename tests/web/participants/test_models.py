"""Participants: the arm exists exactly when randomized (database constraint), the login holds the
participant role at the site, and who sees whom (participants/access.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from prt.vocabulary import ARMS
from prt.web.accounts.models import User
from prt.web.participants.access import own_participant, sees_participants, visible_participants
from prt.web.participants.models import DIARY_STATUSES, STATUSES, Participant


@pytest.mark.parametrize("status, arm, allowed", [
    ("screened", "", True), ("enrolled", "", True), ("randomized", "prt", True), ("completed", "placebo", True),
    ("withdrawn", "", True), ("withdrawn", "usual_care", True),
    ("randomized", "", False), ("completed", "", False), ("enrolled", "prt", False), ("ineligible", "placebo", False),
    ("randomized", "surgery", False), ("lost", "", False),
])
def test_arm_once_randomized_and_known_values(world, status, arm, allowed):
    def make():
        with transaction.atomic():
            Participant.objects.create(study_id="X-1", site=world.site1, status=status, arm=arm)
    if allowed:
        make()
    else:
        with pytest.raises(IntegrityError):
            make()


def test_statuses_and_arms_come_from_one_place():
    assert STATUSES == ("screened", "ineligible", "enrolled", "randomized", "completed", "withdrawn")
    field = Participant._meta.get_field("arm")
    assert tuple(value for value, _ in field.choices) == ARMS
    assert set(DIARY_STATUSES) == {"enrolled", "randomized"}


def test_the_login_must_be_a_participant_at_that_site(world):
    stranger = User.objects.create_user("no-role")
    p = Participant(study_id="BOU-009", site=world.site1, user=stranger, status="enrolled")
    with pytest.raises(ValidationError) as exc:
        p.full_clean()
    assert "user" in exc.value.message_dict
    world.a.full_clean()  # participant A holds the role at site 1


def test_who_sees_whom(world):
    def seen(name):
        return set(visible_participants(world.users[name]).values_list("study_id", flat=True))

    assert seen("participant_a") == {"BOU-001"}
    assert seen("participant_b") == {"BOU-002"}
    assert seen("coordinator_same_site") == {"BOU-001", "BOU-002"}
    assert seen("coordinator_other_site") == {"LON-001"}
    assert seen("analyst") == set() and seen("admin") == set()
    assert own_participant(world.users["participant_a"]) == world.a
    assert own_participant(world.users["coordinator_same_site"]) is None
    assert [sees_participants(world.users[n]) for n in ("participant_a", "coordinator_other_site", "analyst", "admin")] \
        == [True, True, False, False]


def test_anonymous_sees_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    assert own_participant(AnonymousUser()) is None and not visible_participants(AnonymousUser()).exists()
    assert not sees_participants(AnonymousUser())
