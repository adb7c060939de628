"""The program's own role x URL matrix: the roles tests/web/test_permissions.py lacks.

Roles: a therapist (BOU-002 in their caseload), the physician, a fidelity rater (all of Boulder), a
placebo participant (BOU-003), a usual-care participant (BOU-004, posttreatment not done) and a
PRT participant of another therapist (BOU-005). State: BOU-002's evaluation completed (refer),
its session 1 held and recorded, and the raters' sample drawn at Boulder (it holds that session).
Every program page route and API operation has a row here (the last test checks it), so a new
URL without its cells fails. Rules: prt/web/program/access.py.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.web.program.common import EXTRA_ROLES, TODAY, drawn, evaluated, held

T = TODAY.isoformat()
ELEMENTS = ("education", "evidence", "somatic_tracking", "emotions", "positive_states", "home_practice")


def _hierarchies():
    from prt.web.participants.models import Participant
    from prt.web.program.models import ExposureHierarchy

    for study_id in ("BOU-002", "BOU-005"):
        ExposureHierarchy.objects.get_or_create(participant=Participant.objects.get(study_id=study_id), defaults={
            "steps": [{"id": "s1", "movement": "a ten-minute walk", "fear": 3}]})


def practice_form():
    return {"client_uuid": str(uuid.uuid4()), "day": T, "minutes": "5", "pain_before": "6", "pain_after": "4",
            "fear_before": "5", "fear_after": "3", "setting": "seated"}


def log_form():
    return {"client_uuid": str(uuid.uuid4()), "day": T, "minutes": "10", "assignment": "read_education"}


def evidence_form():
    return {"examples-triggers": "Worse before meetings"}


def hierarchy_form():
    return {"rows": "1", "id-0": "", "movement-0": "carrying shopping", "fear-0": "5"}


def attempt_form():
    _hierarchies()
    return {"client_uuid": str(uuid.uuid4()), "step": "s1", "day": T, "expected_pain": "5", "actual_pain": "3",
            "expected_fear": "4", "actual_fear": "2"}


def attempt_json():
    _hierarchies()
    return json.dumps({"client_uuid": str(uuid.uuid4()), "step": "s1", "day": T, "expected_pain": 5,
                       "actual_pain": 3, "expected_fear": 4, "actual_fear": 2})


def practice_json():
    return json.dumps({"client_uuid": str(uuid.uuid4()), "day": T, "assignment": "read_education", "minutes": 10})


def session_form():
    return {"outcome": "held", "held_on": T, "minutes": "60", "steps": ["pain_is_reversible"],
            "assignments": ["evidence_sheet"], "notes": "worked on the evidence sheet", "recorded": "yes"}


def schedule_form():
    return {"scheduled_for": "2026-03-13"}


def draft_form():
    return {"action": "draft", "flag-tumour": "no", "flag-fracture": "no"}


def draw_form():
    return {"seed": "7", "reason": "more sessions recorded"}


def rating_form():
    return {f"element-{e}": "present" if e != "positive_states" else "absent" for e in ELEMENTS}


def assign_form():
    from prt.web.accounts.models import User

    return {"therapist": str(User.objects.get(username="therapist").pk)}


P = "/program"
#: (method, path, data) -> statuses for EXTRA_ROLES: therapist, physician, rater, placebo, usual care,
#: PRT participant of another therapist. ``{draw}`` is the sample's id.
MATRIX = {
    ("GET", f"{P}/", None): (200, 200, 200, 200, 200, 200),
    ("GET", f"{P}/material/education/", None): (403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/items/continue_usual_care/", None): (403, 403, 403, 200, 200, 404),
    ("GET", f"{P}/items/placebo_injection/", None): (403, 403, 403, 200, 404, 404),
    ("GET", f"{P}/items/workbook/", None): (403, 403, 403, 404, 403, 404),
    ("GET", f"{P}/tracking/", None): (403, 403, 403, 403, 403, 200),
    ("POST", f"{P}/tracking/", practice_form): (403, 403, 403, 403, 403, 302),
    ("GET", f"{P}/practice/", None): (403, 403, 403, 403, 403, 200),
    ("POST", f"{P}/practice/", log_form): (403, 403, 403, 403, 403, 302),
    ("GET", f"{P}/evidence/", None): (403, 403, 403, 403, 403, 200),
    ("POST", f"{P}/evidence/", evidence_form): (403, 403, 403, 403, 403, 302),
    ("GET", f"{P}/exposure/", None): (403, 403, 403, 403, 403, 200),
    ("POST", f"{P}/exposure/", hierarchy_form): (403, 403, 403, 403, 403, 302),
    ("POST", f"{P}/exposure/attempts/", attempt_form): (403, 403, 403, 403, 403, 302),
    ("GET", f"{P}/progress/", None): (403, 403, 403, 403, 403, 200),
    ("GET", f"{P}/therapist/", None): (200, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-002/", None): (200, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-005/", None): (404, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/LON-002/", None): (404, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-003/", None): (404, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-002/sessions/2/", None): (200, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-002/sessions/9/", None): (404, 403, 403, 403, 403, 403),
    ("GET", f"{P}/therapist/patients/BOU-005/sessions/1/", None): (404, 403, 403, 403, 403, 403),
    ("POST", f"{P}/therapist/patients/BOU-002/sessions/2/", session_form): (302, 403, 403, 403, 403, 403),
    ("POST", f"{P}/therapist/patients/BOU-005/sessions/1/", session_form): (404, 403, 403, 403, 403, 403),
    ("POST", f"{P}/therapist/patients/BOU-002/sessions/3/schedule/", schedule_form): (302, 403, 403, 403, 403, 403),
    ("POST", f"{P}/therapist/patients/BOU-005/sessions/3/schedule/", schedule_form): (404, 403, 403, 403, 403, 403),
    ("GET", f"{P}/physician/", None): (403, 200, 403, 403, 403, 403),
    ("GET", f"{P}/physician/patients/BOU-002/", None): (403, 200, 403, 403, 403, 403),
    ("GET", f"{P}/physician/patients/BOU-003/", None): (403, 404, 403, 403, 403, 403),
    ("GET", f"{P}/physician/patients/LON-002/", None): (403, 404, 403, 403, 403, 403),
    ("POST", f"{P}/physician/patients/BOU-005/", draft_form): (403, 302, 403, 403, 403, 403),
    ("GET", f"{P}/fidelity/", None): (403, 403, 200, 403, 403, 403),
    ("POST", f"{P}/fidelity/sites/boulder/draw/", draw_form): (403, 403, 302, 403, 403, 403),
    ("POST", f"{P}/fidelity/sites/london/draw/", draw_form): (403, 403, 404, 403, 403, 403),
    ("GET", f"{P}/fidelity/draws/{{draw}}/", None): (403, 403, 200, 403, 403, 403),
    ("GET", f"{P}/fidelity/draws/999999/", None): (403, 403, 404, 403, 403, 403),
    ("GET", f"{P}/fidelity/sessions/BOU-002/1/", None): (403, 403, 200, 403, 403, 403),
    ("GET", f"{P}/fidelity/sessions/BOU-002/2/", None): (403, 403, 404, 403, 403, 403),
    ("POST", f"{P}/fidelity/sessions/BOU-002/1/", rating_form): (403, 403, 302, 403, 403, 403),
    ("GET", f"{P}/fidelity/report/", None): (403, 403, 200, 403, 403, 403),
    ("GET", f"{P}/caseload/", None): (403, 403, 403, 403, 403, 403),
    ("POST", f"{P}/caseload/BOU-002/", assign_form): (403, 403, 403, 403, 403, 403),
    ("GET", f"{P}/exports/", None): (403, 403, 403, 403, 403, 403),
    ("POST", f"{P}/exports/redcap.zip", None): (403, 403, 403, 403, 403, 403),
    ("GET", "/api/program", None): (403, 403, 403, 200, 200, 200),
    ("GET", "/api/program/practices", None): (403, 403, 403, 403, 403, 200),
    ("POST", "/api/program/practices", practice_json): (403, 403, 403, 403, 403, 201),
    ("GET", "/api/program/exposure", None): (403, 403, 403, 403, 403, 200),
    ("POST", "/api/program/exposure/attempts", attempt_json): (403, 403, 403, 403, 403, 201),
    ("GET", "/api/program/caseload", None): (200, 403, 403, 403, 403, 403),
    ("GET", "/api/program/fidelity", None): (403, 403, 200, 403, 403, 403),
}
CELLS = [(role, key, statuses[i]) for key, statuses in MATRIX.items() for i, role in enumerate(EXTRA_ROLES)]


@pytest.fixture
def staged(program, fast_hashing):
    """The program world with BOU-002 evaluated, its session 1 held (recorded) and the sample drawn."""
    evaluated(program.b, program.physician)
    held(program.b, program.therapist, numbers=(1,))
    program.draw = drawn(program.world.site1, program.rater)
    return program


@pytest.mark.parametrize("role, endpoint, expected", CELLS,
                         ids=[f"{role}-{key[0]}-{key[1]}" for role, key, _ in CELLS])
def test_cell(staged, role, endpoint, expected):
    method, path, data = endpoint
    path = path.replace("{draw}", str(staged.draw.pk))
    client = staged.client_for(role)
    if method == "GET":
        response = client.get(path)
    elif path.startswith("/api/"):
        response = client.post(path, data(), content_type="application/json")
    else:
        response = client.post(path, data() if data else {})
    assert response.status_code == expected, response.content[:300]


def test_every_program_route_and_operation_has_a_row(db, client):
    """Each /program/ route and each program API operation is in this matrix (and the main one's)."""
    from django.urls import get_resolver, resolve

    from tests.web.program.matrix import ROWS

    covered = {}
    for method, path, _ in list(MATRIX) + list(ROWS):
        if path.startswith(P + "/"):
            covered.setdefault(resolve(path.replace("{draw}", "1")).route, set()).add(method)
    program_urls = get_resolver().url_patterns
    routes = []
    for pattern in program_urls:
        if str(pattern.pattern) == "program/":
            routes = ["program/" + str(p.pattern) for p in pattern.url_patterns]
    assert routes, "the program's URLs are not mounted at /program/"
    for route in routes:
        assert route in covered, f"/{route} has no row"
    schema = client.get("/api/openapi.json").json()
    mine = {(m.upper(), p) for p, ops in schema["paths"].items() if p.startswith("/api/program") for m in ops}
    rows = {(m, p) for m, p, _ in MATRIX if p.startswith("/api/")}
    assert mine == rows == {(m, p) for m, p, _ in ROWS if p.startswith("/api/")}


def test_other_sites_staff_see_nothing_of_boulder(staged):
    """A rater and a therapist of London: Boulder's draws, sessions and patients are 404."""
    rater = staged.client_for("rater_other_site")
    assert rater.get(f"{P}/fidelity/draws/{staged.draw.pk}/").status_code == 404
    assert rater.get(f"{P}/fidelity/sessions/BOU-002/1/").status_code == 404
    assert rater.post(f"{P}/fidelity/sites/boulder/draw/", draw_form()).status_code == 404
    assert "BOU-002" not in rater.get(f"{P}/fidelity/").content.decode()
    therapist = staged.client_for("therapist_other_site")
    assert therapist.get(f"{P}/therapist/patients/BOU-002/").status_code == 404
    page = therapist.get(f"{P}/therapist/").content.decode()
    assert "LON-002" in page and "BOU-002" not in page


def test_a_rater_never_rates_a_session_they_held(staged):
    """Independence: a user who is both therapist and rater gets 403 on their own session."""
    from prt.web.accounts.models import Membership

    Membership.objects.create(user=staged.therapist, site=staged.world.site1, role="rater")
    client = staged.client_for("therapist")
    assert client.get(f"{P}/fidelity/sessions/BOU-002/1/").status_code == 403
    assert client.post(f"{P}/fidelity/sessions/BOU-002/1/", rating_form()).status_code == 403


def test_the_rater_never_sees_the_therapist_s_notes_or_who_held_the_session(staged):
    rater = staged.client_for("rater")
    for path in (f"{P}/fidelity/", f"{P}/fidelity/sessions/BOU-002/1/", f"{P}/fidelity/draws/{staged.draw.pk}/"):
        page = rater.get(path).content.decode()
        assert "zebra note" not in page
        assert "therapist_2" not in page and ">therapist<" not in page
    assert re.search(r"zebra note 1", staged.client_for("therapist").get(
        f"{P}/therapist/patients/BOU-002/sessions/1/").content.decode())


def test_the_usual_care_workbook_opens_after_posttreatment(staged, monkeypatch):
    """Server-enforced: before post the workbook is 403 and not listed; once post is done, 200."""
    from prt.web.program import services

    client = staged.client_for("participant_usual_care")
    assert client.get(f"{P}/items/workbook/").status_code == 403
    assert "workbook" not in client.get(f"{P}/").content.decode().lower().split("more material")[0].split(
        "what you receive")[-1]
    monkeypatch.setattr(services, "completed_timepoints", lambda participant: ("eligibility", "pre", "post"))
    assert client.get(f"{P}/items/workbook/").status_code == 200
    assert "A chronic-pain workbook" in client.get(f"{P}/").content.decode()
    assert [i["id"] for i in client.get("/api/program").json()["items"]] == [
        "continue_usual_care", "workbook", "self_help_website"]
