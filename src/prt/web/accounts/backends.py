"""The one authentication backend: Django's ModelBackend behind the login throttle.

Why a backend and not a view: every sign-in path (the login page, Django's admin login, a future
API token exchange) calls ``authenticate()``, so none can skip the throttle.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from prt.web.accounts import throttle

#: Attribute set on the request when a sign-in was refused by a lockout (the form says so).
LOCKED_ATTRIBUTE = "prt_login_locked_until"


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        until = throttle.locked_until(username)
        if until is not None:
            if request is not None:
                setattr(request, LOCKED_ATTRIBUTE, until)
            raise PermissionDenied("locked")  # no other backend is tried, the password is not checked
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            until = throttle.record_failure(username)
            if until is not None and request is not None:
                setattr(request, LOCKED_ATTRIBUTE, until)
        else:
            throttle.record_success(username)
        return user
