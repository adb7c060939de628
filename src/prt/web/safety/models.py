"""An adverse event of one participant, recorded by their site (ICH E6(R2) 4.11, ICH E2A).

One row per event; created and changed only through :mod:`prt.web.safety.services`, which checks
the rules and writes the audit event in the same transaction (a change needs a reason). The
description is free text (patient data): it is shown to the site's staff, never put in a URL or a
log. Codes come from :mod:`prt.web.safety.vocabulary`; the database constraints repeat the rules a
stored row can be checked against by itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from prt.web.participants.models import Participant
from prt.web.safety import vocabulary as v


def _choices(vocabulary: dict[str, str]) -> list[tuple[str, str]]:
    return list(vocabulary.items())


class AdverseEvent(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="adverse_events")
    onset_date = models.DateField()
    #: Empty while the event is ongoing.
    end_date = models.DateField(null=True, blank=True)
    description = models.TextField(max_length=v.DESCRIPTION_MAX)
    severity = models.CharField(max_length=16, choices=_choices(v.SEVERITIES))
    serious = models.BooleanField()
    #: Codes of the seriousness criteria met (vocabulary order); empty unless serious.
    sae_criteria = models.JSONField(default=list, blank=True)
    relatedness = models.CharField(max_length=16, choices=_choices(v.RELATEDNESS))
    expected = models.BooleanField()
    action_taken = models.CharField(max_length=16, choices=_choices(v.ACTIONS))
    outcome = models.CharField(max_length=32, choices=_choices(v.OUTCOMES))
    #: When the event became serious in the platform (recorded serious, or changed to serious):
    #: the 24-hour report clock starts here.
    serious_since = models.DateTimeField(null=True, blank=True)
    #: The day the SAE report was sent (sponsor, ethics committee); empty until then.
    sae_reported_on = models.DateField(null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    related_name="+")
    reported_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-onset_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(severity__in=tuple(v.SEVERITIES)), name="ae_known_severity"),
            models.CheckConstraint(condition=models.Q(relatedness__in=tuple(v.RELATEDNESS)),
                                   name="ae_known_relatedness"),
            models.CheckConstraint(condition=models.Q(action_taken__in=tuple(v.ACTIONS)), name="ae_known_action"),
            models.CheckConstraint(condition=models.Q(outcome__in=tuple(v.OUTCOMES)), name="ae_known_outcome"),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("onset_date")),
                name="ae_ends_after_onset"),
            models.CheckConstraint(condition=~models.Q(outcome="fatal") | models.Q(serious=True),
                                   name="ae_fatal_is_serious"),
            models.CheckConstraint(condition=models.Q(serious=True) | models.Q(serious_since__isnull=True,
                                                                            sae_reported_on__isnull=True),
                                   name="ae_sae_fields_only_when_serious"),
        ]

    def __str__(self) -> str:
        return f"adverse event {self.pk} of {self.participant}"

    @property
    def ongoing(self) -> bool:
        return self.end_date is None

    @property
    def related(self) -> bool:
        return self.relatedness in v.RELATED

    @property
    def report_deadline(self) -> datetime | None:
        """When the SAE report is due (24 hours after the event became serious), else None."""
        if not self.serious or self.serious_since is None:
            return None
        return self.serious_since + timedelta(hours=v.SAE_REPORT_HOURS)

    @property
    def report_pending(self) -> bool:
        """A serious event whose report has not been recorded as sent: the page flags it."""
        return self.serious and self.sae_reported_on is None
