from django.apps import AppConfig


class DiaryConfig(AppConfig):
    name = "prt.web.diary"
    label = "diary"
    verbose_name = "Daily pain diary"
