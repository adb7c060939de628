"""PainRating (one per participant per day) and DiarySubmission (one per client UUID).

Why two tables: a submission's client UUID must map to its entry forever, including after a later
same-day change, so a retried request (a phone that lost the answer) returns the entry instead of
writing it again or undoing the change. The rating's range is a database constraint taken from the
``pain_nrs`` definition (diary/scale.py); a change to the definition shows up as a missing migration
(tests/web/test_deploy.py runs ``makemigrations --check``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from prt.web.diary import scale
from prt.web.participants.models import Participant

RATING_MIN, RATING_MAX = scale.bounds()


class PainRating(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="pain_ratings")
    #: The calendar day at the participant's site that the rating is for.
    day = models.DateField()
    rating = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "day"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "day"], name="pain_rating_one_per_day"),
            models.CheckConstraint(condition=models.Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                                   name="pain_rating_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.day}"


class DiarySubmission(models.Model):
    """The receipt of one client submission: its UUID, whose it was and the entry it created or changed."""

    client_uuid = models.UUIDField(primary_key=True)
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(PainRating, on_delete=models.PROTECT, related_name="submissions")
    rating = models.PositiveSmallIntegerField()
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.client_uuid)
