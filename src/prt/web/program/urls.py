"""The program app's pages (under /program/): component and item ids, study ids (pseudonyms),
session numbers and site codes only; every free text travels in POST bodies."""

from django.urls import path

from prt.web.program import fidelity_views, staff_views, views

urlpatterns = [
    # the participant (their own arm's content) and, for staff, the hub of their program pages
    path("", views.home, name="program-home"),
    path("material/<slug:component_id>/", views.material, name="program-material"),
    path("items/<slug:item_id>/", views.arm_item, name="program-item"),
    path("tracking/", views.tracking, name="program-tracking"),
    path("practice/", views.practice, name="program-practice"),
    path("evidence/", views.evidence, name="program-evidence"),
    path("exposure/", views.exposure, name="program-exposure"),
    path("exposure/attempts/", views.exposure_attempt, name="program-exposure-attempt"),
    path("progress/", views.progress, name="program-progress"),
    # the therapist (their own caseload)
    path("therapist/", staff_views.caseload, name="program-therapist"),
    path("therapist/patients/<str:study_id>/", staff_views.patient, name="program-therapist-patient"),
    path("therapist/patients/<str:study_id>/sessions/<int:session_number>/", staff_views.session,
         name="program-therapist-session"),
    path("therapist/patients/<str:study_id>/sessions/<int:session_number>/schedule/", staff_views.reschedule,
         name="program-therapist-reschedule"),
    # the physician
    path("physician/", staff_views.physician_list, name="program-physician"),
    path("physician/patients/<str:study_id>/", staff_views.evaluation, name="program-physician-evaluation"),
    # the fidelity rater
    path("fidelity/", fidelity_views.home, name="program-fidelity"),
    path("fidelity/sites/<slug:site_code>/draw/", fidelity_views.draw, name="program-fidelity-draw-new"),
    path("fidelity/draws/<int:draw_id>/", fidelity_views.draw_log, name="program-fidelity-draw"),
    path("fidelity/sessions/<str:study_id>/<int:session_number>/", fidelity_views.rate,
         name="program-fidelity-rate"),
    path("fidelity/report/", fidelity_views.report, name="program-fidelity-report"),
    # the coordinator (caseload assignment) and the analyst (the REDCap export)
    path("caseload/", staff_views.caseload_assignments, name="program-caseload"),
    path("caseload/<str:study_id>/", staff_views.assign, name="program-caseload-assign"),
    path("exports/", staff_views.exports, name="program-exports"),
    path("exports/redcap.zip", staff_views.export_download, name="program-export-download"),
]
