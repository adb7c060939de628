"""Sites, users and memberships: who holds which role at which site.

A user may hold several roles at several sites (issue 13); every permission is decided from
:class:`Membership` rows, never from Django's global groups, so a coordinator at one site sees
nothing of another. ``is_staff``/``is_superuser`` only open Django's admin (the admin role).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

#: The roles of the platform (issue 13; the fidelity rater, issue 14: an independent coder of
#: sampled PRT sessions), in the order they are listed to people.
ROLES = ("participant", "coordinator", "therapist", "physician", "rater", "analyst", "admin")
ROLE_LABELS = {"participant": "Participant", "coordinator": "Study coordinator", "therapist": "Therapist",
               "physician": "Physician", "rater": "Fidelity rater", "analyst": "Analyst",
               "admin": "Administrator"}
#: Roles that see identified participant data of their own sites (care and study conduct).
CARE_ROLES = ("coordinator", "therapist", "physician")


def validate_timezone(name: str) -> None:
    """An IANA time zone name (a site's participants' "today" is computed in it)."""
    if name not in zoneinfo.available_timezones():
        raise ValidationError(f"{name!r} is not an IANA time zone name (e.g. America/Denver)")


class Site(models.Model):
    """A place that runs the trial; its time zone decides its participants' calendar day."""

    code = models.CharField(max_length=32, unique=True, validators=[
        RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "lower-case letters, digits and hyphens")])
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def today(self, now: datetime | None = None) -> date:
        """The calendar date at this site now (or at ``now``, an aware instant)."""
        return timezone.localdate(now or timezone.now(), zoneinfo.ZoneInfo(self.timezone))


class User(AbstractUser):
    """A login. Participants get a username, not their e-mail, so a login carries no identity."""

    def roles_at(self, site: Site) -> set[str]:
        return set(self.memberships.filter(site=site).values_list("role", flat=True))

    def site_ids_with(self, *roles: str) -> set[int]:
        """Ids of the sites where this user holds any of ``roles``."""
        return set(self.memberships.filter(role__in=roles).values_list("site_id", flat=True))

    def has_role(self, *roles: str) -> bool:
        return self.memberships.filter(role__in=roles).exists()


class Membership(models.Model):
    """One role of one user at one site."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=[(r, ROLE_LABELS[r]) for r in ROLES])

    class Meta:
        ordering = ["site__code", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "site", "role"], name="membership_unique_role"),
            models.CheckConstraint(condition=models.Q(role__in=ROLES), name="membership_known_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {ROLE_LABELS.get(self.role, self.role)} at {self.site}"


class LoginThrottle(models.Model):
    """Failed sign-ins of one username (existing or not, so a lockout reveals nothing)."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.username}: {self.failures} failure(s)"


class Session(AbstractBaseSession):
    """Django's database session with the signed-in user's id beside its data, so the session and
    its user are read in one statement on every request (accounts/sessions.py; Django's documented
    way to extend the database store: docs.djangoproject.com/en/5.2/topics/http/sessions/
    #extending-database-backed-session-engines). The data stays the source of truth: the user
    read with the row is used only when its id is the one the data names."""

    #: Without a database constraint: a session saved after its user was deleted must not fail; the
    #: id then finds no user and the request is anonymous.
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             editable=False, db_constraint=False)

    @classmethod
    def get_session_store_class(cls):
        from prt.web.accounts.sessions import SessionStore

        return SessionStore
