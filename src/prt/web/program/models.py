"""What delivering PRT records: caseloads, the physician evaluation, sessions, home practice,
the evidence sheet, the exposure hierarchy and attempts, the raters' sample and their ratings.

Every row is created and changed only through :mod:`prt.web.program.services`, which validates
it with :mod:`prt.program`'s records (``from_dict``) and writes the audit event in the same
transaction (docs/web.md, "The audit trail"). The rules live in ``prt.program``; the database
constraints repeat what a stored row can be checked against by itself (ratings 0-10, one active
therapist per participant, one rating per session and rater). Free text (session notes, the
patient's evidence examples and feared movements) is patient data: shown to the people who work
with it, never put in a URL, a log or a message.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from prt.program.evaluation import REFERRALS
from prt.web.accounts.models import Site
from prt.web.appendonly import AppendOnlyQuerySet, refused
from prt.web.participants.models import Participant

#: How a session stands on the therapist's calendar (issue 14: "a calendar of the 8 sessions").
SESSION_STATUSES = ("scheduled", "held", "missed")
SESSION_STATUS_LABELS = {"scheduled": "Scheduled", "held": "Held", "missed": "Missed"}
#: Longest session note, reason and seed (characters).
NOTES_MAX = 5000
REASON_MAX = 500
SEED_MAX = 100


def _rating(name: str, prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0,
                                                                                  f"{name}__lte": 10}),
                                  name=f"{prefix}_{name}_0_10")


class CaseloadAssignment(models.Model):
    """A PRT participant in a therapist's caseload (issue 14: "their own caseload only").

    One active assignment per participant (the partial unique constraint); a change of therapist
    ends the active one with a reason and starts another, so the history stays.
    """

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="caseload_assignments")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caseload")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=REASON_MAX, blank=True, default="")

    class Meta:
        ordering = ["participant__study_id", "-assigned_at"]
        constraints = [models.UniqueConstraint(fields=["participant"], condition=Q(ended_at__isnull=True),
                                               name="program_one_active_therapist")]

    def __str__(self) -> str:
        return f"{self.participant} with {self.therapist}"


class Evaluation(models.Model):
    """The physician's intake evaluation (protocol notes, "Physician evaluation (before PRT)").

    ``record`` is :meth:`prt.program.PhysicianEvaluation.to_dict`; ``referral`` is
    :func:`prt.program.evaluate`'s answer, kept beside it so the session gate reads one column.
    A draft has no ``completed_at``; only a completed evaluation with referral ``refer`` opens the
    sessions (:func:`prt.web.program.services.sessions_open`).
    """

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="physician_evaluation")
    physician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    record = models.JSONField(default=dict)
    referral = models.CharField(max_length=16, choices=[(r, r) for r in REFERRALS], default="incomplete")
    #: The day of the evaluation at the participant's site (set when completed).
    evaluated_on = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    curriculum = models.CharField(max_length=120, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(referral__in=REFERRALS), name="program_evaluation_known_referral"),
            models.CheckConstraint(condition=Q(completed_at__isnull=True) | ~Q(referral="incomplete"),
                                   name="program_evaluation_complete_has_referral"),
            models.CheckConstraint(condition=Q(completed_at__isnull=True, evaluated_on__isnull=True)
                                   | Q(completed_at__isnull=False, evaluated_on__isnull=False),
                                   name="program_evaluation_completed_is_dated"),
        ]

    def __str__(self) -> str:
        return f"physician evaluation of {self.participant}"

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


class ProgramSession(models.Model):
    """One of a participant's individual PRT sessions (curriculum ``sessions``; 8 by default).

    A row exists once the therapist schedules, holds or marks the session missed; before that the
    calendar shows the date the trial's schedule plans (``prt.trial.schedule``). ``notes`` are the
    therapist's own and are never shown to the participant or the fidelity rater.
    """

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="program_sessions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=[(s, SESSION_STATUS_LABELS[s]) for s in SESSION_STATUSES],
                              default="scheduled")
    #: The appointment the therapist set (a reschedule changes it); empty: the planned date.
    scheduled_for = models.DateField(null=True, blank=True)
    held_on = models.DateField(null=True, blank=True)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    #: Step ids delivered (the plan's, and the as-needed ones the therapist added).
    steps = models.JSONField(default=list, blank=True)
    #: Home-practice assignment ids set at the end of the session.
    assignments = models.JSONField(default=list, blank=True)
    notes = models.TextField(max_length=NOTES_MAX, blank=True, default="")
    #: Audio recorded: the session can be drawn into the raters' sample.
    recorded = models.BooleanField(default=False)
    curriculum = models.CharField(max_length=120, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant__study_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "number"], name="program_session_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="program_session_number"),
            models.CheckConstraint(condition=Q(status__in=SESSION_STATUSES), name="program_session_known_status"),
            models.CheckConstraint(condition=~Q(status="held") | Q(held_on__isnull=False, minutes__isnull=False),
                                   name="program_session_held_is_dated"),
            models.CheckConstraint(condition=Q(status="held") | Q(held_on__isnull=True, recorded=False),
                                   name="program_session_only_held_dated"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} session {self.number}"


class PracticeLog(models.Model):
    """One home practice the participant logged (:class:`prt.program.Practice`); idempotent by
    the client's UUID, like the diary (a retried submission returns the stored one)."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="program_practices")
    client_uuid = models.UUIDField(unique=True)
    day = models.DateField()
    assignment = models.CharField(max_length=40)
    minutes = models.PositiveSmallIntegerField()
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True)
    fear_before = models.PositiveSmallIntegerField(null=True, blank=True)
    fear_after = models.PositiveSmallIntegerField(null=True, blank=True)
    setting = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "day", "created_at", "id"]
        constraints = [_rating(n, "program_practice") for n in ("pain_before", "pain_after", "fear_before",
                                                                 "fear_after")] + [
            models.CheckConstraint(condition=Q(minutes__gte=1), name="program_practice_minutes")]

    def __str__(self) -> str:
        return f"{self.participant} practice {self.day}"

    def as_record(self) -> dict:
        """The :class:`prt.program.Practice` dict of this row."""
        out = {"day": self.day.isoformat(), "assignment": self.assignment, "minutes": self.minutes}
        for key in ("pain_before", "pain_after", "fear_before", "fear_after"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.setting:
            out["setting"] = self.setting
        return out


class EvidenceSheet(models.Model):
    """The participant's personal evidence sheet (:class:`prt.program.EvidenceSheet`.to_dict())."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="evidence_sheet")
    examples = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"evidence sheet of {self.participant}"


class ExposureHierarchy(models.Model):
    """The participant's feared movements (:class:`prt.program.Hierarchy`.to_dict())."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="exposure_hierarchy")
    steps = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "exposure hierarchies"

    def __str__(self) -> str:
        return f"exposure hierarchy of {self.participant}"


class ExposureAttemptLog(models.Model):
    """One try at a hierarchy step (:class:`prt.program.ExposureAttempt`); idempotent by client UUID."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="exposure_attempts")
    client_uuid = models.UUIDField(unique=True)
    step = models.CharField(max_length=40)
    day = models.DateField()
    expected_pain = models.PositiveSmallIntegerField()
    actual_pain = models.PositiveSmallIntegerField()
    expected_fear = models.PositiveSmallIntegerField()
    actual_fear = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "day", "created_at", "id"]
        constraints = [_rating(n, "program_attempt") for n in ("expected_pain", "actual_pain", "expected_fear",
                                                                "actual_fear")]

    def __str__(self) -> str:
        return f"{self.participant} exposure attempt {self.day}"

    def as_record(self) -> dict:
        return {"step": self.step, "day": self.day.isoformat(), "expected_pain": self.expected_pain,
                "actual_pain": self.actual_pain, "expected_fear": self.expected_fear, "actual_fear": self.actual_fear}


class FidelityDraw(models.Model):
    """One draw of the raters' sample at a site, logged whole (issue 14: "drawn reproducibly and
    logged"): ``record`` is :meth:`prt.program.FidelitySample.to_dict` (method, seed, eligible
    sessions and their SHA-256, the sample), with who drew it and when. Append-only: a draw is
    never changed or deleted (a later draw needs a reason, and both stay)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    seed = models.CharField(max_length=SEED_MAX)
    record = models.JSONField()
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=REASON_MAX, blank=True, default="")
    curriculum = models.CharField(max_length=120, default="")

    objects = AppendOnlyQuerySet.as_manager()
    append_only_name = "fidelity sample log"

    class Meta:
        ordering = ["-drawn_at", "-id"]

    def __str__(self) -> str:
        return f"fidelity sample {self.pk} at {self.site.code}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise refused(self.append_only_name, "changing a draw")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise refused(self.append_only_name, "deleting a draw")

    @property
    def sample(self) -> list[tuple[str, int]]:
        return [(p, int(n)) for p, n in self.record.get("sessions", [])]


