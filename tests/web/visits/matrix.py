"""The visit schedule's rows of the permission matrix (tests/web/test_permissions.py merges them).

Only a coordinator of the site sees its schedule: another site is 404, every other role 403.
"""

ROWS = {
    ("GET", "/coordinator/visits/", None): (302, 403, 403, 200, 200, 403, 403),
    ("GET", "/coordinator/visits/sites/boulder/", None): (302, 403, 403, 200, 404, 403, 403),
    ("GET", "/coordinator/visits/sites/london/", None): (302, 403, 403, 404, 200, 403, 403),
    ("GET", "/coordinator/visits/sites/boulder/visits.csv", None): (302, 403, 403, 200, 404, 403, 403),
    ("GET", "/api/sites/boulder/visits", None): (401, 403, 403, 200, 404, 403, 403),
    ("GET", "/api/sites/london/visits", None): (401, 403, 403, 404, 200, 403, 403),
}
