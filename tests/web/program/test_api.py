"""The program's API: the participant's program, practice and attempts (idempotent by client UUID),
a therapist's caseload, a rater's fidelity; refusals name the field and never echo the value."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.web.program.common import REFER, TODAY, drawn, evaluated, give_hierarchy, held

T = TODAY.isoformat()


def post(client, path, body):
    return client.post(path, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


def practice(**changes):
    return {"client_uuid": str(uuid.uuid4()), "day": T, "assignment": "tracking_practice", "minutes": 5,
            "pain_before": 6, "pain_after": 4, "fear_before": 5, "fear_after": 3, "setting": "movement", **changes}


def test_the_participant_s_program_by_arm(program):
    evaluated(program.b, program.physician)
    held(program.b, program.therapist, numbers=(1, 2))
    prt = program.client_for("participant_b").get("/api/program").json()
    assert (prt["arm"], prt["current_session"], prt["curriculum"]) == ("prt", 2, "prt@1")
    assert [s["state"] for s in prt["sessions"]] == ["held", "held"] + ["planned"] * 6
    assert [h["id"] for h in prt["home_practice"]] == ["read_education", "evidence_sheet"]  # curriculum order
    assert prt["evidence"]["strength"] == "none yet" and prt["items"] == []
    placebo = program.client_for("participant_placebo").get("/api/program").json()
    assert placebo["arm"] == "placebo" and placebo["sessions"] == [] and placebo["held_back"] is False
    assert [i["id"] for i in placebo["items"]][-1] == "continue_usual_care"
    usual = program.client_for("participant_usual_care").get("/api/program").json()
    assert [i["id"] for i in usual["items"]] == ["continue_usual_care"] and usual["held_back"] is True
    waiting = program.client_for("participant_a").get("/api/program").json()
    assert (waiting["arm"], waiting["items"]) == ("", [])


def test_a_practice_is_created_once_and_replayed(program):
    client = program.client_for("participant_b")
    body = practice()
    first = post(client, "/api/program/practices", body)
    again = post(client, "/api/program/practices", {**body, "minutes": 30})
    assert (first.status_code, first.json()["outcome"]) == (201, "created")
    assert (again.status_code, again.json()["outcome"], again.json()["minutes"]) == (200, "replayed", 5)
    assert [p["minutes"] for p in client.get("/api/program/practices").json()] == [5]
    other = post(program.client_for("participant_other_therapist"), "/api/program/practices", body)
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "client_uuid"


@pytest.mark.parametrize("changes, status, field", [
    ({"minutes": "5"}, 422, "minutes"),
    ({"minutes": 5.5}, 422, "minutes"),
    ({"pain_before": 11}, 422, "pain_before"),
    ({"pain_before": True}, 422, "pain_before"),
    ({"day": "10/03/2026"}, 422, "day"),
    ({"day": "2026-03-11"}, 422, "day"),                  # tomorrow at the site
    ({"day": "2026-02-28"}, 422, "day"),                  # more than a week ago
    ({"assignment": "nope"}, 422, "assignment"),
    ({"setting": "sofa"}, 422, "setting"),
    ({"client_uuid": "not-a-uuid"}, 422, "client_uuid"),
    ({"extra": 1}, 422, "extra"),
    ({"pain_after": None}, 422, "pain_after"),            # tracking needs before and after
])
def test_practice_refusals_name_the_field(program, changes, status, field):
    from prt.web.program.models import PracticeLog

    body = {k: v for k, v in practice(**changes).items() if v is not None}
    response = post(program.client_for("participant_b"), "/api/program/practices", body)
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["field"] == field
    assert PracticeLog.objects.count() == 0


def test_a_body_that_is_not_json_or_not_an_object(program):
    client = program.client_for("participant_b")
    assert post(client, "/api/program/practices", "{").status_code == 400
    assert post(client, "/api/program/practices", "[1]").status_code == 422


def test_attempts_need_a_hierarchy_and_follow_prt_program_s_rule(program):
    client = program.client_for("participant_b")
    body = {"client_uuid": str(uuid.uuid4()), "step": "s1", "day": T, "expected_pain": 5, "actual_pain": 3,
            "expected_fear": 5, "actual_fear": 1}
    assert post(client, "/api/program/exposure/attempts", body).status_code == 409
    give_hierarchy(program.b)
    created = post(client, "/api/program/exposure/attempts", body)
    assert created.status_code == 201 and created.json()["outcome"] == "created"
    assert post(client, "/api/program/exposure/attempts", body).json()["outcome"] == "replayed"
    wrong = post(client, "/api/program/exposure/attempts", {**body, "client_uuid": str(uuid.uuid4()), "step": "s9"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "step"
    exposure = client.get("/api/program/exposure").json()
    assert [s["id"] for s in exposure["steps"]] == ["s1", "s2"]
    assert (exposure["progress"]["suggestion"], exposure["progress"]["attempts"]) == ("repeat", 1)


def test_a_therapist_s_caseload_and_a_rater_s_fidelity(program):
    evaluated(program.b, program.physician, REFER)
    rows = held(program.b, program.therapist, numbers=(1, 2))
    caseload = program.client_for("therapist").get("/api/program/caseload").json()
    assert [(c["study_id"], c["referral"], c["sessions_held"], c["next_session"]["number"]) for c in caseload] == [
        ("BOU-002", "refer", [1, 2], 3)]
    assert program.client_for("rater").get("/api/program/fidelity").json() == {"sites": ["boulder"], "summary": None}
    from prt.web.program import services

    draw = drawn(program.world.site1, program.rater)
    services.rate_session(rows[0], draw, {e: True for e in ("education", "evidence", "somatic_tracking", "emotions",
                                                            "positive_states", "home_practice")}, rater=program.rater)
    summary = program.client_for("rater").get("/api/program/fidelity").json()["summary"]
    assert summary["overall"]["mean"] == 6 and summary["reference"]["mean"] == 4.93
    assert summary["therapists"][0]["name"] == f"T{program.therapist.pk}"  # codes, not logins


def test_refusals_never_echo_the_value_sent(program):
    secret = "my-secret-words-9"
    client = program.client_for("participant_b")
    for body in (practice(assignment=secret), practice(setting=secret), practice(day=secret), {secret: 1},
                 practice(client_uuid=secret)):
        response = post(client, "/api/program/practices", body)
        assert response.status_code == 422 and secret not in response.content.decode()
