"""The program's rules on the platform: every write checked by ``prt.program`` and audited.

What is checked where: each record is validated by its ``prt.program`` type (``Practice``,
``EvidenceSheet``, ``Hierarchy``, ``ExposureAttempt``, ``PhysicianEvaluation``,
``SessionRating``: docs/program.md, "The records") and their ``InputError`` becomes
:class:`prt.web.errors.Refused` naming the key; the results (referral, exposure suggestion,
practice and evidence summaries, fidelity statistics, the raters' sample) are ``prt.program``'s
functions, never recomputed here. What this module adds is the platform's own rules:

- **sessions are gated by the physician evaluation** (issue 14: "its outcome gates the PRT
  sessions"): no session is held (or missed) before a completed evaluation whose referral is
  ``refer`` (a red flag blocks it: :func:`prt.program.evaluate`);
- sessions are recorded in order (every earlier one held or missed), each held on its own day
  after the evaluation and the previous session, never in the future; the planned dates are the
  trial's schedule (``prt.trial.schedule``: the evaluation 3 days after randomization, then
  sessions twice weekly), anchored on the evaluation's and sessions' real dates;
- a participant's own records (practice, evidence, hierarchy, attempts) are written while they
  are randomized to PRT; practice and attempts are logged for a day from a week ago to today at
  their site (prt's rule: a log written later is recall, not a log);
- changing a held session, a completed evaluation, a rating or a caseload needs a reason
  (ICH E6(R3) 4.2; 21 CFR 11.10(e)); every create and change is an audit event in the same
  transaction; a change that changes nothing writes nothing;
- the raters' sample is drawn by :func:`prt.program.fidelity_sample` from the site's held,
  recorded sessions, and its record (seed, inputs, their SHA-256, the sample) is logged with who
  drew it and when; a second draw at a site needs a reason, and both stay.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from prt.errors import InputError
from prt.program import (EvidenceSheet, ExposureAttempt, Hierarchy, PhysicianEvaluation, Practice, SessionRating,
                         evaluate, exposure_progress, fidelity_sample, fidelity_summary, summarize_evidence,
                         summarize_practice, verify_sample)
from prt.web.accounts.models import Membership, User
from prt.web.audit import trail
from prt.web.errors import Refused
from prt.web.participants.models import Participant
from prt.web.program.content import curriculum, label
from prt.web.program.models import (NOTES_MAX, REASON_MAX, SEED_MAX, CaseloadAssignment, Evaluation, EvidenceSheet as
                                    EvidenceSheetRow, ExposureAttemptLog, ExposureHierarchy, FidelityDraw,
                                    FidelityRating, PracticeLog, ProgramExport, ProgramSession)

#: How far back a practice or an exposure attempt may be logged (days before today at the site).
LOG_DAYS_BACK = 7
#: How far ahead a session may be scheduled (days after today at the site).
SCHEDULE_DAYS_AHEAD = 120
#: Longest a held session may last (minutes): the curriculum's own upper bound for a session.
SESSION_MAX_MINUTES = 240
OUTCOMES = ("held", "missed")
#: Reasons written for the participant's own updates of living documents (no form asks them).
EVIDENCE_REASON = "updated by the participant (the evidence sheet grows during the program)"
HIERARCHY_REASON = "updated by the participant (the hierarchy is revised during the program)"
DRAFT_REASON = "draft updated by the physician before completing the evaluation"
COMPLETED_REASON = "evaluation completed by the physician"
RESCHEDULE_REASON = "rescheduled by the therapist"

_KEYED = re.compile(r"^(?P<source>[^:]*): key '(?P<key>[^']*)': (?P<message>.*)$", re.S)


def refusal(error: InputError, field: str, status: int = 422) -> Refused:
    """``prt.program``'s one-line error as a Refused naming the key it names (else ``field``).

    Its messages name the record and key and what was expected, never a patient's words
    (docs/program.md, "The records"), so they can be shown as they are.
    """
    text = str(error)
    match = _KEYED.match(text)
    if match:
        return Refused(match["key"] or field, match["message"], status)
    return Refused(field, text.split(": ", 1)[1] if ": " in text else text, status)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise Refused("reason", f"required: why the {what} is changed (kept in the audit trail)")
    if len(text) > REASON_MAX:
        raise Refused("reason", f"expected at most {REASON_MAX} characters")
    if any(not ch.isprintable() for ch in text):
        raise Refused("reason", "expected one line of text")
    return text


def _locked(participant: Participant) -> Participant:
    """The participant's row locked for this transaction (PostgreSQL; SQLite has one writer)."""
    return Participant.objects.select_for_update(of=("self",)).select_related("site").get(pk=participant.pk)


def _writable(participant: Participant) -> None:
    if participant.arm != "prt" or participant.status != "randomized":
        raise Refused("participant", "the PRT program takes new records only while the participant is "
                                     "randomized to PRT", status=403)


