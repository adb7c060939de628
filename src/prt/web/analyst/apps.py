from django.apps import AppConfig


class AnalystConfig(AppConfig):
    name = "prt.web.analyst"
    label = "analyst"
    verbose_name = "Analysis and exports"
