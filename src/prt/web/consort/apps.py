from django.apps import AppConfig


class ConsortConfig(AppConfig):
    name = "prt.web.consort"
    label = "consort"
    verbose_name = "CONSORT flow"