def _sessions_writable(participant: Participant, held_on: date | None) -> None:
    """Sessions are recorded for a PRT participant who is (or was) randomized: a late entry after
    completion or withdrawal is allowed, for a day up to the withdrawal."""
    from prt.web.questionnaires import battery

    if participant.arm != "prt" or participant.status not in ("randomized", "completed", "withdrawn"):
        raise Refused("participant", "sessions are recorded only for participants randomized to PRT", status=403)
    left = battery.withdrawal_date(participant)
    if left is not None and held_on is not None and held_on > left:
        raise Refused("held_on", "after the participant's withdrawal")


def _log_day(participant: Participant, day: date, field: str, now: datetime) -> None:
    today = participant.site.today(now)
    if day > today:
        raise Refused(field, "in the future at the participant's site")
    if day < today - timedelta(days=LOG_DAYS_BACK):
        raise Refused(field, f"more than {LOG_DAYS_BACK} days ago (log practice within a week)")


def _record(actor, action: str, row, before: dict | None, reason: str = "") -> None:
    trail.record(actor, action, row, trail.diff(before, trail.snapshot(row)), reason)


# ------------------------------------------------------------------------------------ caseloads
def therapists_at(site_id: int) -> list[User]:
    ids = Membership.objects.filter(site_id=site_id, role="therapist").values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("username"))


def current_therapist(participant: Participant) -> User | None:
    row = (CaseloadAssignment.objects.select_related("therapist")
           .filter(participant=participant, ended_at__isnull=True).first())
    return row.therapist if row else None


@dataclass(frozen=True)
class Assigned:
    assignment: CaseloadAssignment
    #: "assigned", "reassigned" or "unchanged" (nothing written).
    outcome: str


def assign_therapist(participant: Participant, therapist: User, *, actor, reason: str = "",
                     now: datetime | None = None) -> Assigned:
    """Put a PRT participant in ``therapist``'s caseload (a therapist of the participant's site).

    A change of therapist ends the active assignment with a reason and starts a new one.
    """
    now = _now(now)
    if participant.arm != "prt":
        raise Refused("participant", "only a participant of the PRT arm has a therapist", status=409)
    if not isinstance(therapist, User) or not Membership.objects.filter(
            user=therapist, site_id=participant.site_id, role="therapist").exists() or not therapist.is_active:
        raise Refused("therapist", "expected a therapist of the participant's site")
    with transaction.atomic():
        locked = _locked(participant)
        active = CaseloadAssignment.objects.filter(participant=locked, ended_at__isnull=True).first()
        if active is not None and active.therapist_id == therapist.pk:
            return Assigned(active, "unchanged")
        outcome = "assigned"
        if active is not None:
            why = _reason(reason, "therapist")
            before = trail.snapshot(active)
            active.ended_at, active.ended_reason = now, why
            active.save(update_fields=["ended_at", "ended_reason"])
            _record(actor, "update", active, before, why)
            outcome = "reassigned"
        row = CaseloadAssignment.objects.create(participant=locked, therapist=therapist, assigned_by=actor,
                                                assigned_at=now)
        _record(actor, "create", row, None)
    return Assigned(row, outcome)


# ------------------------------------------------------------------------------------ the physician evaluation
def evaluation_of(participant: Participant) -> Evaluation | None:
    return Evaluation.objects.filter(participant=participant).first()


def evaluation_record(evaluation: Evaluation | None) -> PhysicianEvaluation | None:
    if evaluation is None:
        return None
    return PhysicianEvaluation.from_dict(evaluation.record, curriculum(), f"stored evaluation {evaluation.pk}")


def randomized_on(participant: Participant) -> date | None:
    """The day of the participant's allocation at their site (the allocation log's time), or None."""
    from prt.web.randomization.models import AllocationEntry

    at = AllocationEntry.objects.filter(participant=participant).values_list("created_at", flat=True).first()
    return participant.site.today(at) if at is not None else None


