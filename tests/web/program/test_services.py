"""The program's rules on the platform (prt/web/program/services.py), with known answers: the
evaluation gate, sessions in order, the calendar from the trial's schedule, practice and attempts
(idempotent, dated), the evidence sheet, the caseload, the raters' sample and ratings, the export;
every write audited in its transaction."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date, timedelta

import pytest

from prt.web.errors import Refused
from tests.web.program.common import BLOCKED, REFER, TODAY, drawn, evaluated, give_hierarchy, held


def events(model: str, action: str | None = None):
    from prt.web.audit.models import AuditEvent

    found = AuditEvent.objects.filter(model=f"program.{model}")
    return list(found.filter(action=action) if action else found)


# ------------------------------------------------------------------------------------ the evaluation gate
def test_no_session_is_recorded_before_a_completed_evaluation_that_refers(program):
    from prt.web.program import services

    values = {"outcome": "held", "held_on": TODAY, "minutes": 60, "steps": [], "assignments": [], "notes": "",
              "recorded": False}
    with pytest.raises(Refused) as refused:
        services.record_session(program.b, 1, values, actor=program.therapist)
    assert (refused.value.field, refused.value.status) == ("session", 409)
    assert "not completed" in refused.value.message
    services.save_evaluation(program.b, REFER, physician=program.physician)  # a draft is not enough
    with pytest.raises(Refused):
        services.record_session(program.b, 1, values, actor=program.therapist)
    evaluated(program.b, program.physician, BLOCKED)
    with pytest.raises(Refused) as refused:
        services.record_session(program.b, 1, values, actor=program.therapist)
    assert "red flag" in refused.value.message
    assert events("programsession") == []


def test_a_referral_opens_the_sessions_and_a_red_flag_found_later_closes_them(program):
    from prt.web.program import services

    row = evaluated(program.b, program.physician)
    assert (row.referral, row.evaluated_on, row.completed) == ("refer", TODAY - timedelta(days=8), True)
    assert services.sessions_open(program.b) == (True, "")
    held(program.b, program.therapist, numbers=(1,))
    with pytest.raises(Refused) as refused:  # a change of a completed evaluation needs a reason
        services.save_evaluation(program.b, BLOCKED, physician=program.physician)
    assert refused.value.field == "reason"
    services.save_evaluation(program.b, BLOCKED, physician=program.physician, reason="MRI showed a fracture")
    assert services.sessions_open(program.b)[0] is False
    update = events("evaluation", "update")[-1]
    assert update.reason == "MRI showed a fracture" and update.changes["referral"] == ["refer", "blocked"]


def test_completing_an_evaluation_needs_every_red_flag_assessed_and_a_formulation(program):
    from prt.web.program import services

    with pytest.raises(Refused) as refused:
        services.save_evaluation(program.b, {"formulation": "centralized"}, physician=program.physician,
                                 complete=True, evaluated_on=TODAY)
    assert refused.value.field == "red_flags" and "not yet assessed: Tumour, Fracture" in refused.value.message
    with pytest.raises(Refused) as refused:
        services.save_evaluation(program.b, {**REFER, "formulation": None}, physician=program.physician,
                                 complete=True, evaluated_on=TODAY)
    assert refused.value.field == "formulation"
    with pytest.raises(Refused) as refused:
        services.save_evaluation(program.b, REFER, physician=program.physician, complete=True)
    assert refused.value.field == "evaluated_on"
    with pytest.raises(Refused) as refused:
        services.save_evaluation(program.b, REFER, physician=program.physician, complete=True,
                                 evaluated_on=TODAY + timedelta(days=1))
    assert refused.value.field == "evaluated_on" and "future" in refused.value.message
    with pytest.raises(Refused) as refused:  # prt.program's own check, its key named
        services.save_evaluation(program.b, {"red_flags": {"tumour": "no"}}, physician=program.physician)
    assert refused.value.field == "red_flags.tumour"
    assert events("evaluation") == []


def test_a_draft_is_saved_and_updated_with_the_program_s_reason_then_completed(program):
    from prt.web.program import services

    services.save_evaluation(program.b, {"red_flags": {"tumour": False}}, physician=program.physician)
    services.save_evaluation(program.b, {"red_flags": {"tumour": False}}, physician=program.physician)  # same
    services.save_evaluation(program.b, {"red_flags": {"tumour": False, "fracture": False}},
                             physician=program.physician)
    services.save_evaluation(program.b, REFER, physician=program.physician, complete=True, evaluated_on=TODAY)
    assert [(e.action, e.reason) for e in events("evaluation")] == [
        ("create", ""), ("update", services.DRAFT_REASON), ("update", services.COMPLETED_REASON)]


def test_the_evaluation_is_only_for_the_prt_arm(program):
    from prt.web.program import services

    with pytest.raises(Refused) as refused:
        services.save_evaluation(program.placebo, REFER, physician=program.physician)
    assert refused.value.status == 409


# ------------------------------------------------------------------------------------ sessions
def test_sessions_are_recorded_in_order_on_their_own_days(program):
    from prt.web.program import services

    evaluated(program.b, program.physician)  # on 2 March
    base = {"outcome": "held", "minutes": 60, "steps": ["pain_is_reversible"], "assignments": [], "notes": "",
            "recorded": True}
    with pytest.raises(Refused) as refused:
        services.record_session(program.b, 2, {**base, "held_on": TODAY}, actor=program.therapist)
    assert refused.value.message.startswith("record session 1 first")
    for day, field, words in ((TODAY + timedelta(days=1), "held_on", "future"),
                              (date(2026, 3, 1), "held_on", "before the physician evaluation")):
        with pytest.raises(Refused) as refused:
            services.record_session(program.b, 1, {**base, "steps": [], "held_on": day}, actor=program.therapist)
        assert refused.value.field == field and words in refused.value.message
    held(program.b, program.therapist, numbers=(1,), start=date(2026, 3, 4))
    with pytest.raises(Refused) as refused:
        services.record_session(program.b, 2, {**base, "held_on": date(2026, 3, 4)}, actor=program.therapist)
    assert "earlier session" in refused.value.message
    with pytest.raises(Refused) as refused:
        services.record_session(program.b, 2, {**base, "steps": ["savouring"], "held_on": TODAY},
                                actor=program.therapist)
    assert refused.value.field == "steps"  # not a step of session 2's plan
    row = services.record_session(program.b, 2, {"outcome": "missed"}, actor=program.therapist)
    assert (row.status, row.held_on, row.therapist) == ("missed", None, None)
    row = services.record_session(program.b, 3, {**base, "steps": ["tracking_safety"], "held_on": TODAY},
                                  actor=program.therapist)
    assert (row.status, row.steps, row.therapist, row.curriculum) == ("held", ["tracking_safety"], program.therapist,
                                                                       "prt@1")


def test_a_correction_of_a_recorded_session_needs_a_reason_and_keeps_who_held_it(program):
    from prt.web.program import services

    evaluated(program.b, program.physician)
    (row,) = held(program.b, program.therapist, numbers=(1,))
    values = {"outcome": "held", "held_on": row.held_on, "minutes": 50, "steps": row.steps,
              "assignments": row.assignments, "notes": row.notes, "recorded": True}
    with pytest.raises(Refused) as refused:
        services.record_session(program.b, 1, values, actor=program.therapist_2)
    assert refused.value.field == "reason"
    services.record_session(program.b, 1, values, actor=program.therapist_2, reason="the recording shows 50 min")
    row.refresh_from_db()
    assert (row.minutes, row.therapist) == (50, program.therapist)
    update = events("programsession", "update")[-1]
    assert update.changes == {"minutes": [60, 50]}  # the clock is fixed: updated_at is the same instant
    assert update.reason == "the recording shows 50 min"
    assert services.record_session(program.b, 1, values, actor=program.therapist) == row  # unchanged: nothing
    assert len(events("programsession")) == 2


def test_the_calendar_plans_twice_weekly_from_the_evaluation_and_takes_the_therapist_s_dates(program):
    """prt.trial.schedule: sessions 2, 5, 9, 12, 16, 19, 23, 26 days after the evaluation (2 March)."""
    from prt.web.program import services

    evaluated(program.b, program.physician, on=date(2026, 3, 2))
    slots = services.calendar(program.b, TODAY)
    assert [s.planned.day for s in slots] == [4, 7, 11, 14, 18, 21, 25, 28]
    assert {s.state for s in slots} == {"planned"}
    held(program.b, program.therapist, numbers=(1,), start=date(2026, 3, 5))  # a day late
    services.reschedule(program.b, 3, date(2026, 3, 12), actor=program.therapist)
    slots = services.calendar(program.b, TODAY)
    assert (slots[0].state, slots[0].when) == ("held", date(2026, 3, 5))
    assert slots[1].planned == date(2026, 3, 7)  # anchored on the evaluation, not on session 1
    assert (slots[2].state, slots[2].when, slots[2].planned) == ("scheduled", date(2026, 3, 12), date(2026, 3, 11))
    assert events("programsession", "create")[-1].reason == ""


def test_rescheduling_rules(program):
    from prt.web.program import services

    for day, field in ((TODAY - timedelta(days=1), "scheduled_for"), (TODAY + timedelta(days=121), "scheduled_for"),
                       ("2026-03-12", "scheduled_for")):
        with pytest.raises(Refused) as refused:
            services.reschedule(program.b, 2, day, actor=program.therapist)
        assert refused.value.field == field
    with pytest.raises(Refused) as refused:
        services.reschedule(program.b, 9, TODAY, actor=program.therapist)
    assert refused.value.status == 404
    services.reschedule(program.b, 2, TODAY, actor=program.therapist)
    services.reschedule(program.b, 2, TODAY + timedelta(days=2), actor=program.therapist)
    assert [e.reason for e in events("programsession")] == ["", services.RESCHEDULE_REASON]
    evaluated(program.b, program.physician)
    held(program.b, program.therapist, numbers=(1, 2), start=TODAY - timedelta(days=1))
    with pytest.raises(Refused) as refused:
        services.reschedule(program.b, 2, TODAY + timedelta(days=3), actor=program.therapist)
    assert refused.value.status == 409


# ------------------------------------------------------------------------------------ the participant's records
def test_a_practice_is_validated_by_prt_program_dated_and_idempotent(program):
    from prt.web.program import services
    from prt.web.program.models import PracticeLog

    key = uuid.uuid4()
    with pytest.raises(Refused) as refused:  # somatic tracking needs all four ratings
        services.log_practice(program.b, {"day": TODAY.isoformat(), "assignment": "tracking_practice", "minutes": 5},
                              client_uuid=key, actor=program.b.user)
    assert (refused.value.field, refused.value.status) == ("pain_before", 422)
    data = {"day": TODAY.isoformat(), "assignment": "tracking_practice", "minutes": 5, "pain_before": 6,
            "pain_after": 4, "fear_before": 5, "fear_after": 2, "setting": "seated"}
    first = services.log_practice(program.b, data, client_uuid=key, actor=program.b.user)
    again = services.log_practice(program.b, {**data, "minutes": 9}, client_uuid=str(key), actor=program.b.user)
    assert (first.outcome, again.outcome, again.row.pk, again.row.minutes) == ("created", "replayed", first.row.pk, 5)
    with pytest.raises(Refused) as refused:
        services.log_practice(program.other_prt, data, client_uuid=key, actor=program.other_prt.user)
    assert (refused.value.field, refused.value.status) == ("client_uuid", 409)
    for day in (TODAY + timedelta(days=1), TODAY - timedelta(days=8)):
        with pytest.raises(Refused) as refused:
            services.log_practice(program.b, {**data, "day": day.isoformat()}, client_uuid=uuid.uuid4(),
                                  actor=program.b.user)
        assert refused.value.field == "day"
    services.log_practice(program.b, {**data, "day": (TODAY - timedelta(days=7)).isoformat()},
                          client_uuid=uuid.uuid4(), actor=program.b.user)
    assert PracticeLog.objects.count() == 2 and len(events("practicelog", "create")) == 2
    summary = services.progress(program.b).practice
    assert (summary.practices, summary.minutes, summary.days, summary.mean_pain_change) == (2, 10, 2, -2.0)


def test_records_are_taken_only_while_randomized_to_prt(program):
    from prt.web.program import services

    program.b.status = "completed"
    program.b.save()
    with pytest.raises(Refused) as refused:
        services.save_evidence(program.b, {"triggers": ["meetings"]}, actor=program.b.user)
    assert refused.value.status == 403


def test_the_evidence_sheet_is_audited_and_its_strength_is_prt_program_s(program):
    from prt.web.program import services

    sheet = services.save_evidence(program.b, {"inconsistency": ["eases on holiday", " "],
                                               "triggers": ["worse before meetings", "worse in the car"]},
                                   actor=program.b.user)
    assert sheet.to_dict()["inconsistency"] == ["eases on holiday"]
    services.save_evidence(program.b, sheet.to_dict(), actor=program.b.user)  # unchanged: nothing written
    services.save_evidence(program.b, {**sheet.to_dict(), "many_symptoms": ["headaches"]}, actor=program.b.user)
    assert [(e.action, e.reason) for e in events("evidencesheet")] == [("create", ""),
                                                                      ("update", services.EVIDENCE_REASON)]
    assert services.progress(program.b).evidence.strength == "strong"  # 3 kinds: the band 3-4
    with pytest.raises(Refused) as refused:
        services.save_evidence(program.b, {"triggers": ["x" * 501]}, actor=program.b.user)
    assert refused.value.field == "triggers[0]"


def test_the_hierarchy_keeps_steps_with_attempts_and_the_next_step_follows_prt_program(program):
    from prt.web.program import services

    give_hierarchy(program.b)
    progress = services.exposure(program.b)[2]
    assert (progress.suggestion, progress.step) == ("start", "s1")
    for day in (TODAY - timedelta(days=2), TODAY - timedelta(days=1)):
        services.log_attempt(program.b, {"step": "s1", "day": day.isoformat(), "expected_pain": 5, "actual_pain": 3,
                                         "expected_fear": 5, "actual_fear": 1}, client_uuid=uuid.uuid4(),
                             actor=program.b.user)
    hierarchy, attempts, progress = services.exposure(program.b)
    assert (progress.suggestion, progress.step, progress.mastered, len(attempts)) == ("advance", "s2", 1, 2)
    with pytest.raises(Refused) as refused:
        services.save_hierarchy(program.b, {"steps": [{"id": "s2", "movement": "bending", "fear": 6}]},
                                actor=program.b.user)
    assert (refused.value.field, refused.value.status) == ("steps", 409)
    services.log_attempt(program.b, {"step": "s2", "day": TODAY.isoformat(), "expected_pain": 7, "actual_pain": 8,
                                     "expected_fear": 7, "actual_fear": 6}, client_uuid=uuid.uuid4(),
                         actor=program.b.user)
    progress = services.exposure(program.b)[2]
    assert (progress.suggestion, progress.step) == ("hold_off", "s1")  # pain 8: hold off, s1 meanwhile
    with pytest.raises(Refused) as refused:
        services.log_attempt(program.b, {"step": "s9", "day": TODAY.isoformat(), "expected_pain": 1,
                                         "actual_pain": 1, "expected_fear": 1, "actual_fear": 1},
                             client_uuid=uuid.uuid4(), actor=program.b.user)
    assert refused.value.field == "step"


def test_an_attempt_needs_a_hierarchy(program):
    from prt.web.program import services

    with pytest.raises(Refused) as refused:
        services.log_attempt(program.b, {"step": "s1"}, client_uuid=uuid.uuid4(), actor=program.b.user)
    assert refused.value.status == 409


# ------------------------------------------------------------------------------------ caseloads
def test_a_change_of_therapist_needs_a_reason_and_keeps_the_history(program):
    from prt.web.program import services
    from prt.web.program.models import CaseloadAssignment

    assert services.assign_therapist(program.b, program.therapist, actor=program.coordinator).outcome == "unchanged"
    with pytest.raises(Refused) as refused:
        services.assign_therapist(program.b, program.therapist_2, actor=program.coordinator)
    assert refused.value.field == "reason"
    result = services.assign_therapist(program.b, program.therapist_2, actor=program.coordinator,
                                       reason="therapist on leave")
    assert result.outcome == "reassigned" and services.current_therapist(program.b) == program.therapist_2
    rows = CaseloadAssignment.objects.filter(participant=program.b).order_by("assigned_at", "pk")
    assert [(r.therapist.username, r.ended_reason) for r in rows] == [("therapist", "therapist on leave"),
                                                                      ("therapist_2", "")]
    with pytest.raises(Refused) as refused:  # a therapist of another site
        services.assign_therapist(program.b, program.therapist_other_site, actor=program.coordinator, reason="x")
    assert refused.value.field == "therapist"
    with pytest.raises(Refused):
        services.assign_therapist(program.placebo, program.therapist, actor=program.coordinator)


# ------------------------------------------------------------------------------------ fidelity
def test_the_sample_is_drawn_from_recorded_sessions_logged_and_verifies(program):
    from prt.program import fidelity_sample
    from prt.web.program import services

    with pytest.raises(Refused) as refused:
        drawn(program.world.site1, program.rater)
    assert refused.value.status == 409
    evaluated(program.b, program.physician)
    evaluated(program.other_prt, program.physician)
    held(program.b, program.therapist, numbers=(1, 2, 3))
    held(program.other_prt, program.therapist_2, numbers=(1, 2), recorded=False)  # no audio: not eligible
    draw = drawn(program.world.site1, program.rater, seed="2026")
    expected = fidelity_sample({"BOU-002": [1, 2, 3]}, 2026)  # a seed of digits is kept as a number
    assert draw.record == expected.to_dict() and len(draw.sample) == 2
    assert draw.sample == [tuple(x) for x in expected.sessions]
    assert services.verify_draw(draw)[0] is True
    create = events("fidelitydraw", "create")[0]
    assert create.changes["record"][1]["seed"] == 2026 and create.actor == program.rater
    with pytest.raises(Refused) as refused:
        drawn(program.world.site1, program.rater)
    assert refused.value.field == "reason"
    second = services.draw_sample(program.world.site1, seed=None, actor=program.rater, reason="more recorded")
    assert second.seed.isdigit() and second.reason == "more recorded"
    with pytest.raises(Exception):
        draw.save()
    with pytest.raises(Exception):
        draw.delete()
    altered = {**draw.record, "sessions": [["BOU-002", 3], ["BOU-002", 1]]}
    draw.record = altered
    assert services.verify_draw(draw)[0] is False


def test_ratings_are_validated_scored_and_summarised_beside_the_trial(program):
    from prt.web.program import services

    evaluated(program.b, program.physician)
    sessions = held(program.b, program.therapist, numbers=(1, 2))
    draw = drawn(program.world.site1, program.rater)
    all_present = {e: True for e in ("education", "evidence", "somatic_tracking", "emotions", "positive_states",
                                     "home_practice")}
    with pytest.raises(Refused) as refused:
        services.rate_session(sessions[0], draw, {**all_present, "emotions": None}, rater=program.rater)
    assert refused.value.field == "elements.emotions"
    services.rate_session(sessions[0], draw, {**all_present, "emotions": False}, rater=program.rater)  # 5
    services.rate_session(sessions[1], draw, {**all_present, "emotions": False, "positive_states": False,
                                              "evidence": False}, rater=program.rater)  # 3
    summary, names = services.fidelity_report([program.world.site1.pk])
    assert (summary.overall.sessions, summary.overall.mean, round(summary.overall.sd, 4)) == (2, 4.0, 1.4142)
    assert names == {f"T{program.therapist.pk}": "therapist"}
    assert summary.reference.mean == 4.93 and summary.overall.below_minimum == 0
    with pytest.raises(Refused) as refused:
        services.rate_session(sessions[1], draw, all_present, rater=program.rater)
    assert refused.value.field == "reason"
    services.rate_session(sessions[1], draw, all_present, rater=program.rater, reason="re-listened to the audio")
    summary, _ = services.fidelity_report([program.world.site1.pk])
    assert summary.overall.mean == 5.5
    assert [e.action for e in events("fidelityrating")] == ["create", "create", "update"]


# ------------------------------------------------------------------------------------ the export
def test_the_export_is_prt_program_s_redcap_layout_logged_and_audited(program):
    from prt.web.program import services
    from prt.web.program.models import ProgramExport

    evaluated(program.b, program.physician)
    sessions = held(program.b, program.therapist, numbers=(1, 2))
    draw = drawn(program.world.site1, program.rater)
    services.rate_session(sessions[0], draw, {e: True for e in ("education", "evidence", "somatic_tracking",
                                                                "emotions", "positive_states", "home_practice")},
                          rater=program.rater)
    data, row = services.export_zip([program.world.site1], user=program.users["analyst"], event="post")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        records = archive.read("records.csv").decode("utf-8")
    assert names == ["data_dictionary.csv", "instrument_event_mapping.csv", "records.csv", "repeating_forms.csv"]
    lines = records.splitlines()
    header = lines[0].split(",")
    bou2 = dict(zip(header, next(line for line in lines[1:] if line.startswith("BOU-002,t2_arm_1,,")).split(",")))
    assert (bou2["prt_sessions_n"], bou2["prt_eval_referral"], bou2["prt_fid_n"]) == ("2", "1", "1")
    assert "zebra" not in records  # no free text
    assert {line.split(",")[0] for line in lines[1:]} == {"BOU-002", "BOU-005"}  # the PRT arm of Boulder
    assert (row.participants, row.ratings, row.event) == (2, 1, "post") and ProgramExport.objects.count() == 1
    assert events("programexport", "create")[0].changes["sha256"][1] == row.sha256
    with pytest.raises(Exception):
        row.save()
