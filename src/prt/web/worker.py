"""The background worker: Django's task framework (django-tasks, database backend) plus the
platform's periodic jobs.

``prt web worker`` runs it; ``prt serve`` starts one beside the web workers (prt.web.server) unless told
not to (``--no-worker``, for deployments that run workers on their own machines). Jobs are rows in
the trial's database, so a job enqueued before a restart of the web or the worker still runs after
it. Periodic jobs (e-mail reminders) are enqueued at start and then every ``PERIOD_SECONDS``; each
is idempotent (a reminder is logged once per participant and day), so two workers or a restart
never send twice.
"""

from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger("prt.web.worker")

#: Dotted paths of django-tasks ``Task`` objects enqueued periodically (each idempotent).
PERIODIC_TASKS: tuple[str, ...] = ("prt.web.reminders.jobs.reminders_job",)
#: How often the periodic jobs are enqueued.
PERIOD_SECONDS = 3600


def periodic_tasks():
    """The periodic ``Task`` objects, imported from ``PERIODIC_TASKS``."""
    tasks = []
    for dotted in PERIODIC_TASKS:
        module, _, name = dotted.rpartition(".")
        tasks.append(getattr(importlib.import_module(module), name))
    return tasks


def enqueue_periodic() -> int:
    """Enqueue each periodic job once; returns how many were enqueued."""
    count = 0
    for task in periodic_tasks():
        task.enqueue()
        count += 1
    return count


def _periodic_loop(stop: threading.Event) -> None:
    from django.db import close_old_connections

    while not stop.is_set():
        try:
            enqueue_periodic()
        except Exception:  # noqa: BLE001 - a database outage must not stop the worker; retried next period
            log.exception("could not enqueue the periodic jobs; retrying in %s s", PERIOD_SECONDS)
        finally:
            close_old_connections()
        stop.wait(PERIOD_SECONDS)


def run(*, periodic: bool = True, batch: bool = False) -> None:
    """Run django-tasks-db's worker in this process (Django set up by the caller); with ``periodic``
    a thread enqueues the periodic jobs; ``batch`` processes what is queued, then returns."""
    from django.core.management import call_command

    stop = threading.Event()
    if periodic:
        if batch:
            enqueue_periodic()
        else:
            threading.Thread(target=_periodic_loop, args=(stop,), name="prt-periodic", daemon=True).start()
    try:
        if batch:
            call_command("db_worker", batch=True, no_startup_delay=True, interval=0)
        else:
            call_command("db_worker", reload=False)
    finally:
        stop.set()
