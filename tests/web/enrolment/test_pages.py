"""The coordinator's pages end to end (screen, consent, enrol, randomize, withdraw) and the API's
screening input surface under hypothesis: arbitrary input never gives a 5xx, nothing invalid is stored."""

from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.web.enrolment.common import ELIGIBLE, allocation_key  # noqa: F401 (fixture)


def test_a_coordinator_screens_consents_enrols_and_randomizes_a_person(world, allocation_key):
    from prt.vocabulary import ARM_NAMES
    from prt.web.participants.models import Participant

    client = world.client_for("coordinator_same_site")
    home = client.get("/coordinator/").content.decode()
    assert "Boulder" in home and "BOU-002" in home and "LON-001" not in home
    form = client.get("/coordinator/sites/boulder/screen/").content.decode()
    assert "Average back pain over the last week (0-10)" in form and 'name="opioid"' in form
    refused = client.post("/coordinator/sites/boulder/screen/", {"study_id": "BOU-050", **ELIGIBLE,
                                                                 "pain_avg_week": "12"})
    assert refused.status_code == 422 and "outside the declared range 0-10" in refused.content.decode()
    assert not Participant.objects.filter(study_id="BOU-050").exists()
    response = client.post("/coordinator/sites/boulder/screen/", {"study_id": "BOU-050", **ELIGIBLE}, follow=True)
    page = response.content.decode()
    assert "Screened BOU-050: Eligible." in page and "Record consent" in page and "Randomize" not in page
    client.post("/coordinator/people/BOU-050/consent/", {"form_version": "v2", "consent_date": "2026-03-10"})
    page = client.post("/coordinator/people/BOU-050/enrol/", follow=True).content.decode()
    assert "Enrolled BOU-050." in page and "Randomize BOU-050" in page
    assert not any(name in page for name in ARM_NAMES.values() if name != "Usual care")  # no arm before
    person_uuid = str(uuid.uuid4())
    page = client.post("/coordinator/people/BOU-050/randomize/", {"client_uuid": person_uuid},
                       follow=True).content.decode()
    person = Participant.objects.get(study_id="BOU-050")
    assert person.status == "randomized" and f"Arm: <strong>{ARM_NAMES[person.arm]}</strong>" in page
    # a re-posted form (back button, double click) shows the same allocation and writes nothing
    again = client.post("/coordinator/people/BOU-050/randomize/", {"client_uuid": person_uuid}, follow=True)
    assert f"Randomized BOU-050: {ARM_NAMES[person.arm]}." in again.content.decode()
    page = client.post("/coordinator/people/BOU-050/withdraw/", {"withdrawal_date": "2026-03-10",
                                                                 "reason": "moved away"}, follow=True)
    assert "Withdrawn on 10 March 2026: moved away" in page.content.decode()


def test_an_ineligible_screening_shows_every_failed_criterion(world):
    client = world.client_for("coordinator_same_site")
    page = client.post("/coordinator/sites/boulder/screen/", {"study_id": "BOU-051", **ELIGIBLE, "age": "19",
                                                               "mri_safe": "no"}, follow=True).content.decode()
    assert "Aged 21 to 70 years" in page and "Safe to undergo MRI" in page and "Record consent" not in page


def test_the_api_screens_and_randomizes(world, allocation_key):
    client = world.client_for("coordinator_same_site")
    body = {"site": "boulder", "study_id": "BOU-052", "answers": {**ELIGIBLE, "age": 45, "mri_safe": True}}
    answer = client.post("/api/screenings", json.dumps(body), content_type="application/json")
    assert answer.status_code == 201 and answer.json()["status"] == "eligible"
    ineligible = client.post("/api/screenings", json.dumps({**body, "study_id": "BOU-053",
                                                            "answers": {**ELIGIBLE, "age": 80}}),
                             content_type="application/json").json()
    assert ineligible["reasons"] == [{"code": "age_out_of_range", "label": "aged 21 to 70 years"}]
    from prt.web.enrolment import services
    from prt.web.participants.models import Participant

    person = Participant.objects.get(study_id="BOU-052")
    services.record_consent(person, form_version="v2", consent_date=person.site.today(), actor=None)
    services.enrol(person, actor=None)
    request = json.dumps({"client_uuid": str(uuid.uuid4())})
    first = client.post("/api/participants/BOU-052/randomization", request, content_type="application/json")
    retry = client.post("/api/participants/BOU-052/randomization", request, content_type="application/json")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == {**first.json(), "outcome": "replayed"}


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.floats(allow_nan=False),
                    st.text(max_size=8), st.sampled_from(["yes", "no", "female", "male", "4_5", "1e1", " 7 "]),
                    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_FIELDS = st.sampled_from(list(ELIGIBLE) + ["unknown", "site"])
_BODIES = st.one_of(
    st.fixed_dictionaries({"site": st.sampled_from(["boulder", "london", "nowhere", 3]),
                           "study_id": st.one_of(st.sampled_from(["BOU-900", "BOU-001", "LON-001", "", "a b"]),
                                                 st.text(max_size=40)),
                           "answers": st.one_of(st.dictionaries(_FIELDS, _VALUES, max_size=12),
                                                st.builds(lambda over: {**ELIGIBLE, **over},
                                                          st.dictionaries(_FIELDS, _VALUES, max_size=3)),
                                                _VALUES)}),
    st.dictionaries(st.text(max_size=5), _VALUES, max_size=3), _VALUES)


@settings(max_examples=120, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=_BODIES)
def test_arbitrary_screening_bodies_never_give_a_server_error_nor_store_anything_invalid(world, body):
    from prt.web.enrolment import services
    from prt.web.enrolment.models import Screening
    from prt.web.participants.models import Participant

    client = world.client_for("coordinator_same_site")
    try:
        text = json.dumps(body)
    except (TypeError, ValueError):
        return
    response = client.post("/api/screenings", text, content_type="application/json")
    assert response.status_code in (201, 400, 404, 409, 422), response.content[:200]
    if response.status_code != 201:
        assert "detail" in response.json()
    questions = {q.name: q for q in services.questions()}
    for screening in Screening.objects.select_related("participant"):
        assert screening.participant.site == world.site1
        for name, value in screening.answers.items():
            q = questions[name]
            if q.kind == "number":
                assert isinstance(value, (int, float)) and not isinstance(value, bool) and q.min <= value <= q.max
            else:
                assert value in q.choices
    for person in Participant.objects.all():
        person.full_clean()  # every stored study id is a valid pseudonym


@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(form=st.dictionaries(_FIELDS, st.text(max_size=6), max_size=12), study_id=st.text(max_size=40))
def test_arbitrary_screening_forms_never_give_a_server_error(world, form, study_id):
    client = world.client_for("coordinator_same_site")
    response = client.post("/coordinator/sites/boulder/screen/", {**form, "study_id": study_id})
    assert response.status_code in (302, 409, 422)