def save_evaluation(participant: Participant, data: Any, *, physician, complete: bool = False,
                    evaluated_on: date | None = None, reason: str = "", now: datetime | None = None) -> Evaluation:
    """Save the evaluation (a draft may leave items unassessed) or complete it.

    Completing needs every red flag assessed and a formulation (referral not ``incomplete``) and
    the day it was held (not in the future, not before randomization). Once completed, every
    change keeps it complete and needs a reason.
    """
    now = _now(now)
    c = curriculum()
    if participant.arm != "prt":
        raise Refused("participant", "only a participant of the PRT arm is evaluated for PRT", status=409)
    try:
        record = PhysicianEvaluation.from_dict(data, c, "physician evaluation")
    except InputError as error:
        raise refusal(error, "evaluation") from None
    result = evaluate(record, c)
    with transaction.atomic():
        locked = _locked(participant)
        row = Evaluation.objects.select_for_update().filter(participant=locked).first()
        completing = complete or (row is not None and row.completed)
        if completing:
            if result.referral == "incomplete":
                if result.red_flags_unassessed:
                    titles = {x.id: x.title for x in c.evaluation.red_flags}
                    raise Refused("red_flags", "to complete the evaluation, rule out (or record as found) every "
                                               "red flag; not yet assessed: "
                                               + ", ".join(titles[f] for f in result.red_flags_unassessed))
                raise Refused("formulation", "to complete the evaluation, choose a formulation (centralized, mixed "
                                             "or structural)")
            day = evaluated_on or (row.evaluated_on if row is not None and row.completed else None)
            if not isinstance(day, date) or isinstance(day, datetime):
                raise Refused("evaluated_on", "required: the day of the evaluation, as YYYY-MM-DD")
            if day > locked.site.today(now):
                raise Refused("evaluated_on", "in the future at the participant's site")
            start = randomized_on(locked)
            if start is not None and day < start:
                raise Refused("evaluated_on", "before the participant's randomization")
            held = ProgramSession.objects.filter(participant=locked, status="held").order_by("held_on").first()
            if held is not None and day > held.held_on:
                raise Refused("evaluated_on", "after a session already held (the evaluation comes first)")
        values = {"record": record.to_dict(), "referral": result.referral, "curriculum": label(c),
                  "evaluated_on": day if completing else None}
        if row is None:
            row = Evaluation(participant=locked, physician=physician, created_at=now, updated_at=now, **values)
            if completing:
                row.completed_at = now
            row.save()
            _record(physician, "create", row, None)
            return row
        before = trail.snapshot(row)
        if all(getattr(row, k) == v for k, v in values.items()) and (row.completed or not completing):
            return row  # nothing changed: nothing written
        if row.completed:
            why = _reason(reason, "completed evaluation")
        else:
            why = COMPLETED_REASON if completing else DRAFT_REASON
        for key, value in values.items():
            setattr(row, key, value)
        if completing and not row.completed:
            row.completed_at = now
        row.physician, row.updated_at = physician, now
        row.save()
        _record(physician, "update", row, before, why)
    return row


def sessions_open(participant: Participant) -> tuple[bool, str]:
    """Whether sessions may be held, and why not: a completed evaluation referring to PRT."""
    row = evaluation_of(participant)
    if row is None or not row.completed:
        return False, "the physician evaluation is not completed yet"
    if row.referral == "blocked":
        return False, "the physician evaluation found a red flag, which blocks referral to PRT"
    if row.referral != "refer":
        return False, "the physician evaluation does not refer the participant to PRT"
    return True, ""


# ------------------------------------------------------------------------------------ the calendar
@dataclass(frozen=True)
class SessionSlot:
    """One session on the calendar: the curriculum's plan, the schedule's dates and what happened."""

    number: int
    title: str
    planned: date | None          # the trial schedule's target
    window_open: date | None
    window_close: date | None
    row: ProgramSession | None
    when: date | None             # held, else the appointment, else planned
    state: str                    # held | missed | scheduled | planned

    @property
    def status_label(self) -> str:
        return {"held": "Held", "missed": "Missed", "scheduled": "Scheduled", "planned": "Planned"}[self.state]


def _visits(participant: Participant, today: date, evaluation: Evaluation | None,
            rows: Mapping[int, ProgramSession]):
    """The trial schedule's visits with the evaluation's and sessions' real dates (prt.trial.schedule)."""
    from prt.trial.schedule import participant_visits
    from prt.web.questionnaires import battery

    base = battery.visits(participant, today)
    names = set(battery.schedule().names)
    actual = {v.event: v.actual for v in base if v.actual is not None}
    mine: dict[str, date] = {}
    start = randomized_on(participant)
    if start is not None:
        mine["randomization"] = start
    if evaluation is not None and evaluation.completed:
        mine["physician_evaluation"] = evaluation.evaluated_on
    for number, row in rows.items():
        if row.status == "held" and f"prt_session_{number}" in names:
            mine[f"prt_session_{number}"] = row.held_on
    try:
        return participant_visits(participant.study_id, participant.arm or None, {**actual, **mine}, today,
                                  battery.schedule(), withdrawn=battery.withdrawal_date(participant))
    except InputError:  # a real date out of the schedule's order: show the plan from the questionnaires
        return base


def calendar(participant: Participant, today: date | None = None) -> list[SessionSlot]:
    """The curriculum's sessions with the planned dates and what was scheduled, held or missed."""
    today = today or participant.site.today()
    rows = {r.number: r for r in ProgramSession.objects.filter(participant=participant)}
    visits = {v.event: v for v in _visits(participant, today, evaluation_of(participant), rows)}
    out = []
    for plan in curriculum().sessions:
        row = rows.get(plan.number)
        visit = visits.get(f"prt_session_{plan.number}")
        planned = visit.target if visit else None
        if row is not None and row.status == "held":
            when, state = row.held_on, "held"
        elif row is not None and row.status == "missed":
            when, state = row.scheduled_for or planned, "missed"
        elif row is not None and row.scheduled_for is not None:
            when, state = row.scheduled_for, "scheduled"
        else:
            when, state = planned, "planned"
        out.append(SessionSlot(plan.number, plan.title, planned, visit.window_open if visit else None,
                               visit.window_close if visit else None, row, when, state))
    return out


