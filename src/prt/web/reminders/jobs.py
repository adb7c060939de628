"""The reminders as a background job (Django's task framework, django-tasks with the database
backend, as the analysis run: docs/web.md says why). The worker enqueues it periodically
(``prt.web.worker.PERIODIC_TASKS``); each run is idempotent (services.py), so an hourly worker, two
workers or a restart never send a reminder twice."""

from __future__ import annotations

from django_tasks import task

from prt.web.reminders.services import send_reminders


def run(on: str = "") -> dict:
    """One run: ``on`` an ISO date (every site's reminders for that day) or empty (today, per site)."""
    from prt.trial.schedule import iso_date

    return send_reminders(iso_date(on, "on") if on else None).summary()


@task()
def reminders_job(on: str = "") -> dict:
    """The task the worker runs: a summary of counts (no study ids, no addresses) is its result."""
    return run(on)
