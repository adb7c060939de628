"""Staff reach nothing but sign-in, sign-out and the second-factor page until they pass it.

A middleware, not a decorator per view, so no page or API operation (the admin's included, and
any added later) can forget it (issue 13; OWASP ASVS 4.0, 2.7). Pages redirect to the second-factor
page; the API answers 403 with a JSON message. Participants are never asked (accounts/twofactor.py).
"""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from prt.web.accounts import twofactor

#: Paths an unverified staff user may reach (prefixes), besides the second-factor page itself.
OPEN_PATHS = ("/login/", "/logout/", "/healthz", "/static/", "/api/openapi.json")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        page = reverse("two-factor")
        if (path.startswith(OPEN_PATHS) or path.startswith(page) or not request.user.is_authenticated
                or twofactor.is_verified(request) or not twofactor.is_staff_user(request.user)):
            return self.get_response(request)
        if path.startswith("/api/"):
            return JsonResponse({"detail": f"second factor required: enter your authenticator code at {page}"},
                                status=403)
        target = page
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({"next": path})
        return redirect(target)
