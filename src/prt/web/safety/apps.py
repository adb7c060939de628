from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "prt.web.safety"
    label = "safety"
    verbose_name = "Adverse events"
