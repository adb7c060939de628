"""``prt web manage remind [--date YYYY-MM-DD] [--dry-run]``: send the questionnaire reminders (for cron).

Without ``--date`` each site is served for its own today once its local time reaches
``PRT_REMINDER_HOUR``; with it, every site for that day. ``--dry-run`` lists who would get one and
what it lists (study ids and counts only), and sends and writes nothing. Rerunning the same day
sends nothing twice (reminders/services.py).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from prt.errors import InputError
from prt.trial.schedule import iso_date
from prt.web.reminders.services import send_reminders


class Command(BaseCommand):
    help = "Send e-mail reminders for due and overdue questionnaires (idempotent: once per participant and day)."

    def add_arguments(self, parser):
        parser.add_argument("--date", default="",
                            help="the day to remind for (YYYY-MM-DD); default: today at each site")
        parser.add_argument("--dry-run", action="store_true", help="list what would be sent; send and write nothing")

    def handle(self, *args, date="", dry_run=False, **options):
        try:
            on = iso_date(date, "--date") if date else None
        except InputError as exc:
            raise CommandError(str(exc)) from None
        outcome = send_reminders(on, dry_run=dry_run)
        for code in outcome.waiting:
            self.stdout.write(f"{code}: not yet the reminder hour at the site; nothing sent there")
        if dry_run:
            for planned in outcome.planned:
                what = "; ".join(f"{i.event} {i.kind}: {len(i.instruments)} questionnaire(s)" for i in planned.items)
                self.stdout.write(f"would remind {planned.participant.study_id} ({planned.day.isoformat()}): {what}")
            self.stdout.write(f"dry run: {len(outcome.planned)} reminder(s) would be sent, "
                              f"{len(outcome.already)} already sent for the day")
            return
        self.stdout.write(f"{len(outcome.sent)} reminder(s) sent, "
                          f"{len(outcome.failed)} failed (retried on the next run), "
                          f"{len(outcome.already)} already sent for the day")
        if outcome.failed:  # the batch went on; the exit status tells cron something failed
            raise CommandError(f"not sent: {', '.join(outcome.failed)}")
