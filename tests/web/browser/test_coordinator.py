"""A coordinator at a desktop: signs in, enrols an authenticator app (the second factor), screens a
new person, records their consent, enrols and randomizes them; every page passes axe-core."""

from __future__ import annotations

import pytest

from prt.vocabulary import ARMS

from tests.web.browser.conftest import DESKTOP
from tests.web.browser.pages import Visitor, totp_from_base32
from tests.web.enrolment.common import ELIGIBLE

pytestmark = pytest.mark.browser

PASSWORD = "desk-pass-2026"


def test_a_coordinator_screens_consents_enrols_and_randomizes_a_person(world, browser):
    from prt.web.audit.models import AuditEvent
    from prt.web.participants.models import Participant
    from prt.web.randomization import services as randomization
    from prt.web.randomization.models import AllocationEntry

    user = world.users["coordinator_same_site"]
    user.set_password(PASSWORD)
    user.save()
    me = Visitor(browser, DESKTOP)
    page = me.page

    # password, then the first sign-in enrols an authenticator app: the code comes from the shown secret
    me.sign_in("coordinator_same_site", PASSWORD, expect="two-factor-enrol")
    assert page.get_by_role("heading", level=1).inner_text() == "Set up your authenticator app"
    secret = page.locator("#totp-secret").inner_text()
    me.second_factor(totp_from_base32(secret), "staff-home")
    assert "Signed in as coordinator_same_site" in me.text()

    me.click(page.get_by_role("link", name="Screening, enrolment and randomization"), "coordinator-home")
    me.click(page.get_by_role("region", name="Boulder").get_by_role("link", name="Screen a new person"),
             "screening-form")

    # the screening form: every answer of an eligible person, typed or tapped
    page.get_by_label("Study id").fill("BOU-014")
    for name, value in ELIGIBLE.items():
        field = page.locator(f'input[name="{name}"]')
        if field.first.get_attribute("type") == "radio":
            me.choose(name, value)
        else:
            field.fill(value)
    me.click(page.get_by_role("button", name="Screen"), "person-screened")
    assert "Screened BOU-014: Eligible." in me.text()

    page.get_by_label("Consent form version").fill("v2.1")
    me.click(page.get_by_role("button", name="Record consent"), "person-consented")
    assert "Consent recorded." in me.text()

    me.click(page.get_by_role("button", name="Enrol BOU-014"), "person-enrolled")
    assert "Enrolled BOU-014." in me.text()
    assert "Arm:" not in me.text()  # allocation concealment: no arm before randomization

    me.click(page.get_by_role("button", name="Randomize BOU-014"), "person-randomized")
    person = Participant.objects.get(study_id="BOU-014")
    assert person.status == "randomized" and person.arm in ARMS
    shown = page.locator(".arm strong").inner_text()
    assert f"Randomized BOU-014: {shown}." in me.text()
    assert AllocationEntry.objects.count() == 2  # the log's header and this person's entry
    randomization.verify()  # the log replays: the allocation matches the screening's factors
    assert AuditEvent.objects.filter(actor=user, object_id=str(person.pk)).exists()

    me.click(page.get_by_role("link", name="Your sites"), "coordinator-home-after")
    assert page.get_by_role("link", name="BOU-014").is_visible()

    # the coordinator's other pages, reached from the home page: each passes the same checks
    me.click(page.get_by_role("link", name="Visit schedule: due, overdue, missed"), "visits-home")
    me.click(page.get_by_role("link", name="Boulder", exact=False).first, "visits-site")
    me.goto("/coordinator/", "coordinator-home-again")
    me.click(page.get_by_role("link", name="Adverse events"), "adverse-events")
    me.goto(f"/coordinator/adverse-events/new/?study_id={person.study_id}", "adverse-event-form")
    me.goto("/coordinator/", "coordinator-home-again-2")
    me.click(page.get_by_role("link", name="CONSORT flow"), "consort")
    me.goto("/coordinator/", "coordinator-home-again-3")
    me.click(page.get_by_role("link", name="E-mail reminders"), "reminders-home")
    me.goto(f"/coordinator/reminders/people/{person.study_id}/", "reminders-person")
