from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "prt.web.visits"
    label = "visits"
    verbose_name = "Visit schedule"
