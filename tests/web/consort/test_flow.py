"""The live CONSORT flow: known answers from a small trial built through the coordinator's services
(screened, ineligible, incomplete, consented, enrolled, randomized, withdrawn at each stage, follow-up
scores), per site and across sites; the page's tables, the SVG under its own CSP, the JSON; the
counts stay a fixed number of queries and fast with 1,000 participants."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, datetime, timezone as dt_timezone

import pytest

from tests.web.enrolment.common import ELIGIBLE, allocation_key, enrolled  # noqa: F401 (fixture)

JUNE = datetime(2026, 6, 1, 16, 0, tzinfo=dt_timezone.utc)


def score(person, event: str, day: date, pain: float | None = 5.0):
    """A BPI-SF submission with its average-pain score (the primary outcome), written directly."""
    from prt.web.questionnaires.models import Submission

    return Submission.objects.create(
        client_uuid=uuid.uuid4(), participant=person, instrument="bpi_sf", event=event, day=day, answers={},
        score=pain, scores={"total": pain, "subscales": {"average_pain": pain}}, instrument_form="test",
        instrument_source="test", definition_sha256="0" * 64, prt_version="test", channel="api")


@pytest.fixture
def trial(world, allocation_key, clock):
    """Boulder: 2 ineligible, 1 incomplete, 1 eligible waiting, 1 declined (withdrew before enrolment),
    1 enrolled waiting, 1 withdrew after enrolment, 4 randomized (R2 withdrew the next day); London: 1
    randomized. Scores: R1 pre+post, R2 pre, R3 none, R4 post only. Counted on 1 June 2026."""
    from prt.web.enrolment import services
    from prt.web.randomization import services as randomization

    coordinator = world.users["coordinator_same_site"]
    site = world.site1
    people = {}
    for study_id, changes in (("S-IN1", {"age": "19", "pain_avg_week": "3"}), ("S-IN2", {"mri_safe": "no"}),
                              ("S-INC", {"mri_safe": ""}), ("S-ELG", {}), ("S-DEC", {})):
        people[study_id] = services.screen_person(site, study_id, {**ELIGIBLE, **changes}, coordinator).participant
    services.withdraw(people["S-DEC"], withdrawal_date=date(2026, 3, 10), reason="changed their mind",
                      actor=coordinator)
    for study_id in ("S-ENR", "S-WEN", "R1", "R2", "R3", "R4"):
        people[study_id] = enrolled(site, study_id, coordinator)
    services.withdraw(people["S-WEN"], withdrawal_date=date(2026, 3, 10), reason="moved", actor=coordinator)
    arms = {}
    for study_id in ("R1", "R2", "R3", "R4"):
        arms[study_id] = randomization.randomize(people[study_id], client_uuid=uuid.uuid4(), actor=coordinator).arm
    london = enrolled(world.site2, "L-R1", world.users["coordinator_other_site"])
    arms["L-R1"] = randomization.randomize(london, client_uuid=uuid.uuid4(), actor=None).arm
    clock.advance(days=1)
    services.withdraw(people["R2"], withdrawal_date=date(2026, 3, 11), reason="no time", actor=coordinator)
    score(people["R1"], "pre", date(2026, 3, 17))
    score(people["R1"], "post", date(2026, 4, 20))
    score(people["R2"], "pre", date(2026, 3, 10))
    score(people["R4"], "post", date(2026, 4, 21))
    score(people["R3"], "post", date(2026, 4, 21), pain=None)  # submitted without an average-pain score
    clock.now = JUNE
    world.arms = arms
    return world


def _arm(counts, arm):
    return next(a for a in counts.arms if a.arm == arm)


def test_known_answers_at_one_site(trial):
    from prt.web.consort import services

    live = services.build([trial.site1])
    c = live.counts
    assert (c.assessed, c.not_eligible, c.incomplete, c.declined, c.randomized, c.excluded) == (11, 2, 1, 1, 4, 7)
    assert c.ineligible_reasons == {"age_out_of_range": 1, "mri_unsafe": 1, "pain_intensity_below_4": 1}
    assert c.other == {services.ELIGIBLE_PENDING: 1, services.ENROLLED_PENDING: 1,
                       services.WITHDREW_BEFORE_RANDOMIZATION: 1}
    assert live.unscreened == 2  # BOU-001 and BOU-002 were added without a screening
    arms = trial.arms
    r2 = _arm(c, arms["R2"])
    assert sum(a.allocated for a in c.arms) == 4
    assert {a.arm: a.allocated for a in c.arms} == {a: sum(1 for p in ("R1", "R2", "R3", "R4") if arms[p] == a)
                                                    for a in ("prt", "placebo", "usual_care")}
    # R2 withdrew one day after randomization: before PRT's evaluation (day 3) and placebo's injection (day 7)
    if arms["R2"] == "usual_care":
        assert r2.not_received == {}
    else:
        label = {"prt": "PRT physician evaluation", "placebo": "open-label placebo injection visit"}[arms["R2"]]
        assert r2.not_received == {f"Withdrew before the {label}": 1}
    assert sum(a.received for a in c.arms) == 4 - (arms["R2"] != "usual_care")
    assert r2.discontinued == {services.WITHDREW_DURING_TREATMENT: 1}
    assert sum(a.n_discontinued for a in c.arms) == 1
    # on 1 June the posttreatment window (17 April - 4 May) has closed and the 1-month one is open:
    # R3 has no average-pain score at posttreatment (R1 and R4 do; R2 withdrew)
    assert _arm(c, arms["R3"]).lost == {"Missed the posttreatment assessment": 1}
    assert sum(a.n_lost for a in c.arms) == 1
    # analysed: a pre or post score and age and sex (R1, R2, R4); R3 has none
    assert sum(a.analysed for a in c.arms) == 3
    assert _arm(c, arms["R3"]).not_analysed == {services.NO_PRIMARY: 1}
    post = next(row for row in live.follow_up if row["timepoint"] == "post")
    assert sum(cell["completed"] for cell in post["arms"].values()) == 2
    assert sum(cell["expected"] for cell in post["arms"].values()) == 3  # R2 withdrew before the window opened
    month = next(row for row in live.follow_up if row["timepoint"] == "1mo")
    assert sum(cell["expected"] + cell["completed"] for cell in month["arms"].values()) == 0
    stages = {row["stage"]: row for row in live.withdrawals}
    assert (stages["screened"]["total"], stages["enrolled"]["total"], stages["randomized"]["total"]) == (1, 1, 1)
    assert stages["randomized"]["arms"][arms["R2"]] == 1 and stages["screened"]["arms"] == {
        "prt": 0, "placebo": 0, "usual_care": 0}
    c.check()


def test_each_site_alone_and_all_sites_together(trial):
    from prt.web.consort import services

    london = services.build([trial.site2]).counts
    assert (london.assessed, london.randomized, london.excluded) == (1, 1, 0)
    assert _arm(london, trial.arms["L-R1"]).allocated == 1
    both = services.build([trial.site1, trial.site2])
    assert (both.counts.assessed, both.counts.randomized, both.unscreened) == (12, 5, 3)
    assert both.title == "CONSORT flow: Boulder, London"


def test_before_any_window_closes_nobody_is_lost(trial, clock):
    from prt.web.consort import services

    clock.now = datetime(2026, 4, 1, 16, 0, tzinfo=dt_timezone.utc)
    counts = services.build([trial.site1]).counts
    assert sum(a.n_lost for a in counts.arms) == 0 and sum(a.n_discontinued for a in counts.arms) == 1


def test_the_page_shows_the_counts_as_tables_and_the_diagram_as_an_image(trial):
    client = trial.client_for("coordinator_same_site")
    response = client.get("/coordinator/consort/sites/boulder/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<th scope="row">Assessed for eligibility</th><td class="n">11</td>' in page
    assert '<th scope="row" class="sub2">Aged 21 to 70 years</th><td class="n">1</td>' in page
    assert '<th scope="row" class="sub1">Declined to participate</th><td class="n">1</td>' in page
    assert '<img src="/coordinator/consort/sites/boulder/consort.svg"' in page
    assert 'href="/coordinator/consort/sites/boulder/consort.json"' in page
    assert "How the boxes are counted" in page and "2 people with no screening record are not in the flow" in page
    assert "style=" not in page and "<script" not in page
    assert client.get("/coordinator/consort/").status_code == 200


def test_the_svg_is_an_image_with_its_own_narrow_policy(trial):
    client = trial.client_for("coordinator_same_site")
    response = client.get("/coordinator/consort/sites/boulder/consort.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content
    assert svg.startswith(b"<?xml") and b"<script" not in svg
    assert b"Assessed for eligibility (n=11)" in svg and b"Randomized (n=4)" in svg
    assert b"Aged 21 to 70 years (n=1)" in svg
    policy = response["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "script-src 'none'" in policy and "default-src 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get("/coordinator/consort/sites/boulder/consort.svg").content == svg  # deterministic


def test_the_json_download_holds_the_counts_and_the_definitions(trial):
    from prt.trial.consort import ConsortCounts

    client = trial.client_for("coordinator_same_site")
    response = client.get("/coordinator/consort/sites/boulder/consort.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    counts = ConsortCounts.from_dict(data["counts"])  # checked again while read
    assert (counts.assessed, counts.randomized, data["sites"], data["unscreened"]) == (11, 4, ["boulder"], 2)
    assert {d["box"] for d in data["definitions"]} >= {"Received allocated intervention", "Lost to follow-up",
                                                       "Analysed"}
    assert data["generated_at"] == "2026-06-01T16:00:00Z"


def test_another_site_is_not_found_and_other_roles_are_refused(trial):
    other = trial.client_for("coordinator_other_site")
    assert other.get("/coordinator/consort/sites/boulder/").status_code == 404
    assert other.get("/coordinator/consort/sites/boulder/consort.svg").status_code == 404
    page = other.get("/coordinator/consort/").content.decode()
    assert "CONSORT flow: all your sites" in page and '<td class="n">1</td>' in page
    assert trial.client_for("analyst").get("/coordinator/consort/").status_code == 403


def test_records_that_contradict_are_answered_409_naming_the_record(trial):
    from prt.web.enrolment.models import Screening

    person = Screening.objects.filter(participant__study_id="R1").latest().participant
    Screening.objects.create(participant=person, status="ineligible", reasons=["mri_unsafe"], rule_set="test",
                             screened_at=JUNE)  # an impossible record: randomized, then screened ineligible
    client = trial.client_for("coordinator_same_site")
    response = client.get("/coordinator/consort/sites/boulder/")
    assert response.status_code == 409 and "R1" in response.content.decode()
    assert client.get("/coordinator/consort/sites/boulder/consort.svg").status_code == 409


def test_a_thousand_participants_take_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    from django.utils import timezone

    from prt.web.consort import services
    from prt.web.enrolment.models import Consent, Screening, Withdrawal
    from prt.web.participants.models import Participant
    from prt.web.questionnaires.models import Submission
    from prt.web.randomization.models import AllocationEntry

    now = timezone.now()
    arms = ("prt", "placebo", "usual_care")
    people = Participant.objects.bulk_create(
        [Participant(study_id=f"P{i:04d}", site=world.site1, status="randomized" if i % 5 else "ineligible",
                     arm=arms[i % 3] if i % 5 else "") for i in range(1000)])
    Screening.objects.bulk_create(
        [Screening(participant=p, status="eligible" if p.arm else "ineligible", reasons=[] if p.arm else ["mri_unsafe"],
                   answers={"age": 40, "sex": "female"}, rule_set="t", screened_at=now) for p in people])
    randomized = [p for p in people if p.arm]
    Consent.objects.bulk_create([Consent(participant=p, form_version="v1", consent_date=date(2026, 3, 1),
                                         recorded_at=now) for p in randomized])
    AllocationEntry.objects.bulk_create([AllocationEntry(seq=i + 1, line=json.dumps({"arm": p.arm}), hash=f"{i:064x}",
                                                         participant=p, created_at=now)
                                         for i, p in enumerate(randomized)])
    Submission.objects.bulk_create([
        Submission(client_uuid=uuid.uuid4(), participant=p, instrument="bpi_sf", event=event, day=date(2026, 3, 10),
                   answers={}, score=4, scores={"subscales": {"average_pain": 4}}, instrument_form="t",
                   instrument_source="t", definition_sha256="0" * 64, prt_version="t", channel="api")
        for p in randomized for event in ("pre", "post")])
    for p in randomized[:50]:
        Withdrawal.objects.create(participant=p, withdrawal_date=date(2026, 3, 10), reason="r",
                                  previous_status="randomized", recorded_at=now)
    services.build([world.site1])  # warm the rule set and schedule caches
    started = time.perf_counter()
    with django_assert_max_num_queries(8):
        live = services.build([world.site1])
    elapsed = time.perf_counter() - started
    assert live.counts.randomized == 800 and live.counts.not_eligible == 200
    assert sum(a.n_discontinued for a in live.counts.arms) == 50
    assert elapsed < 5, f"{elapsed:.2f} s"
