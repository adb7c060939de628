"""Test set-up shared by tests/web and the package's doctests (imported by pytest conftests only)."""

from __future__ import annotations

import os
import tempfile

#: 64 random-looking characters: strong enough for the deployment check, useless anywhere else.
TEST_SECRET_KEY = "test-only-8f3b0a7c2d9e41f6b5a0c3d7e9f1a2b4c6d8e0f2a4b6c8d0e2f4a6b8"


def configure_django_for_tests() -> None:
    """Settings module, a data folder of its own, production mode; then ``django.setup()``.

    The SQLite test database lives in memory (pytest-django), so the data folder stays empty; with
    ``DATABASE_URL`` set, pytest-django creates ``test_<name>`` on that PostgreSQL server.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prt.web.settings")
    os.environ.setdefault("PRT_DATA_DIR", os.path.join(tempfile.gettempdir(), f"prt-web-tests-{os.getpid()}"))
    os.environ.setdefault("PRT_SECRET_KEY", TEST_SECRET_KEY)
    os.environ.setdefault("PRT_MODE", "production")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
