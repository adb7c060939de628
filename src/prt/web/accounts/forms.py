"""Sign-in forms that say when a username is locked (accounts/throttle.py) instead of "wrong password"."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from prt.web.accounts.backends import LOCKED_ATTRIBUTE


class _LockoutMessage:
    def get_invalid_login_error(self):
        until = getattr(self.request, LOCKED_ATTRIBUTE, None)
        if until is None:
            return super().get_invalid_login_error()
        minutes = max(1, -(-int((until - timezone.now()).total_seconds()) // 60))
        return forms.ValidationError(
            "Too many failed sign-in attempts for this username. Try again in %(minutes)d minute(s).",
            code="locked", params={"minutes": minutes})

    @property
    def locked(self) -> bool:
        return any(e.code == "locked" for e in self.errors.as_data().get("__all__", []))


class SignInForm(_LockoutMessage, AuthenticationForm):
    pass


class AdminSignInForm(_LockoutMessage, AdminAuthenticationForm):
    pass
