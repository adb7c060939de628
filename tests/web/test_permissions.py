"""The permission matrix: every URL and API endpoint of the platform, requested by every role,
answers the status in its cell. A new URL without a row here fails ``test_the_matrix_covers_every_url``.

Rules (participants/access.py): a participant sees only their own data; coordinators (and the
other care roles) only their own sites' participants; another participant's id is 404, not 403,
so existence is not disclosed; roles that never see identified data (analyst, admin) get 403;
the admin role alone enters Django's admin. Anonymous: pages redirect to sign in, the API says 401.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

ROLES = ("anonymous", "participant_a", "participant_b", "coordinator_same_site", "coordinator_other_site",
         "analyst", "admin")
TODAY = "2026-03-10"


def _diary_form():
    return {"client_uuid": str(uuid.uuid4()), "date": TODAY, "rating": "4"}


def _diary_json():
    return json.dumps({"client_uuid": str(uuid.uuid4()), "date": TODAY, "rating": 4})


def _answer_form():
    return {"item": "1", "answer": "2"}


def _review_form():  # an empty draft: signed-in participants reach the rules and are refused (422)
    return {"client_uuid": str(uuid.uuid4())}


def _questionnaire_json():  # the credibility item at the pretreatment visit (due from day 0)
    return json.dumps({"client_uuid": str(uuid.uuid4()), "event": "pre", "instrument": "ceq",
                       "answers": {"1": 50}})


def _screening_form():
    from tests.web.enrolment.common import ELIGIBLE

    return {"study_id": f"BOU-{uuid.uuid4().hex[:8]}", **ELIGIBLE}


def _screening_json():
    form = _screening_form()
    return json.dumps({"site": "boulder", "study_id": form.pop("study_id"), "answers": form})


def _consent_form():
    return {"form_version": "v2", "consent_date": TODAY}


def _randomize_form():
    return {"client_uuid": str(uuid.uuid4())}


def _randomize_json():
    return json.dumps(_randomize_form())


def _withdraw_form():
    return {"withdrawal_date": TODAY, "reason": "moved away"}


RUN = "00000000-0000-4000-8000-000000000000"


def _upload_without_file_form():  # an analyst reaches the rules and is refused (422)
    return {"source": "upload"}


#: (method, path, request data) -> statuses in ROLES order.
MATRIX = {
    ("GET", "/", None): (302, 200, 200, 200, 200, 200, 200),
    ("POST", "/diary/", _diary_form): (302, 302, 302, 403, 403, 403, 403),
    ("GET", "/login/", None): (200, 302, 302, 302, 302, 302, 302),
    ("POST", "/logout/", None): (302, 302, 302, 302, 302, 302, 302),
    ("GET", "/healthz", None): (200, 200, 200, 200, 200, 200, 200),
    # the staff second factor (already verified here: verified staff are sent on; unverified: test_two_factor)
    ("GET", "/account/two-factor/", None): (302, 403, 403, 302, 302, 302, 302),
    ("GET", "/api/openapi.json", None): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/diary", None): (401, 200, 200, 403, 403, 403, 403),
    ("POST", "/api/diary", _diary_json): (401, 201, 201, 403, 403, 403, 403),
    ("GET", "/api/participants/BOU-001/diary", None): (401, 200, 404, 200, 404, 403, 403),
    ("GET", "/api/participants/BOU-002/diary", None): (401, 404, 200, 200, 404, 403, 403),
    ("GET", "/api/participants/LON-001/diary", None): (401, 404, 404, 404, 200, 403, 403),
    ("GET", "/api/participants/NO-SUCH-ID/diary", None): (401, 404, 404, 404, 404, 403, 403),
    ("GET", "/questionnaires/", None): (302, 200, 200, 403, 403, 403, 403),
    ("GET", "/questionnaires/pre/odi/", None): (302, 200, 200, 403, 403, 403, 403),
    ("POST", "/questionnaires/pre/odi/", _answer_form): (302, 302, 302, 403, 403, 403, 403),
    ("GET", "/questionnaires/pre/odi/review/", None): (302, 200, 200, 403, 403, 403, 403),
    ("POST", "/questionnaires/pre/odi/review/", _review_form): (302, 422, 422, 403, 403, 403, 403),
    ("GET", "/api/questionnaires", None): (401, 200, 200, 403, 403, 403, 403),
    ("GET", "/api/instruments/odi/questionnaire", None): (401, 200, 200, 200, 200, 200, 200),
    ("POST", "/api/questionnaire-responses", _questionnaire_json): (401, 201, 201, 403, 403, 403, 403),
    ("GET", "/api/questionnaire-responses", None): (401, 200, 200, 403, 403, 403, 403),
    # the coordinator's pages and API (enrolment app): only a coordinator of the person's site acts;
    # BOU-001 is already enrolled (no screening, no consent), so the same-site coordinator's actions
    # on it are refused on their merits (409), never for permission; success paths: tests/web/enrolment
    ("GET", "/coordinator/", None): (302, 403, 403, 200, 200, 403, 403),
    ("GET", "/coordinator/sites/boulder/screen/", None): (302, 403, 403, 200, 404, 403, 403),
    ("POST", "/coordinator/sites/boulder/screen/", _screening_form): (302, 403, 403, 302, 404, 403, 403),
    ("GET", "/coordinator/people/BOU-001/", None): (302, 403, 403, 200, 404, 403, 403),
    ("GET", "/coordinator/people/LON-001/", None): (302, 403, 403, 404, 200, 403, 403),
    ("POST", "/coordinator/people/BOU-001/consent/", _consent_form): (302, 403, 403, 409, 404, 403, 403),
    ("POST", "/coordinator/people/BOU-001/enrol/", None): (302, 403, 403, 409, 404, 403, 403),
    ("POST", "/coordinator/people/BOU-001/randomize/", _randomize_form): (302, 403, 403, 409, 404, 403, 403),
    ("POST", "/coordinator/people/BOU-001/withdraw/", _withdraw_form): (302, 403, 403, 302, 404, 403, 403),
    ("POST", "/coordinator/people/BOU-001/complete/", None): (302, 403, 403, 409, 404, 403, 403),
    ("POST", "/api/screenings", _screening_json): (401, 403, 403, 201, 404, 403, 403),
    ("POST", "/api/participants/BOU-001/randomization", _randomize_json): (401, 403, 403, 409, 404, 403, 403),
    # the analyst's pages (analyst app): analysts only (own sites' de-identified data, own runs);
    # the run id below exists for no one (404 to the analyst); success paths: tests/web/analyst
    ("GET", "/analyst/", None): (302, 403, 403, 403, 403, 200, 403),
    ("POST", "/analyst/exports/tidy/", None): (302, 403, 403, 403, 403, 200, 403),
    ("POST", "/analyst/runs/", _upload_without_file_form): (302, 403, 403, 403, 403, 422, 403),
    ("GET", f"/analyst/runs/{RUN}/", None): (302, 403, 403, 403, 403, 404, 403),
    ("GET", f"/analyst/runs/{RUN}/report.html", None): (302, 403, 403, 403, 403, 404, 403),
    ("GET", f"/analyst/runs/{RUN}/results.json", None): (302, 403, 403, 403, 403, 404, 403),
    ("GET", "/audit/", None): (302, 403, 403, 403, 403, 403, 200),
    ("GET", "/admin/", None): (302, 302, 302, 302, 302, 302, 200),
    ("GET", "/admin/audit/auditevent/", None): (302, 302, 302, 302, 302, 302, 200),
    ("GET", "/admin/participants/participant/", None): (302, 302, 302, 302, 302, 302, 200),
    ("GET", "/admin/accounts/user/", None): (302, 302, 302, 302, 302, 302, 200),
    ("GET", "/admin/accounts/membership/", None): (302, 302, 302, 302, 302, 302, 200),
}



def _app_rows() -> dict:
    """Rows that an app's tests declare beside it (``tests/web/<app>/matrix.py``: ``ROWS``, and
    ``PLACEHOLDERS`` for the values its URL parameters take), merged into the one matrix."""
    import importlib
    import pkgutil
    from pathlib import Path

    rows = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.ispkg and (Path(__file__).parent / info.name / "matrix.py").exists():
            module = importlib.import_module(f"tests.web.{info.name}.matrix")
            clash = set(rows) & set(module.ROWS) | set(MATRIX) & set(module.ROWS)
            assert not clash, f"rows declared twice: {clash}"
            rows.update(module.ROWS)
            PLACEHOLDERS.update(getattr(module, "PLACEHOLDERS", {}))
    return rows


#: The value each URL parameter takes in the matrix (apps add theirs in their matrix.py).
PLACEHOLDERS = {"site_code": "boulder", "study_id": "BOU-001", "export_format": "tidy", "run_id": RUN,
                "instrument_id": "odi", "event": "pre", "instrument": "odi"}
MATRIX.update(_app_rows())

CELLS = [(role, key, statuses[i]) for key, statuses in MATRIX.items() for i, role in enumerate(ROLES)]


@pytest.mark.parametrize("role, endpoint, expected", CELLS,
                         ids=[f"{role}-{key[0]}-{key[1]}" for role, key, _ in CELLS])
def test_cell(world, role, endpoint, expected):
    method, path, data = endpoint
    client = world.client_for(None if role == "anonymous" else role)
    if method == "GET":
        response = client.get(path)
    elif path.startswith("/api/"):
        response = client.post(path, data(), content_type="application/json")
    else:
        response = client.post(path, data() if data else {})
    assert response.status_code == expected, response.content[:300]


def _routes(patterns, prefix=""):
    """Every page route of the URL tree (Django's admin and the API excepted: their own rows), as
    a path with the matrix's placeholder values."""
    from django.urls import URLResolver

    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route in ("api/", "admin/"):
                continue
            yield from _routes(pattern.url_patterns, route)
        else:
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: PLACEHOLDERS[m.group(1)], route)


def test_the_matrix_covers_every_url_and_api_operation(db, client):
    from django.urls import get_resolver

    covered = {(m, p) for m, p, _ in MATRIX}
    paths = {p for _, p in covered}
    for route in _routes(get_resolver().url_patterns):
        assert route in paths, f"{route} has no row in the permission matrix"
    schema = client.get("/api/openapi.json").json()
    for api_path, operations in schema["paths"].items():
        for method in operations:
            template = re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], api_path)
            assert (method.upper(), template) in covered, f"{method.upper()} {api_path} has no row"


def test_a_participant_never_sees_another_s_ratings_in_any_answer(world):
    """Beyond status codes: B's rating never appears in anything A can fetch."""
    b = world.client_for("participant_b")
    b.post("/api/diary", json.dumps({"client_uuid": str(uuid.uuid4()), "date": TODAY, "rating": 9}),
           content_type="application/json")
    a = world.client_for("participant_a")
    assert a.get("/api/diary").json() == []
    assert "9 out of 10" not in a.get("/").content.decode()
    assert [e["rating"] for e in world.client_for("coordinator_same_site").get(
        "/api/participants/BOU-002/diary").json()] == [9]
