from django.apps import AppConfig


class AttributionsConfig(AppConfig):
    name = "prt.web.attributions"
    label = "attributions"
    verbose_name = "Pain attributions"

    def ready(self) -> None:
        from prt.web.attributions import checks  # noqa: F401 (registers the model-file check)
