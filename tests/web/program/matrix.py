"""The program's rows of the permission matrix (merged by tests/web/test_permissions.py) for the
world's seven roles; the program's own roles (therapist, physician, rater, a placebo and a usual-care
participant, a PRT participant of another therapist) are in tests/web/program/test_permissions.py.

Rules (prt/web/program/access.py): the PRT pages are the PRT arm's (participant_b, BOU-002, is
randomized to PRT; participant_a, BOU-001, is not randomized: 403); staff pages need their role
(no therapist, physician or rater among these seven: 403); the coordinator assigns caseloads at
their own sites (another site's person: 404); the analyst downloads the export. Success paths and
refusals on the merits: tests/web/program/test_*.py.
"""

from __future__ import annotations

import json
import uuid

TODAY = "2026-03-10"


def _practice_form():
    return {"client_uuid": str(uuid.uuid4()), "day": TODAY, "minutes": "5", "pain_before": "6", "pain_after": "4",
            "fear_before": "5", "fear_after": "3", "setting": "seated"}


def _log_form():
    return {"client_uuid": str(uuid.uuid4()), "day": TODAY, "minutes": "10", "assignment": "read_education"}


def _evidence_form():
    return {"examples-inconsistency": "It eases when I am absorbed in a film"}


def _hierarchy_form():
    return {"rows": "1", "id-0": "", "movement-0": "a ten-minute walk", "fear-0": "3"}


def _hierarchy():
    from prt.web.participants.models import Participant
    from prt.web.program.models import ExposureHierarchy

    person = Participant.objects.get(study_id="BOU-002")
    ExposureHierarchy.objects.get_or_create(participant=person, defaults={
        "steps": [{"id": "s1", "movement": "a ten-minute walk", "fear": 3}]})


def _attempt_form():
    _hierarchy()
    return {"client_uuid": str(uuid.uuid4()), "step": "s1", "day": TODAY, "expected_pain": "5", "actual_pain": "3",
            "expected_fear": "4", "actual_fear": "2"}


def _attempt_json():
    return json.dumps({**{k: int(v) if v.isdigit() else v for k, v in _attempt_form().items()}})


def _practice_json():
    return json.dumps({"client_uuid": str(uuid.uuid4()), "day": TODAY, "assignment": "tracking_practice",
                       "minutes": 5, "pain_before": 6, "pain_after": 4, "fear_before": 5, "fear_after": 3})


def _session_form():
    return {"outcome": "held", "held_on": TODAY, "minutes": "60", "steps": ["pain_from_brain"],
            "assignments": ["read_education"], "notes": "", "recorded": "yes"}


def _schedule_form():
    return {"scheduled_for": "2026-03-12"}


def _evaluation_form():
    return {"action": "draft", "flag-tumour": "no"}


def _draw_form():
    return {"seed": "42"}


def _rating_form():
    return {f"element-{e}": "present" for e in ("education", "evidence", "somatic_tracking", "emotions",
                                                "positive_states", "home_practice")}


def _assign_form():
    from prt.web.accounts.models import Membership, Site, User

    therapist, _ = User.objects.get_or_create(username="matrix_therapist")
    Membership.objects.get_or_create(user=therapist, site=Site.objects.get(code="boulder"), role="therapist")
    return {"therapist": str(therapist.pk)}


def _export_form():
    return {"event": ""}


P = "/program"
ROWS = {
    # the participant's own program: anyone signed in as a participant; staff see a hub of their roles
    ("GET", f"{P}/", None): (302, 200, 200, 200, 200, 200, 403),
    ("GET", f"{P}/material/education/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/items/continue_usual_care/", None): (302, 404, 404, 403, 403, 403, 403),
    ("GET", f"{P}/tracking/", None): (302, 403, 200, 403, 403, 403, 403),
    ("POST", f"{P}/tracking/", _practice_form): (302, 403, 302, 403, 403, 403, 403),
    ("GET", f"{P}/practice/", None): (302, 403, 200, 403, 403, 403, 403),
    ("POST", f"{P}/practice/", _log_form): (302, 403, 302, 403, 403, 403, 403),
    ("GET", f"{P}/evidence/", None): (302, 403, 200, 403, 403, 403, 403),
    ("POST", f"{P}/evidence/", _evidence_form): (302, 403, 302, 403, 403, 403, 403),
    ("GET", f"{P}/exposure/", None): (302, 403, 200, 403, 403, 403, 403),
    ("POST", f"{P}/exposure/", _hierarchy_form): (302, 403, 302, 403, 403, 403, 403),
    ("POST", f"{P}/exposure/attempts/", _attempt_form): (302, 403, 302, 403, 403, 403, 403),
    ("GET", f"{P}/progress/", None): (302, 403, 200, 403, 403, 403, 403),
    # the therapist's, physician's and rater's pages: none of these seven holds those roles
    ("GET", f"{P}/therapist/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-001/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-002/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-001/sessions/1/", None): (302, 403, 403, 403, 403, 403, 403),
    ("POST", f"{P}/therapist/patients/BOU-001/sessions/1/", _session_form): (302, 403, 403, 403, 403, 403, 403),
    ("POST", f"{P}/therapist/patients/BOU-001/sessions/1/schedule/", _schedule_form):
        (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/physician/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/physician/patients/BOU-001/", None): (302, 403, 403, 403, 403, 403, 403),
    ("POST", f"{P}/physician/patients/BOU-001/", _evaluation_form): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/fidelity/", None): (302, 403, 403, 403, 403, 403, 403),
    ("POST", f"{P}/fidelity/sites/boulder/draw/", _draw_form): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/fidelity/draws/1/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/fidelity/sessions/BOU-001/1/", None): (302, 403, 403, 403, 403, 403, 403),
    ("POST", f"{P}/fidelity/sessions/BOU-001/1/", _rating_form): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/fidelity/report/", None): (302, 403, 403, 403, 403, 403, 403),
    # the coordinator assigns caseloads at their sites (BOU-001 is not PRT: 404; BOU-002 is)
    ("GET", f"{P}/caseload/", None): (302, 403, 403, 200, 200, 403, 403),
    ("POST", f"{P}/caseload/BOU-001/", _assign_form): (302, 403, 403, 404, 404, 403, 403),
    ("POST", f"{P}/caseload/BOU-002/", _assign_form): (302, 403, 403, 302, 404, 403, 403),
    # the analyst's export (BOU-002 is the PRT participant exported)
    ("GET", f"{P}/exports/", None): (302, 403, 403, 403, 403, 200, 403),
    ("POST", f"{P}/exports/redcap.zip", _export_form): (302, 403, 403, 403, 403, 200, 403),
    # the API
    ("GET", "/api/program", None): (401, 200, 200, 403, 403, 403, 403),
    ("GET", "/api/program/practices", None): (401, 403, 200, 403, 403, 403, 403),
    ("POST", "/api/program/practices", _practice_json): (401, 403, 201, 403, 403, 403, 403),
    ("GET", "/api/program/exposure", None): (401, 403, 200, 403, 403, 403, 403),
    ("POST", "/api/program/exposure/attempts", _attempt_json): (401, 403, 201, 403, 403, 403, 403),
    ("GET", "/api/program/caseload", None): (401, 403, 403, 403, 403, 403, 403),
    ("GET", "/api/program/fidelity", None): (401, 403, 403, 403, 403, 403, 403),
}
PLACEHOLDERS = {"component_id": "education", "item_id": "continue_usual_care", "session_number": "1",
                "draw_id": "1"}
