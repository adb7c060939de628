"""The adverse events' JSON API: record, list per site, read with history, change with a reason;
refusals naming the field; site isolation; read-only care roles; a hypothesis test of the bodies."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.web.safety.common import SERIOUS, VALID, as_json, consented, therapist  # noqa: F401 (fixtures)


def post(client, path, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data, content_type="application/json")


CREATE = "/api/participants/BOU-001/adverse-events"


def test_record_list_read_and_change(consented, clock):
    client = consented.client_for("coordinator_same_site")
    created = post(client, CREATE, as_json({**SERIOUS}))
    assert created.status_code == 201, created.content
    event = created.json()
    assert (event["study_id"], event["site"], event["serious"], event["sae_criteria"]) == \
        ("BOU-001", "boulder", True, ["hospitalisation"])
    assert event["report_pending"] and event["report_deadline"].startswith("2026-03-11T16:00:00")
    assert event["related"] is False and event["ongoing"] is False and event["reported_by"] == "coordinator_same_site"
    listed = client.get("/api/sites/boulder/adverse-events").json()
    assert [e["id"] for e in listed] == [event["id"]]
    assert client.get("/api/sites/boulder/adverse-events?serious=false&ongoing=true").json() == []
    clock.advance(hours=1)
    changed = post(client, f"/api/adverse-events/{event['id']}",
                   {"sae_reported_on": "2026-03-10", "relatedness": "possible", "reason": "SAE form faxed"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["result"] == "changed" and changed.json()["report_pending"] is False
    assert changed.json()["related"] is True
    again = post(client, f"/api/adverse-events/{event['id']}", {"relatedness": "possible", "reason": "re-send"})
    assert again.json()["result"] == "unchanged"
    detail = client.get(f"/api/adverse-events/{event['id']}").json()
    assert [(h["action"], h["reason"]) for h in detail["history"]] == [("create", ""), ("update", "SAE form faxed")]
    assert detail["history"][1]["changes"] == {"relatedness": ["not_related", "possible"],
                                               "sae_reported_on": [None, "2026-03-10"]}


def test_end_date_may_be_set_back_to_null_but_other_fields_may_not(consented):
    client = consented.client_for("coordinator_same_site")
    event = post(client, CREATE, as_json({**VALID, "outcome": "unknown", "end_date": "2026-03-06"})).json()
    reopened = post(client, f"/api/adverse-events/{event['id']}", {"end_date": None, "reason": "still going"})
    assert reopened.status_code == 200 and reopened.json()["end_date"] is None
    refused = post(client, f"/api/adverse-events/{event['id']}", {"severity": None, "reason": "oops"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "severity"


@pytest.mark.parametrize("body, status, field", [
    ("not json", 400, "body"),
    ([], 422, "body"),
    ({**VALID, "colour": "crimson"}, 422, "colour"),
    ({k: v for k, v in VALID.items() if k != "severity"}, 422, "severity"),
    ({**VALID, "severity": "grade_9"}, 422, "severity"),
    ({**VALID, "onset_date": "5 March 2026"}, 422, "onset_date"),
    ({**VALID, "onset_date": 20260305}, 422, "onset_date"),
    ({**VALID, "serious": "true"}, 422, "serious"),
    ({**VALID, "serious": 1}, 422, "serious"),
    ({**VALID, "sae_criteria": "death"}, 422, "sae_criteria"),
    ({**VALID, "description": ""}, 422, "description"),
    ({**VALID, "description": "a\x00b"}, 422, "description"),
    ({**VALID, "onset_date": "2026-03-11"}, 422, "onset_date"),
    ({**VALID, "serious": True}, 422, "sae_criteria"),
    ({**VALID, "outcome": "fatal"}, 422, "sae_criteria"),
])
def test_refusals_name_the_field_and_never_the_value(consented, body, status, field):
    from prt.web.safety.models import AdverseEvent

    client = consented.client_for("coordinator_same_site")
    response = post(client, CREATE, as_json(body) if isinstance(body, dict) else body)
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["errors"][0]["field"] == field and answer["detail"].startswith(f"{field}: ")
    assert "crimson" not in answer["detail"] and "5 March" not in answer["detail"]
    assert AdverseEvent.objects.count() == 0


def test_who_may_do_what(consented, therapist):
    from prt.web.safety.models import AdverseEvent

    coordinator = consented.client_for("coordinator_same_site")
    event = post(coordinator, CREATE, as_json(VALID)).json()
    path = f"/api/adverse-events/{event['id']}"
    other = consented.client_for("coordinator_other_site")
    assert other.get(path).status_code == 404
    assert post(other, path, {"severity": "mild", "reason": "x"}).status_code == 404
    assert other.get("/api/sites/boulder/adverse-events").status_code == 404
    assert post(other, CREATE, as_json(VALID)).status_code == 404
    assert therapist.get(path).status_code == 200
    assert therapist.get("/api/sites/boulder/adverse-events").status_code == 200
    assert post(therapist, path, {"severity": "mild", "reason": "x"}).status_code == 403
    assert post(therapist, CREATE, as_json(VALID)).status_code == 403
    for role in ("participant_a", "analyst", "admin"):
        client = consented.client_for(role)
        assert client.get(path).status_code == 403
        assert client.get("/api/sites/boulder/adverse-events").status_code == 403
    assert consented.client_for(None).get(path).status_code == 401
    assert coordinator.get("/api/adverse-events/99999999999999999999").status_code in (404, 422)
    assert AdverseEvent.objects.get().severity == "moderate"


def test_the_schema_lists_the_vocabularies(client, db):
    schema = client.get("/api/openapi.json").json()
    body = schema["paths"]["/api/participants/{study_id}/adverse-events"]["post"]["requestBody"]["content"]
    properties = body["application/json"]["schema"]["properties"]
    assert properties["severity"]["enum"][:3] == ["mild", "moderate", "severe"]
    assert "fatal" in properties["outcome"]["enum"]


_value = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=12),
                   st.sampled_from(["2026-03-05", "2026-03-10", "2026-03-11", "2026-02-28", "mild", "grade_5",
                                    "fatal", "recovered", "death", "possible", "none"]),
                   st.lists(st.sampled_from(["death", "hospitalisation", "other_important", "x"]), max_size=3))
_body = st.one_of(
    st.dictionaries(st.sampled_from([*VALID, "reason", "extra"]), _value, max_size=4)
    .map(lambda changes: {**as_json(VALID), **changes}),
    st.dictionaries(st.text(max_size=8), _value, max_size=3),
    _value,
)


@settings(max_examples=120, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=_body, change=st.booleans())
def test_arbitrary_bodies_never_give_a_server_error_and_store_only_valid_events(consented, body, change):
    from prt.web.audit.models import AuditEvent
    from prt.web.safety import services
    from prt.web.safety.models import AdverseEvent

    client = consented.client_for("coordinator_same_site")
    if change:
        first = AdverseEvent.objects.first() or services.record(consented.a, VALID, actor=None)
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k not in ("end_date", "onset_date") or v is not None}
        response = post(client, f"/api/adverse-events/{first.pk}", body)
        assert response.status_code in (200, 400, 409, 422), response.content[:300]
    else:
        response = post(client, CREATE, body)
        assert response.status_code in (201, 400, 409, 422), response.content[:300]
    answer = response.json()
    if response.status_code >= 400:
        assert answer["errors"] and all(e["field"] and e["message"] for e in answer["errors"])
    for stored in AdverseEvent.objects.select_related("participant__site"):
        services.check(services.current_values(stored), stored.participant)
    updates = AuditEvent.objects.filter(model="safety.adverseevent", action="update")
    assert all(u.reason for u in updates)
    created = AuditEvent.objects.filter(model="safety.adverseevent", action="create").count()
    assert created == AdverseEvent.objects.count()
