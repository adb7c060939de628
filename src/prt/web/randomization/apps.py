from django.apps import AppConfig


class RandomizationConfig(AppConfig):
    name = "prt.web.randomization"
    label = "randomization"
    verbose_name = "Randomization"
