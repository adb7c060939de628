"""The questionnaires API: due list, FHIR Questionnaire, submissions (plain or FHIR), idempotency,
and its input surface: arbitrary JSON never gives a 5xx and never stores anything invalid."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prt import instruments
from prt.web.questionnaires.models import Submission

URL = "/api/questionnaire-responses"


def body(**fields):
    return {"client_uuid": str(uuid.uuid4()), "event": "pre", "instrument": "odi",
            "answers": {str(i): 1 for i in range(1, 11)}, **fields}


def post(client, payload):
    data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(URL, data, content_type="application/json")


@pytest.fixture
def alice(world):
    return world.client_for("participant_a")


def test_due_list_definition_submit_retry_and_history(alice):
    due = alice.get("/api/questionnaires").json()
    assert {d["event"] for d in due} == {"pre"} and due[0]["window_close"] == "2026-03-31"
    fhir = alice.get("/api/instruments/odi/questionnaire").json()
    assert fhir == instruments.questionnaire("odi") and fhir["resourceType"] == "Questionnaire"
    assert alice.get("/api/instruments/nope/questionnaire").status_code == 404
    payload = body()
    first = post(alice, payload)
    assert first.status_code == 201 and first.json()["score"] == 20 and first.json()["outcome"] == "created"
    retry = post(alice, payload)
    assert retry.status_code == 200 and retry.json()["outcome"] == "replayed"
    assert retry.json()["submitted_at"] == first.json()["submitted_at"]
    assert post(alice, body()).status_code == 409  # already submitted for this visit
    assert [s["instrument"] for s in alice.get(URL).json()] == ["odi"]
    assert "odi" not in {d["instrument"] for d in alice.get("/api/questionnaires").json()}


def test_a_fhir_questionnaire_response_is_scored_the_same(alice):
    answers = {str(i): 2 for i in range(1, 12)}
    resource = instruments.questionnaire_response("tsk11", answers)
    response = post(alice, {"client_uuid": str(uuid.uuid4()), "event": "pre", "instrument": "tsk11",
                            "questionnaire_response": resource})
    assert response.status_code == 201 and response.json()["score"] == 22
    assert Submission.objects.get().channel == "fhir"
    unfinished = post(alice, {"client_uuid": str(uuid.uuid4()), "event": "pre", "instrument": "pcs",
                              "questionnaire_response": {**instruments.questionnaire_response("pcs", {"1": 1}),
                                                         "status": "in-progress"}})
    assert unfinished.status_code == 422 and unfinished.json()["errors"][0]["field"] == "questionnaire_response"


@pytest.mark.parametrize("payload, status, field", [
    (body(answers={"1": 9}), 422, "answers"),
    (body(answers={"1": "9"}), 422, "answers"),
    (body(answers={"1": True}), 422, "answers"),
    (body(answers={"x": 1}), 422, "answers"),
    (body(answers={}), 422, "answers"),
    (body(answers=None), 422, "answers"),
    (body(questionnaire_response={"resourceType": "QuestionnaireResponse"}), 422, "answers"),
    (body(client_uuid="nope"), 422, "client_uuid"),
    (body(client_uuid=1), 422, "client_uuid"),
    (body(event=1), 422, "event"),
    (body(event="post"), 403, "event"),
    (body(event="zz"), 404, "event"),
    (body(instrument="pgic"), 404, "instrument"),
    (body(extra=1), 422, "extra"),
    ({"client_uuid": str(uuid.uuid4())}, 422, "event"),
    ([1], 422, "body"),
    ("{", 400, "body"),
    ('{"a": 1, "a": 2}', 400, "body"),
])
def test_refusals_name_the_field_and_store_nothing(alice, payload, status, field):
    response = post(alice, payload)
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["field"] == field
    assert Submission.objects.count() == 0


def test_messages_never_repeat_a_submitted_value(alice):
    response = post(alice, body(answers={"1": 987654}))
    assert response.status_code == 422 and "987654" not in response.content.decode()


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
                    | st.text(max_size=8), lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=12)
ITEM_KEYS = st.sampled_from([str(i) for i in range(0, 13)] + ["", "1.0", " 1"])
ANSWERS = st.dictionaries(ITEM_KEYS, st.integers(-2, 7) | st.floats(-1, 6) | st.text(max_size=3) | st.none()
                          | st.booleans(), max_size=12) | JSON
PAYLOADS = st.fixed_dictionaries({"client_uuid": st.uuids().map(str) | JSON,
                                  "event": st.sampled_from(["pre", "post", "1mo", "x"]) | JSON,
                                  "instrument": st.sampled_from(["odi", "tsk11", "ceq", "ipq_causes", "pgic"]) | JSON,
                                  "answers": ANSWERS}) | JSON


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(payloads=st.lists(PAYLOADS, min_size=1, max_size=3))
def test_arbitrary_json_never_gives_a_5xx_and_never_stores_anything_invalid(alice, world, payloads):
    for payload in payloads:
        response = post(alice, payload)
        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            assert response.json()["errors"][0]["field"]
    for s in Submission.objects.filter(participant=world.a):
        assert s.event == "pre" and s.day.isoformat() == "2026-03-10"
        assert s.scores == instruments.score(s.instrument, s.answers).to_dict(details=True)
        inst = instruments.get(s.instrument)
        assert set(s.answers) <= set(inst.item_numbers)
    assert Submission.objects.values("instrument", "event").distinct().count() == Submission.objects.count()
