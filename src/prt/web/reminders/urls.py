"""The reminder pages (under /coordinator/reminders/): study ids only, never an address, in a URL.

``me/`` is the participant's own page (their opt-out); the rest are the coordinators'.
"""

from django.urls import path

from prt.web.reminders import views

urlpatterns = [
    path("", views.index, name="reminders-home"),
    path("people/<str:study_id>/", views.person, name="reminders-person"),
    path("me/", views.me, name="reminders-me"),
]
