from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "prt.web.participants"
    label = "participants"
    verbose_name = "Participants"
