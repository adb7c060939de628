"""The program's pages end to end: each role's job through the forms (saved -> redirect with a
message; refused -> the page again with the reason, nothing stored), the arm's content enforced,
the CSP kept (no inline script or style), labels stable for the browser tests."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from tests.web.program.common import (REFER, TODAY, attempt_form, evaluated, give_hierarchy, held, hierarchy_form,
                                      practice_form)

P = "/program"
TEMPLATES = Path(__file__).resolve().parents[3] / "src/prt/web/program/templates"


def text(response) -> str:
    return response.content.decode()


# ------------------------------------------------------------------------------------ the PRT participant
def test_the_program_opens_with_the_sessions_material_and_home_practice(program):
    client = program.client_for("participant_b")
    page = text(client.get(f"{P}/"))
    assert "Your sessions have not started yet" in page and "Before your first session" in page
    assert client.get(f"{P}/material/education/").status_code == 403  # not introduced yet
    evaluated(program.b, program.physician)
    held(program.b, program.therapist, numbers=(1, 2, 3))
    page = text(client.get(f"{P}/"))
    assert "Session 3 of 8 done" in page and "Session 3: Somatic tracking" in page
    assert "Practise somatic tracking" in page and "Add to your evidence sheet" in page  # session 3's home practice
    assert "Somatic tracking means turning towards a sensation" in page  # the handout, rendered
    assert "zebra note" not in page  # the therapist's notes are the therapist's
    material = client.get(f"{P}/material/education/")
    assert material.status_code == 200 and "<h2>The pain-fear cycle</h2>" in text(material)
    assert client.get(f"{P}/material/emotional_threats/").status_code == 403  # as needed, not delivered yet
    assert client.get(f"{P}/material/no_such_part/").status_code == 404


def test_a_tracking_practice_is_saved_from_the_page_and_a_missing_rating_is_refused(program):
    from prt.web.program.models import PracticeLog

    client = program.client_for("participant_b")
    page = text(client.get(f"{P}/tracking/"))
    assert re.search(r'<script src="/static/program/tracking\.js[^"]*" defer></script>', page)
    assert 'data-start="0" data-end="120"' in page and "data-timer" in page and " hidden>" in page
    assert "Pain 7 or more: calm the system first" in page  # the tool by pain level
    refused = client.post(f"{P}/tracking/", {**practice_form(), "pain_after": ""})
    assert refused.status_code == 422 and "Pain after: is required" in text(refused)
    assert PracticeLog.objects.count() == 0
    saved = client.post(f"{P}/tracking/", practice_form(), follow=True)
    assert "Practice saved: pain 6 → 4, fear 5 → 3." in text(saved)
    row = PracticeLog.objects.get()
    assert (row.assignment, row.minutes, row.pain_before, row.pain_after, row.setting) == (
        "tracking_practice", 5, 6, 4, "seated")


def test_the_practice_log_the_evidence_sheet_and_the_hierarchy_from_their_pages(program):
    from prt.web.program import services

    client = program.client_for("participant_b")
    saved = client.post(f"{P}/practice/", {"client_uuid": "0f8fad5b-d9cb-469f-a165-70867728950e",
                                           "assignment": "savour_pleasant", "day": TODAY.isoformat(),
                                           "minutes": "7"}, follow=True)
    assert "Practice saved: Amplify a pleasant sensation, 7 minutes." in text(saved)
    assert "Amplify a pleasant sensation" in text(client.get(f"{P}/practice/"))
    old = client.post(f"{P}/practice/", {"client_uuid": "1f8fad5b-d9cb-469f-a165-70867728950e",
                                         "assignment": "savour_pleasant", "minutes": "7",
                                         "day": (TODAY - timedelta(days=9)).isoformat()})
    assert old.status_code == 422 and "Day: more than 7 days ago" in text(old)
    evidence = client.post(f"{P}/evidence/", {"examples-inconsistency": "Eases on holiday\n\nWorse on Mondays",
                                             "examples-triggers": "Before meetings"}, follow=True)
    assert "the evidence is some" in text(evidence)
    assert services.evidence_of(program.b).examples["inconsistency"] == ("Eases on holiday", "Worse on Mondays")
    long = client.post(f"{P}/evidence/", {"examples-triggers": "x" * 501})
    assert long.status_code == 422 and "Triggers that are not about the body, example 1" in text(long)
    assert "x" * 501 in text(long)  # the participant's own text is kept in the form to correct it
    saved = client.post(f"{P}/exposure/", hierarchy_form(("bending to the floor", 6), ("a walk", 2)), follow=True)
    assert "Your list of movements is saved." in text(saved) and "Start with the movement you fear least: a walk." \
        in text(saved)
    bad = client.post(f"{P}/exposure/", hierarchy_form(("lifting", 11)))
    assert bad.status_code == 422 and "Row 1 of your list, fear rating: expected a whole number 0-10" in text(bad)
    attempt = client.post(f"{P}/exposure/attempts/", attempt_form(step="s2"), follow=True)
    assert "Attempt saved: pain 3 (expected 5), fear 2 (expected 4)." in text(attempt)


def test_an_attempt_at_hold_off_level_says_to_wait_for_the_therapist(program):
    give_hierarchy(program.b)
    client = program.client_for("participant_b")
    page = text(client.post(f"{P}/exposure/attempts/", attempt_form(actual_fear="9"), follow=True))
    assert "Hold off that movement until you have talked with your therapist" in page


def test_the_progress_page_shows_the_charts_beside_the_diary(program):
    client = program.client_for("participant_b")
    client.post("/api/diary", {"client_uuid": "2f8fad5b-d9cb-469f-a165-70867728950e", "date": TODAY.isoformat(),
                               "rating": 4}, content_type="application/json")
    client.post(f"{P}/tracking/", practice_form())
    give_hierarchy(program.b)
    client.post(f"{P}/exposure/attempts/", attempt_form())
    page = text(client.get(f"{P}/progress/"))
    assert page.count('role="img"') == 4
    assert "1 rated practice from 10 March 2026 to 10 March 2026; the pain eased during 1 of them" in page
    assert "1 attempt from 10 March 2026 to 10 March 2026 on the 0 to 10 scale; latest fear 2" in page


# ------------------------------------------------------------------------------------ the control arms
def test_placebo_and_usual_care_see_their_arm_s_content_only(program):
    placebo = text(program.client_for("participant_placebo").get(f"{P}/"))
    assert "A placebo is a treatment with no active drug in it" in placebo and "Somatic tracking" not in placebo
    usual = text(program.client_for("participant_usual_care").get(f"{P}/"))
    assert "Continue usual care" in usual and "A chronic-pain workbook" not in usual
    assert "More material is given after your posttreatment visit." in usual
    waiting = text(program.client_for("participant_a").get(f"{P}/"))
    assert "Not started yet" in waiting


# ------------------------------------------------------------------------------------ the therapist
def test_the_therapist_records_a_session_and_its_home_practice(program):
    from prt.web.program.models import ProgramSession

    client = program.client_for("therapist")
    page = text(client.get(f"{P}/therapist/patients/BOU-002/sessions/1/"))
    assert "No session can be recorded before a completed physician evaluation" in page
    assert 'name="outcome"' not in page  # no form to fill in before the evaluation
    refused = client.post(f"{P}/therapist/patients/BOU-002/sessions/1/", {"outcome": "held",
                                                                         "held_on": TODAY.isoformat(), "minutes": "60"})
    assert refused.status_code == 409 and ProgramSession.objects.count() == 0
    evaluated(program.b, program.physician)
    page = text(client.get(f"{P}/therapist/patients/BOU-002/sessions/1/"))
    assert 'id="step-pain_from_brain" name="steps" value="pain_from_brain" checked' in page
    assert 'id="assignment-read_education" name="assignments" value="read_education" checked' in page
    saved = client.post(f"{P}/therapist/patients/BOU-002/sessions/1/", {
        "outcome": "held", "held_on": TODAY.isoformat(), "minutes": "55", "steps": ["pain_from_brain", "pain_is_real"],
        "assignments": ["read_education"], "notes": "Good first session.", "recorded": "yes"}, follow=True)
    assert "Session 1 recorded (held)." in text(saved)
    row = ProgramSession.objects.get()
    assert (row.minutes, row.steps, row.assignments, row.notes, row.recorded, row.therapist) == (
        55, ["pain_from_brain", "pain_is_real"], ["read_education"], "Good first session.", True, program.therapist)
    patient = text(client.get(f"{P}/therapist/patients/BOU-002/"))
    assert "Re-read how pain is made" in patient and "Held" in patient
    correction = client.post(f"{P}/therapist/patients/BOU-002/sessions/1/", {
        "outcome": "held", "held_on": TODAY.isoformat(), "minutes": "60", "steps": ["pain_from_brain"],
        "assignments": ["read_education"], "notes": "Good first session.", "recorded": "yes"})
    assert correction.status_code == 422 and "Reason: required" in text(correction)


def test_the_therapist_moves_an_appointment(program):
    client = program.client_for("therapist")
    moved = client.post(f"{P}/therapist/patients/BOU-002/sessions/2/schedule/",
                        {"scheduled_for": (TODAY + timedelta(days=3)).isoformat()}, follow=True)
    assert "Session 2 is scheduled for 13 March 2026." in text(moved)
    past = client.post(f"{P}/therapist/patients/BOU-002/sessions/2/schedule/", {"scheduled_for": "2026-03-01"})
    assert past.status_code == 422 and "Scheduled for: in the past" in text(past)
    bad = client.post(f"{P}/therapist/patients/BOU-002/sessions/2/schedule/", {"scheduled_for": "13/03/2026"})
    assert bad.status_code == 422 and "expected a date as YYYY-MM-DD" in text(bad)


# ------------------------------------------------------------------------------------ the physician
def test_the_physician_saves_a_draft_then_completes_and_a_red_flag_blocks(program):
    from prt.web.program.models import Evaluation

    client = program.client_for("physician")
    assert "No evaluation yet" in text(client.get(f"{P}/physician/"))
    form = {"action": "draft", **{f"flag-{f}": "no" for f in ("tumour", "fracture")}}
    assert client.post(f"{P}/physician/patients/BOU-002/", form).status_code == 302
    page = text(client.get(f"{P}/physician/patients/BOU-002/"))
    assert "Not yet ruled out: Infection, Inflammatory disease" in page
    complete = {"action": "complete", "evaluated_on": TODAY.isoformat(), "formulation": "centralized",
                **{f"flag-{f}": "no" for f in REFER["red_flags"]}, "factor-stressful_onset": "yes",
                "imaging_reviewed": "yes", "imaging_findings": ["disc_bulge"], "findings_explained": "yes",
                "education": ["pain_as_prediction"]}
    incomplete = client.post(f"{P}/physician/patients/BOU-002/", {**complete, "flag-infection": "unknown"})
    assert incomplete.status_code == 422 and "not yet assessed: Infection" in text(incomplete)
    done = client.post(f"{P}/physician/patients/BOU-002/", complete, follow=True)
    assert "completed: Referred to PRT" in text(done)
    row = Evaluation.objects.get()
    assert (row.referral, row.record["imaging"]["findings"], row.evaluated_on) == ("refer", ["disc_bulge"], TODAY)
    no_reason = client.post(f"{P}/physician/patients/BOU-002/", {**complete, "flag-fracture": "yes"})
    assert no_reason.status_code == 422 and "Reason: required" in text(no_reason)
    blocked = client.post(f"{P}/physician/patients/BOU-002/", {**complete, "flag-fracture": "yes",
                                                               "reason": "X-ray report arrived"}, follow=True)
    assert "Blocked: a red flag was found" in text(blocked)
    assert "A red flag was found (Fracture)" in text(blocked)


# ------------------------------------------------------------------------------------ the rater
def test_the_rater_draws_the_sample_and_rates_a_session_blind(program):
    from prt.web.program.models import FidelityRating

    evaluated(program.b, program.physician)
    held(program.b, program.therapist, numbers=(1, 2, 3))
    client = program.client_for("rater")
    assert "No sample drawn yet" in text(client.get(f"{P}/fidelity/"))
    drawn_page = client.post(f"{P}/fidelity/sites/boulder/draw/", {"seed": "42"}, follow=True)
    page = text(drawn_page)
    assert "Verified: redrawn from its seed and inputs" in page and "prt-fidelity-sample-v1" in page
    again = client.post(f"{P}/fidelity/sites/boulder/draw/", {"seed": "43"})
    assert again.status_code == 422 and "Reason: required" in text(again)
    home = text(client.get(f"{P}/fidelity/"))
    number = int(re.search(r'/program/fidelity/sessions/BOU-002/(\d)/', home).group(1))
    rate = text(client.get(f"{P}/fidelity/sessions/BOU-002/{number}/"))
    assert "zebra note" not in rate and "therapist_2" not in rate
    form = {f"element-{e}": "present" for e in ("education", "evidence", "somatic_tracking", "home_practice")}
    unrated = client.post(f"{P}/fidelity/sessions/BOU-002/{number}/", form)
    assert unrated.status_code == 422
    assert "Processing difficult emotions and stressors: choose present or absent" in text(unrated)
    saved = client.post(f"{P}/fidelity/sessions/BOU-002/{number}/", {**form, "element-emotions": "absent",
                                                                      "element-positive_states": "absent"},
                        follow=True)
    assert f"Session {number} of BOU-002 rated: 4 of 6 elements." in text(saved)
    assert FidelityRating.objects.get().score == 4
    report = text(client.get(f"{P}/fidelity/report/"))
    assert "mean 4.93 (SD 0.87), minimum 3" in report and ">therapist<" in report and "4.00" in report


# ------------------------------------------------------------------------------------ coordinator, analyst
def test_the_coordinator_assigns_and_changes_a_therapist(program):
    client = program.client_for("coordinator_same_site")
    page = text(client.get(f"{P}/caseload/"))
    assert "BOU-002" in page and "with therapist" in page and "LON-002" not in page
    refused = client.post(f"{P}/caseload/BOU-002/", {"therapist": str(program.therapist_2.pk)})
    assert refused.status_code == 422 and "Reason: required" in text(refused)
    moved = client.post(f"{P}/caseload/BOU-002/", {"therapist": str(program.therapist_2.pk), "reason": "leave"},
                        follow=True)
    assert "BOU-002 is in therapist_2&#x27;s caseload." in text(moved)
    other = client.post(f"{P}/caseload/BOU-002/", {"therapist": str(program.therapist_other_site.pk),
                                                   "reason": "x"})
    assert other.status_code == 422 and "expected a therapist of the participant&#x27;s site" in text(other)
    junk = client.post(f"{P}/caseload/BOU-002/", {"therapist": "abc"})
    assert junk.status_code == 422


def test_the_analyst_downloads_the_program_export(program):
    evaluated(program.b, program.physician)
    held(program.b, program.therapist, numbers=(1,))
    client = program.client_for("analyst")
    assert "Download the export" in text(client.get(f"{P}/exports/"))
    response = client.post(f"{P}/exports/redcap.zip", {"event": ""})
    assert response["Content-Type"] == "application/zip" and response["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == ["data_dictionary.csv", "records.csv", "repeating_forms.csv"]
    bad = client.post(f"{P}/exports/redcap.zip", {"event": "eligibility"})
    assert bad.status_code == 422
    # the analyst's sites: BOU-002 and BOU-005 at Boulder, LON-002 at London; BOU-002's session unrated
    assert "3 participants, 0 ratings" in text(client.get(f"{P}/exports/"))


# ------------------------------------------------------------------------------------ the CSP
@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_templates_have_no_inline_script_style_or_handler(template):
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    assert " style=" not in source and "<style" not in source
    assert not re.search(r"<script(?![^>]*\bsrc=)", source)
    assert not re.search(r"\son[a-z]+=", source)


def test_the_home_page_pieces_for_the_integrator(program):
    """{% program_card participant %} and {% program_links user %} (diary/home.html, staff_home.html)."""
    from django.template import Context, Template

    card = Template("{% load program %}{% program_card p %}")
    assert "Your sessions have not started yet." in card.render(Context({"p": program.b}))
    assert "Open your program" in card.render(Context({"p": program.placebo}))
    assert card.render(Context({"p": program.a})).strip() == ""  # not randomized
    links = Template("{% load program %}{% program_links u %}")
    assert "Fidelity rating" in links.render(Context({"u": program.rater}))
    assert "Therapists' caseloads" in links.render(Context({"u": program.coordinator}))
    assert links.render(Context({"u": program.users["admin"]})).strip() == ""
