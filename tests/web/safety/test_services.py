"""Adverse-event rules (safety/services.py): every validation rule, the SAE report clock, audited
changes with a reason, the site's own calendar day, and the counts per arm for the report."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone as dt_timezone

import pytest

from tests.web.safety.common import CONSENTED, SERIOUS, VALID, consent, consented  # noqa: F401 (fixture)


def _record(world, values, person=None, actor="coordinator_same_site"):
    from prt.web.safety import services

    return services.record(person or world.a, values, actor=world.users[actor])


def test_a_valid_event_is_recorded_and_audited_in_full(consented):
    from prt.web.audit.models import AuditEvent

    world = consented
    event = _record(world, VALID)
    assert (event.participant, event.onset_date, event.end_date) == (world.a, date(2026, 3, 5), None)
    assert event.ongoing
    assert (event.serious, event.sae_criteria, event.serious_since, event.report_deadline) == (False, [], None, None)
    assert event.related and not event.report_pending
    assert event.reported_by == world.users["coordinator_same_site"]
    audit = AuditEvent.objects.get(model="safety.adverseevent", object_id=str(event.pk))
    assert audit.action == "create" and audit.actor == world.users["coordinator_same_site"]
    assert audit.changes["description"] == [None, VALID["description"]]
    assert audit.changes["onset_date"] == [None, "2026-03-05"] and audit.changes["severity"] == [None, "moderate"]


def test_a_serious_event_is_due_for_report_24_hours_after_it_is_recorded(consented, clock):
    event = _record(consented, SERIOUS)
    assert event.serious_since == clock.now
    assert event.report_deadline == datetime(2026, 3, 11, 16, 0, tzinfo=dt_timezone.utc)
    assert event.report_pending


@pytest.mark.parametrize("changes, field, status", [
    ({"onset_date": CONSENTED - timedelta(days=1)}, "onset_date", 422),           # before consent
    ({"onset_date": date(2026, 3, 11)}, "onset_date", 422),                        # tomorrow at the site
    ({"onset_date": None}, "onset_date", 422),
    ({"onset_date": datetime(2026, 3, 5, 12, 0)}, "onset_date", 422),              # a datetime is not a date
    ({"end_date": date(2026, 3, 4)}, "end_date", 422),                             # before onset
    ({"end_date": date(2026, 3, 11), "outcome": "recovered"}, "end_date", 422),   # in the future
    ({"outcome": "recovered"}, "end_date", 422),                                   # closed without an end
    ({"outcome": "recovered_with_sequelae"}, "end_date", 422),
    ({"end_date": date(2026, 3, 6), "outcome": "not_recovered"}, "end_date", 422),  # ended yet ongoing
    ({"serious": True}, "sae_criteria", 422),                                      # serious without a criterion
    ({"sae_criteria": ["hospitalisation"]}, "sae_criteria", 422),                  # criterion without serious
    ({"serious": True, "sae_criteria": ["hospitalisation", "hospitalisation"]}, "sae_criteria", 422),
    ({"serious": True, "sae_criteria": ["unheard_of"]}, "sae_criteria", 422),
    ({"sae_criteria": "death"}, "sae_criteria", 422),
    ({"outcome": "fatal", "end_date": date(2026, 3, 6), "severity": "severe"}, "sae_criteria", 422),  # not serious
    ({"outcome": "fatal", "end_date": date(2026, 3, 6), "severity": "severe", "serious": True,
      "sae_criteria": ["hospitalisation"]}, "sae_criteria", 422),                  # fatal without death
    ({"serious": True, "sae_criteria": ["death"], "outcome": "recovering"}, "outcome", 422),  # death, not fatal
    ({"serious": True, "sae_criteria": ["death"], "outcome": "fatal", "end_date": date(2026, 3, 6),
      "severity": "mild"}, "severity", 422),                                       # fatal but mild
    ({"severity": "grade_5"}, "outcome", 422),                                     # grade 5 is death
    ({"sae_reported_on": date(2026, 3, 6)}, "sae_reported_on", 422),               # not serious
    ({**SERIOUS, "sae_reported_on": date(2026, 3, 4)}, "sae_reported_on", 422),    # before onset
    ({**SERIOUS, "sae_reported_on": date(2026, 3, 11)}, "sae_reported_on", 422),   # in the future
    ({"description": "   "}, "description", 422),
    ({"description": "x" * 1001}, "description", 422),
    ({"description": "bad\x07bell"}, "description", 422),
    ({"severity": "grade_6"}, "severity", 422),
    ({"relatedness": "maybe"}, "relatedness", 422),
    ({"action_taken": "dose_reduced"}, "action_taken", 422),
    ({"outcome": "gone"}, "outcome", 422),
    ({"serious": "yes"}, "serious", 422),
    ({"expected": 1}, "expected", 422),
    ({"colour": "red"}, "colour", 422),
])
def test_every_rule_refuses_naming_its_field_and_writes_nothing(consented, changes, field, status):
    from prt.web.audit.models import AuditEvent
    from prt.web.errors import Refused
    from prt.web.safety.models import AdverseEvent

    audits = AuditEvent.objects.count()
    with pytest.raises(Refused) as refused:
        _record(consented, {**VALID, **changes})
    assert (refused.value.field, refused.value.status) == (field, status)
    from prt.web.safety import vocabulary as v

    known = {*v.SEVERITIES, *v.RELATEDNESS, *v.ACTIONS, *v.OUTCOMES, *v.SAE_CRITERIA}
    for value in changes.values():  # the message never repeats what was sent (codes it lists aside)
        if isinstance(value, str) and len(value) > 3 and value not in known:
            assert value not in refused.value.message
    assert AdverseEvent.objects.count() == 0 and AuditEvent.objects.count() == audits


def test_the_rules_accept_each_consistent_combination(consented):
    """Known-good events: fatal (grade 5 or severe, death, dated), unknown outcome with or without an end,
    reported SAE, an onset on the consent day and today."""
    fatal = {**VALID, "serious": True, "sae_criteria": ["death", "hospitalisation"], "outcome": "fatal",
             "severity": "grade_5", "end_date": date(2026, 3, 9), "sae_reported_on": date(2026, 3, 10)}
    for values in (fatal, {**fatal, "severity": "severe"}, {**VALID, "outcome": "unknown"},
                   {**VALID, "outcome": "unknown", "end_date": date(2026, 3, 6)},
                   {**VALID, "onset_date": CONSENTED}, {**VALID, "onset_date": date(2026, 3, 10)},
                   {**SERIOUS, "sae_criteria": ["other_important", "life_threatening"]}):
        event = _record(consented, values)
        assert event.pk
    assert event.sae_criteria == ["life_threatening", "other_important"]  # vocabulary order


def test_no_consent_no_adverse_event(world):
    from prt.web.errors import Refused

    with pytest.raises(Refused) as refused:
        _record(world, VALID)
    assert (refused.value.field, refused.value.status) == ("participant", 409)


def test_the_future_is_judged_on_the_participant_s_own_calendar_day(consented, clock):
    """At 03:00 UTC on 11 March it is still 10 March in Denver but already 11 March in London."""
    from prt.web.errors import Refused

    clock.now = datetime(2026, 3, 11, 3, 0, tzinfo=dt_timezone.utc)
    tomorrow_in_denver = {**VALID, "onset_date": date(2026, 3, 11)}
    assert _record(consented, tomorrow_in_denver, person=consented.c, actor="coordinator_other_site").pk
    with pytest.raises(Refused) as refused:
        _record(consented, tomorrow_in_denver)
    assert refused.value.field == "onset_date"


def test_a_change_needs_a_reason_and_is_audited_old_to_new(consented, clock):
    from prt.web.audit.models import AuditEvent
    from prt.web.errors import Refused
    from prt.web.safety import services

    event = _record(consented, VALID)
    actor = consented.users["coordinator_same_site"]
    for reason in ("", "   ", None, "x" * 1001):
        with pytest.raises(Refused) as refused:
            services.change(event, {"severity": "severe"}, reason=reason, actor=actor)
        assert refused.value.field == "reason"
    clock.advance(hours=2)
    result = services.change(event, {"severity": "severe", "end_date": date(2026, 3, 9), "outcome": "recovered"},
                             reason="source document review", actor=actor)
    assert result.outcome == "changed"
    event.refresh_from_db()
    assert (event.severity, event.outcome, event.updated_at) == ("severe", "recovered", clock.now)
    update = AuditEvent.objects.get(model="safety.adverseevent", object_id=str(event.pk), action="update")
    assert update.reason == "source document review" and update.actor == actor
    assert update.changes == {"severity": ["moderate", "severe"], "end_date": [None, "2026-03-09"],
                              "outcome": ["recovering", "recovered"]}


def test_a_change_that_changes_nothing_writes_nothing(consented):
    from prt.web.audit.models import AuditEvent
    from prt.web.safety import services

    event = _record(consented, VALID)
    before = AuditEvent.objects.count()
    result = services.change(event, {"severity": "moderate", "description": VALID["description"] + "  "},
                             reason="re-read", actor=None)
    assert result.outcome == "unchanged" and AuditEvent.objects.count() == before


def test_a_change_is_checked_whole_and_refused_whole(consented):
    from prt.web.errors import Refused
    from prt.web.safety import services

    event = _record(consented, VALID)
    with pytest.raises(Refused) as refused:
        services.change(event, {"outcome": "recovered"}, reason="closing it", actor=None)  # no end date
    assert refused.value.field == "end_date"
    with pytest.raises(Refused) as refused:
        services.change(event, {"reported_by": 1}, reason="who", actor=None)
    assert refused.value.field == "reported_by"
    event.refresh_from_db()
    assert event.outcome == "recovering"


def test_becoming_serious_starts_the_report_clock_and_the_report_day_stops_the_flag(consented, clock):
    from prt.web.safety import services

    event = _record(consented, VALID)
    clock.advance(hours=5)
    services.change(event, {"serious": True, "sae_criteria": ["hospitalisation"]}, reason="admitted", actor=None)
    event.refresh_from_db()
    assert event.serious_since == clock.now and event.report_deadline == clock.now + timedelta(hours=24)
    assert event.report_pending
    services.change(event, {"sae_reported_on": date(2026, 3, 10)}, reason="SAE form sent", actor=None)
    event.refresh_from_db()
    assert not event.report_pending and event.serious_since is not None
    services.change(event, {"serious": False, "sae_criteria": [], "sae_reported_on": None},
                    reason="not serious after review", actor=None)
    event.refresh_from_db()
    assert (event.serious_since, event.report_deadline, event.report_pending) == (None, None, False)


def test_an_edit_started_from_an_older_version_is_refused(consented, clock):
    from prt.web.errors import Refused
    from prt.web.safety import services

    event = _record(consented, VALID)
    opened = event.updated_at
    clock.advance(minutes=1)
    services.change(event, {"severity": "mild"}, reason="first editor", actor=None, version=opened)
    with pytest.raises(Refused) as refused:
        services.change(event, {"severity": "severe"}, reason="second editor", actor=None, version=opened)
    assert (refused.value.field, refused.value.status) == ("version", 409)
    event.refresh_from_db()
    assert event.severity == "mild"


def test_database_constraints_hold_without_the_services(consented):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from prt.web.safety.models import AdverseEvent

    base = {**VALID, "participant": consented.a, "reported_at": timezone.now(), "updated_at": timezone.now()}
    for bad in ({"end_date": date(2026, 3, 1)}, {"severity": "grade_9"}, {"outcome": "fatal"},
                {"sae_reported_on": date(2026, 3, 9)}, {"relatedness": "?"}, {"action_taken": "?"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            AdverseEvent.objects.create(**{**base, **bad})


def test_counts_per_arm_for_the_report(consented, fast_hashing):
    from prt.web.participants.models import Participant
    from prt.web.safety.report import COLUMNS, counts_by_arm

    world = consented
    placebo = Participant.objects.create(study_id="BOU-003", site=world.site1, status="randomized", arm="placebo")
    consent(placebo)
    _record(world, VALID, person=world.b)                                   # prt: related (possible)
    _record(world, {**SERIOUS, "relatedness": "definite"}, person=world.b)  # prt: serious, related
    _record(world, {**VALID, "relatedness": "unlikely"}, person=placebo)    # placebo: not related
    _record(world, VALID)                                                   # BOU-001 not randomized: no arm
    frame = counts_by_arm()
    assert list(frame.index) == ["prt", "placebo", "usual_care"] and list(frame.columns) == list(COLUMNS)
    assert frame.loc["prt"].tolist() == [2, 1, 2, 1, 1, 1, 1]
    assert frame.loc["placebo"].tolist() == [1, 0, 0, 0, 1, 0, 0]
    assert frame.loc["usual_care"].tolist() == [0] * 7
    assert counts_by_arm([world.site2.pk]).to_numpy().sum() == 0
    assert frame.to_numpy().dtype.kind == "i"