def held_sessions(participant: Participant) -> list[ProgramSession]:
    return list(ProgramSession.objects.filter(participant=participant, status="held").order_by("number"))


def reschedule(participant: Participant, number: int, day: Any, *, actor, reason: str = "",
               now: datetime | None = None) -> ProgramSession:
    """Set (or move) the appointment of a session not yet held or missed."""
    now = _now(now)
    c = curriculum()
    try:
        c.session(number)
    except InputError:
        raise Refused("session", f"expected a session number 1-{len(c.sessions)}", status=404) from None
    if not isinstance(day, date) or isinstance(day, datetime):
        raise Refused("scheduled_for", "required: the new date, as YYYY-MM-DD")
    why = (reason or "").strip()
    if why:
        why = _reason(why, "appointment")
    with transaction.atomic():
        locked = _locked(participant)
        _writable(locked)
        today = locked.site.today(now)
        if day < today:
            raise Refused("scheduled_for", "in the past at the participant's site")
        if day > today + timedelta(days=SCHEDULE_DAYS_AHEAD):
            raise Refused("scheduled_for", f"more than {SCHEDULE_DAYS_AHEAD} days ahead")
        row = ProgramSession.objects.filter(participant=locked, number=number).first()
        if row is not None and row.status != "scheduled":
            raise Refused("session", f"session {number} is already {row.status}; it cannot be rescheduled",
                          status=409)
        if row is None:
            row = ProgramSession.objects.create(participant=locked, number=number, scheduled_for=day,
                                                curriculum=label(c), updated_at=now)
            _record(actor, "create", row, None, why)
            return row
        if row.scheduled_for == day:
            return row
        before = trail.snapshot(row)
        row.scheduled_for, row.updated_at = day, now
        row.save(update_fields=["scheduled_for", "updated_at"])
        _record(actor, "update", row, before, why or RESCHEDULE_REASON)
    return row


def record_session(participant: Participant, number: int, values: Mapping[str, Any], *, actor, reason: str = "",
                   now: datetime | None = None) -> ProgramSession:
    """Record a session held (date, minutes, steps delivered, home practice set, notes, audio
    recorded) or missed. Gated by the evaluation; in order; a change of a recorded session needs a
    reason. ``values``: outcome, held_on, minutes, steps, assignments, notes, recorded."""
    now = _now(now)
    c = curriculum()
    try:
        plan = c.session(number)
    except InputError:
        raise Refused("session", f"expected a session number 1-{len(c.sessions)}", status=404) from None
    unknown = sorted(set(values) - {"outcome", "held_on", "minutes", "steps", "assignments", "notes", "recorded"})
    if unknown:
        raise Refused(str(unknown[0])[:40], "unknown field (the fields are outcome, held_on, minutes, steps, "
                                            "assignments, notes, recorded)")
    outcome = values.get("outcome")
    if outcome not in OUTCOMES:
        raise Refused("outcome", "expected held or missed")
    fields: dict[str, Any] = {"status": outcome, "held_on": None, "minutes": None, "steps": [], "assignments": [],
                              "recorded": False}
    notes = values.get("notes") or ""
    if not isinstance(notes, str) or len(notes) > NOTES_MAX:
        raise Refused("notes", f"expected text of at most {NOTES_MAX} characters")
    notes = notes.replace("\r\n", "\n").strip()
    if any(not ch.isprintable() and ch not in "\n\t" for ch in notes):
        raise Refused("notes", "holds control characters; write plain text")
    fields["notes"] = notes
    if outcome == "held":
        day = values.get("held_on")
        if not isinstance(day, date) or isinstance(day, datetime):
            raise Refused("held_on", "required: the day the session was held, as YYYY-MM-DD")
        minutes = values.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= SESSION_MAX_MINUTES:
            raise Refused("minutes", f"expected a whole number of minutes 1-{SESSION_MAX_MINUTES}")
        allowed = list(plan.steps) + [s for s in plan.as_needed if s not in plan.steps]
        steps = values.get("steps") or []
        if not isinstance(steps, (list, tuple)) or not all(isinstance(s, str) and s in allowed for s in steps):
            raise Refused("steps", f"expected steps of session {number}: {', '.join(allowed)}")
        known = [a.id for a in c.assignments]
        assignments = values.get("assignments") or []
        if not isinstance(assignments, (list, tuple)) or not all(isinstance(a, str) and a in known
                                                                 for a in assignments):
            raise Refused("assignments", f"expected home-practice assignments: {', '.join(known)}")
        recorded = values.get("recorded", False)
        if not isinstance(recorded, bool):
            raise Refused("recorded", "expected yes or no")
        fields.update(held_on=day, minutes=minutes, steps=[s for s in allowed if s in steps],
                      assignments=[a for a in known if a in assignments], recorded=recorded)
    with transaction.atomic():
        locked = _locked(participant)
        _sessions_writable(locked, fields["held_on"])
        ok, why_not = sessions_open(locked)
        if not ok:
            raise Refused("session", f"no session before a completed physician evaluation that refers to PRT: "
                                     f"{why_not}", status=409)
        rows = {r.number: r for r in ProgramSession.objects.filter(participant=locked)}
        earlier = [n for n in (p.number for p in c.sessions if p.number < number)
                   if n not in rows or rows[n].status not in OUTCOMES]
        if earlier:
            raise Refused("session", f"record session {earlier[0]} first (sessions are recorded in order)",
                          status=409)
        if outcome == "held":
            today = locked.site.today(now)
            evaluated = evaluation_of(locked).evaluated_on
            if fields["held_on"] > today:
                raise Refused("held_on", "in the future at the participant's site")
            if fields["held_on"] < evaluated:
                raise Refused("held_on", "before the physician evaluation")
            before_days = [r.held_on for n, r in rows.items() if n < number and r.status == "held"]
            after_days = [r.held_on for n, r in rows.items() if n > number and r.status == "held"]
            if before_days and fields["held_on"] <= max(before_days):
                raise Refused("held_on", "on or before the day of an earlier session (one session a day, in order)")
            if after_days and fields["held_on"] >= min(after_days):
                raise Refused("held_on", "on or after the day of a later session")
        row = rows.get(number)
        # who held it: the therapist recording it (a correction keeps the one who held it)
        fields["therapist"] = (row.therapist if row is not None and row.status == "held" else actor) \
            if outcome == "held" else None
        if row is None or row.status == "scheduled":
            why = ""
            if row is None:
                row = ProgramSession(participant=locked, number=number)
                before = None
            else:
                before = trail.snapshot(row)
                why = "session recorded"
            for key, value in fields.items():
                setattr(row, key, value)
            row.curriculum, row.updated_at = label(c), now
            row.save()
            _record(actor, "create" if before is None else "update", row, before, why)
            return row
        if row.status == "held" and outcome == "held" and row.fidelity_ratings.exists() and (
                fields["held_on"] != row.held_on):
            raise Refused("held_on", "this session has fidelity ratings; its date stays as rated", status=409)
        if outcome == "missed" and row.fidelity_ratings.exists():
            raise Refused("outcome", "this session has fidelity ratings; it was held", status=409)
        if all(getattr(row, k) == v for k, v in fields.items()):
            return row
        why = _reason(reason, "recorded session")
        before = trail.snapshot(row)
        for key, value in fields.items():
            setattr(row, key, value)
        row.updated_at = now
        row.save()
        _record(actor, "update", row, before, why)
    return row


