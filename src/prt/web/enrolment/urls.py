"""The coordinator's URLs (under /coordinator/): study ids (pseudonyms) and site codes only."""

from django.urls import path

from prt.web.enrolment import views

urlpatterns = [
    path("", views.home, name="coordinator-home"),
    path("sites/<slug:site_code>/screen/", views.screen, name="coordinator-screen"),
    path("people/<str:study_id>/", views.person, name="coordinator-person"),
    path("people/<str:study_id>/consent/", views.consent, name="coordinator-consent"),
    path("people/<str:study_id>/enrol/", views.enrol, name="coordinator-enrol"),
    path("people/<str:study_id>/randomize/", views.randomize, name="coordinator-randomize"),
    path("people/<str:study_id>/withdraw/", views.withdraw, name="coordinator-withdraw"),
    path("people/<str:study_id>/complete/", views.complete, name="coordinator-complete"),
]
