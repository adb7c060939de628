from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "prt.web.questionnaires"
    label = "questionnaires"
    verbose_name = "Questionnaires"
