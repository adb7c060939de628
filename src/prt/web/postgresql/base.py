"""Django's PostgreSQL backend (``ENGINE = "prt.web.postgresql"``): its per-request health check
cheaper, and the hot path's hand-written statements prepared on the server.

Health check. Why: with ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request
that reuses a connection: a round trip to the server for each request, one in ten of a diary
submission's (docs/benchmarks.md, "Web platform"). A connection the server has closed (a restart,
``pg_terminate_backend``, an idle timeout) has its termination message or end of file waiting on
its socket, and an idle connection that is well has nothing there (this platform does not LISTEN).
So: when the socket has nothing to read and libpq reports the connection OK and idle, it is
usable; anything else gets Django's own ``SELECT 1`` check, and a connection that fails it is
closed and opened anew, as before. A connection that dies silently (a network cut without a
reset) is not seen by either check until a query times out.

Prepared statements (:meth:`DatabaseWrapper.prepared_cursor`). Why: PostgreSQL plans every
statement Django sends (client-side binding, nothing prepared), and for the session-with-its-user
read that every request makes (a join of five tables) planning cost three times what running it
did: 0.37-0.45 ms of the server's CPU unprepared, 0.11 ms prepared (docs/benchmarks.md, "Web
platform"). The statements written once per database for the hot path (``prt.web.sqlrows``) go
through a cursor with server-side binding whose statements psycopg prepares on first use, once per
connection; every other query is Django's, unprepared, as before. A transaction-mode connection
pooler older than PgBouncer 1.21 does not keep prepared statements: ``DATABASE_URL`` option
``prepared=off`` turns them off (the statements are then bound on the server, unprepared).
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base, operations
from django.utils.asyncio import async_unsafe

from prt.web.config import PREPARED_OPTION


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


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        """A prepared cursor's statement with its values, as Django shows a statement bound on the
        server (its debug log and ``CaptureQueriesContext`` read it)."""
        if isinstance(cursor, base.ServerBindingCursor):
            from psycopg import errors

            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and not self.pool and quiet(self.connection)):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def get_connection_params(self):
        params = super().get_connection_params()
        prepared = params.pop(PREPARED_OPTION, "on") != "off"
        # 0: a statement of prepared_cursor() is prepared the first time it runs. Django's own
        # cursors bind on the client and are never prepared, whatever this threshold.
        params["prepare_threshold"] = 0 if prepared else None
        return params

    @async_unsafe
    def prepared_cursor(self):
        """A cursor (Django's wrapper: logged, errors translated) whose statements are bound and, unless
        ``prepared=off``, prepared on the server once per connection: for statements written once and
        run on every request (``prt.web.sqlrows.cursor``), not for SQL that varies."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = base.ServerBindingCursor(self.connection)
            # As Django's create_cursor: the connection's time zone for timestamptz values read.
            loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
            if self.timezone != loader.timezone:
                base.register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)
