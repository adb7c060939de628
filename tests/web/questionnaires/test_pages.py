"""The participant's pages: today's tasks on the home page, one item per screen, resumable after
signing out, each answer validated, review and submit, refusals with a reason, the score charts."""

from __future__ import annotations

import re

from prt.web.questionnaires import battery
from prt.web.questionnaires.models import Submission


def test_home_lists_the_due_questionnaires_with_their_window(world):
    page = world.client_for("participant_a").get("/").content.decode()
    assert 'href="/questionnaires/pre/bpi_sf/"' in page
    assert "open until 31 March 2026" in page and ">Due<" in page
    assert page.count('class="task"') == len(battery.instruments_at("pre"))


def test_answer_item_by_item_resume_after_signing_out_review_and_submit(world, client):
    client.force_login(world.users["participant_a"])
    first = client.get("/questionnaires/pre/tsk11/")
    assert first.status_code == 200 and "Question 1 of 11" in first.content.decode()
    assert client.post("/questionnaires/pre/tsk11/", {"item": "1", "answer": "2"})["Location"] == \
        "/questionnaires/pre/tsk11/?item=2"
    refused = client.post("/questionnaires/pre/tsk11/", {"item": "2", "answer": "9"})
    assert refused.status_code == 422 and "Question 2 of 11" in refused.content.decode()
    assert 'role="alert"' in refused.content.decode()
    client.post("/logout/")
    client.force_login(world.users["participant_a"])
    resumed = client.get("/questionnaires/pre/tsk11/").content.decode()
    assert "Question 2 of 11" in resumed and "1 of 11 answered" in resumed  # the draft survived
    for number in range(2, 12):
        response = client.post("/questionnaires/pre/tsk11/", {"item": str(number), "answer": "2"})
    assert response["Location"] == "/questionnaires/pre/tsk11/review/"
    review = client.get("/questionnaires/pre/tsk11/review/").content.decode()
    uid = re.search(r'name="client_uuid" value="([0-9a-f-]{36})"', review).group(1)
    done = client.post("/questionnaires/pre/tsk11/review/", {"client_uuid": uid})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.post("/questionnaires/pre/tsk11/review/", {"client_uuid": uid}).status_code == 302  # a re-post
    assert Submission.objects.get().score == 22
    home = client.get("/").content.decode()
    assert "Submitted: " in home and 'id="chart-tsk11-title"' in home and "<td>22</td>" in home
    again = client.get("/questionnaires/pre/tsk11/")
    assert again.status_code == 409 and "already submitted" in again.content.decode()


def test_back_and_skip(world, client):
    client.force_login(world.users["participant_a"])
    assert client.post("/questionnaires/pre/odi/", {"item": "3", "action": "skip"})["Location"].endswith("?item=4")
    assert client.post("/questionnaires/pre/odi/", {"item": "3", "action": "back", "answer": "1"})[
        "Location"].endswith("?item=2")
    review = client.get("/questionnaires/pre/odi/review/").content.decode()
    assert "9 questions not answered" in review


def test_a_submission_with_too_few_answers_is_refused_on_the_review_page(world, client):
    client.force_login(world.users["participant_a"])
    client.post("/questionnaires/pre/odi/", {"item": "1", "answer": "2"})
    response = client.post("/questionnaires/pre/odi/review/",
                           {"client_uuid": "0f8fad5b-d9cb-469f-a165-70867728950e"})
    assert response.status_code == 422 and "1 of 10 scored items answered" in response.content.decode()
    assert Submission.objects.count() == 0


def test_outside_the_window_the_page_says_when(world, client, clock):
    client.force_login(world.users["participant_a"])
    response = client.get("/questionnaires/post/odi/")
    assert response.status_code == 403 and "opens on 2026-04-17" in response.content.decode()
    clock.advance(days=22)
    client.force_login(world.users["participant_a"])  # the session lasts 7 days
    late = client.get("/questionnaires/pre/odi/")
    assert late.status_code == 403 and "closed on 2026-03-31" in late.content.decode()
