"""Screening, consent, enrolment and withdrawal: the rules, their refusals and their audit events."""

from __future__ import annotations

from datetime import date

import pytest

from prt.trial import load_rules, screen
from tests.web.enrolment.common import ELIGIBLE, TODAY


def _events(model):
    from prt.web.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(model=model))


def test_the_form_asks_every_field_of_the_rules_and_the_factors():
    from prt.trial import TRIAL_CONFIG
    from prt.web.enrolment import services

    names = [q.name for q in services.questions()]
    assert set(load_rules().fields) <= set(names)
    assert {f.source_field for f in TRIAL_CONFIG.factors} <= set(names)
    kinds = {q.name: q for q in services.questions()}
    assert (kinds["pain_avg_week"].kind, kinds["pain_avg_week"].min, kinds["pain_avg_week"].max) == ("number", 0, 10)
    assert (kinds["age"].min, kinds["age"].max) == (0, 120)
    assert kinds["mri_safe"].kind == "yes_no"
    assert kinds["sex"].choices == ("female", "male")


def test_an_eligible_screening_is_stored_with_the_rule_set_and_the_factor_answers(world):
    from prt.web.enrolment import services

    coordinator = world.users["coordinator_same_site"]
    screening = services.screen_person(world.site1, " BOU-100 ", ELIGIBLE, coordinator)
    person = screening.participant
    assert (person.study_id, person.site, person.status, person.arm) == ("BOU-100", world.site1, "screened", "")
    assert screening.status == "eligible" and screening.reasons == [] and screening.missing == []
    assert screening.rule_set == "boulder-back-pain-study@1"
    assert screening.factor_answers == {"age": 45, "sex": "female", "pain_avg_week": 6, "opioid": "no"}
    assert screening.screened_by == coordinator
    # the same verdict as prt.trial.screen on the same answers
    assert screen("BOU-100", screening.answers).status == "eligible"
    assert [e.action for e in _events("enrolment.screening")] == ["create"]
    assert [e.actor for e in _events("participants.participant")] == [coordinator]


def test_every_failed_reason_is_kept_and_labelled(world):
    from prt.web.enrolment import services

    answers = {**ELIGIBLE, "age": "19", "pain_avg_week": "2", "leg_pain_intensity": "8"}
    screening = services.screen_person(world.site1, "BOU-101", answers, None)
    assert screening.status == "ineligible" and screening.participant.status == "ineligible"
    assert screening.reasons == ["age_out_of_range", "pain_intensity_below_4", "leg_pain_not_exceeded"]
    labels = services.reason_labels(screening.reasons)
    assert labels[0] == {"code": "age_out_of_range", "label": "aged 21 to 70 years"}
    assert labels[2]["label"] == "back pain worse than leg pain"
    assert screening.factor_answers == {}  # only an eligible screening keeps the factors


def test_a_blank_answer_makes_the_screening_incomplete_never_ineligible(world):
    from prt.web.enrolment import services

    screening = services.screen_person(world.site1, "BOU-102", {**ELIGIBLE, "mri_safe": ""}, None)
    assert (screening.status, screening.missing, screening.participant.status) == ("incomplete", ["mri_safe"],
                                                                                     "screened")


@pytest.mark.parametrize("field, value, message", [
    ("pain_avg_week", "11", "outside the declared range 0-10 (bpi_sf average_pain, instrument definition)"),
    ("age", "121", "outside the declared range 0-120 (plausible age in years)"),
    ("age", "4_5", "expected a number written with digits (e.g. 45 or 4.5)"),
    ("age", "1e1", "expected a number written with digits (e.g. 45 or 4.5)"),
    ("mri_safe", "maybe", "expected yes or no"),
    ("sex", "other", "expected one of female, male"),
    ("favourite_colour", "blue", "unknown field"),
])
def test_answers_outside_their_declared_values_are_refused_naming_the_field(world, field, value, message):
    from prt.web.enrolment import services
    from prt.web.enrolment.models import Screening
    from prt.web.errors import Refused
    from prt.web.participants.models import Participant

    with pytest.raises(Refused) as refused:
        services.screen_person(world.site1, "BOU-103", {**ELIGIBLE, field: value}, None)
    assert refused.value.field == f"answers.{field}"
    assert refused.value.message.startswith(message)
    assert value not in str(refused.value)  # the field is named, the answer never repeated
    assert not Participant.objects.filter(study_id="BOU-103").exists() and not Screening.objects.exists()


