"""SQLite's one writer at a time, queued in the kernel instead of in SQLite's sleep-and-retry loop.

Why: SQLite lets one transaction write at a time. A second ``BEGIN IMMEDIATE`` waits in SQLite's
busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms between tries
(``sqliteDefaultBusyCallback`` in sqlite3.c; sqlite.org/c3ref/busy_timeout.html) and gives the
lock to whichever process happens to try when it is free, so an unlucky writer can lose for a
second or more. Five processes submitting ratings on two busy cores (``benchmarks/bench_web_diary.py
--writer-queue``): the slowest 1% took 108-133 ms with the busy handler and 17-39 ms queued here,
the slowest of all 0.25-0.94 s against 37-104 ms (docs/benchmarks.md, "Web platform").
Holding an exclusive ``flock(2)`` on a file beside the database around the write transaction makes
the writers wait in the kernel and wake the moment the previous one is done.

It changes no guarantee: the transaction is still ``BEGIN IMMEDIATE`` with ``synchronous=FULL``;
the lock is released by the kernel if a process dies. It does nothing on PostgreSQL (row locks
serialize there), for an in-memory database (the tests), or inside a transaction already open
(its writer already holds SQLite's lock, and waiting for the file there could deadlock).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from django.db import DEFAULT_DB_ALIAS, connections

#: Seconds between one process's checkpoints (:func:`checkpoint`).
CHECKPOINT_INTERVAL = 0.25
_clock = time.monotonic
#: Appended to the database file's name: the file the writers queue on (empty, mode 0600).
LOCK_SUFFIX = ".writer-lock"

_local = threading.local()  # one descriptor per thread: flock excludes between open files, not threads


def lock_path(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The queue file of database ``using``, or None when there is nothing to queue on."""
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    return str(connection.settings_dict["NAME"]) + LOCK_SUFFIX


def _descriptor(path: str) -> int:
    fds = getattr(_local, "fds", None)
    if fds is None:
        fds = _local.fds = {}
    if path not in fds:
        fds[path] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return fds[path]


@contextmanager
def one_writer(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Wrap a write transaction: on a SQLite file, wait (in the kernel) until no other writer that
    uses this queue is in its transaction; elsewhere, nothing."""
    path = None if connections[using].in_atomic_block else lock_path(using)
    if path is None:
        yield
        return
    fd = _descriptor(path)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
    checkpoint(using)


def checkpoint(using: str = DEFAULT_DB_ALIAS) -> None:
    """Copy the write-ahead log's new pages into the database, after the queue is released.

    Why here: SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 log pages, so
    it ran while this queue was held and every other writer waited for it: the slowest submissions
    of a 300-per-second load took 300 ms (docs/benchmarks.md, "Web platform"). A PASSIVE checkpoint
    blocks no reader or writer (sqlite.org/c3ref/wal_checkpoint_v2.html) and, run after each
    queued transaction, leaves the automatic one little to copy. At most one per process every
    ``CHECKPOINT_INTERVAL`` seconds: each ends with an fsync of the database file. Another
    checkpoint under way is not an error: this one is skipped.
    """
    from django.db import OperationalError

    if connections[using].vendor != "sqlite":
        return
    now = _clock()
    if now - getattr(_local, "checkpointed_at", float("-inf")) < CHECKPOINT_INTERVAL:
        return
    _local.checkpointed_at = now
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except OperationalError:  # "database is locked": another process is checkpointing
        pass
