"""The pages end to end: a participant answers the causal item on the phone pages and it is coded;
the therapist sees the answers, their categories (mind-brain marked) and the change; the coder
codes a queued answer blind (no study id, arm or time) and changes it with a reason; refusals name
the field; no answer's words in a URL or a log."""

from __future__ import annotations

import logging
import re

import pytest

from tests.web.attributions.common import AFTER, BEFORE, post, submit_causes


def text_of(response) -> str:
    """The page's visible text, tags removed, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_a_participant_answers_on_the_phone_pages_and_the_answers_are_coded(attrib):
    import uuid

    from prt.web.attributions.models import AttributionCode

    client = attrib.client_for("participant_b")
    page = "/questionnaires/pre/ipq_causes/"
    assert 'textarea name="answer"' in client.get(f"{page}?item=1").content.decode()
    for number, words in (("1", "Stress in my life"), ("2", "my brain's danger signals"), ("3", "old sports injury")):
        assert client.post(page, {"item": number, "answer": words, "action": "next"}).status_code == 302
    response = client.post(f"{page}review/", {"client_uuid": str(uuid.uuid4())})
    assert response.status_code == 302
    codes = list(AttributionCode.objects.order_by("slot"))
    assert [(c.category, c.mind_brain) for c in codes] == [("stress", True), ("brain", True), ("activity", False)]
    assert [c.submission.channel for c in codes] == ["web"] * 3


def test_a_fhir_questionnaire_response_is_coded_too(attrib):
    import json
    import uuid

    from prt.instruments import questionnaire_response
    from prt.web.attributions.models import AttributionCode

    resource = questionnaire_response("ipq_causes", {"1": "anxiety", "3": "a car accident"})
    body = {"client_uuid": str(uuid.uuid4()), "event": "pre", "instrument": "ipq_causes",
            "questionnaire_response": resource}
    response = attrib.client_for("participant_b").post("/api/questionnaire-responses", json.dumps(body),
                                                      content_type="application/json")
    assert response.status_code == 201, response.content
    assert [(c.slot, c.category) for c in AttributionCode.objects.order_by("slot")] == [
        (1, "psychological"), (3, "injury")]


def test_the_therapist_sees_the_answers_their_categories_and_the_change(attrib, clock):
    post(attrib.b, clock)
    client = attrib.client_for("therapist")
    patient = client.get("/program/therapist/patients/BOU-002/")
    assert 'href="/attributions/therapist/patients/BOU-002/"' in patient.content.decode()
    response = client.get("/attributions/therapist/patients/BOU-002/")
    assert response.status_code == 200
    text = text_of(response)
    for words in (*BEFORE.values(), *AFTER.values()):
        assert words in text
    assert "Pretreatment: 0 of 3 Posttreatment: 2 of 3 Change: +2" in text
    assert "Stress mind-brain" in text and "Psychological mind-brain" in text
    assert "Spinal condition Coded automatically (confidence 1.00)" in text
    assert "Injury Awaiting a coder (confidence 0.50)" in text
    assert "Some answers await a coder's review" in text
    html = response.content.decode()
    assert html.count('class="pill mind-brain"') == 2  # marked by a word, not by colour alone


def test_the_therapist_s_view_before_any_answer_and_after_a_coder(attrib):
    from prt.web.attributions import services
    from prt.web.attributions.models import AttributionCode

    client = attrib.client_for("therapist")
    text = text_of(client.get("/attributions/therapist/patients/BOU-002/"))
    assert text.count("Not answered yet.") == 2 and "Change: —" in text
    submit_causes(attrib.b, "pre", {"1": "123", "2": "stress"})
    text = text_of(client.get("/attributions/therapist/patients/BOU-002/"))
    assert "Awaiting a coder: the answer has no words" in text
    services.review(AttributionCode.objects.get(slot=1), "other", actor=attrib.rater)
    text = text_of(client.get("/attributions/therapist/patients/BOU-002/"))
    assert "Other Coded by a coder" in text and "The change needs all three answers coded at both times." in text


def test_the_coder_codes_a_queued_answer_blind(attrib):
    from prt.web.attributions.models import AttributionCode
    from prt.web.audit.models import AuditEvent

    submit_causes(attrib.b, "pre", BEFORE)
    client = attrib.client_for("rater")
    assert "Pain attributions to code" in client.get("/").content.decode()  # the staff home links it
    queue = client.get("/attributions/review/")
    html = queue.content.decode()
    assert "Waiting: 2 answers" in text_of(queue)
    assert BEFORE["2"] in html and BEFORE["3"] in html and BEFORE["1"] not in html  # the confident one is not queued
    main = html.split('<main id="main">', 1)[1]
    for hidden in ("BOU-002", "prt", "PRT", "Pretreatment", "Posttreatment", "placebo"):
        assert hidden not in main
    code = AttributionCode.objects.get(slot=3)
    form = client.get(f"/attributions/review/{code.pk}/")
    html = form.content.decode()
    assert BEFORE["3"] in html and "activity" in html  # activity is one of the choices ...
    assert "checked" not in html  # ... but the automatic code is not pre-selected (blind)
    assert 'name="version" value="queued:' in html
    response = client.post(f"/attributions/review/{code.pk}/", {"category": "injury", "version": code.version},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/attributions/review/"
    assert "Coded injury." in text_of(response) and "Waiting: 1 answer" in text_of(response)
    code.refresh_from_db()
    assert (code.category, code.source, code.decided_by) == ("injury", "human", attrib.rater)
    assert "Your recent codes" in text_of(response)
    # changing it: the form now says who coded it and asks for a reason
    form = client.get(f"/attributions/review/{code.pk}/").content.decode()
    assert "Coded injury by rater" in form
    assert re.search(r'<input type="text" id="reason" name="reason"[^>]* required>', form)
    refused = client.post(f"/attributions/review/{code.pk}/", {"category": "stress", "version": code.version})
    assert refused.status_code == 422 and "Reason: required" in text_of(refused)
    assert 'value="stress" required checked' in refused.content.decode()  # the choice kept
    client.post(f"/attributions/review/{code.pk}/", {"category": "stress", "version": code.version,
                                                     "reason": "second reading: work stress"})
    event = AuditEvent.objects.filter(model="attributions.attributioncode", object_id=str(code.pk)).last()
    assert (event.reason, event.changes["category"]) == ("second reading: work stress", ["injury", "stress"])


@pytest.mark.parametrize("data, status, message", [
    ({"category": "spaceship"}, 422, "Category: expected one of activity"),
    ({}, 422, "Category: expected one of"),
    ({"category": "stress", "version": ""}, 422, "Version: required"),
    ({"category": "stress", "version": "coded:2020-01-01T00:00:00+00:00"}, 409, "coded by someone else"),
    ({"category": "stress", "reason": "x" * 501}, 422, "Reason: expected at most 500 characters"),
])
def test_a_refused_review_names_the_field_and_writes_nothing(attrib, data, status, message):
    from prt.web.attributions.models import AttributionCode

    submit_causes(attrib.b, "pre", BEFORE)
    code = AttributionCode.objects.get(slot=2)
    data = {"version": code.version, **data}
    response = attrib.client_for("rater").post(f"/attributions/review/{code.pk}/", data)
    assert response.status_code == status and message in text_of(response)
    code.refresh_from_db()
    assert code.state == "queued"


def test_no_answer_s_words_in_a_url_or_a_log(attrib, clock, caplog):
    from prt.web.attributions.models import AttributionCode

    caplog.set_level(logging.DEBUG)
    post(attrib.b, clock)
    rater, therapist = attrib.client_for("rater"), attrib.client_for("therapist")
    pages = [therapist.get("/attributions/therapist/patients/BOU-002/"), rater.get("/attributions/review/")]
    for code in AttributionCode.objects.all():
        pages.append(rater.get(f"/attributions/review/{code.pk}/"))
        pages.append(rater.post(f"/attributions/review/{code.pk}/", {"category": "spaceship", "version": "x"}))
    hrefs = " ".join(re.findall(r'(?:href|action)="([^"]+)"', " ".join(p.content.decode() for p in pages)))
    for words in (*BEFORE.values(), *AFTER.values()):
        assert words not in caplog.text
        assert words.split()[-1] not in hrefs
