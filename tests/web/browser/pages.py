"""What every browser test does on every page it visits: axe-core's check (no serious or critical
violation), no Content Security Policy violation, no script error, and (when PRT_SCREENSHOTS names a
folder) screenshots at phone and desktop sizes.

Impact levels are axe-core's (https://github.com/dequelabs/axe-core/blob/develop/doc/API.md,
"impact"); the rules run are axe's default set (WCAG 2.0-2.2 levels A and AA, and its best practices).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from tests.web.browser.conftest import AXE_JS, DESKTOP, PHONE

#: Violations at these impacts fail a page (the issue: "no serious or critical accessibility violation").
FAILING_IMPACTS = ("serious", "critical")


def failing(violations: list[dict]) -> list[dict]:
    """The violations of axe's result that fail a page."""
    return [v for v in violations if v.get("impact") in FAILING_IMPACTS]


def describe(violation: dict) -> str:
    """One violation as a line: rule id, impact, what it asks, and the elements (CSS selectors)."""
    targets = []
    for node in violation.get("nodes", []):
        target = node.get("target", [])
        targets.append(" > ".join(t if isinstance(t, str) else " ".join(t) for t in target))
    return f"{violation['id']} ({violation.get('impact')}): {violation.get('help')} [{'; '.join(targets)}]"


def totp_now(secret: bytes, at: float | None = None) -> str:
    """The 6-digit RFC 6238 code of ``secret`` at the real time, or at ``at`` (Unix seconds),
    by django-otp's own TOTP (SHA-1, 30 s steps), as an authenticator app computes it."""
    from django_otp.oath import TOTP

    totp = TOTP(secret, step=30, t0=0, digits=6)
    if at is not None:
        totp.time = at
    return f"{totp.token():06d}"


def totp_from_base32(secret: str, at: float | None = None) -> str:
    """The code of a secret as the enrolment page shows it (base32, as typed into an app)."""
    return totp_now(base64.b32decode(re.sub(r"\s", "", secret).upper()), at)


class Visitor:
    """A person at a browser: a Playwright page plus the checks run on each page it reaches."""

    def __init__(self, browser, viewport: dict, **context_options) -> None:
        self.browser = browser
        self.viewport = viewport
        self.bypass_csp = bool(context_options.get("bypass_csp"))
        self.page = browser.new_page(viewport, **context_options)
        self.problems: list[str] = []  # CSP violations and script errors, as the browser reports them
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self._axe = AXE_JS.read_text(encoding="utf-8")

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    # ---------------------------------------------------------------- navigation, each page checked
    def goto(self, path: str, name: str, *, status: int = 200):
        response = self.page.goto(path)
        self.check(name, response, status)
        return response

    def click(self, locator, name: str, *, status: int = 200) -> None:
        """Click something that loads a page (a link, a form's button), then check the new page."""
        with self.page.expect_navigation() as navigation:
            locator.click()
        self.check(name, navigation.value, status)

    def check(self, name: str, response=None, status: int = 200) -> None:
        """The page's HTTP status, axe-core at the test's viewport, no CSP violation, then
        screenshots (when asked)."""
        self.page.wait_for_load_state("load")
        if response is not None:
            assert response.status == status, f"{name} ({self.page.url}): HTTP {response.status}, expected {status}"
            # a CSP sandbox without allow-scripts stops axe's timers, so axe.run() would never end
            assert self.bypass_csp or "sandbox" not in response.headers.get("content-security-policy", ""), (
                f"{name} is sandboxed by its CSP: check it with Visitor.sandboxed()")
        violations = self.axe()
        self.note(name, violations)
        assert not failing(violations), (
            f"axe-core on {name} ({self.page.url}) at {self.viewport['width']}x{self.viewport['height']}:\n"
            + "\n".join(describe(v) for v in failing(violations)))
        assert not self.problems, f"{name} ({self.page.url}): " + "\n".join(self.problems)
        self.screenshots(name)

    def axe(self) -> list[dict]:
        """Run axe-core in the page; its violations (all impacts).

        axe is evaluated through the DevTools protocol rather than added as a <script>: the page's
        CSP (script-src 'self', no inline script) stays on and is tested at the same time."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(self._axe)
        result = self.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        return result["violations"]

    def note(self, name: str, violations: list[dict]) -> None:
        """With PRT_SCREENSHOTS set, every violation (moderate and minor too) goes to axe.txt there."""
        if self.browser.shots is not None and violations:
            with open(Path(self.browser.shots) / "axe.txt", "a", encoding="utf-8") as notes:
                notes.writelines(f"{name}: {describe(v)}\n" for v in violations)

    def screenshots(self, name: str) -> None:
        folder = self.browser.shots
        self.browser.pages_seen += 1
        if folder is None:
            return
        number = self.browser.pages_seen
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(Path(folder) / f"{number:02d}-{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size(self.viewport)

    def sandboxed(self, path: str, name: str) -> "Visitor":
        """Check a page that its CSP sandboxes (the analysis report: no script may run in it).

        Here the page is opened in a second browser context, signed in as this one, that ignores
        the page's CSP (Playwright's bypass_csp), so axe can run in it; the caller checks the
        sandbox itself on the response of the first context."""
        other = Visitor(self.browser, self.viewport, bypass_csp=True,
                        storage_state=self.page.context.storage_state())
        other.goto(path, name)
        return other

    # ---------------------------------------------------------------- signing in
    def sign_in(self, username: str, password: str, *, expect: str) -> None:
        """The sign-in page, typed as a person types; ``expect`` names the page that follows."""
        self.goto("/login/", "sign-in")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.click(self.page.get_by_role("button", name="Sign in"), expect)

    def second_factor(self, code: str, name: str) -> None:
        self.page.get_by_label("6-digit code").fill(code)
        self.click(self.page.locator("main form button[type=submit]"), name)

    def choose(self, name: str, value: str) -> None:
        """Tap the label of the radio button ``name=value`` (the buttons drawn for it)."""
        radio = self.page.locator(f'input[type=radio][name="{name}"][value="{value}"]')
        self.page.locator(f'label[for="{radio.get_attribute("id")}"]').click()
        assert radio.is_checked()

    def text(self) -> str:
        return self.page.locator("main").inner_text()
