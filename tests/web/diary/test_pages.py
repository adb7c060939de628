"""The participant's home page: today's date, the 0-10 row from the definition, two taps to save
(pick, then save), the chart with its table; the form's refusals; the staff home; no inline code."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from prt.web.audit.models import AuditEvent
from prt.web.diary.models import DiarySubmission, PainRating


@pytest.fixture
def alice(world):
    return world.client_for("participant_a")


def form_of(page) -> dict:
    html = page.content.decode()
    return {name: value for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html)}


def test_home_shows_today_and_the_scale_from_the_definition(alice):
    page = alice.get("/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Tuesday 10 March 2026" in html  # the site's day (Denver), not the server's
    assert re.findall(r'type="radio" name="rating" value="(\d+)"', html) == [str(v) for v in range(11)]
    assert "0 = no pain, 10 = worst pain imaginable" in html
    assert '<span class="visually-hidden"> (no pain)</span>' in html
    assert "No ratings yet" in html
    assert form_of(page)["date"] == "2026-03-10"


def test_two_taps_save_today_s_rating_and_a_resubmitted_form_does_not_duplicate(alice):
    page = alice.get("/")
    fields = {**form_of(page), "rating": "6"}
    saved = alice.post("/diary/", fields)
    assert saved.status_code == 302 and saved["Location"] == "/"
    home = alice.get("/").content.decode()
    assert "Saved: your pain today is 6 (moderate)." in home
    assert "Done for today: you rated 6" in home and 'value="6" id="rating-6" required checked' in home
    assert alice.post("/diary/", {**fields, "rating": "9"}).status_code == 302  # the same form again
    assert PainRating.objects.get().rating == 6 and DiarySubmission.objects.count() == 1
    changed = alice.post("/diary/", {**form_of(alice.get("/")), "rating": "3"})
    assert changed.status_code == 302 and PainRating.objects.get().rating == 3
    assert AuditEvent.objects.filter(model="diary.painrating").count() == 2


def test_the_chart_and_its_table_fallback(world, alice):
    for day, rating in ((date(2026, 3, 8), 7), (date(2026, 3, 9), 5)):
        PainRating.objects.create(participant=world.a, day=day, rating=rating)
    html = alice.get("/").content.decode()
    assert '<svg class="chart"' in html and 'role="img"' in html
    assert "<title>8 March 2026: 7 out of 10</title>" in html
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)", html)
    assert rows == [("9 March 2026", "5"), ("8 March 2026", "7")]  # newest first


@pytest.mark.parametrize("change, expected", [
    ({"rating": "11"}, "Choose a number from 0 to 10."),
    ({"rating": ""}, "Choose a number from 0 to 10."),
    ({"date": "2026-03-09"}, "That page was for another day"),
    ({"client_uuid": "nonsense"}, "The form was incomplete"),
])
def test_the_form_refuses_bad_input_and_stores_nothing(alice, change, expected):
    fields = {**form_of(alice.get("/")), "rating": "4", **change}
    page = alice.post("/diary/", fields)
    assert page.status_code == 422 and expected in page.content.decode()
    assert 'role="alert"' in page.content.decode()
    assert not PainRating.objects.exists() and not DiarySubmission.objects.exists()


def test_a_closed_diary_says_so(world, alice):
    world.a.status = "withdrawn"
    world.a.save()
    assert "Your daily diary is closed" in alice.get("/").content.decode()
    page = alice.post("/diary/", {"client_uuid": str(uuid.uuid4()), "date": "2026-03-10", "rating": "4"})
    assert page.status_code == 403 and not PainRating.objects.exists()


def test_staff_see_their_roles_and_no_diary(world):
    html = world.client_for("analyst").get("/").content.decode()
    assert "Analyst at Boulder" in html and "Analyst at London" in html and "Rate your pain" not in html
    assert world.client_for("coordinator_same_site").post(
        "/diary/", {"client_uuid": str(uuid.uuid4()), "date": "2026-03-10", "rating": "4"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"


def test_pages_have_no_inline_script_or_style_and_send_a_strict_csp(alice):
    page = alice.get("/")
    html = page.content.decode()
    assert "<script" not in html and " style=" not in html and "<style" not in html
    csp = page["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
