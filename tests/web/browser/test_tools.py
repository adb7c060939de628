"""The browser tests' own rules, checked without a browser: what is missing skips outside CI and
fails under CI; which axe-core results fail a page, and how a failure reads."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from tests.web.browser.conftest import AXE_JS, missing_tools, require_tools
from tests.web.browser.pages import FAILING_IMPACTS, describe, failing, totp_from_base32, totp_now


def test_missing_tools_are_named_with_how_to_install_them(tmp_path):
    missing = missing_tools(chromium=str(tmp_path / "no-chromium"), axe_js=tmp_path / "axe.min.js")
    assert any("Chromium at" in m and "Debian package chromium" in m for m in missing)
    assert any("axe-core at" in m and "npm ci --prefix tests/web/browser" in m for m in missing)


def test_the_axe_file_is_the_one_npm_ci_installs():
    assert AXE_JS.parts[-3:] == ("node_modules", "axe-core", "axe.min.js")


def test_nothing_missing_neither_skips_nor_fails():
    assert require_tools([], in_ci=True) is None


def test_missing_tools_skip_outside_ci():
    with pytest.raises(pytest.skip.Exception, match="install-test-deps"):
        require_tools(["Chromium at /nowhere"], in_ci=False)


def test_missing_tools_fail_under_ci():
    with pytest.raises(pytest.fail.Exception, match="Chromium at /nowhere"):
        require_tools(["Chromium at /nowhere"], in_ci=True)


IMPACTS = st.sampled_from(["minor", "moderate", "serious", "critical", None])
TARGET = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3)
NODE = st.fixed_dictionaries({"target": st.lists(st.one_of(st.text(min_size=1, max_size=12), TARGET),
                                                 min_size=1, max_size=3)})
VIOLATION = st.fixed_dictionaries({"id": st.text(min_size=1, max_size=20), "impact": IMPACTS,
                                   "help": st.text(max_size=40), "nodes": st.lists(NODE, max_size=4)})


@given(st.lists(VIOLATION, max_size=8))
def test_exactly_the_serious_and_critical_violations_fail_a_page(violations):
    kept = failing(violations)
    assert kept == [v for v in violations if v["impact"] in FAILING_IMPACTS]  # same ones, same order
    assert all(v["impact"] in {"serious", "critical"} for v in kept)


@given(VIOLATION)
def test_a_failure_names_the_rule_its_impact_and_every_element(violation):
    line = describe(violation)
    assert line.startswith(f"{violation['id']} ({violation['impact']}): ")
    for node in violation["nodes"]:
        for part in node["target"]:
            for selector in ([part] if isinstance(part, str) else part):
                assert selector in line


def test_totp_codes_follow_rfc_6238():
    """RFC 6238 appendix B, SHA-1: 94287082 at T = 59 s and 07081804 at T = 1111111109 (8 digits);
    an app shows the last 6."""
    key = b"12345678901234567890"
    assert totp_now(key, at=59) == "287082"
    assert totp_now(key, at=1111111109) == "081804"
    assert totp_from_base32("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", at=59) == "287082"


# ---------------------------------------------------------------- the checks bite, in a real browser
PAGE = ('<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>A page</h1>{body}'
        '</main></body></html>')
STRICT_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'"


def _serve(visitor, body: str) -> None:
    """Answer every request of ``visitor`` with PAGE around ``body``, under the platform's CSP."""
    visitor.page.route("**/*", lambda route: route.fulfill(
        status=200, body=PAGE.format(body=body),
        headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": STRICT_CSP}))


@pytest.mark.browser
def test_the_page_checks_pass_a_clean_page_and_catch_a_barrier_and_a_csp_violation(browser):
    from tests.web.browser.conftest import PHONE
    from tests.web.browser.pages import Visitor

    clean = Visitor(browser, PHONE)
    _serve(clean, "<p>Fine.</p>")
    clean.goto("/clean", "clean")  # no exception: nothing to report

    unlabelled = Visitor(browser, PHONE)
    _serve(unlabelled, '<form><input type="text" name="q"></form>')  # a field with no label: critical
    with pytest.raises(AssertionError, match=r"label \(critical\)"):
        unlabelled.goto("/unlabelled", "unlabelled")

    inline = Visitor(browser, PHONE)
    _serve(inline, '<p style="color: red">Red.</p>')  # an inline style: refused by the CSP
    with pytest.raises(AssertionError, match="CSP: "):
        inline.goto("/inline", "inline")
