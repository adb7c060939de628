from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "prt.web.reminders"
    label = "reminders"
    verbose_name = "Questionnaire reminders"
