"""The attribution tests' fixtures (tests/web/attributions/common.py)."""

from tests.web.attributions.common import attrib  # noqa: F401 (a fixture)
