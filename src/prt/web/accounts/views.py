"""Sign-in and sign-out pages (Django's views with the throttled form)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

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
