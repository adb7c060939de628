"""/questionnaires/: the list, one item per screen, the review (study events and item numbers only)."""

from django.urls import path

from prt.web.questionnaires import views

urlpatterns = [
    path("", views.index, name="questionnaires"),
    path("<slug:event>/<slug:instrument>/", views.item, name="questionnaire-item"),
    path("<slug:event>/<slug:instrument>/review/", views.review, name="questionnaire-review"),
]
