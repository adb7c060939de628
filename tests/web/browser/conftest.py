"""Browser tests: real pages in headless Debian Chromium, driven by Playwright's Python package, each
page checked by axe-core (docs/web.md, "Tests").

What they need, and who installs it: Debian's ``chromium`` and fonts, and axe-core from npm pinned
in this folder's package-lock.json, both installed by ``scripts/install-test-deps`` (which ``.ci/run``
calls); Playwright's Python package is in the ``test`` extra. Playwright's own browser download is
never used (``executable_path`` points at Debian's build), so nothing is downloaded at run time.
Missing, the tests skip with the reason; under CI (``CI=true``) they fail instead, so a CI machine
that lost a dependency cannot pass by skipping.

The server is Django's live server thread on plain HTTP 127.0.0.1 with the platform's settings,
less the three that need HTTPS (below): the pages, middleware, CSP and second factor are the ones a
trial runs with.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
HERE = Path(__file__).resolve().parent
#: axe-core as ``npm ci --prefix tests/web/browser`` installs it (package-lock.json pins the version).
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
#: Debian's Chromium; PRT_CHROMIUM names another build of it (never one Playwright downloads).
CHROMIUM = os.environ.get("PRT_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
INSTALL_HINT = "run scripts/install-test-deps"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium with axe-core (deselect with -m 'not browser')")


def missing_tools(chromium: str = CHROMIUM, axe_js: Path = AXE_JS) -> list[str]:
    """What the browser tests lack on this machine, in words (empty when all is there)."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the Python package playwright (pip install -e '.[test]')")
    if shutil.which(chromium) is None:
        missing.append(f"Chromium at {chromium} (Debian package chromium)")
    if not Path(axe_js).is_file():
        missing.append(f"axe-core at {axe_js} (npm ci --prefix tests/web/browser)")
    return missing


def require_tools(missing: list[str], in_ci: bool = IN_CI) -> None:
    """Skip with the reason outside CI; fail under CI, where the install script must have run."""
    if not missing:
        return
    reason = "browser tests need " + "; ".join(missing) + f": {INSTALL_HINT}"
    if in_ci:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


class RealClock:
    """The wall clock (Django's own ``timezone.now``, left in place).

    tests/web's fixed clock (10 March 2026) cannot drive a real browser: the session and CSRF
    cookies the server sets would carry an expiry that the browser, on the real date, finds already
    past (or far off), and TOTP codes are computed from the real time. So here "now" is real and
    every test builds its data relative to it.
    """

    @property
    def now(self) -> datetime:
        from django.utils import timezone

        return timezone.now()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def clock():
    """Overrides tests/web/conftest.py's fixed clock for this folder only (see RealClock)."""
    return RealClock()


@pytest.fixture
def browser_tools():
    require_tools(missing_tools())


@pytest.fixture
def browser_settings(settings, tmp_path):
    """The platform's production settings with the three that need HTTPS turned off, for these tests
    only (pytest-django restores them after each test; prt.web.settings itself is unchanged):

    - SECURE_SSL_REDIRECT: Django's live server speaks plain HTTP, so every page would redirect to
      an https:// address nothing answers;
    - SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE: a browser never sends a Secure cookie over HTTP,
      so no one could stay signed in and no form would pass its CSRF check.

    Also: MD5 password hashing (speed; Argon2 is tested in accounts/), a data folder and allocation
    key of the test's own, and the immediate task backend, so an analysis run finishes inside the
    request that starts it (the database backend and its worker are tested in analyst/).
    """
    from prt.trial.allocation_log import create_key

    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    key = tmp_path / "allocation.key"
    create_key(key)
    settings.PRT_ALLOCATION_KEY_FILE = str(key)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return settings


@pytest.fixture
def live_site(browser_tools, browser_settings, transactional_db):
    """Django's live server thread on 127.0.0.1, started after the settings above (the security
    middleware reads SECURE_SSL_REDIRECT once, when the server builds its handler) and stopped after
    the test. The test database is shared with it (in-memory SQLite) or committed to (PostgreSQL),
    hence ``transactional_db``."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1:0", start=False)
    server._live_server_modified_settings.enable()
    server.start()
    yield server
    server.stop()
    server._live_server_modified_settings.disable()


@dataclass
class Browser:
    """One Chromium for one test, and where its screenshots go."""

    chromium: object
    base_url: str
    shots: Path | None
    pages_seen: int = 0  # numbers the screenshots in the order pages were reached

    def new_page(self, viewport: dict, **context_options):
        context = self.chromium.new_context(viewport=viewport, base_url=self.base_url, locale="en-GB",
                                            **context_options)
        context.set_default_timeout(15_000)
        return context.new_page()


@pytest.fixture
def browser(live_site, monkeypatch, request):
    """Headless Debian Chromium for one test.

    Playwright's sync API keeps an asyncio loop running in this thread while it is started, and
    Django refuses ORM calls from a thread with a running loop; the test body both drives the
    browser and reads the database, so DJANGO_ALLOW_ASYNC_UNSAFE is set for this test only (the
    live server answers from its own thread). The browser is stopped before the database is
    flushed, and the variable restored after.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shots = os.environ.get("PRT_SCREENSHOTS")
    folder = None
    if shots:
        folder = Path(shots) / request.node.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield Browser(chromium, live_site.url, folder)
        finally:
            chromium.close()
            # Inside sync_playwright() Django's connections (kept per context) are new ones, so the
            # test body opened its own, which Django's teardown, outside, never sees: left open, one
            # per test, they kept PostgreSQL from dropping the test database ("being accessed by
            # other users"). Closed here, in the test body's context.
            from django.db import connections

            connections.close_all()
