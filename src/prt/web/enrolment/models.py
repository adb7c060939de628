"""Screenings, consents and withdrawals of the people a coordinator sees.

A screening is a row written once (a person screened again gets a new row; the latest counts), as
prt.trial's screening log is append-only; it keeps the rule set's ``name@version`` and, when
eligible, the answers the minimization factors need (the source of the factors at allocation).
Consent and withdrawal are one row per person, changed only with an audited reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from prt.trial.eligibility import STATUSES as SCREENING_STATUSES
from prt.web.participants.models import Participant


class Screening(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="screenings")
    status = models.CharField(max_length=16, choices=[(s, s) for s in SCREENING_STATUSES])
    #: Codes of every failed rule, in the rule set's order.
    reasons = models.JSONField(default=list)
    #: Fields the rules needed and the screening did not answer.
    missing = models.JSONField(default=list)
    #: Every answer given (checked against the declared ranges before it was stored).
    answers = models.JSONField(default=dict)
    #: The answers the minimization factors need (eligible only), as prt.trial.screen kept them.
    factor_answers = models.JSONField(default=dict)
    #: ``name@version`` of the rule set that judged it.
    rule_set = models.CharField(max_length=200)
    screened_at = models.DateTimeField()
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["participant", "screened_at", "id"]
        get_latest_by = ["screened_at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(status__in=SCREENING_STATUSES),
                                              name="screening_known_status")]

    def __str__(self) -> str:
        return f"{self.participant}: {self.status} ({self.rule_set})"


class Consent(models.Model):
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="consent")
    form_version = models.CharField(max_length=64, help_text="Version of the consent form signed.")
    consent_date = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.participant}: consent {self.form_version} on {self.consent_date}"


class Withdrawal(models.Model):
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="withdrawal")
    withdrawal_date = models.DateField()
    reason = models.TextField()
    #: The status the person had when withdrawn (CONSORT counts withdrawals by stage).
    previous_status = models.CharField(max_length=16)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~models.Q(reason=""), name="withdrawal_has_reason")]

    def __str__(self) -> str:
        return f"{self.participant}: withdrawn on {self.withdrawal_date}"