# ------------------------------------------------------------------------------------ the participant's records
@dataclass(frozen=True)
class Logged:
    row: Any
    #: "created", or "replayed" (a retry with the same client UUID: nothing written).
    outcome: str


def _replay(model, client_uuid: uuid.UUID, participant: Participant) -> Logged | None:
    row = model.objects.filter(client_uuid=client_uuid).first()
    if row is None:
        return None
    if row.participant_id != participant.pk:
        raise Refused("client_uuid", "already used by another submission; send a new UUID", status=409)
    return Logged(row, "replayed")


def _uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value)) if isinstance(value, str) and len(value) == 36 else uuid.UUID("x")
    except ValueError:
        raise Refused("client_uuid", "expected a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e") from None


def log_practice(participant: Participant, data: Any, *, client_uuid: Any, actor,
                 now: datetime | None = None) -> Logged:
    """Log one home practice (:class:`prt.program.Practice`: a somatic-tracking practice carries
    pain and fear before and after, 0-10). Idempotent by ``client_uuid``."""
    now = _now(now)
    key = _uuid(client_uuid)
    replayed = _replay(PracticeLog, key, participant)
    if replayed is not None:
        return replayed
    try:
        practice = Practice.from_dict(data, curriculum(), "practice")
    except InputError as error:
        raise refusal(error, "practice") from None
    try:
        with transaction.atomic():
            locked = _locked(participant)
            replayed = _replay(PracticeLog, key, locked)
            if replayed is not None:
                return replayed
            _writable(locked)
            _log_day(locked, practice.day, "day", now)
            row = PracticeLog.objects.create(
                participant=locked, client_uuid=key, day=practice.day, assignment=practice.assignment,
                minutes=practice.minutes, pain_before=practice.pain_before, pain_after=practice.pain_after,
                fear_before=practice.fear_before, fear_after=practice.fear_after, setting=practice.setting or "",
                created_at=now)
            _record(actor, "create", row, None)
            return Logged(row, "created")
    except IntegrityError:  # the same UUID committed by a concurrent retry
        replayed = _replay(PracticeLog, key, participant)
        if replayed is None:
            raise
        return replayed


