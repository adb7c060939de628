"""Who sees pain attributions, beyond the seven standard roles (tests/web/attributions/matrix.py):
the therapist sees their own caseload's answers only, the coder (rater role) their sites' answers
only and no participant, every other role nothing; participants never see a code anywhere."""

from __future__ import annotations

import pytest

from tests.web.attributions.common import BEFORE, submit_causes

ROLES = ("therapist", "therapist_2", "therapist_other_site", "rater", "rater_other_site", "physician",
         "coordinator_same_site", "participant_b", "analyst")
#: path template -> statuses in ROLES order ({code}: a queued answer of BOU-002 at Boulder;
#: {london}: one of LON-001 at London). BOU-002 is in therapist's caseload, BOU-005 in therapist_2's.
MATRIX = {
    ("GET", "/attributions/therapist/patients/BOU-002/"): (200, 404, 404, 403, 403, 403, 403, 403, 403),
    ("GET", "/attributions/therapist/patients/BOU-005/"): (404, 200, 404, 403, 403, 403, 403, 403, 403),
    ("GET", "/attributions/therapist/patients/LON-002/"): (404, 404, 200, 403, 403, 403, 403, 403, 403),
    ("GET", "/attributions/review/"): (403, 403, 403, 200, 200, 403, 403, 403, 403),
    ("GET", "/attributions/review/{code}/"): (403, 403, 403, 200, 404, 403, 403, 403, 403),
    ("GET", "/attributions/review/{london}/"): (403, 403, 403, 404, 200, 403, 403, 403, 403),
    ("GET", "/attributions/review/999999/"): (403, 403, 403, 404, 404, 403, 403, 403, 403),
    ("POST", "/attributions/review/{code}/"): (403, 403, 403, 302, 404, 403, 403, 403, 403),
    ("POST", "/attributions/review/{london}/"): (403, 403, 403, 404, 302, 403, 403, 403, 403),
}
CELLS = [(role, key, statuses[i]) for key, statuses in MATRIX.items() for i, role in enumerate(ROLES)]


@pytest.fixture
def coded(attrib):
    from prt.web.attributions.models import AttributionCode

    boulder = submit_causes(attrib.b, "pre", BEFORE)
    london = submit_causes(attrib.c, "pre", {"1": "old sports injury"})
    pick = AttributionCode.objects.filter(state="queued")
    return {"code": pick.filter(submission=boulder).first(), "london": pick.filter(submission=london).first()}


@pytest.mark.parametrize("role, endpoint, expected", CELLS, ids=[f"{r}-{k[0]}-{k[1]}" for r, k, _ in CELLS])
def test_cell(attrib, coded, role, endpoint, expected):
    method, template = endpoint
    path = template.format(code=coded["code"].pk, london=coded["london"].pk)
    client = attrib.client_for(role)
    if method == "GET":
        response = client.get(path)
    else:
        code = coded["london" if "{london}" in template else "code"]
        response = client.post(path, {"category": "injury", "version": code.version})
    assert response.status_code == expected, response.content[:300]


def test_a_rater_s_second_factor_guards_the_queue(attrib):
    client = attrib.client_for("rater", verified=False)
    assert client.get("/attributions/review/").status_code == 302
    assert client.post("/attributions/review/1/", {"category": "stress"}).status_code == 302


def test_participants_never_see_a_code(attrib, coded):
    """Their pages and API answers carry their words, never a category, a flag or a confidence."""
    client = attrib.client_for("participant_b")
    seen = "".join(client.get(p).content.decode() for p in ("/", "/questionnaires/", "/api/questionnaire-responses",
                                                            "/api/questionnaires", "/program/"))
    for word in ("mind-brain", "mind_brain", "attribution", "confidence", "awaiting a coder", "category", "injury"):
        assert word not in seen.lower(), word
    assert "attribution" not in client.get("/api/questionnaire-responses").content.decode()
