"""Sign-in and sign-out pages (Django's views with the throttled form) and the staff second factor."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views import View

from prt.web.accounts import twofactor
from prt.web.accounts.forms import SignInForm


class SignInView(auth_views.LoginView):
    """The login page; a locked username answers 429 Too Many Requests (RFC 6585)."""

    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked:
            response.status_code = 429
        return response


class TwoFactorView(View):
    """Enrol an authenticator app (first time) or enter its code, after the password (staff only)."""

    template_name = "accounts/two_factor.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not twofactor.is_staff_user(request.user):
            raise PermissionDenied("participants do not use a second factor")
        return super().dispatch(request, *args, **kwargs)

    def _next(self, request) -> str:
        target = request.POST.get("next") or request.GET.get("next") or ""
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                      require_https=request.is_secure()):
            return target
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def _render(self, request, *, error: str = "", status: int = 200):
        device = twofactor.confirmed_device(request.user)
        context = {"next": self._next(request), "error": error, "enrolling": device is None}
        if device is None:
            device = twofactor.enrolment_device(request.user)
            uri = device.config_url
            context.update(qr_svg=mark_safe(twofactor.qr_svg(uri)),  # segno's SVG: no user input but the URI
                           secret=twofactor.secret_base32(device), otpauth_uri=uri)
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        if twofactor.is_verified(request):
            return redirect(self._next(request))
        return self._render(request)

    def post(self, request):
        if twofactor.is_verified(request):
            return redirect(self._next(request))
        device = twofactor.confirmed_device(request.user) or twofactor.enrolment_device(request.user)
        result = twofactor.verify(request, device, request.POST.get("code", ""))
        if result.outcome == "verified":
            return redirect(self._next(request))
        if result.outcome == "throttled":
            wait = "" if result.retry_at is None else f" after {timezone.localtime(result.retry_at):%H:%M:%S}"
            response = self._render(request, error=f"Too many wrong codes: try again{wait}.", status=429)
            if result.retry_at is not None:
                response["Retry-After"] = str(max(1, int((result.retry_at - timezone.now()).total_seconds() + 0.999)))
            return response
        return self._render(request, error="That code is not right: enter the 6 digits your app shows now.",
                            status=400)