def practices(participant: Participant) -> list[Practice]:
    c = curriculum()
    return [Practice.from_dict(r.as_record(), c, f"stored practice {r.pk}")
            for r in PracticeLog.objects.filter(participant=participant)]


def evidence_of(participant: Participant) -> EvidenceSheet:
    row = EvidenceSheetRow.objects.filter(participant=participant).first()
    return EvidenceSheet.from_dict(row.examples if row else {}, curriculum(), "stored evidence sheet")


def save_evidence(participant: Participant, data: Any, *, actor, now: datetime | None = None) -> EvidenceSheet:
    """Replace the evidence sheet with ``data`` ({kind: [example, ...]}); audited."""
    now = _now(now)
    try:
        sheet = EvidenceSheet.from_dict(data, curriculum(), "evidence sheet")
    except InputError as error:
        raise refusal(error, "evidence") from None
    with transaction.atomic():
        locked = _locked(participant)
        _writable(locked)
        row = EvidenceSheetRow.objects.filter(participant=locked).first()
        if row is None:
            row = EvidenceSheetRow.objects.create(participant=locked, examples=sheet.to_dict(), updated_at=now)
            _record(actor, "create", row, None)
        elif row.examples != sheet.to_dict():
            before = trail.snapshot(row)
            row.examples, row.updated_at = sheet.to_dict(), now
            row.save(update_fields=["examples", "updated_at"])
            _record(actor, "update", row, before, EVIDENCE_REASON)
    return sheet


def hierarchy_of(participant: Participant) -> Hierarchy | None:
    row = ExposureHierarchy.objects.filter(participant=participant).first()
    return Hierarchy.from_dict({"steps": row.steps}, "stored exposure hierarchy") if row else None


def attempts_of(participant: Participant, hierarchy: Hierarchy | None = None) -> list[ExposureAttempt]:
    hierarchy = hierarchy or hierarchy_of(participant)
    if hierarchy is None:
        return []
    return [ExposureAttempt.from_dict(r.as_record(), hierarchy, f"stored attempt {r.pk}")
            for r in ExposureAttemptLog.objects.filter(participant=participant)]


def save_hierarchy(participant: Participant, data: Any, *, actor, now: datetime | None = None) -> Hierarchy:
    """Replace the exposure hierarchy (``{"steps": [{id, movement, fear}]}``); a step with attempts
    logged stays (its attempts refer to it)."""
    now = _now(now)
    try:
        hierarchy = Hierarchy.from_dict(data, "exposure hierarchy")
    except InputError as error:
        raise refusal(error, "steps") from None
    with transaction.atomic():
        locked = _locked(participant)
        _writable(locked)
        tried = set(ExposureAttemptLog.objects.filter(participant=locked).values_list("step", flat=True))
        gone = sorted(tried - {s.id for s in hierarchy.steps})
        if gone:
            raise Refused("steps", f"step {gone[0]} has attempts logged; keep it (change its fear rating "
                                   "instead)", status=409)
        steps = hierarchy.to_dict()["steps"]
        row = ExposureHierarchy.objects.filter(participant=locked).first()
        if row is None:
            row = ExposureHierarchy.objects.create(participant=locked, steps=steps, updated_at=now)
            _record(actor, "create", row, None)
        elif row.steps != steps:
            before = trail.snapshot(row)
            row.steps, row.updated_at = steps, now
            row.save(update_fields=["steps", "updated_at"])
            _record(actor, "update", row, before, HIERARCHY_REASON)
    return hierarchy


def log_attempt(participant: Participant, data: Any, *, client_uuid: Any, actor,
                now: datetime | None = None) -> Logged:
    """Log one exposure attempt at a step of the participant's hierarchy; idempotent by UUID."""
    now = _now(now)
    key = _uuid(client_uuid)
    replayed = _replay(ExposureAttemptLog, key, participant)
    if replayed is not None:
        return replayed
    hierarchy = hierarchy_of(participant)
    if hierarchy is None:
        raise Refused("step", "no exposure hierarchy yet: list the feared movements first", status=409)
    try:
        attempt = ExposureAttempt.from_dict(data, hierarchy, "exposure attempt")
    except InputError as error:
        raise refusal(error, "attempt") from None
    try:
        with transaction.atomic():
            locked = _locked(participant)
            replayed = _replay(ExposureAttemptLog, key, locked)
            if replayed is not None:
                return replayed
            _writable(locked)
            _log_day(locked, attempt.day, "day", now)
            row = ExposureAttemptLog.objects.create(participant=locked, client_uuid=key, created_at=now,
                                                    **{k: v for k, v in attempt.to_dict().items() if k != "day"},
                                                    day=attempt.day)
            _record(actor, "create", row, None)
            return Logged(row, "created")
    except IntegrityError:
        replayed = _replay(ExposureAttemptLog, key, participant)
        if replayed is None:
            raise
        return replayed


