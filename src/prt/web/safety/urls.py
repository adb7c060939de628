"""The adverse-event pages (under /coordinator/adverse-events/): event numbers and, in a query
string, site codes and study ids (pseudonyms) only; never a description."""

from django.urls import path

from prt.web.safety import views

urlpatterns = [
    path("", views.event_list, name="safety-list"),
    path("new/", views.record, name="safety-record"),
    path("<int:event_id>/", views.detail, name="safety-detail"),
    path("<int:event_id>/edit/", views.edit, name="safety-edit"),
]
