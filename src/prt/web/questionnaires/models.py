"""A questionnaire in progress (Draft) and a submitted one (Submission).

Why two tables: a draft is the participant's working copy, saved answer by answer so a form can be
resumed on another day or after signing out; it is not trial data and is deleted when the form is
submitted. A submission is trial data: the validated answers, the scores computed by
``prt.instruments.score`` and what produced them (instrument, its form/version and citation, a hash
of its definition, prt's version), one per participant, instrument and schedule event, audited on
creation. Its client UUID makes a submission idempotent (a retry returns it, never a second one).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from prt.web.participants.models import Participant


class Draft(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="questionnaire_drafts")
    instrument = models.CharField(max_length=64)
    #: The schedule event (prt.trial.schedule) the questionnaire belongs to, e.g. "pre", "1mo".
    event = models.CharField(max_length=64)
    #: {item number: code} of the answers given so far, each validated against the definition.
    answers = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "instrument", "event"],
                                               name="questionnaire_draft_one_per_event")]

    def __str__(self) -> str:
        return f"{self.participant} {self.event} {self.instrument} (draft)"


class Submission(models.Model):
    client_uuid = models.UUIDField(unique=True)
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="questionnaire_submissions")
    instrument = models.CharField(max_length=64)
    event = models.CharField(max_length=64)
    #: The calendar day at the participant's site on which it was submitted.
    day = models.DateField()
    #: {item number: code}: the answers as prt.instruments.normalize_responses returned them.
    answers = models.JSONField()
    #: The headline score charted over time (the instrument's total, or its interpreted subscale).
    score = models.FloatField(null=True)
    #: ScoreResult.to_dict(details=True): total, subscales, answered, prorated, t_score, band.
    scores = models.JSONField()
    #: What produced the scores: the definition's form/version text, its citation, the SHA-256 of
    #: its YAML file and prt's version (so a score can be reproduced).
    instrument_form = models.TextField()
    instrument_source = models.TextField()
    definition_sha256 = models.CharField(max_length=64)
    prt_version = models.CharField(max_length=64)
    #: "web" (the item-by-item pages), "api" (plain responses) or "fhir" (a QuestionnaireResponse).
    channel = models.CharField(max_length=8)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "instrument", "event"],
                                    name="questionnaire_submitted_once_per_event"),
            models.CheckConstraint(condition=models.Q(channel__in=("web", "api", "fhir")),
                                   name="questionnaire_known_channel"),
        ]
        #: The schedule's progress query (visits/services.py: every participant of a site) reads
        #: only these columns, so the index answers it without the table.
        indexes = [models.Index(fields=["participant", "event", "instrument", "day"], name="questionnaire_progress")]

    def __str__(self) -> str:
        return f"{self.participant} {self.event} {self.instrument}"
