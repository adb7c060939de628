"""Fixtures of the web tests: Django configured for this folder only, a fixed clock, HTTPS clients,
and one small world of sites, roles and participants (the permission matrix's rows).

Django is set up when this folder is collected (prt.web.testing), in production mode: every test
runs against the settings a trial runs with (HTTPS only, secure cookies, CSP). The rest of the
suite never touches Django. Without Django installed the folder is skipped, except under CI.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

WEB_INSTALLED = all(importlib.util.find_spec(m) is not None for m in ("django", "ninja", "csp", "pytest_django"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

if not WEB_INSTALLED and not IN_CI:
    collect_ignore_glob = ["*.py"]  # fnmatch: * spans folders too
else:
    from prt.web.testing import configure_django_for_tests

    configure_django_for_tests()

#: The tests' "now": 16:00 UTC on 10 March 2026 is 10:00 in Denver (MDT) and 16:00 in London.
NOW = datetime(2026, 3, 10, 16, 0, tzinfo=dt_timezone.utc)
POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_configure(config):
    config.addinivalue_line("markers", "postgresql: needs DATABASE_URL pointing at PostgreSQL (skips otherwise)")
    try:  # block database access outside tests that ask for it, as pytest-django does for its own set-up
        from pytest_django.plugin import blocking_manager_key

        config.stash[blocking_manager_key].block()
    except (ImportError, KeyError):  # pragma: no cover - an older pytest-django
        pass


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs DATABASE_URL=postgresql://... (PostgreSQL)")
    for item in items:
        if "postgresql" in item.keywords and not POSTGRES:
            item.add_marker(skip)


class Clock:
    """A settable ``django.utils.timezone.now``: tests never depend on the wall clock."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def _fresh_progress_cache():
    """visits.battery_progress keeps each site's progress by the submissions' (count, largest id).
    A rolled-back test can leave SQLite reusing ids, so the next test's rows could match a stale
    key: each test starts with none kept (a server only ever sees committed rows)."""
    from prt.web.visits import services

    services._PROGRESS.clear()
    yield
    services._PROGRESS.clear()


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    from django.utils import timezone

    fixed = Clock(NOW)
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed


@pytest.fixture
def fast_hashing(settings):
    """MD5 hashing for tests that create many logins (Argon2 is tested on its own)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def https_client(**kwargs):
    """A test client whose every request is HTTPS (the production settings redirect plain HTTP)."""
    from django.test import Client

    class HttpsClient(Client):
        def generic(self, method, path, data="", content_type="application/octet-stream", secure=True, **extra):
            return super().generic(method, path, data, content_type, True, **extra)

    return HttpsClient(**kwargs)


@pytest.fixture
def client():
    return https_client()


@pytest.fixture
def csrf_client():
    """A client that enforces CSRF like a browser (Origin header of the same site)."""
    return https_client(enforce_csrf_checks=True, headers={"Origin": "https://testserver"})


class World:
    """Two sites; participants A and B at site 1, C at site 2; one login per role (the matrix's rows)."""

    def __init__(self) -> None:
        from prt.web.accounts.models import Membership, Site, User
        from prt.web.participants.models import Participant

        self.site1 = Site.objects.create(code="boulder", name="Boulder", timezone="America/Denver")
        self.site2 = Site.objects.create(code="london", name="London", timezone="Europe/London")
        self.users = {}

        def user(name, *memberships, superuser=False):
            u = User.objects.create_user(name, password=None, is_staff=superuser, is_superuser=superuser)
            for site, role in memberships:
                Membership.objects.create(user=u, site=site, role=role)
            self.users[name] = u
            return u

        user("participant_a", (self.site1, "participant"))
        user("participant_b", (self.site1, "participant"))
        user("participant_c", (self.site2, "participant"))
        user("coordinator_same_site", (self.site1, "coordinator"))
        user("coordinator_other_site", (self.site2, "coordinator"))
        user("analyst", (self.site1, "analyst"), (self.site2, "analyst"))
        user("admin", (self.site1, "admin"), superuser=True)
        self.a = Participant.objects.create(study_id="BOU-001", site=self.site1, user=self.users["participant_a"],
                                            status="enrolled")
        self.b = Participant.objects.create(study_id="BOU-002", site=self.site1, user=self.users["participant_b"],
                                            status="randomized", arm="prt")
        self.c = Participant.objects.create(study_id="LON-001", site=self.site2, user=self.users["participant_c"],
                                            status="enrolled")

    def client_for(self, name: str | None, *, verified: bool = True, **kwargs):
        """A signed-in client; staff sessions have passed the second factor unless ``verified=False``."""
        client = https_client(**kwargs)
        if name is not None:
            client.force_login(self.users[name])
            if verified:
                verify_session(client, self.users[name])
        return client


def verify_session(client, user) -> None:
    """Give a staff ``user`` a confirmed TOTP device and mark the client's session verified with it
    (as the second-factor page does after a right code); participants are left as they are."""
    from prt.web.accounts import twofactor

    if not twofactor.is_staff_user(user):
        return
    device = twofactor.confirmed_device(user) or user.totpdevice_set.create(name="test", confirmed=True)
    session = client.session
    twofactor.mark_verified(session, device)
    session.save()


@pytest.fixture
def world(db):
    return World()
