"""The reminder pages (under /coordinator/reminders/): study ids only, never an address, in a URL.

The participant's own page (their opt-out) is ``/reminders/`` (prt/web/urls.py); these are the coordinators'.
"""

from django.urls import path

from prt.web.reminders import views

urlpatterns = [
    path("", views.index, name="reminders-home"),
    path("people/<str:study_id>/", views.person, name="reminders-person"),
]
