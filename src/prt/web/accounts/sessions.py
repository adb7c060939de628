"""Django's database sessions, their one read on every request written once per database.

The same table, rows, expiry and behaviour as ``django.contrib.sessions.backends.db`` (this store
subclasses it and changes one method); only the lookup is a statement written from the model's
metadata instead of a query compiled on every request (docs/benchmarks.md, "Web platform";
:mod:`prt.web.sqlrows`). Sessions stay on the server, so signing out or a password change ends
them at once (OWASP ASVS 4.0, 3.3). tests/web/accounts/test_sessions.py compares it with Django's.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from prt.web.sqlrows import Columns


@lru_cache(maxsize=8)
def _plan(using: str) -> tuple[Columns, str]:
    connection = connections[using]
    q = connection.ops.quote_name
    columns = Columns.of(Session, "s", connection)
    sql = (f"SELECT {', '.join(columns.selected)} FROM {q(Session._meta.db_table)} s "
           f"WHERE s.{q(Session._meta.pk.column)} = %s AND s.{q(Session._meta.get_field('expire_date').column)} > %s")
    return columns, sql


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        """The unexpired row of this session key, or None (and the key forgotten, as Django does)."""
        using = router.db_for_read(self.model)
        connection = connections[using]
        columns, sql = _plan(using)
        expiry = Session._meta.get_field("expire_date").get_db_prep_value(timezone.now(), connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, expiry])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return columns.instance(row, using, connection)
