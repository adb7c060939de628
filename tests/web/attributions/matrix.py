"""The pain-attribution rows of the permission matrix (merged by tests/web/test_permissions.py) for
the world's seven roles. None of them is a therapist or a rater (the coder), so every signed-in
cell is 403 and anonymous visitors are sent to sign in; participants never reach a code. The
program's roles (therapist, rater) and other sites: tests/web/attributions/test_permissions.py.
"""

from __future__ import annotations

CODE = "1"


def _review_form():
    return {"category": "stress", "version": "queued:2026-03-10T16:00:00+00:00"}


A = "/attributions"
ROWS = {
    ("GET", f"{A}/therapist/patients/BOU-001/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{A}/therapist/patients/BOU-002/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{A}/review/", None): (302, 403, 403, 403, 403, 403, 403),
    ("GET", f"{A}/review/{CODE}/", None): (302, 403, 403, 403, 403, 403, 403),
    ("POST", f"{A}/review/{CODE}/", _review_form): (302, 403, 403, 403, 403, 403, 403),
}
PLACEHOLDERS = {"code_id": CODE}
