"""A participant's reminder contact (an e-mail address and their choice) and the log of reminders sent.

The address is patient data (issue 13: no patient data in logs or URLs): it is seen only by the
participant and the coordinators of their site, it is never written to a log, a URL or the audit
trail. The audit trail records that it was set or changed by ``address_version`` (1 when first
recorded, +1 at each change), so the trail shows every change without holding the address.

The log has one row per participant, day, event and kind (due or overdue): its unique constraint
is what makes a reminder go out once, whatever the number of workers or reruns on the same day.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from prt.web.participants.models import Participant

#: Why a questionnaire is reminded: its visit is due (window open, target not passed) or overdue.
KINDS = ("due", "overdue")
#: A log row's life: claimed by a run (sending), then sent, or failed (retried by a later run).
LOG_STATUSES = ("sending", "sent", "failed")


class ReminderContact(models.Model):
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="reminder_contact")
    email = models.EmailField(max_length=254)
    #: The participant's choice: reminders are sent only while True (they may opt out at any time).
    opted_in = models.BooleanField(default=True)
    #: 1 when the address is first recorded, +1 at every change (the audit trail's view of the address).
    address_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=~models.Q(email=""), name="reminder_contact_has_address")]

    def __str__(self) -> str:  # never the address (admin lists, logs, error pages)
        return f"{self.participant} reminder contact"


class ReminderLog(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="reminders")
    #: The calendar day at the participant's site the reminder is for.
    day = models.DateField()
    #: The schedule event (prt.trial.schedule) whose questionnaires were reminded, e.g. "pre", "1mo".
    event = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=[(k, k) for k in KINDS])
    #: The instrument ids listed (space-separated, battery order): what was still owed that day.
    instruments = models.CharField(max_length=1000)
    status = models.CharField(max_length=8, choices=[(s, s) for s in LOG_STATUSES], default="sending")
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "participant", "event"]
        constraints = [
            # also the index of the (participant, day) look-ups
            models.UniqueConstraint(fields=["participant", "day", "event", "kind"], name="reminder_once_per_day"),
            models.CheckConstraint(condition=models.Q(kind__in=KINDS), name="reminder_known_kind"),
            models.CheckConstraint(condition=models.Q(status__in=LOG_STATUSES), name="reminder_known_status"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.day} {self.event} {self.kind} ({self.status})"
