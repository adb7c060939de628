"""The SQLite writers' queue (diary/writers.py) and the submission's queries (no sorting, no joins
where one row is looked up): what the throughput benchmark needed (docs/benchmarks.md), asserted
as behaviour, never timed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import pytest

from prt.web.diary import writers


@pytest.fixture
def queue_file(tmp_path, monkeypatch):
    """Pretend the database is a SQLite file (the tests' one is in memory): queue on a temp file."""
    path = str(tmp_path / "prt.sqlite3") + writers.LOCK_SUFFIX
    monkeypatch.setattr(writers, "lock_path", lambda using="default": path)
    return path


def test_there_is_nothing_to_queue_on_for_an_in_memory_database(db):
    assert writers.lock_path() is None
    with writers.one_writer():  # a no-op, and re-entrant
        with writers.one_writer():
            pass


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_waits_until_the_first_is_done(queue_file):
    order, first_in = [], threading.Event()

    def writer(name, hold):
        with writers.one_writer():
            order.append(f"{name} in")
            first_in.set()
            time.sleep(hold)
            order.append(f"{name} out")

    first = threading.Thread(target=writer, args=("first", 0.3))
    first.start()
    assert first_in.wait(5)
    second = threading.Thread(target=writer, args=("second", 0))
    second.start()
    first.join()
    second.join()
    assert order == ["first in", "first out", "second in", "second out"]


@pytest.mark.django_db(transaction=True)
def test_the_queue_is_released_when_the_writer_raises(queue_file):
    with pytest.raises(ZeroDivisionError):
        with writers.one_writer():
            1 / 0
    done = threading.Event()
    thread = threading.Thread(target=lambda: (writers.one_writer().__enter__(), done.set()))
    thread.start()
    assert done.wait(5)  # not blocked by the writer that failed
    thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_killed_writer_never_blocks_the_queue(queue_file):
    """flock(2) locks die with their process: a worker killed mid-transaction leaves no stale lock."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"), queue_file],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        entered = threading.Event()
        thread = threading.Thread(target=lambda: (writers.one_writer().__enter__(), entered.set()))
        thread.start()
        assert not entered.wait(0.3)  # queued behind the other process
        holder.kill()
        assert entered.wait(5)
        thread.join()
    finally:
        holder.kill()
        holder.wait()


def test_inside_an_open_transaction_nothing_is_queued(db, queue_file):
    """A transaction already open holds SQLite's lock: waiting for the file there could deadlock."""
    import fcntl
    import os

    fd = os.open(queue_file, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer holds the queue
    try:
        with writers.one_writer():  # the test's own transaction is open: passes straight through
            pass
    finally:
        os.close(fd)


def test_a_submission_looks_rows_up_by_key_in_few_statements(world):
    """``.first()`` sorted by PainRating's default ordering (participant, then site code): a join of
    three tables for one row. Each lookup is now by key, unsorted; the site and the day's entry come
    with the lock; the client UUID is not looked up first (its receipt's primary key refuses a
    retry). On PostgreSQL a day's first rating is one statement (its entry's id drawn ahead, 32 at
    a time), which a change tries first and then takes the lock's path, where the audit event goes
    with the receipt in one statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from prt.web.diary import services, statements

    actor = world.users["participant_a"]
    statements.ENTRY_IDS.forget()  # the first submission draws 32 ids
    postgresql = connection.vendor == "postgresql"
    expected = ({"created": 2, "changed": 4, "unchanged": 3} if postgresql
                else {"created": 4, "changed": 4, "unchanged": 2})
    for rating, outcome in ((4, "created"), (6, "changed"), (6, "unchanged")):
        with CaptureQueriesContext(connection) as queries:
            submitted = services.submit_rating(world.a, client_uuid=uuid.uuid4(), day=world.a.site.today(),
                                               rating=rating, actor=actor)
        assert submitted.outcome == outcome
        sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
        assert not [s for s in sql if "ORDER BY" in s]
        # the participant's row with their site, except a first rating's one statement
        assert len([s for s in sql if "accounts_site" in s]) == (0 if postgresql and outcome == "created" else 1)
        assert len(sql) == expected[outcome], sql


def test_a_checkpoint_runs_at_most_once_per_interval_per_process(db, monkeypatch):
    """writers.checkpoint copies the log after the queue is released, throttled: each one ends with
    an fsync of the database file."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        with CaptureQueriesContext(connection) as queries:
            writers.checkpoint()  # PostgreSQL has no write-ahead log of SQLite's kind: nothing to do
        assert not queries.captured_queries
        return
    ticks = iter([100.0, 100.1, 100.1 + writers.CHECKPOINT_INTERVAL])
    monkeypatch.setattr(writers, "_clock", lambda: next(ticks))
    monkeypatch.setattr(writers._local, "checkpointed_at", float("-inf"), raising=False)
    ran = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            writers.checkpoint()
        ran.append([q["sql"] for q in queries.captured_queries])
    assert ran == [["PRAGMA wal_checkpoint(PASSIVE)"], [], ["PRAGMA wal_checkpoint(PASSIVE)"]]
