"""The program tests' fixtures (tests/web/program/common.py)."""

from tests.web.program.common import program  # noqa: F401 (a fixture)
