"""Shared by the program's tests: the world's people in every arm, the program's staff, and records.

``program`` (fixture) extends tests/web/conftest.py's world at Boulder with:

- logins ``therapist`` and ``therapist_2`` (therapists), ``physician``, ``rater``, and
  ``rater_other_site`` / ``therapist_other_site`` at London;
- BOU-002 (participant_b, PRT) in ``therapist``'s caseload; BOU-005 (``participant_other_therapist``,
  PRT) in ``therapist_2``'s; BOU-003 (``participant_placebo``) and BOU-004
  (``participant_usual_care``) randomized to the control arms; LON-002 (PRT, London) in
  ``therapist_other_site``'s caseload.

Nothing of the program is recorded yet; :func:`evaluated`, :func:`held` and :func:`drawn` add the
physician evaluation, held sessions and the raters' sample through the services.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

TODAY = date(2026, 3, 10)  # the tests' clock at Boulder and London (tests/web/conftest.py)
#: A completed evaluation that refers to PRT (every red flag ruled out, centralized).
REFER = {"red_flags": {f: False for f in ("tumour", "fracture", "infection", "inflammatory_disease",
                                          "neurological_deficit")},
         "factors": {"stressful_onset": True, "inconsistency": True, "body_map": False},
         "education": ["pain_as_prediction"], "imaging": {"reviewed": True, "findings": ["disc_bulge"],
                                                          "explained": True},
         "formulation": "centralized"}
#: The same with a fracture found: a red flag blocks referral.
BLOCKED = {**REFER, "red_flags": {**REFER["red_flags"], "fracture": True}}
#: Roles of the extended matrix (tests/web/program/test_permissions.py), besides the world's seven.
EXTRA_ROLES = ("therapist", "physician", "rater", "participant_placebo", "participant_usual_care",
               "participant_other_therapist")


class ProgramWorld:
    """The world plus the program's staff and participants (see the module docstring)."""

    def __init__(self, world) -> None:
        from prt.web.accounts.models import Membership, User
        from prt.web.participants.models import Participant
        from prt.web.program import services

        self.world = world
        self.users = world.users
        s1, s2 = world.site1, world.site2

        def user(name, *memberships):
            u = User.objects.create_user(name, password=None)
            for site, role in memberships:
                Membership.objects.create(user=u, site=site, role=role)
            self.users[name] = u
            return u

        self.therapist = user("therapist", (s1, "therapist"))
        self.therapist_2 = user("therapist_2", (s1, "therapist"))
        self.physician = user("physician", (s1, "physician"))
        self.rater = user("rater", (s1, "rater"))
        self.rater_other_site = user("rater_other_site", (s2, "rater"))
        self.therapist_other_site = user("therapist_other_site", (s2, "therapist"))
        self.coordinator = world.users["coordinator_same_site"]
        people = {}
        for name, study_id, site, arm in (("participant_placebo", "BOU-003", s1, "placebo"),
                                          ("participant_usual_care", "BOU-004", s1, "usual_care"),
                                          ("participant_other_therapist", "BOU-005", s1, "prt"),
                                          ("participant_london_prt", "LON-002", s2, "prt")):
            login = user(name, (site, "participant"))
            people[study_id] = Participant.objects.create(study_id=study_id, site=site, user=login,
                                                          status="randomized", arm=arm)
        self.a, self.b, self.c = world.a, world.b, world.c
        self.placebo, self.usual_care = people["BOU-003"], people["BOU-004"]
        self.other_prt, self.london_prt = people["BOU-005"], people["LON-002"]
        services.assign_therapist(self.b, self.therapist, actor=self.coordinator)
        services.assign_therapist(self.other_prt, self.therapist_2, actor=self.coordinator)
        services.assign_therapist(self.london_prt, self.therapist_other_site,
                                  actor=world.users["coordinator_other_site"])

    def client_for(self, name, **kwargs):
        return self.world.client_for(name, **kwargs)


def evaluated(person, physician, data=REFER, on: date = TODAY - timedelta(days=8)):
    """``person``'s evaluation completed (by default referring to PRT) ``on`` a day."""
    from prt.web.program import services

    return services.save_evaluation(person, data, physician=physician, complete=True, evaluated_on=on)


def held(person, therapist, numbers=(1,), start: date = TODAY - timedelta(days=6), recorded=True):
    """Sessions ``numbers`` held on consecutive days from ``start`` (with the plan's steps)."""
    from prt.web.program import services
    from prt.web.program.content import curriculum

    rows = []
    for i, number in enumerate(numbers):
        plan = curriculum().session(number)
        rows.append(services.record_session(person, number, {
            "outcome": "held", "held_on": start + timedelta(days=i), "minutes": 60, "steps": list(plan.steps),
            "assignments": list(plan.assignments), "notes": f"zebra note {number}: tracking went well",
            "recorded": recorded},
            actor=therapist))
    return rows


def drawn(site, rater, seed="matrix"):
    from prt.web.program import services

    return services.draw_sample(site, seed=seed, actor=rater)


def practice_form(**changes) -> dict:
    """A somatic-tracking practice as the tracking page posts it (today, before/after ratings)."""
    return {"client_uuid": str(uuid.uuid4()), "day": TODAY.isoformat(), "minutes": "5", "pain_before": "6",
            "pain_after": "4", "fear_before": "5", "fear_after": "3", "setting": "seated", **changes}


def hierarchy_form(*movements) -> dict:
    """The hierarchy form with one row per (movement, fear)."""
    form = {"rows": str(len(movements))}
    for i, (movement, fear) in enumerate(movements):
        form.update({f"id-{i}": "", f"movement-{i}": movement, f"fear-{i}": str(fear)})
    return form


def give_hierarchy(person):
    """A two-step hierarchy (s1 walking fear 3, s2 bending fear 6) through the service."""
    from prt.web.program import services

    return services.save_hierarchy(person, {"steps": [{"id": "s1", "movement": "a ten-minute walk", "fear": 3},
                                                      {"id": "s2", "movement": "bending to the floor",
                                                       "fear": 6}]}, actor=person.user)


def attempt_form(step="s1", **changes) -> dict:
    return {"client_uuid": str(uuid.uuid4()), "step": step, "day": TODAY.isoformat(), "expected_pain": "5",
            "actual_pain": "3", "expected_fear": "4", "actual_fear": "2", **changes}


@pytest.fixture
def program(world):
    return ProgramWorld(world)
