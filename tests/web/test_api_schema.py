"""schemathesis against ``/api/openapi.json``: generated requests to every API operation, signed in as
a participant and as a (second-factor verified) coordinator, never get a server error (5xx) and every
response conforms to the schema: a declared status, content type and body (issue 13).

The WSGI application is called in-process over HTTPS (the production settings redirect plain HTTP),
with the session cookie and the CSRF token a browser would send. Examples are bounded (``EXAMPLES``
per operation) so the run stays well under a minute on two cores; the database is the test's.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 12
BASE_URL = "https://localhost"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("participant_a", "coordinator_same_site")


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django closes the database connection when a WSGI request finishes; inside a test that would
    close the test's own transaction (PostgreSQL). Django's test client disconnects the same handler."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def sessions(world):
    """Cookies and headers of a signed-in browser session per role (the CSRF token sent back as a header)."""
    from django.middleware.csrf import _get_new_csrf_string

    out = {}
    for role in ROLES:
        client = world.client_for(role)
        token = _get_new_csrf_string()
        out[role] = ({"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
                     {"X-CSRFToken": token, "Origin": BASE_URL, "Referer": BASE_URL + "/"})
    return out


def _load_schema():
    """Loaded when the module is collected: the schema is public and its view reads no database.
    (schemathesis' lazy ``from_fixture`` sets a node attribute pytest 9 no longer has.)"""
    from django.core.handlers.wsgi import WSGIHandler

    return schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler(), base_url=BASE_URL)


schema = _load_schema()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, sessions):
    for role in ROLES:
        cookies, headers = sessions[role]
        case.call_and_validate(base_url=BASE_URL, cookies=cookies, headers=headers, checks=CHECKS)
