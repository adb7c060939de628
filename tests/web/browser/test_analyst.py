"""An analyst at a desktop: signs in with a password and an authenticator code, uploads a REDCap
export of a small simulated trial, runs the analysis and opens its report; every page passes
axe-core, the report included."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

import prt
from prt.data import write_redcap
from tests.web.browser.conftest import DESKTOP
from tests.web.browser.pages import Visitor, totp_now

pytestmark = pytest.mark.browser

PASSWORD = "analysis-pass-2026"


def test_an_analyst_runs_the_analysis_and_opens_its_report(world, browser, tmp_path):
    from prt.web.analyst import jobs
    from prt.web.analyst.models import AnalysisRun

    user = world.users["analyst"]
    user.set_password(PASSWORD)
    user.save()
    device = user.totpdevice_set.create(name="phone", confirmed=True)
    export = tmp_path / "simulated-redcap.csv"
    buffer = io.BytesIO()
    write_redcap(prt.simulate_trial(n=30, seed=3), buffer, layout="flat")
    export.write_bytes(buffer.getvalue())
    me = Visitor(browser, DESKTOP)
    page = me.page

    me.sign_in("analyst", PASSWORD, expect="two-factor-code")
    assert page.get_by_role("heading", level=1).inner_text() == "Enter your code"
    me.second_factor(totp_now(device.bin_key), "staff-home")
    me.click(page.get_by_role("link", name="Analysis and exports"), "analyst-home")

    me.choose("source", "upload")
    page.get_by_label("REDCap export (CSV), for an upload").set_input_files(export)
    page.get_by_label("Bootstrap resamples").fill("10")
    page.get_by_label("Mediation resamples").fill("10")
    page.get_by_label("Seed").fill("7")
    # the immediate task backend runs the job before the redirect: the run page opens finished
    me.click(page.get_by_role("button", name="Run the analysis"), "analysis-run")
    run = AnalysisRun.objects.get(requested_by=user)
    assert run.state == "finished", run.error
    assert (run.bootstrap, run.mediation_bootstrap, run.seed) == (10, 10, 7)
    assert run.snapshot_sha256 == hashlib.sha256(export.read_bytes()).hexdigest()  # the upload, kept as sent
    assert page.get_by_role("heading", name="Finished").is_visible()
    assert run.snapshot_sha256 in me.text()

    # the report: served sandboxed (no script runs in it), so axe checks it in a second context
    link = page.get_by_role("link", name="Open the report (report.html)")
    with page.expect_navigation() as navigation:
        link.click()
    served = navigation.value
    assert served.status == 200 and "sandbox" in served.headers["content-security-policy"]
    assert page.title() == "Simulated PRT trial: analysis report"
    assert served.url.endswith(f"/analyst/runs/{run.id}/report.html")
    report = me.sandboxed(served.url, "analysis-report").page
    assert report.get_by_role("heading", name="Primary result").is_visible()
    results = json.loads(page.request.get(f"/analyst/runs/{run.id}/results.json").text())
    assert results == json.loads((jobs.output_dir(run) / "results.json").read_text())

    me.goto("/analyst/", "analyst-home-after")
    assert page.get_by_role("link", name=run.requested_at.strftime("%Y-%m-%d %H:%M")).is_visible()
