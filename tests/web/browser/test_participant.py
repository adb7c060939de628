"""A participant on a 390x844 phone: signs in, rates today's pain in two taps, answers a
questionnaire one item per screen and submits it; every page passes axe-core (issue: browser tests)."""

from __future__ import annotations

import pytest

from tests.web.browser.conftest import PHONE
from tests.web.browser.pages import Visitor

pytestmark = pytest.mark.browser

PASSWORD = "phone-pass-2026"
#: PROMIS Anger 5a, one of each answer: codes 1+2+3+4+5, so the raw total is 15 (T-score 58.8).
ANSWERS = ["Never", "Rarely", "Sometimes", "Often", "Always"]


def test_a_participant_rates_pain_and_completes_a_questionnaire_on_a_phone(world, browser):
    from prt.web.audit.models import AuditEvent
    from prt.web.diary.models import PainRating
    from prt.web.questionnaires.models import Submission

    user = world.users["participant_a"]
    user.set_password(PASSWORD)
    user.save()
    me = Visitor(browser, PHONE)
    page = me.page

    # a mistyped password: the page says so, next to the form, and signs no one in
    me.sign_in("participant_a", "not-the-password", expect="sign-in-refused")
    assert page.get_by_role("alert").is_visible() and page.url.endswith("/login/")
    me.sign_in("participant_a", PASSWORD, expect="today")
    assert page.get_by_role("heading", level=1).inner_text() == "Today"

    # two taps: a number, then Save
    me.choose("rating", "4")
    me.click(page.get_by_role("button", name="Save today's rating"), "today-saved")
    assert "Saved: your pain today is 4" in me.text()
    rating = PainRating.objects.get(participant=world.a)
    assert rating.rating == 4 and rating.day == world.site1.today()

    # the same row by keyboard: an arrow key moves the choice, as in any radio group; then change it
    page.locator("#rating-4").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#rating-5").is_checked()
    me.click(page.get_by_role("button", name="Change today's rating"), "today-changed")
    rating.refresh_from_db()
    assert rating.rating == 5
    assert AuditEvent.objects.filter(model="diary.painrating", action="update",
                                     reason="changed by the participant on the day of the rating").count() == 1

    # the pain chart's table opens as a person opens it
    page.get_by_text("Show as a table").first.click()
    assert page.locator("table").first.is_visible()

    # a questionnaire from today's list, one item per screen
    me.click(page.get_by_role("link", name="PROMIS Anger"), "questionnaire-item-1")
    for number, answer in enumerate(ANSWERS, start=1):
        assert f"Question {number} of 5" in me.text()
        page.get_by_text(answer, exact=True).click()
        last = number == len(ANSWERS)
        button = page.get_by_role("button", name="Save and review" if last else "Save and continue")
        me.click(button, "questionnaire-review" if last else f"questionnaire-item-{number + 1}")
    review = me.text()
    for answer in ANSWERS:
        assert answer in review
    me.click(page.get_by_role("button", name="Submit"), "today-after-questionnaire")
    assert page.url.endswith("/")
    submission = Submission.objects.get(participant=world.a, instrument="promis_anger", event="pre")
    assert submission.scores["total"] == 15 and submission.scores["t_score"] == 58.8
    assert submission.channel == "web"

    # the questionnaire page: what is still due, and the new score over time
    me.goto("/questionnaires/", "questionnaires")
    assert "PROMIS Anger" in me.text()

    # refusals are pages like the others: a questionnaire not open yet, a coordinator's page, no page
    me.goto("/questionnaires/post/promis_anger/", "questionnaire-not-open", status=403)
    assert "opens on" in me.text()
    me.goto("/coordinator/", "forbidden", status=403)
    me.goto("/no-such-page/", "not-found", status=404)
    assert page.get_by_role("heading", level=1).is_visible()
