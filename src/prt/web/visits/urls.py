"""The visit schedule's pages (under /coordinator/visits/): site codes and, in the links, study ids only."""

from django.urls import path

from prt.web.visits import views

urlpatterns = [
    path("", views.index, name="visits-home"),
    path("sites/<slug:site_code>/", views.site, name="visits-site"),
    path("sites/<slug:site_code>/visits.csv", views.site_csv, name="visits-csv"),
]
