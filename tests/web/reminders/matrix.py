"""The reminders' rows of the permission matrix (tests/web/test_permissions.py merges them).

A person's reminder contact (an e-mail address: patient data) is seen and changed only by the
coordinators of their site (another site 404, other roles 403); ``me`` is the participant's own
page and operation (staff 403). In the matrix's world nobody has an address yet, so a
participant's opt-out is refused on its merits (409), never for permission.
"""

import json


def _contact_form():
    return {"action": "save", "email": "reminders@example.org", "opted_in": "on"}


def _contact_json():
    return json.dumps({"email": "reminders@example.org", "opted_in": True})


def _choice_form():
    return {"opted_in": "no"}


def _choice_json():
    return json.dumps({"opted_in": False})


ROWS = {
    ("GET", "/coordinator/reminders/", None): (302, 403, 403, 200, 200, 403, 403),
    ("GET", "/coordinator/reminders/people/BOU-001/", None): (302, 403, 403, 200, 404, 403, 403),
    ("GET", "/coordinator/reminders/people/LON-001/", None): (302, 403, 403, 404, 200, 403, 403),
    ("POST", "/coordinator/reminders/people/BOU-001/", _contact_form): (302, 403, 403, 302, 404, 403, 403),
    ("GET", "/reminders/", None): (302, 200, 200, 403, 403, 403, 403),
    ("POST", "/reminders/", _choice_form): (302, 409, 409, 403, 403, 403, 403),
    ("GET", "/api/participants/BOU-001/reminder-contact", None): (401, 403, 403, 200, 404, 403, 403),
    ("POST", "/api/participants/BOU-001/reminder-contact", _contact_json): (401, 403, 403, 201, 404, 403, 403),
    ("GET", "/api/reminders/me", None): (401, 200, 200, 403, 403, 403, 403),
    ("POST", "/api/reminders/me", _choice_json): (401, 409, 409, 403, 403, 403, 403),
}
