"""The demo trial (``prt web demo``, ``make run``): a site, one login per role, and people in every
arm and every state (demo_trial.py: randomized, mid-schedule, completed, withdrawn; enrolment/demo.py:
screened, ineligible, enrolled).

Run again, it resets the demo logins' passwords and keeps what is there (it never duplicates).
It refuses a database that holds any other site: a trial's database never gets demo logins.
Passwords are random each run (printed once); the people's histories are simulated with a fixed
seed through the platform's own services and written with their audit events, like any other entry.
The participant login belongs to a PRT participant whose post-treatment questionnaires are due.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from prt.errors import InputError
from prt.web.accounts.models import ROLES, Membership, Site, User

SITE_CODE = "demo"
SITE_NAME = "Demo site (Boulder, simulated)"
SITE_TIMEZONE = "America/Denver"


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
        from prt.web import demo_trial
        from prt.web.enrolment.demo import create_people  # screened, ineligible, enrolled, randomized today

        coordinator = User.objects.get(username=username_for("coordinator"))
        demo_trial.build(site, coordinator, User.objects.get(username=username_for("participant")))
        create_people(site, coordinator)
        from prt.web.program.demo import build as deliver_program  # caseload, sessions, practice, fidelity

        deliver_program(site)
        from prt.web.attributions.demo import build as code_attributions  # coded answers, a coder's reviews

        code_attributions(site)
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
