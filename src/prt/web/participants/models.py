"""A participant: a pseudonymous study id at one site, with a login, a status and an arm.

The arm exists only once the participant is randomized (the allocation itself is prt.trial's
minimization, wired in a later session); a database constraint keeps the two consistent.
Arm names come from prt.vocabulary (defined once).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from prt.vocabulary import ARM_NAMES, ARMS
from prt.web.accounts.models import Membership, Site, User

#: Where a person is in the trial (issue 13: screened, ineligible, enrolled, randomized, completed,
#: withdrawn), in the order a participant moves through them.
STATUSES = ("screened", "ineligible", "enrolled", "randomized", "completed", "withdrawn")
STATUS_LABELS = {"screened": "Screened", "ineligible": "Ineligible", "enrolled": "Enrolled",
                 "randomized": "Randomized", "completed": "Completed", "withdrawn": "Withdrawn"}
#: Statuses with an arm (after randomization) and without one (before it).
RANDOMIZED_STATUSES = ("randomized", "completed")
UNRANDOMIZED_STATUSES = ("screened", "ineligible", "enrolled")
#: Statuses in which the participant keeps the daily pain diary (baseline and treatment).
DIARY_STATUSES = ("enrolled", "randomized")


class Participant(models.Model):
    study_id = models.CharField(max_length=32, unique=True, validators=[
        RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", "letters, digits, hyphens and underscores")],
        help_text="Pseudonymous id: never a name, e-mail or record number from a clinic.")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    user = models.OneToOneField(User, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="participant")
    status = models.CharField(max_length=16, choices=[(s, STATUS_LABELS[s]) for s in STATUSES],
                              default="screened")
    arm = models.CharField(max_length=16, choices=[(a, ARM_NAMES[a]) for a in ARMS], blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__code", "study_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=STATUSES), name="participant_known_status"),
            models.CheckConstraint(condition=models.Q(arm="") | models.Q(arm__in=ARMS), name="participant_known_arm"),
            models.CheckConstraint(
                condition=~models.Q(status__in=RANDOMIZED_STATUSES, arm="")
                & ~(models.Q(status__in=UNRANDOMIZED_STATUSES) & ~models.Q(arm="")),
                name="participant_arm_once_randomized"),
        ]

    def __str__(self) -> str:
        return self.study_id

    @property
    def diary_open(self) -> bool:
        return self.status in DIARY_STATUSES

    def clean(self) -> None:
        """The login must hold the participant role at this participant's site."""
        if self.user_id is not None and not Membership.objects.filter(
                user_id=self.user_id, site_id=self.site_id, role="participant").exists():
            raise ValidationError({"user": "this login has no participant role at the participant's site"})
