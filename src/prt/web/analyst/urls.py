"""The analyst's URLs (under /analyst/): export formats and run ids only, no patient data."""

from django.urls import path

from prt.web.analyst import views

urlpatterns = [
    path("", views.home, name="analyst-home"),
    path("exports/<slug:export_format>/", views.export, name="analyst-export"),
    path("runs/", views.start, name="analyst-runs"),
    path("runs/<uuid:run_id>/", views.run_page, name="analyst-run"),
    path("runs/<uuid:run_id>/report.html", views.run_report, name="analyst-run-report"),
    path("runs/<uuid:run_id>/results.json", views.run_results, name="analyst-run-results"),
]
