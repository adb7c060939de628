"""A demo site with one login per role and a participant with a month of diary (``prt web demo``).

Run again, it resets the demo logins' passwords and keeps what is there (it never duplicates).
It refuses a database that holds any other site: a trial's database never gets demo logins.
Passwords are random each run (printed once); the demo participant's history is simulated with a
fixed seed and written with its audit events, like any other entry.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from prt.errors import InputError
from prt.web.accounts.models import ROLES, Membership, Site, User
from prt.web.audit import trail
from prt.web.diary import scale
from prt.web.diary.models import PainRating
from prt.web.participants.models import Participant

SITE_CODE = "demo"
SITE_NAME = "Demo site (Boulder, simulated)"
SITE_TIMEZONE = "America/Denver"
PARTICIPANT_ID = "DEMO-0001"
HISTORY_DAYS = 30
HISTORY_SEED = 2022


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    #: Staff only: the TOTP secret (base32) to add to an authenticator app for the second factor.
    totp_secret: str | None = None


def username_for(role: str) -> str:
    return f"demo-{role}"


def create_demo() -> list[DemoLogin]:
    """Create or refresh the demo site, its logins (one per role) and the participant's history."""
    others = list(Site.objects.exclude(code=SITE_CODE).values_list("code", flat=True)[:5])
    if others:
        raise InputError(f"database: holds trial sites ({', '.join(others)}); the demo runs only on an "
                         f"empty or demo database (set PRT_DATA_DIR or DATABASE_URL to another one)")
    logins = []
    with transaction.atomic():
        site, _ = Site.objects.get_or_create(code=SITE_CODE, defaults={"name": SITE_NAME, "timezone": SITE_TIMEZONE})
        for role in ROLES:
            user, _ = User.objects.get_or_create(username=username_for(role))
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.is_staff = user.is_superuser = role == "admin"
            user.save()
            Membership.objects.get_or_create(user=user, site=site, role=role)
            logins.append(DemoLogin(role, user.username, password, _demo_device(user)))
        participant, created = Participant.objects.get_or_create(
            study_id=PARTICIPANT_ID,
            defaults={"site": site, "user": User.objects.get(username=username_for("participant")), "status": "enrolled"})
        if created:
            trail.record(None, "create", participant, trail.diff(None, trail.snapshot(participant)))
            _simulate_history(participant)
        from prt.web.enrolment.demo import create_people  # screened, enrolled, randomized, withdrawn

        create_people(site, User.objects.get(username=username_for("coordinator")))
    return logins


def _demo_device(user: User) -> str | None:
    """A new confirmed TOTP device for a staff login (its secret printed once, like the password): the
    demo passes the same second factor as a trial, with no switch that production could leave on."""
    from prt.web.accounts import twofactor

    if not twofactor.is_staff_user(user):
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=twofactor.DEVICE_NAME, confirmed=True)
    return twofactor.secret_base32(device)


def _simulate_history(participant: Participant) -> None:
    """``HISTORY_DAYS`` days up to yesterday: pain easing from about 7 to about 3, with noise."""
    rng = random.Random(HISTORY_SEED)
    lo, hi = scale.bounds()
    today = participant.site.today()
    now = timezone.now()
    for back in range(HISTORY_DAYS, 0, -1):
        if rng.random() < 0.1:
            continue  # a missed day, as real diaries have
        centre = 3 + 4 * back / HISTORY_DAYS
        rating = min(hi, max(lo, round(centre + rng.gauss(0, 1))))
        entry = PainRating.objects.create(participant=participant, day=today - timedelta(days=back),
                                          rating=rating, created_at=now, updated_at=now)
        trail.record(None, "create", entry, trail.diff(None, trail.snapshot(entry)), "demo data (simulated)")
