"""Django's PostgreSQL backend (``ENGINE = "prt.web.postgresql"``), its per-request health check cheaper.

Why: with ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request
that reuses a connection: a round trip to the server for each request, one in ten of a diary
submission's (docs/benchmarks.md, "Web platform"). A connection the server has closed (a restart,
``pg_terminate_backend``, an idle timeout) has its termination message or end of file waiting on
its socket, and an idle connection that is well has nothing there (this platform does not LISTEN).
So: when the socket has nothing to read and libpq reports the connection OK and idle, it is
usable; anything else gets Django's own ``SELECT 1`` check, and a connection that fails it is
closed and opened anew, as before. A connection that dies silently (a network cut without a
reset) is not seen by either check until a query times out.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


def quiet(connection) -> bool:
    """Whether the psycopg ``connection`` is open, idle, and has nothing waiting on its socket."""
    import psycopg

    try:
        if connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != psycopg.pq.ConnStatus.OK or \
                pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return False
        readable, _, failed = select.select([pgconn.socket], [], [pgconn.socket], 0)
    except (psycopg.Error, OSError, ValueError):
        return False
    return not readable and not failed


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and not self.pool and quiet(self.connection)):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
