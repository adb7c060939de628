"""Property-based tests of every input surface of the program (each form and API body): whatever
is posted, the answer is never a server error, only the statuses the page declares, and everything
stored still passes prt.program's own checks (re-read with ``from_dict``) with one audit event per
row written. Hypothesis, derandomized; the program world is reused across examples."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, event, example, given, settings, strategies as st

from tests.web.program.common import TODAY, drawn, evaluated, give_hierarchy, held

SETTINGS = settings(max_examples=40, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
P = "/program"
DAYS = [(TODAY - timedelta(days=d)).isoformat() for d in (-1, 0, 1, 7, 8)]
JUNK = ["", " ", "-1", "0", "5", "10", "11", "1e3", "4.5", "abc", "2026-02-30", "9" * 25, "\x00", "<b>x</b>",
        "yes", "no", "present", "absent", "unknown"]


def cell(*valid) -> st.SearchStrategy:
    """A posted value: mostly one of the valid ones (8 in 10), else a known troublemaker or any text."""
    if not valid:
        return st.one_of(st.sampled_from(JUNK), st.text(max_size=12))
    return st.integers(0, 9).flatmap(lambda i: st.sampled_from(list(valid)) if i < 8 else
                                     st.sampled_from(JUNK) if i == 8 else st.text(max_size=12))


def form(**fields) -> st.SearchStrategy:
    """A form with every field, less one or two left out now and then."""
    return st.builds(lambda data, dropped: {k: v for k, v in data.items() if k not in dropped},
                     st.fixed_dictionaries(fields),
                     st.one_of(st.just(set()), st.just(set()), st.sets(st.sampled_from(sorted(fields)), max_size=2)))


def audited(model: str, rows: int) -> None:
    from prt.web.audit.models import AuditEvent

    assert AuditEvent.objects.filter(model=f"program.{model}", action="create").count() == rows


def check_practices(person=None):
    from prt.program import Practice
    from prt.web.program.models import PracticeLog

    for row in PracticeLog.objects.all():
        Practice.from_dict(row.as_record())
    audited("practicelog", PracticeLog.objects.count())


TRACKING = form(client_uuid=st.one_of(st.just(str(uuid.uuid4())), st.uuids().map(str), cell()), day=cell(*DAYS),
                minutes=cell("5", "240", "241"), pain_before=cell("6"), pain_after=cell("4"), fear_before=cell("5"),
                fear_after=cell("2"), setting=cell("seated", "movement"))


@SETTINGS
@example(data={"client_uuid": "3f8fad5b-d9cb-469f-a165-70867728950e", "day": TODAY.isoformat(), "minutes": "5",
               "pain_before": "6", "pain_after": "4", "fear_before": "5", "fear_after": "2", "setting": "seated"})
@given(data=TRACKING)
def test_any_tracking_form(program, data):
    from prt.web.program.models import PracticeLog

    before = PracticeLog.objects.count()
    response = program.client_for("participant_b").post(f"{P}/tracking/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 409, 422), response.content[:300]
    assert PracticeLog.objects.count() - before in ((0, 1) if response.status_code == 302 else (0,))
    check_practices()


@SETTINGS
@example(data={"client_uuid": "4f8fad5b-d9cb-469f-a165-70867728950e", "assignment": "read_education",
               "day": TODAY.isoformat(), "minutes": "10"})
@given(data=form(client_uuid=st.uuids().map(str), assignment=cell("read_education", "savour_pleasant",
                                                                  "tracking_practice"),
                 day=cell(*DAYS), minutes=cell("10"), pain_before=cell("3"), pain_after=cell("2")))
def test_any_practice_form(program, data):
    from prt.web.program.models import PracticeLog

    before = PracticeLog.objects.count()
    response = program.client_for("participant_b").post(f"{P}/practice/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 409, 422), response.content[:300]
    assert PracticeLog.objects.count() - before == (response.status_code == 302)
    check_practices()


KINDS = ("onset_stress_or_no_injury", "inconsistency", "many_symptoms", "triggers", "trigger_without_pain")


@SETTINGS
@given(data=st.fixed_dictionaries({}, optional={f"examples-{k}": st.one_of(
    st.text(max_size=60), st.lists(st.text(min_size=1, max_size=30), max_size=25).map("\n".join),
    st.just("x" * 501)) for k in KINDS + ("nope",)}))
def test_any_evidence_form(program, data):
    from prt.program import EvidenceSheet
    from prt.web.program.models import EvidenceSheet as Row

    response = program.client_for("participant_b").post(f"{P}/evidence/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 422), response.content[:300]
    for row in Row.objects.all():
        EvidenceSheet.from_dict(row.examples)
    audited("evidencesheet", Row.objects.count())


@SETTINGS
@example(rows=1, data={"id-0": "", "movement-0": "a walk", "fear-0": "3"})
@given(rows=st.integers(-2, 45), data=st.dictionaries(
    st.builds(lambda kind, i: f"{kind}-{i}", st.sampled_from(("id", "movement", "fear", "remove")), st.integers(0, 5)),
    st.one_of(cell("s1", "s2", "walk", "3", "yes"), st.text(max_size=210)), max_size=16))
def test_any_hierarchy_form(program, rows, data):
    from prt.program import ExposureAttempt, Hierarchy
    from prt.web.program.models import ExposureAttemptLog, ExposureHierarchy

    response = program.client_for("participant_b").post(f"{P}/exposure/", {"rows": str(rows), **data})
    event(f"status {response.status_code}")
    assert response.status_code in (302, 409, 422), response.content[:300]
    for row in ExposureHierarchy.objects.all():
        hierarchy = Hierarchy.from_dict({"steps": row.steps})
        for attempt in ExposureAttemptLog.objects.filter(participant=row.participant):
            ExposureAttempt.from_dict(attempt.as_record(), hierarchy)
    audited("exposurehierarchy", ExposureHierarchy.objects.count())


@SETTINGS
@example(data={"client_uuid": "5f8fad5b-d9cb-469f-a165-70867728950e", "step": "s1", "day": TODAY.isoformat(),
               "expected_pain": "5", "actual_pain": "3", "expected_fear": "4", "actual_fear": "2"})
@given(data=form(client_uuid=st.uuids().map(str), step=cell("s1", "s2", "s3"), day=cell(*DAYS),
                 expected_pain=cell("5"), actual_pain=cell("3"), expected_fear=cell("4"), actual_fear=cell("2")))
def test_any_attempt_form(program, data):
    from prt.program import ExposureAttempt
    from prt.web.program import services
    from prt.web.program.models import ExposureAttemptLog

    if services.hierarchy_of(program.b) is None:
        give_hierarchy(program.b)
    before = ExposureAttemptLog.objects.count()
    response = program.client_for("participant_b").post(f"{P}/exposure/attempts/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 409, 422), response.content[:300]
    assert ExposureAttemptLog.objects.count() - before == (response.status_code == 302)
    hierarchy = services.hierarchy_of(program.b)
    for row in ExposureAttemptLog.objects.all():
        ExposureAttempt.from_dict(row.as_record(), hierarchy)
    audited("exposureattemptlog", ExposureAttemptLog.objects.count())


STEPS = ["pain_from_brain", "pain_is_real", "pain_fear_cycle", "evidence_introduce", "savouring", "x"]


@SETTINGS
@example(number=1, data={"outcome": "held", "held_on": TODAY.isoformat(), "minutes": "60",
                         "steps": ["pain_from_brain"], "assignments": ["read_education"], "notes": "ok",
                         "recorded": "yes"})
@given(number=st.integers(1, 3), data=form(
    outcome=cell("held", "missed"), held_on=cell(*DAYS), minutes=cell("60", "240", "241"),
    steps=st.lists(st.sampled_from(STEPS), max_size=4), assignments=st.lists(cell("read_education"), max_size=3),
    notes=st.text(max_size=40), recorded=cell("yes"), reason=cell("audio checked")))
def test_any_session_form(program, number, data):
    from prt.web.program.content import curriculum
    from prt.web.program.models import ProgramSession

    from prt.web.program import services

    if services.evaluation_of(program.b) is None:
        evaluated(program.b, program.physician)
    response = program.client_for("therapist").post(f"{P}/therapist/patients/BOU-002/sessions/{number}/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 404, 409, 422), response.content[:300]
    rows = {r.number: r for r in ProgramSession.objects.filter(participant=program.b)}
    c = curriculum()
    held_days = []
    for n in sorted(rows):
        row = rows[n]
        assert all(rows.get(m) is not None and rows[m].status in ("held", "missed") for m in range(1, n))
        if row.status == "held":
            plan = c.session(n)
            assert set(row.steps) <= set(plan.steps) | set(plan.as_needed)
            assert 1 <= row.minutes <= 240 and row.held_on <= TODAY and row.therapist == program.therapist
            held_days.append(row.held_on)
    assert held_days == sorted(set(held_days))  # one a day, in order
    audited("programsession", len(rows))


@SETTINGS
@example(number=2, data={"scheduled_for": "2026-03-20"})
@given(number=st.integers(0, 9), data=form(scheduled_for=cell(*DAYS, "2026-03-20", "2027-03-20"),
                                             reason=st.text(max_size=20)))
def test_any_reschedule_form(program, number, data):
    from prt.web.program.models import ProgramSession

    response = program.client_for("therapist").post(
        f"{P}/therapist/patients/BOU-002/sessions/{number}/schedule/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 404, 422), response.content[:300]
    for row in ProgramSession.objects.all():
        assert row.status == "scheduled" and TODAY <= row.scheduled_for <= TODAY + timedelta(days=120)


FLAGS = ("tumour", "fracture", "infection", "inflammatory_disease", "neurological_deficit")


@SETTINGS
@given(data=form(action=cell("draft", "complete"), evaluated_on=cell(*DAYS), formulation=cell(
    "centralized", "mixed", "structural"), imaging_reviewed=cell("yes", "no"), findings_explained=cell("yes"),
    reason=cell("a reason"), **{f"flag-{f}": cell("yes", "no", "unknown") for f in FLAGS},
    **{"factor-stressful_onset": cell("yes", "no")}),
    findings=st.lists(cell("disc_bulge", "other"), max_size=3), education=st.lists(cell("pain_as_prediction"),
                                                                                   max_size=2))
def test_any_evaluation_form(program, data, findings, education):
    from prt.program import PhysicianEvaluation, evaluate
    from prt.web.program.models import Evaluation

    response = program.client_for("physician").post(f"{P}/physician/patients/BOU-002/", {
        **data, "imaging_findings": findings, "education": education})
    event(f"status {response.status_code}")
    assert response.status_code in (302, 422), response.content[:300]
    for row in Evaluation.objects.all():
        assert evaluate(PhysicianEvaluation.from_dict(row.record)).referral == row.referral
        assert not row.completed or (row.referral != "incomplete" and row.evaluated_on <= TODAY)
    audited("evaluation", Evaluation.objects.count())


@SETTINGS
@given(data=form(seed=st.one_of(cell("42"), st.text(max_size=110)), reason=cell("more recorded")))
def test_any_draw_form(program, data):
    from prt.program import verify_sample
    from prt.web.program.models import FidelityDraw

    if not program.b.program_sessions.exists():
        evaluated(program.b, program.physician)
        held(program.b, program.therapist, numbers=(1, 2, 3))
    response = program.client_for("rater").post(f"{P}/fidelity/sites/boulder/draw/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 422), response.content[:300]
    for row in FidelityDraw.objects.all():
        verify_sample(row.record)
    audited("fidelitydraw", FidelityDraw.objects.count())


ELEMENTS = ("education", "evidence", "somatic_tracking", "emotions", "positive_states", "home_practice")


@SETTINGS
@example(data={f"element-{e}": "present" for e in ELEMENTS})
@given(data=form(reason=cell("re-listened"), **{f"element-{e}": cell("present", "absent") for e in ELEMENTS}))
def test_any_rating_form(program, data):
    from prt.web.program.models import FidelityDraw, FidelityRating

    if not FidelityDraw.objects.exists():
        evaluated(program.b, program.physician)
        held(program.b, program.therapist, numbers=(1,))
        drawn(program.world.site1, program.rater)
    response = program.client_for("rater").post(f"{P}/fidelity/sessions/BOU-002/1/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 422), response.content[:300]
    for row in FidelityRating.objects.all():
        assert set(row.elements) == set(ELEMENTS) and row.score == sum(row.elements.values())
    audited("fidelityrating", FidelityRating.objects.count())


@SETTINGS
@example(data={"therapist": "THERAPIST_2", "reason": "leave"})
@given(data=form(therapist=st.one_of(cell("THERAPIST", "THERAPIST_2", "99999"), st.integers(0, 40).map(str)),
                 reason=cell("leave")))
def test_any_assignment_form(program, data):
    from prt.web.program.models import CaseloadAssignment

    names = {"THERAPIST": str(program.therapist.pk), "THERAPIST_2": str(program.therapist_2.pk)}
    data = {k: names.get(v, v) for k, v in data.items()}
    response = program.client_for("coordinator_same_site").post(f"{P}/caseload/BOU-002/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 422), response.content[:300]
    active = CaseloadAssignment.objects.filter(participant=program.b, ended_at__isnull=True)
    assert active.count() == 1
    assert active.get().therapist.memberships.filter(site=program.world.site1, role="therapist").exists()


@SETTINGS
@given(data=form(event=cell("post", "3mo", "eligibility")))
def test_any_export_form(program, data):
    from prt.web.program.models import ProgramExport

    before = ProgramExport.objects.count()
    response = program.client_for("analyst").post(f"{P}/exports/redcap.zip", data)
    event(f"status {response.status_code}")
    assert response.status_code in (200, 422), response.content[:300]
    assert ProgramExport.objects.count() - before == (response.status_code == 200)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 300) | st.floats(allow_nan=False)
                    | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=6)


def api_body(valid: dict) -> st.SearchStrategy:
    """A JSON body: the valid one with some fields changed to anything, removed, or added."""
    return st.builds(
        lambda changes, dropped, extra: {**{k: v for k, v in valid.items() if k not in dropped}, **changes, **extra},
        st.dictionaries(st.sampled_from(sorted(valid)), JSON, max_size=3),
        st.sets(st.sampled_from(sorted(valid)), max_size=2),
        st.dictionaries(st.text(max_size=6), JSON, max_size=1))


@SETTINGS
@given(body=st.one_of(api_body({"day": TODAY.isoformat(), "assignment": "tracking_practice", "minutes": 5,
                                "pain_before": 6, "pain_after": 4, "fear_before": 5, "fear_after": 3}), JSON))
def test_any_practice_body(program, body):
    from prt.web.program.models import PracticeLog

    if isinstance(body, dict) and "client_uuid" not in body:
        body["client_uuid"] = str(uuid.uuid4())
    before = PracticeLog.objects.count()
    response = program.client_for("participant_b").post("/api/program/practices", json.dumps(body),
                                                        content_type="application/json")
    event(f"status {response.status_code}")
    assert response.status_code in (200, 201, 400, 409, 422), response.content[:300]
    assert PracticeLog.objects.count() - before == (response.status_code == 201)
    check_practices()


@SETTINGS
@given(body=st.one_of(api_body({"step": "s1", "day": TODAY.isoformat(), "expected_pain": 5, "actual_pain": 3,
                                "expected_fear": 4, "actual_fear": 2}), JSON))
def test_any_attempt_body(program, body):
    from prt.program import ExposureAttempt
    from prt.web.program import services
    from prt.web.program.models import ExposureAttemptLog

    if services.hierarchy_of(program.b) is None:
        give_hierarchy(program.b)
    if isinstance(body, dict) and "client_uuid" not in body:
        body["client_uuid"] = str(uuid.uuid4())
    before = ExposureAttemptLog.objects.count()
    response = program.client_for("participant_b").post("/api/program/exposure/attempts", json.dumps(body),
                                                        content_type="application/json")
    event(f"status {response.status_code}")
    assert response.status_code in (200, 201, 400, 409, 422), response.content[:300]
    assert ExposureAttemptLog.objects.count() - before == (response.status_code == 201)
    for row in ExposureAttemptLog.objects.all():
        ExposureAttempt.from_dict(row.as_record(), services.hierarchy_of(program.b))