def exposure(participant: Participant):
    """(hierarchy, attempts, progress) of the participant; progress is prt.program's rule."""
    hierarchy = hierarchy_of(participant)
    if hierarchy is None:
        return None, [], None
    attempts = attempts_of(participant, hierarchy)
    return hierarchy, attempts, exposure_progress(hierarchy, attempts, curriculum())


# ------------------------------------------------------------------------------------ what the participant sees
@dataclass(frozen=True)
class Progress:
    """One participant's program in numbers (ids and counts, safe to show staff and to export)."""

    held: tuple[int, ...]
    missed: tuple[int, ...]
    current: int | None
    introduced: tuple[str, ...]
    home_practice: tuple[str, ...]
    since: date | None
    practice: Any
    practice_since: Any
    evidence: Any
    exposure: Any


def introduced_components(sessions: Iterable[ProgramSession]) -> tuple[str, ...]:
    """Components of the held sessions (planned and as-needed steps delivered), in curriculum order."""
    c = curriculum()
    ids: set[str] = set()
    for row in sessions:
        try:
            ids.update(c.session_components(row.number))
        except InputError:
            continue
        for step in row.steps:
            try:
                ids.add(c.step(step).component)
            except InputError:
                continue
    return tuple(comp.id for comp in c.components if comp.id in ids)


def progress(participant: Participant) -> Progress:
    c = curriculum()
    rows = list(ProgramSession.objects.filter(participant=participant).order_by("number"))
    held = [r for r in rows if r.status == "held"]
    current = held[-1] if held else None
    logged = practices(participant)
    since = current.held_on if current else None
    _, _, progress_ = exposure(participant)
    return Progress(
        held=tuple(r.number for r in held), missed=tuple(r.number for r in rows if r.status == "missed"),
        current=current.number if current else None, introduced=introduced_components(held),
        home_practice=tuple(a for a in (current.assignments if current else ()) if a in {x.id for x in c.assignments}),
        since=since, practice=summarize_practice(logged),
        practice_since=summarize_practice([p for p in logged if since is not None and p.day >= since]),
        evidence=summarize_evidence(evidence_of(participant), c), exposure=progress_)


def completed_timepoints(participant: Participant) -> tuple[str, ...]:
    """Timepoints done (their questionnaires submitted): what releases a control arm's items."""
    from prt.vocabulary import TIMEPOINTS
    from prt.web.questionnaires import battery

    done = {v.event for v in battery.visits(participant, participant.site.today()) if v.state == "done"}
    return tuple(t for t in TIMEPOINTS if t in done)


def arm_items(participant: Participant):
    """(arm content, items available now, whether any is held back) of a control-arm participant."""
    arm = curriculum().control_arm(participant.arm)
    available = arm.available(completed_timepoints(participant))
    return arm, available, len(available) < len(arm.items)


# ------------------------------------------------------------------------------------ fidelity
def staff_code(user_id: int | None, prefix: str) -> str:
    """A pseudonymous code for a therapist (T) or rater (R): the fidelity records' codes."""
    return f"{prefix}{user_id}" if user_id is not None else f"{prefix}0"


def eligible_sessions(site_id: int) -> dict[str, list[int]]:
    """{study id: held sessions with audio recorded} of the site's PRT participants."""
    out: dict[str, list[int]] = {}
    for study_id, number in (ProgramSession.objects.filter(participant__site_id=site_id, participant__arm="prt",
                                                           status="held", recorded=True)
                             .order_by("participant__study_id", "number")
                             .values_list("participant__study_id", "number")):
        out.setdefault(study_id, []).append(number)
    return out


def _seed(seed: Any) -> int | str:
    if seed is None or (isinstance(seed, str) and not seed.strip()):
        return secrets.randbelow(10**9)
    if not isinstance(seed, str):
        raise Refused("seed", "expected a whole number or a short text")
    text = seed.strip()
    if len(text) > SEED_MAX or any(not ch.isprintable() for ch in text):
        raise Refused("seed", f"expected one line of at most {SEED_MAX} characters")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else text


def draw_sample(site, *, seed: Any = None, actor, reason: str = "", now: datetime | None = None) -> FidelityDraw:
    """Draw the raters' sample at ``site`` with :func:`prt.program.fidelity_sample` and log it."""
    now = _now(now)
    c = curriculum()
    value = _seed(seed)
    with transaction.atomic():
        previous = FidelityDraw.objects.select_for_update().filter(site=site).first()
        why = _reason(reason, "raters' sample") if previous is not None else (reason or "").strip()[:REASON_MAX]
        eligible = eligible_sessions(site.pk)
        if not eligible:
            raise Refused("site", "no held session with audio recorded yet: nothing to draw from", status=409)
        try:
            sample = fidelity_sample(eligible, value, c)
        except InputError as error:
            raise refusal(error, "seed") from None
        row = FidelityDraw.objects.create(site=site, seed=str(value), record=sample.to_dict(), drawn_by=actor,
                                          drawn_at=now, reason=why, curriculum=label(c))
        _record(actor, "create", row, None, why)
    return row


