"""The live CONSORT pages (under /coordinator/consort/): site codes only."""

from django.urls import path

from prt.web.consort import views

urlpatterns = [
    path("", views.flow, name="consort"),
    path("consort.svg", views.diagram, name="consort-svg"),
    path("consort.json", views.counts, name="consort-json"),
    path("sites/<slug:site_code>/", views.flow, name="consort-site"),
    path("sites/<slug:site_code>/consort.svg", views.diagram, name="consort-site-svg"),
    path("sites/<slug:site_code>/consort.json", views.counts, name="consort-site-json"),
]
