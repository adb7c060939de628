from django.apps import AppConfig


class EnrolmentConfig(AppConfig):
    name = "prt.web.enrolment"
    label = "enrolment"
    verbose_name = "Screening and enrolment"
