"""Shared by the adverse-event tests: a valid event, consent for the world's people, a therapist."""

from __future__ import annotations

from datetime import date

import pytest

TODAY = date(2026, 3, 10)  # the tests' clock at both sites (tests/web/conftest.py)
CONSENTED = date(2026, 3, 1)

#: A valid, non-serious, ongoing event (typed values, as the services take them).
VALID = {"onset_date": date(2026, 3, 5), "end_date": None, "description": "Low back pain flare after a session",
         "severity": "moderate", "serious": False, "sae_criteria": [], "relatedness": "possible",
         "expected": True, "action_taken": "none", "outcome": "recovering", "sae_reported_on": None}
#: A serious event (hospitalised), ended.
SERIOUS = {**VALID, "serious": True, "sae_criteria": ["hospitalisation"], "severity": "severe",
           "end_date": date(2026, 3, 8), "outcome": "recovered", "relatedness": "not_related"}


def as_form(values: dict) -> dict:
    """Typed values as a browser posts them."""
    out = {}
    for name, value in values.items():
        if isinstance(value, bool):
            out[name] = "yes" if value else "no"
        elif isinstance(value, date):
            out[name] = value.isoformat()
        elif value is None:
            out[name] = ""
        else:
            out[name] = value
    return out


def as_json(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def consent(person, on: date = CONSENTED):
    from prt.web.enrolment.models import Consent
    from django.utils import timezone

    return Consent.objects.get_or_create(participant=person, defaults={
        "form_version": "v1", "consent_date": on, "recorded_at": timezone.now()})[0]


@pytest.fixture
def consented(world):
    """The world with consent recorded for BOU-001, BOU-002 and LON-001."""
    for person in (world.a, world.b, world.c):
        consent(person)
    return world


@pytest.fixture
def therapist(world):
    """A therapist of Boulder (reads its adverse events, records none), signed in and verified."""
    from prt.web.accounts.models import Membership, User
    from tests.web.conftest import https_client, verify_session

    user = User.objects.create_user("therapist_boulder", password=None)
    Membership.objects.create(user=user, site=world.site1, role="therapist")
    client = https_client()
    client.force_login(user)
    verify_session(client, user)
    return client
