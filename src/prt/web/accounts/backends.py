"""The one authentication backend: Django's ModelBackend behind the login throttle.

Why a backend and not a view: every sign-in path (the login page, Django's admin login, a future
API token exchange) calls ``authenticate()``, so none can skip the throttle.

It also loads the signed-in user of every request (``get_user``) in one query with what nearly
every request then asks: the user's participant record and its site, and whether the user holds
a staff role (the second factor's question), by :func:`prt.web.accounts.loading.load_user`. Three
queries per request became one; the diary API is the platform's hottest path (docs/benchmarks.md,
"Web platform").
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from prt.web.accounts import loading, throttle

#: Attribute set on the request when a sign-in was refused by a lockout (the form says so).
LOCKED_ATTRIBUTE = "prt_login_locked_until"
#: Attribute of a user loaded by :meth:`ThrottledModelBackend.get_user`: holds a staff role now.
STAFF_ROLE_ATTRIBUTE = "prt_holds_staff_role"


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

    def get_user(self, user_id):
        from prt.web.accounts.twofactor import STAFF_ROLES

        found = loading.take(user_id) or loading.load_user(user_id, STAFF_ROLES)  # read with the session, else now
        if found is None:
            return None
        user, holds_staff_role = found
        setattr(user, STAFF_ROLE_ATTRIBUTE, holds_staff_role)
        return user if self.user_can_authenticate(user) else None