@pytest.mark.parametrize("study_id", ["", "  ", "Jane Doe", "a/b", "x" * 33, None, 12])
def test_a_study_id_must_be_a_pseudonym(world, study_id):
    from prt.web.enrolment import services
    from prt.web.errors import Refused

    with pytest.raises(Refused) as refused:
        services.screen_person(world.site1, study_id, ELIGIBLE, None)
    assert refused.value.field == "study_id"


def test_screening_again_before_enrolment_adds_a_screening_and_audits_the_status_change(world):
    from prt.web.enrolment import services

    services.screen_person(world.site1, "BOU-104", {**ELIGIBLE, "age": "19"}, None)
    second = services.screen_person(world.site1, "BOU-104", ELIGIBLE, None)
    assert second.participant.status == "screened" and second.participant.screenings.count() == 2
    assert services.latest_screening(second.participant) == second
    update = [e for e in _events("participants.participant") if e.action == "update"]
    assert update[0].changes == {"status": ["ineligible", "screened"]} and update[0].reason == "screened again: eligible"


def test_an_id_of_another_site_or_of_an_enrolled_person_is_not_screened(world):
    from prt.web.enrolment import services
    from prt.web.errors import Refused

    with pytest.raises(Refused) as other_site:
        services.screen_person(world.site1, "LON-001", ELIGIBLE, None)
    with pytest.raises(Refused) as enrolled:
        services.screen_person(world.site1, "BOU-001", ELIGIBLE, None)
    assert other_site.value.status == enrolled.value.status == 409


def test_consent_then_enrolment_each_audited_and_a_correction_needs_a_reason(world, clock):
    from prt.web.enrolment import services
    from prt.web.errors import Refused

    coordinator = world.users["coordinator_same_site"]
    person = services.screen_person(world.site1, "BOU-105", ELIGIBLE, coordinator).participant
    with pytest.raises(Refused, match="consent"):
        services.enrol(person, actor=coordinator)
    with pytest.raises(Refused) as future:
        services.record_consent(person, form_version="v2", consent_date=date(2026, 3, 11), actor=coordinator)
    assert future.value.field == "consent_date"
    with pytest.raises(Refused) as blank:
        services.record_consent(person, form_version=" ", consent_date=TODAY, actor=coordinator)
    assert blank.value.field == "form_version"
    consent = services.record_consent(person, form_version="v2", consent_date=TODAY, actor=coordinator)
    assert (consent.form_version, consent.consent_date, consent.recorded_by) == ("v2", TODAY, coordinator)
    with pytest.raises(Refused) as no_reason:
        services.record_consent(person, form_version="v3", consent_date=TODAY, actor=coordinator)
    assert no_reason.value.field == "reason"
    services.record_consent(person, form_version="v3", consent_date=TODAY, actor=coordinator,
                            reason="wrong version typed")
    events = _events("enrolment.consent")
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].changes["form_version"] == ["v2", "v3"] and events[1].reason == "wrong version typed"
    person = services.enrol(person, actor=coordinator)
    assert person.status == "enrolled"
    assert _events("participants.participant")[-1].reason == services.ENROL_REASON
    with pytest.raises(Refused):
        services.enrol(person, actor=coordinator)


def test_an_ineligible_person_is_neither_consented_nor_enrolled(world):
    from prt.web.enrolment import services
    from prt.web.errors import Refused

    person = services.screen_person(world.site1, "BOU-106", {**ELIGIBLE, "mri_safe": "no"}, None).participant
    with pytest.raises(Refused):
        services.record_consent(person, form_version="v2", consent_date=TODAY, actor=None)
    with pytest.raises(Refused):
        services.enrol(person, actor=None)


def test_withdrawal_keeps_date_reason_previous_status_and_arm(world):
    from prt.web.enrolment import services
    from prt.web.errors import Refused

    with pytest.raises(Refused) as no_reason:
        services.withdraw(world.b, withdrawal_date=TODAY, reason="  ", actor=None)
    assert no_reason.value.field == "reason"
    withdrawal = services.withdraw(world.b, withdrawal_date=TODAY, reason="moved away", actor=None)
    world.b.refresh_from_db()
    assert (world.b.status, world.b.arm) == ("withdrawn", "prt")
    assert (withdrawal.previous_status, withdrawal.reason) == ("randomized", "moved away")
    assert _events("participants.participant")[-1].reason == "withdrawn: moved away"
    with pytest.raises(Refused):
        services.withdraw(world.b, withdrawal_date=TODAY, reason="again", actor=None)
