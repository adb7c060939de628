"""The pain-attribution pages (under /attributions/): study ids (pseudonyms) and code numbers only;
an answer's words and a coder's reason travel in POST bodies."""

from django.urls import path

from prt.web.attributions import views

urlpatterns = [
    path("therapist/patients/<str:study_id>/", views.patient, name="attributions-patient"),
    path("review/", views.queue, name="attributions-queue"),
    path("review/<int:code_id>/", views.review, name="attributions-review"),
]
