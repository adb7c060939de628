"""The PRT program's journeys in a real browser (issue 14, "browser tests"): a participant does a
somatic-tracking practice and logs an exposure attempt on a 390x844 phone; a therapist records a
session and its home practice; a rater draws the sample and scores a sampled session; and the
physician's evaluation that gates the sessions (staff at 1280x900, with their second factor). Each
journey goes through the real pages, then checks what the database holds and what the page shows;
every page visited passes axe-core and raises no CSP violation or script error (pages.Visitor).
Refusals: an out-of-range value stopped by the browser before anything is sent, and values the
server refuses, named on the page (the field marked) with nothing stored.

The people are tests/web/program/common.py's ProgramWorld (BOU-002, PRT, in ``therapist``'s
caseload); the program's records are made through its services on days relative to the real
clock (conftest.RealClock).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.web.browser.conftest import DESKTOP, PHONE
from tests.web.browser.pages import Visitor, totp_from_base32, totp_now
from tests.web.program.common import ProgramWorld, evaluated, held

pytestmark = pytest.mark.browser

PASSWORD = "program-pass-2026"


@pytest.fixture
def team(world):
    """The world's people plus the program's staff and participants (tests/web/program/common.py)."""
    return ProgramWorld(world)


def own_folder(browser, journey: str) -> None:
    """This test's screenshots in a folder of their own (the module's tests visit pages of the
    same names, such as sign-in)."""
    if browser.shots is not None:
        browser.shots = browser.shots / journey
        browser.shots.mkdir(parents=True, exist_ok=True)


def signed_in_staff(browser, team, name: str) -> Visitor:
    """``name`` at a desktop, signed in with a password and a code from their authenticator app."""
    user = team.users[name]
    user.set_password(PASSWORD)
    user.save()
    device = user.totpdevice_set.create(name="phone", confirmed=True)
    me = Visitor(browser, DESKTOP)
    me.sign_in(name, PASSWORD, expect="two-factor-code")
    assert me.page.get_by_role("heading", level=1).inner_text() == "Enter your code"
    me.second_factor(totp_now(device.bin_key), "staff-home")
    return me


def audit(model: str, action: str, actor) -> list:
    from prt.web.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(model=f"program.{model}", action=action, actor=actor))


# ------------------------------------------------------------------------------------ the participant, on a phone
def test_a_participant_does_a_somatic_tracking_practice_and_logs_an_exposure_attempt_on_a_phone(team, browser):
    from prt.program import tracking_cues
    from prt.web.charts import long_date
    from prt.web.program.content import curriculum
    from prt.web.program.models import ExposureAttemptLog, ExposureHierarchy, PracticeLog

    person = team.b
    today = person.site.today()
    # four sessions held: session 4 ("Tracking and movement") set tracking and feared movements as home practice
    evaluated(person, team.physician, on=today - timedelta(days=8))
    held(person, team.therapist, numbers=(1, 2, 3, 4), start=today - timedelta(days=6))
    user = person.user
    user.set_password(PASSWORD)
    user.save()
    own_folder(browser, "participant")
    me = Visitor(browser, PHONE)
    page = me.page
    page.clock.install()  # the exercise's timer runs on this clock: fast-forwarded below, not waited for
    nav = page.get_by_role("navigation", name="Your program")

    me.sign_in("participant_b", PASSWORD, expect="today")
    me.click(page.get_by_role("link", name="Open your program"), "program-home")
    home = me.text()
    assert "Session 4 of 8 done" in home and "Session 4: Tracking and movement" in home
    assert "Practise somatic tracking" in home and "Move in a way you have been avoiding" in home
    assert "zebra note" not in page.content()  # the therapist's notes are the therapist's

    # ---- somatic tracking: ratings before, the timed cues, ratings after
    me.click(page.get_by_role("link", name="Start a tracking practice"), "tracking")
    me.choose("pain_before", "6")
    me.choose("fear_before", "5")
    cues = page.locator("[data-cues] > li")
    status = page.locator("[data-timer-status]")
    timed = tracking_cues(curriculum())
    assert cues.count() == len(timed) == 3
    page.get_by_role("button", name="Start the timer").click()
    assert cues.nth(0).get_attribute("aria-current") == "step"
    assert status.inner_text() == f"Now: {timed[0].title}."
    page.clock.fast_forward(timed[1].start * 1000 + 500)  # into the second cue
    page.wait_for_function("() => document.querySelector('[data-cues] > li:nth-child(2)')"
                           ".getAttribute('aria-current') === 'step'")
    assert cues.nth(0).get_attribute("aria-current") is None
    assert status.inner_text() == f"Now: {timed[1].title}."
    page.clock.fast_forward((timed[-1].end - timed[1].start) * 1000)  # past the end
    page.wait_for_function("() => document.querySelector('[data-timer-status]').textContent.startsWith('Done')")
    minutes = page.get_by_label("Minutes practised")
    assert minutes.input_value() == str(-(-timed[-1].end // 60)) == "5"  # the timer filled in the minutes
    assert page.locator("[data-timer-clock]").inner_text() == "5:00"
    me.check("tracking-timer-done")
    me.choose("pain_after", "4")
    me.choose("fear_after", "3")
    me.choose("setting", "movement")

    # an out-of-range value: the browser keeps the form (min/max of the field) and nothing is sent
    minutes.fill("300")
    page.get_by_role("button", name="Save this practice").click()
    assert minutes.evaluate("field => field.validity.rangeOverflow")
    assert minutes.evaluate("field => field.validationMessage")  # what the browser shows beside the field
    assert page.url.endswith("/program/tracking/") and PracticeLog.objects.count() == 0
    minutes.fill("5")
    me.click(page.get_by_role("button", name="Save this practice"), "tracking-saved")
    assert "Practice saved: pain 6 → 4, fear 5 → 3." in me.text()
    row = PracticeLog.objects.get()
    assert (row.participant, row.day, row.assignment, row.minutes, row.setting) == (
        person, today, "tracking_practice", 5, "movement")
    assert (row.pain_before, row.pain_after, row.fear_before, row.fear_after) == (6, 4, 5, 3)
    assert len(audit("practicelog", "create", user)) == 1

    # ---- graded exposure: the list of feared movements, then an attempt at the least feared
    me.click(nav.get_by_role("link", name="Exposure"), "exposure-empty")
    assert page.get_by_role("heading", name="Make your list").is_visible()
    page.locator("#movement-0").fill("Bending to pick up a sock")
    page.locator("#fear-0").select_option("6")
    page.locator("#movement-1").fill("A ten-minute walk")
    page.locator("#fear-1").select_option("3")
    me.click(page.get_by_role("button", name="Save your list"), "exposure-list-saved")
    assert "Your list of movements is saved." in me.text()
    assert "Start with the movement you fear least: A ten-minute walk." in me.text()
    steps = ExposureHierarchy.objects.get(participant=person).steps
    assert [(s["movement"], s["fear"]) for s in steps] == [("A ten-minute walk", 3), ("Bending to pick up a sock", 6)]
    walk = next(s["id"] for s in steps if s["fear"] == 3)
    assert page.get_by_label("Movement", exact=True).input_value() == walk  # the current step is chosen
    assert page.get_by_label("Day").input_value() == today.isoformat()
    me.choose("expected_pain", "5")
    me.choose("expected_fear", "4")
    me.choose("actual_pain", "3")
    me.choose("actual_fear", "1")
    me.click(page.get_by_role("button", name="Save this attempt"), "exposure-attempt-saved")
    assert "Attempt saved: pain 3 (expected 5), fear 1 (expected 4)." in me.text()
    attempt = ExposureAttemptLog.objects.get()
    assert (attempt.participant, attempt.step, attempt.day) == (person, walk, today)
    assert (attempt.expected_pain, attempt.actual_pain, attempt.expected_fear, attempt.actual_fear) == (5, 3, 4, 1)
    assert len(audit("exposureattemptlog", "create", user)) == 1
    # one try with fear down is not yet mastery (two in a row): the same movement again
    assert page.get_by_role("status").filter(has_text="Next:").inner_text().startswith(
        "Next: Keep practising: A ten-minute walk.")
    tries = page.get_by_role("region", name="Your movements").get_by_role("row", name="A ten-minute walk")
    assert tries.get_by_role("cell").nth(2).inner_text() == "1"
    assert page.get_by_role("region", name="Your attempts, newest first").get_by_role("row").nth(1).inner_text() \
        .split("\t") == [long_date(today), "A ten-minute walk", "5 → 3", "4 → 1"]

    # ---- the program's home and progress show both
    me.click(nav.get_by_role("link", name="Program"), "program-home-after")
    assert "Practise somatic tracking · 1 time, 5 min" in me.text()
    assert "Move in a way you have been avoiding · 1 attempt" in me.text()
    me.click(nav.get_by_role("link", name="Progress"), "progress")
    day = long_date(today)
    assert page.locator("main [role=img]").count() == 3  # minutes, tracking, fear (no diary rating yet)
    # each chart's accessible name (its <title> and <desc>) says what it shows, and a table beside it
    assert page.get_by_role("img", name=f"1 rated practice from {day} to {day}; the pain eased during 1 of them"
                            ).is_visible()
    assert page.get_by_role("img", name=f"1 attempt from {day} to {day} on the 0 to 10 scale; latest fear 1"
                            ).is_visible()
    tracking = page.get_by_role("region", name="Pain during tracking")
    tracking.get_by_text("Show as a table").click()
    assert tracking.get_by_role("row").nth(1).inner_text().split("\t") == [day, "6", "4"]


# ------------------------------------------------------------------------------------ the therapist, at a desk
def test_a_therapist_records_a_session_and_its_home_practice(team, browser):
    from playwright.sync_api import expect

    from prt.web.charts import long_date
    from prt.web.program.models import ProgramSession

    person = team.b
    today = person.site.today()
    evaluated(person, team.physician, on=today - timedelta(days=3))
    own_folder(browser, "therapist")
    me = signed_in_staff(browser, team, "therapist")
    page = me.page

    me.click(page.get_by_role("link", name="Your PRT caseload"), "caseload")
    assert page.get_by_role("link", name="BOU-002").is_visible()
    assert "BOU-005" not in me.text()  # another therapist's participant
    assert "Sessions: 0 of 8 held" in me.text()
    me.click(page.get_by_role("link", name="BOU-002"), "patient")
    assert "Referred to PRT" in me.text()
    me.click(page.get_by_role("link", name="How pain is made"), "session-1")
    assert page.get_by_role("heading", level=1).inner_text() == "Session 1 of 8: How pain is made"
    assert page.get_by_label("Date held").input_value() == today.isoformat()  # today, the plan ticked
    assert page.get_by_label("Starting the evidence sheet").is_checked()
    assert page.get_by_label("Re-read how pain is made").is_checked()

    # refused by the server: a day before the physician evaluation; shown by the field, nothing stored
    too_early = today - timedelta(days=5)
    page.get_by_label("Date held").fill(too_early.isoformat())
    page.get_by_label("Your notes").fill("Explained the pain-fear cycle.")
    me.click(page.get_by_role("button", name="Record session 1"), "session-1-refused", status=422)
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "Date held: before the physician evaluation"
    field = page.get_by_label("Date held")
    assert field.get_attribute("aria-invalid") == "true"
    assert alert.get_attribute("id") in field.get_attribute("aria-describedby").split()
    expect(field).to_have_accessible_description("Date held: before the physician evaluation")
    assert field.input_value() == too_early.isoformat()  # what was typed is kept to correct
    assert page.get_by_label("Your notes").input_value() == "Explained the pain-fear cycle."
    assert ProgramSession.objects.count() == 0 and audit("programsession", "create", team.therapist) == []

    # the session as held: yesterday, 55 minutes, the evidence sheet left for session 2
    yesterday = today - timedelta(days=1)
    page.get_by_label("Date held").fill(yesterday.isoformat())
    page.get_by_label("Minutes", exact=True).fill("55")
    page.get_by_label("Starting the evidence sheet").uncheck()
    page.get_by_label("Add to your evidence sheet").uncheck()
    page.get_by_label("Practise somatic tracking").check()
    me.click(page.get_by_role("button", name="Record session 1"), "session-1-recorded")
    assert "Session 1 recorded (held)." in me.text()
    row = ProgramSession.objects.get()
    assert (row.participant, row.number, row.status, row.held_on, row.minutes, row.therapist) == (
        person, 1, "held", yesterday, 55, team.therapist)
    assert row.steps == ["pain_from_brain", "pain_is_real", "pain_fear_cycle"]
    assert row.assignments == ["read_education", "tracking_practice"]
    assert (row.notes, row.recorded) == ("Explained the pain-fear cycle.", True)
    assert len(audit("programsession", "create", team.therapist)) == 1
    calendar = page.get_by_role("region", name="The sessions")
    assert calendar.get_by_role("row").nth(1).inner_text().split("\t")[3] == "Held audio"
    practice = page.get_by_role("region", name="Home practice")
    assert f"Set at session 1 ({long_date(yesterday)})" in practice.inner_text()
    assert "Re-read how pain is made" in practice.inner_text() and "Practise somatic tracking" in practice.inner_text()

    # the next appointment
    me.click(page.get_by_role("link", name="Your evidence"), "session-2")
    then = today + timedelta(days=2)
    page.get_by_label("Date", exact=True).fill(then.isoformat())
    me.click(page.get_by_role("button", name="Set the appointment"), "session-2-scheduled")
    assert f"Session 2 is scheduled for {long_date(then)}." in me.text()
    assert ProgramSession.objects.get(number=2).scheduled_for == then

    # the participant sees the session's material and the home practice set, not the notes
    them = Visitor(browser, PHONE)
    person.user.set_password(PASSWORD)
    person.user.save()
    them.sign_in("participant_b", PASSWORD, expect="participant-today")
    them.click(them.page.get_by_role("link", name="Open your program"), "participant-program-home")
    shown = them.text()
    assert "Session 1 of 8 done" in shown and f"Next: session 2, {long_date(then)}." in shown
    assert "Re-read how pain is made" in shown and "Practise somatic tracking" in shown
    assert "Add to your evidence sheet" not in shown and "pain-fear cycle." not in shown


# ------------------------------------------------------------------------------------ the fidelity rater, at a desk
def test_a_rater_draws_the_sample_and_scores_a_sampled_session(team, browser):
    from prt.program import fidelity_sample
    from prt.web.program.content import curriculum
    from prt.web.program.models import FidelityDraw, FidelityRating

    person = team.b
    today = person.site.today()
    evaluated(person, team.physician, on=today - timedelta(days=8))
    held(person, team.therapist, numbers=(1, 2, 3), start=today - timedelta(days=6))
    user = team.rater
    user.set_password(PASSWORD)
    user.save()
    own_folder(browser, "rater")
    me = Visitor(browser, DESKTOP)
    page = me.page

    # the first sign-in enrols an authenticator app (the rater is staff: a second factor)
    me.sign_in("rater", PASSWORD, expect="two-factor-enrol")
    me.second_factor(totp_from_base32(page.locator("#totp-secret").inner_text()), "staff-home")
    me.click(page.get_by_role("link", name="Fidelity rating"), "fidelity-home")
    boulder = page.get_by_role("region", name="Boulder")
    assert "No sample drawn yet" in boulder.inner_text()
    assert "1 participant with recorded sessions" in boulder.inner_text()

    boulder.get_by_label("Seed").fill("browser-2026")
    me.click(boulder.get_by_role("button", name="Draw the sample"), "fidelity-draw")
    assert "Verified: redrawn from its seed and inputs: the same sample." in me.text()
    draw = FidelityDraw.objects.get()
    expected = fidelity_sample({"BOU-002": [1, 2, 3]}, "browser-2026", curriculum())
    assert draw.sample == list(expected.sessions) and len(draw.sample) == 2
    assert (draw.seed, draw.drawn_by, draw.site) == ("browser-2026", user, person.site)
    assert len(audit("fidelitydraw", "create", user)) == 1
    assert page.get_by_role("heading", name="The sample: 2 sessions").is_visible()

    me.click(page.get_by_role("link", name="Fidelity rating"), "fidelity-home-sampled")
    study_id, number = draw.sample[0]
    me.click(page.get_by_role("link", name=f"Rate session {number} of {study_id}"), "fidelity-rate")
    assert page.get_by_role("heading", level=1).inner_text() == f"Rate session {number} of {study_id}"
    assert "zebra note" not in page.content()  # blind to the therapist's notes
    assert page.get_by_label("Your notes").count() == 0
    present = ("education", "evidence", "somatic_tracking", "home_practice")
    for element in curriculum().fidelity.elements:
        me.choose(f"element-{element.id}", "present" if element.id in present else "absent")
    me.click(page.get_by_role("button", name="Save the rating"), "fidelity-rated")
    assert f"Session {number} of {study_id} rated: 4 of 6 elements." in me.text()
    rating = FidelityRating.objects.get()
    assert (rating.session.participant, rating.session.number, rating.rater, rating.draw, rating.score) == (
        person, number, user, draw, 4)
    assert rating.elements == {e.id: e.id in present for e in curriculum().fidelity.elements}
    assert len(audit("fidelityrating", "create", user)) == 1
    assert page.get_by_role("link", name=f"4 of 6 · change session {number} of {study_id}").is_visible()

    me.click(page.get_by_role("link", name="The fidelity report"), "fidelity-report")
    report = me.text()
    assert "The trial's reference: mean 4.93 (SD 0.87), minimum 3." in report
    overall = page.get_by_role("region", name="Overall fidelity beside the trial")
    assert overall.get_by_role("row", name="Your sites").inner_text().split("\t")[1:4] == ["1", "4.00", "—"]
    therapists = page.get_by_role("region", name="Fidelity by therapist")
    row = therapists.get_by_role("row").filter(has=page.get_by_role("rowheader", name="therapist", exact=True))
    assert row.inner_text().split("\t")[:3] == ["therapist", "1", "4.00"]  # the therapist's login, for staff


# ------------------------------------------------------------------------------------ the physician, at a desk
def test_a_physician_completes_the_evaluation_that_opens_the_sessions(team, browser):
    from prt.web.audit.models import AuditEvent
    from prt.web.program import services
    from prt.web.program.models import Evaluation

    person = team.b
    today = person.site.today()
    own_folder(browser, "physician")
    me = signed_in_staff(browser, team, "physician")
    page = me.page

    me.click(page.get_by_role("link", name="Physician evaluations"), "evaluations")
    assert page.get_by_role("row", name="BOU-002").get_by_text("No evaluation yet").is_visible()
    me.click(page.get_by_role("link", name="BOU-002"), "evaluation")

    # a draft: three red flags ruled out so far
    for flag in ("tumour", "fracture", "infection"):
        me.choose(f"flag-{flag}", "no")
    me.click(page.get_by_role("button", name="Save as a draft"), "evaluation-draft")
    assert "Draft evaluation of BOU-002 saved." in me.text()
    assert "Not yet ruled out: Inflammatory disease, Neurological deficit" in me.text()
    row = Evaluation.objects.get()
    assert (row.completed, row.referral, row.physician) == (False, "incomplete", team.physician)

    # completing it with two red flags not assessed is refused, and nothing changes
    me.choose("formulation", "centralized")
    me.click(page.get_by_role("button", name="Complete the evaluation"), "evaluation-refused", status=422)
    assert page.get_by_role("alert").inner_text().startswith(
        "Red flags: to complete the evaluation, rule out (or record as found) every red flag; not yet assessed: "
        "Inflammatory disease, Neurological deficit")
    row.refresh_from_db()
    assert (row.completed, row.referral, row.record.get("formulation")) == (False, "incomplete", None)
    assert services.sessions_open(person)[0] is False

    # every red flag ruled out, imaging reviewed and explained, education given, two factors: referred
    for flag in ("inflammatory_disease", "neurological_deficit"):
        me.choose(f"flag-{flag}", "no")
    me.choose("imaging_reviewed", "yes")
    page.get_by_label("Disc bulge").check()
    me.choose("findings_explained", "yes")
    page.get_by_label("Pain as the brain's prediction").check()
    me.choose("factor-stressful_onset", "yes")
    me.choose("factor-inconsistency", "yes")
    assert page.get_by_role("radio", name="Centralized").is_checked()  # kept from the refused form
    assert page.get_by_label("Day of the evaluation").input_value() == today.isoformat()
    me.click(page.get_by_role("button", name="Complete the evaluation"), "evaluation-completed")
    assert "Evaluation of BOU-002 completed: Referred to PRT." in me.text()
    row.refresh_from_db()
    assert (row.completed, row.referral, row.evaluated_on) == (True, "refer", today)
    assert set(row.record["red_flags"].values()) == {False}
    assert row.record["imaging"] == {"reviewed": True, "findings": ["disc_bulge"], "explained": True}
    assert row.record["education"] == ["pain_as_prediction"] and row.record["formulation"] == "centralized"
    assert {k for k, v in row.record["factors"].items() if v} == {"stressful_onset", "inconsistency"}
    events = AuditEvent.objects.filter(model="program.evaluation", object_id=str(row.pk)).order_by("at", "id")
    assert [(e.action, e.reason) for e in events] == [("create", ""), ("update", services.COMPLETED_REASON)]
    assert services.sessions_open(person) == (True, "")  # the gate is open for the therapist

    me.click(page.get_by_role("link", name="Physician evaluations"), "evaluations-after")
    assert page.get_by_role("row", name="BOU-002").get_by_text("Referred to PRT").is_visible()
