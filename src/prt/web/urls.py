"""URLs of the platform. No patient data in a URL: study ids (pseudonyms) and dates at most."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from prt.web import views
from prt.web.accounts.views import SignInView, TwoFactorView
from prt.web.analyst import views as analyst_views
from prt.web.api import api
from prt.web.diary import views as diary_views
from prt.web.reminders import views as reminders_views

urlpatterns = [
    path("", diary_views.home, name="home"),
    path("api/", api.urls),  # early: the diary API is the busiest path, and Django tries patterns in order
    path("diary/", diary_views.submit, name="diary-submit"),
    path("coordinator/visits/", include("prt.web.visits.urls")),
    path("coordinator/reminders/", include("prt.web.reminders.urls")),
    path("reminders/", reminders_views.me, name="reminders-me"),
    path("coordinator/adverse-events/", include("prt.web.safety.urls")),
    path("coordinator/consort/", include("prt.web.consort.urls")),
    path("coordinator/", include("prt.web.enrolment.urls")),
    path("questionnaires/", include("prt.web.questionnaires.urls")),
    path("program/", include("prt.web.program.urls")),
    path("attributions/", include("prt.web.attributions.urls")),
    path("analyst/", include("prt.web.analyst.urls")),
    path("audit/", analyst_views.audit_search, name="audit-search"),
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", TwoFactorView.as_view(), name="two-factor"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