class FidelityRating(models.Model):
    """One rater's coding of one sampled session: each fidelity element present or absent
    (:class:`prt.program.SessionRating`; protocol notes, "Fidelity")."""

    session = models.ForeignKey(ProgramSession, on_delete=models.PROTECT, related_name="fidelity_ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    draw = models.ForeignKey(FidelityDraw, on_delete=models.PROTECT, related_name="ratings")
    #: {element id: true/false}, every element of the curriculum rated.
    elements = models.JSONField()
    score = models.PositiveSmallIntegerField()
    rated_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session__participant__study_id", "session__number", "rater_id"]
        constraints = [models.UniqueConstraint(fields=["session", "rater"], name="program_rating_once_per_rater")]

    def __str__(self) -> str:
        return f"fidelity rating of {self.session}"


class ProgramExport(models.Model):
    """One program export downloaded (REDCap layouts): who, when, sites, participants, SHA-256.
    Append-only, like the analyst's export log."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sites = models.CharField(max_length=400)
    event = models.CharField(max_length=16, blank=True, default="")
    participants = models.PositiveIntegerField()
    ratings = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()
    append_only_name = "program export log"

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"program export {self.pk}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise refused(self.append_only_name, "changing an export record")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise refused(self.append_only_name, "deleting an export record")
