"""The browser fixtures of tests/web/browser (headless Debian Chromium, axe-core, the real clock),
for the attribution pages' browser test in this folder."""

from tests.web.browser.conftest import *  # noqa: F401,F403 (fixtures, the marker, the real clock)
