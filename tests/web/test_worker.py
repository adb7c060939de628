"""The background worker (prt.web.worker): queued jobs run, periodic jobs are enqueued.

Transactional tests: the real worker closes its connection after a task, which would end a test's
wrapping transaction on PostgreSQL."""

from __future__ import annotations

from django_tasks import task

PINGS: list[str] = []


@task()
def ping(word: str) -> str:
    PINGS.append(word)
    return word


def test_a_job_queued_before_the_worker_starts_runs_when_it_does(transactional_db, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from prt.web import worker

    PINGS.clear()
    ping.enqueue("queued while no worker ran")  # a row in the database: it survives any restart
    worker.run(periodic=False, batch=True)
    assert PINGS == ["queued while no worker ran"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_periodic_jobs_are_enqueued_from_their_dotted_paths(transactional_db, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from prt.web import worker

    monkeypatch.setattr(worker, "PERIODIC_TASKS", ("tests.web.test_worker.ping_once",))
    assert worker.enqueue_periodic() == 1
    assert DBTaskResult.objects.count() == 1
    PINGS.clear()
    worker.run(periodic=False, batch=True)
    assert PINGS == ["periodic"]


@task()
def ping_once() -> str:
    PINGS.append("periodic")
    return "periodic"
