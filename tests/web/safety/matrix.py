"""The adverse-event rows of the permission matrix (merged by tests/web/test_permissions.py).

Only the site's study staff see adverse events and only its coordinators record or change them:
another site's person or event is 404, participants, analysts and admins 403. The POST rows'
data factories first give BOU-001 a consent (events are recorded from consent on) and, for the
change rows, the event number 1, so the same-site coordinator reaches success; the GET rows of
event 1 find no event (404 to every coordinator: existence not disclosed; detail pages with an
event are tested in tests/web/safety/test_pages.py and test_api.py).
"""

from __future__ import annotations

import json

EVENT = "1"
_VALUES = {"onset_date": "2026-03-05", "description": "Headache after the session", "severity": "mild",
           "serious": False, "sae_criteria": [], "relatedness": "unlikely", "expected": True,
           "action_taken": "none", "outcome": "recovering"}


def _consent():
    from django.utils import timezone

    from prt.web.enrolment.models import Consent
    from prt.web.participants.models import Participant

    person = Participant.objects.get(study_id="BOU-001")
    Consent.objects.get_or_create(participant=person, defaults={"form_version": "v1", "recorded_at": timezone.now(),
                                                                "consent_date": "2026-03-01"})
    return person


def _event():
    from datetime import date

    from django.utils import timezone

    from prt.web.safety.models import AdverseEvent

    person = _consent()
    AdverseEvent.objects.get_or_create(pk=int(EVENT), defaults={
        "participant": person, **_VALUES, "onset_date": date(2026, 3, 5), "reported_at": timezone.now(),
        "updated_at": timezone.now()})


def _record_form():
    _consent()
    return {"study_id": "BOU-001", **{k: ("yes" if v is True else "no" if v is False else v)
                                      for k, v in _VALUES.items() if k != "sae_criteria"}}


def _edit_form():
    from prt.web.safety.models import AdverseEvent

    _event()
    version = AdverseEvent.objects.get(pk=int(EVENT)).updated_at.isoformat()
    return {**_record_form(), "severity": "moderate", "reason": "source document review", "version": version}


def _record_json():
    _consent()
    return json.dumps(_VALUES)


def _change_json():
    _event()
    return json.dumps({"severity": "moderate", "reason": "source document review"})


ROWS = {
    ("GET", "/coordinator/adverse-events/", None): (302, 403, 403, 200, 200, 403, 403),
    ("GET", "/coordinator/adverse-events/new/", None): (302, 403, 403, 200, 200, 403, 403),
    ("POST", "/coordinator/adverse-events/new/", _record_form): (302, 403, 403, 302, 404, 403, 403),
    ("GET", f"/coordinator/adverse-events/{EVENT}/", None): (302, 403, 403, 404, 404, 403, 403),
    ("GET", f"/coordinator/adverse-events/{EVENT}/edit/", None): (302, 403, 403, 404, 404, 403, 403),
    ("POST", f"/coordinator/adverse-events/{EVENT}/edit/", _edit_form): (302, 403, 403, 302, 404, 403, 403),
    ("GET", "/api/sites/boulder/adverse-events", None): (401, 403, 403, 200, 404, 403, 403),
    ("POST", "/api/participants/BOU-001/adverse-events", _record_json): (401, 403, 403, 201, 404, 403, 403),
    ("GET", f"/api/adverse-events/{EVENT}", None): (401, 403, 403, 404, 404, 403, 403),
    ("POST", f"/api/adverse-events/{EVENT}", _change_json): (401, 403, 403, 200, 404, 403, 403),
}
PLACEHOLDERS = {"event_id": EVENT}
