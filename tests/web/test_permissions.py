"""The permission matrix: every URL and API endpoint of the platform, requested by every role,
answers the status in its cell. A new URL without a row here fails ``test_the_matrix_covers_every_url``.

Rules (participants/access.py): a participant sees only their own data; coordinators (and the
other care roles) only their own sites' participants; another participant's id is 404, not 403,
so existence is not disclosed; roles that never see identified data (analyst, admin) get 403;
the admin role alone enters Django's admin. Anonymous: pages redirect to sign in, the API says 401.
"""

from __future__ import annotations

import json
import uuid

import pytest

ROLES = ("anonymous", "participant_a", "participant_b", "coordinator_same_site", "coordinator_other_site",
         "analyst", "admin")
TODAY = "2026-03-10"


def _diary_form():
    return {"client_uuid": str(uuid.uuid4()), "date": TODAY, "rating": "4"}


def _diary_json():
    return json.dumps({"client_uuid": str(uuid.uuid4()), "date": TODAY, "rating": 4})


#: (method, path, request data) -> statuses in ROLES order.
MATRIX = {
    ("GET", "/", None): (302, 200, 200, 200, 200, 200, 200),
    ("POST", "/diary/", _diary_form): (302, 302, 302, 403, 403, 403, 403),
    ("GET", "/login/", None): (200, 302, 302, 302, 302, 302, 302),
    ("POST", "/logout/", None): (302, 302, 302, 302, 302, 302, 302),
    ("GET", "/healthz", None): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/openapi.json", None): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/diary", None): (401, 200, 200, 403, 403, 403, 403),
    ("POST", "/api/diary", _diary_json): (401, 201, 201, 403, 403, 403, 403),
    ("GET", "/api/participants/BOU-001/diary", None): (401, 200, 404, 200, 404, 403, 403),
    ("GET", "/api/participants/BOU-002/diary", None): (401, 404, 200, 200, 404, 403, 403),
    ("GET", "/api/participants/LON-001/diary", None): (401, 404, 404, 404, 200, 403, 403),
    ("GET", "/api/participants/NO-SUCH-ID/diary", None): (401, 404, 404, 404, 404, 403, 403),
    ("GET", "/admin/", None): (302, 302, 302, 302, 302, 302, 200),
    ("GET", "/admin/audit/auditevent/", None): (302, 302, 302, 302, 302, 302, 200),
    ("GET", "/admin/participants/participant/", None): (302, 302, 302, 302, 302, 302, 200),
    ("GET", "/admin/accounts/user/", None): (302, 302, 302, 302, 302, 302, 200),
    ("GET", "/admin/accounts/membership/", None): (302, 302, 302, 302, 302, 302, 200),
}

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


def test_the_matrix_covers_every_url_and_api_operation(db, client):
    from django.urls import get_resolver

    top_level = {str(p.pattern) for p in get_resolver().url_patterns}
    assert top_level == {"", "diary/", "login/", "logout/", "healthz", "api/", "admin/"}
    covered = {(m, p) for m, p, _ in MATRIX}
    for route in top_level - {"api/", "admin/"}:
        assert any(path == "/" + route for _, path in covered), route
    schema = client.get("/api/openapi.json").json()
    for api_path, operations in schema["paths"].items():
        for method in operations:
            template = api_path.replace("{study_id}", "BOU-001")
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