def verify_draw(draw: FidelityDraw) -> tuple[bool, str]:
    """Redraw a logged sample from its own record (:func:`prt.program.verify_sample`)."""
    try:
        verify_sample(draw.record, curriculum())
    except InputError as error:
        return False, str(error)
    return True, "redrawn from its seed and inputs: the same sample"


def rate_session(session: ProgramSession, draw: FidelityDraw, elements: Any, *, rater, reason: str = "",
                 now: datetime | None = None) -> FidelityRating:
    """Record (or change, with a reason) one rater's present/absent coding of a sampled session."""
    now = _now(now)
    c = curriculum()
    try:
        rating = SessionRating.from_dict({"therapist": staff_code(session.therapist_id, "T"),
                                          "participant": session.participant.study_id, "session": session.number,
                                          "rater": staff_code(rater.pk, "R"), "elements": elements},
                                         c, "fidelity rating")
    except InputError as error:
        raise refusal(error, "elements") from None
    marks = rating.to_dict(c)["elements"]
    with transaction.atomic():
        row = FidelityRating.objects.select_for_update().filter(session=session, rater=rater).first()
        if row is None:
            row = FidelityRating.objects.create(session=session, rater=rater, draw=draw, elements=marks,
                                                score=rating.score, rated_at=now, updated_at=now)
            _record(rater, "create", row, None)
            return row
        if row.elements == marks:
            return row
        why = _reason(reason, "rating")
        before = trail.snapshot(row)
        row.elements, row.score, row.updated_at = marks, rating.score, now
        row.save(update_fields=["elements", "score", "updated_at"])
        _record(rater, "update", row, before, why)
    return row


def session_ratings(site_ids: Iterable[int]) -> list[tuple[FidelityRating, SessionRating]]:
    """The ratings of sessions at ``site_ids`` as prt.program's SessionRating, with their rows."""
    c = curriculum()
    out = []
    for row in (FidelityRating.objects.select_related("session__participant", "session__therapist")
                .filter(session__participant__site_id__in=list(site_ids))):
        out.append((row, SessionRating.from_dict(
            {"therapist": staff_code(row.session.therapist_id, "T"), "participant": row.session.participant.study_id,
             "session": row.session.number, "rater": staff_code(row.rater_id, "R"), "elements": row.elements},
            c, f"stored rating {row.pk}")))
    return out


def fidelity_report(site_ids: Iterable[int]):
    """(summary, {therapist code: username}) of the ratings at the sites, or (None, {}) when none."""
    pairs = session_ratings(site_ids)
    if not pairs:
        return None, {}
    names = {staff_code(row.session.therapist_id, "T"): (row.session.therapist.username if row.session.therapist
                                                          else "unknown") for row, _ in pairs}
    return fidelity_summary([r for _, r in pairs], curriculum()), names


# ------------------------------------------------------------------------------------ the REDCap export
def program_participants(site_ids: Iterable[int]):
    """prt.program's ParticipantProgram of every PRT participant at the sites (study ids only)."""
    from prt.program import ParticipantProgram

    people = list(Participant.objects.filter(site_id__in=list(site_ids), arm="prt").order_by("study_id"))
    out = []
    for person in people:
        hierarchy = hierarchy_of(person)
        out.append(ParticipantProgram(
            participant=person.study_id,
            sessions_attended=tuple(r.number for r in held_sessions(person)),
            practices=tuple(practices(person)), hierarchy=hierarchy,
            attempts=tuple(attempts_of(person, hierarchy)) if hierarchy else (),
            evaluation=evaluation_record(evaluation_of(person))))
    return out


EXPORT_NAME = "prt-program-redcap.zip"


def export_zip(sites, *, user, event: str | None = None, now: datetime | None = None) -> tuple[bytes, ProgramExport]:
    """The program export of ``sites`` (prt.program.write_export: the data dictionary, records,
    repeating forms and, with an ``event``, the instrument-event mapping) zipped; logged and audited."""
    from prt.program import write_export

    now = _now(now)
    site_ids = [s.pk for s in sites]
    people = program_participants(site_ids)
    if not people:
        raise Refused("participants", "no participant of the PRT arm at your sites yet: nothing to export",
                      status=422)
    ratings = [r for _, r in session_ratings(site_ids)]
    with tempfile.TemporaryDirectory(prefix="prt-program-export-") as folder:
        try:
            paths = write_export(Path(folder) / "export", people, ratings, curriculum(), event=event)
        except InputError as error:
            raise refusal(error, "event") from None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for stem, path in sorted(paths.items()):
                info = zipfile.ZipInfo(f"{stem}.csv", date_time=now.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    with transaction.atomic():
        row = ProgramExport.objects.create(user=user, at=now, sites=",".join(s.code for s in sites)[:400],
                                           event=event or "", participants=len(people), ratings=len(ratings),
                                           sha256=hashlib.sha256(data).hexdigest())
        _record(user, "create", row, None)
    return data, row
