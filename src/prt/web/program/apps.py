from django.apps import AppConfig


class ProgramConfig(AppConfig):
    name = "prt.web.program"
    label = "program"
    verbose_name = "PRT program delivery"
