"""``prt web manage code_attributions``: code the causal-item submissions that have no codes yet
(submitted before the attributions app was installed); answers are coded on submission otherwise."""

from django.core.management.base import BaseCommand

from prt.web.attributions import services


class Command(BaseCommand):
    help = "Code the pain-attribution answers (IPQ-R causal item) that have no codes yet."

    def handle(self, *args, **options):
        count = services.code_uncoded()
        self.stdout.write(f"{count} answer{'' if count == 1 else 's'} coded")
