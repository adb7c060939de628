"""The live CONSORT rows of the permission matrix (merged by tests/web/test_permissions.py):
coordinators only, their own sites (another site 404); every other role 403."""

from __future__ import annotations

ROWS = {
    ("GET", "/coordinator/consort/", None): (302, 403, 403, 200, 200, 403, 403),
    ("GET", "/coordinator/consort/consort.svg", None): (302, 403, 403, 200, 200, 403, 403),
    ("GET", "/coordinator/consort/consort.json", None): (302, 403, 403, 200, 200, 403, 403),
    ("GET", "/coordinator/consort/sites/boulder/", None): (302, 403, 403, 200, 404, 403, 403),
    ("GET", "/coordinator/consort/sites/boulder/consort.svg", None): (302, 403, 403, 200, 404, 403, 403),
    ("GET", "/coordinator/consort/sites/boulder/consort.json", None): (302, 403, 403, 200, 404, 403, 403),
}
