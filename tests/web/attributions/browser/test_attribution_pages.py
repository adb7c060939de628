"""The therapist on a phone and the coder at a desktop, in headless Chromium: the therapist opens a
patient's causes of pain from the patient's page; the coder opens the queue from the staff home,
codes an answer and sees the queue shrink. Every page passes axe-core with no CSP violation;
``PRT_SCREENSHOTS=DIR`` saves each page at 390x844 and 1280x900 (tests/web/browser/pages.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.web.attributions.common import AFTER, complete_pre, submit_causes
from tests.web.browser.conftest import DESKTOP, PHONE
from tests.web.browser.pages import Visitor, totp_now
from tests.web.program.common import ProgramWorld

pytestmark = pytest.mark.browser

PASSWORD = "attribution-pass-2026"


def staff(user):
    user.set_password(PASSWORD)
    user.save()
    return user.totpdevice_set.create(name="phone", confirmed=True)


def test_the_therapist_and_the_coder_see_and_code_pain_attributions(world, browser):
    from django.utils import timezone

    from prt.web.attributions.models import AttributionCode

    people = ProgramWorld(world)
    complete_pre(people.b)  # today, real clock: two of the three pretreatment causes are queued
    # posttreatment, as the schedule dates it once the pretreatment battery is done (window open then)
    submit_causes(people.b, "post", AFTER, now=timezone.now() + timedelta(days=31))
    therapist, rater = staff(people.therapist), staff(people.rater)

    me = Visitor(browser, PHONE)
    me.sign_in("therapist", PASSWORD, expect="two-factor-code")
    me.second_factor(totp_now(therapist.bin_key), "therapist-home")
    me.goto("/program/therapist/patients/BOU-002/", "therapist-patient")
    me.click(me.page.get_by_role("link", name="What they believe causes their pain"), "attributions-therapist")
    text = me.text()
    assert "Pretreatment: 0 of 3" in text and "Posttreatment: 2 of 3" in text and "Change: +2" in text
    assert me.page.locator(".pill.mind-brain").count() == 2

    coder = Visitor(browser, DESKTOP)
    coder.sign_in("rater", PASSWORD, expect="two-factor-code")
    coder.second_factor(totp_now(rater.bin_key), "rater-home")
    coder.click(coder.page.get_by_role("link", name="Pain attributions to code"), "attributions-queue")
    assert "Waiting: 2 answers" in coder.text() and "BOU-002" not in coder.text()
    coder.click(coder.page.get_by_role("link", name="Code this answer").first, "attributions-review")
    coder.choose("category", "injury")
    coder.click(coder.page.get_by_role("button", name="Save the code"), "attributions-queue-after")
    assert "Coded injury." in coder.text() and "Waiting: 1 answer" in coder.text()
    assert AttributionCode.objects.filter(state="reviewed", decided_by=people.rater, category="injury").count() == 1
    # the therapist's page now shows the coder's code
    me.goto("/attributions/therapist/patients/BOU-002/", "attributions-therapist-after")
    assert "Coded by a coder" in me.text()
