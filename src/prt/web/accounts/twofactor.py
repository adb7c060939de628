"""The staff second factor: TOTP (RFC 6238) devices of django-otp, enrolled and verified here.

Why staff only: staff see identified data of whole sites and randomize, so a stolen password must not
be enough (issue 13; OWASP ASVS 4.0, 2.7 and 2.8); participants see only themselves and sign in on
their own phone. Staff are users holding any role but ``participant`` at some site, or Django's
``is_staff``/``is_superuser`` (the admin). Wrong codes are throttled by django-otp's exponential
back-off (1, 2, 4, 8 ... seconds after successive failures, ``OTP_TOTP_THROTTLE_FACTOR``); a code
is accepted once only (a replayed code fails: django-otp keeps the last time step used).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import segno
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from prt.web.accounts.backends import STAFF_ROLE_ATTRIBUTE
from prt.web.accounts.models import ROLES

#: The roles that need a second factor: every role but the participant's.
STAFF_ROLES = tuple(r for r in ROLES if r != "participant")
#: The name of the one device each staff user has (shown in the admin).
DEVICE_NAME = "Authenticator app"


def is_staff_user(user) -> bool:
    """Whether ``user`` must pass the second factor: a staff role anywhere, or Django admin access."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    loaded = getattr(user, STAFF_ROLE_ATTRIBUTE, None)  # a request's user comes with it (backends.get_user)
    return bool(user.has_role(*STAFF_ROLES) if loaded is None else loaded)


def is_verified(request) -> bool:
    """Whether this session passed the second factor (django-otp's middleware sets ``is_verified``)."""
    check = getattr(request.user, "is_verified", None)
    return bool(check and check())


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def enrolment_device(user) -> TOTPDevice:
    """The unconfirmed device being enrolled (kept across page loads, so a scanned code stays valid)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_base32(device: TOTPDevice) -> str:
    """The shared secret as an authenticator app's manual entry wants it (RFC 4648 base32, no padding)."""
    from base64 import b32encode

    return b32encode(device.bin_key).decode("ascii").rstrip("=")


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code drawn on the server (no script, no inline style: CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff",
                                                 title="QR code of your authenticator secret")


@dataclass(frozen=True)
class Verification:
    """The outcome of one code: ``verified``, ``wrong`` or ``throttled`` (with when to try again)."""

    outcome: str
    retry_at: datetime | None = None


def verify(request, device: TOTPDevice, code: str) -> Verification:
    """Check ``code`` against ``device``; on success confirm the device and mark the session verified."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return Verification("throttled", (info or {}).get("locked_until"))
    code = code.strip().replace(" ", "")
    if not (len(code) == device.digits and code.isascii() and code.isdigit()) or not device.verify_token(code):
        if len(code) != device.digits or not code.isdigit():
            device.throttle_increment(commit=True)  # malformed codes count as failures too
        return Verification("wrong")
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    otp_login(request, device)
    return Verification("verified")


def mark_verified(session, device: TOTPDevice) -> None:
    """Mark a session verified with ``device`` (tests and the demo's client helpers)."""
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
