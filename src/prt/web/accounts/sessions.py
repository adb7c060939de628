"""Django's database sessions, their one read on every request written once per database, with the
signed-in user read in the same statement.

The same rows, expiry and behaviour as ``django.contrib.sessions.backends.db`` (this store
subclasses it), in the table of :class:`prt.web.accounts.models.Session`, which keeps the signed-in
user's id beside the data. The lookup is a statement written from the models' metadata instead of
a query compiled on every request, and it joins the user, their participant record, its site and
the staff-role flag (``accounts/loading.py``), which the authentication backend then takes instead
of a second statement: one round trip to the database fewer for every signed-in request
(docs/benchmarks.md, "Web platform"). Django's own checks are untouched: ``auth.get_user`` still
asks the backend for the id the session's data names (a user read with the row is taken only when
its id is that one) and still verifies the session's password hash. Sessions stay on the server,
so signing out or a password change ends them at once (OWASP ASVS 4.0, 3.3).
tests/web/accounts/test_sessions.py compares the store with Django's.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.signals import request_finished
from django.db import connections, router
from django.utils import timezone

from prt.web import sqlrows
from prt.web.accounts import loading
from prt.web.sqlrows import Columns

request_finished.connect(loading.forget, dispatch_uid="prt.web.accounts.loading.forget")


def _session_model():
    from prt.web.accounts.models import Session

    return Session


def _staff_roles() -> tuple[str, ...]:
    from prt.web.accounts.twofactor import STAFF_ROLES

    return tuple(STAFF_ROLES)


@lru_cache(maxsize=8)
def _plan(using: str) -> tuple[Columns, str]:
    connection = connections[using]
    q = connection.ops.quote_name
    session = _session_model()
    user_model = session.user.field.related_model
    columns = Columns.of(session, "x", connection)
    user = loading.user_columns(using, _staff_roles())
    sql = (f"SELECT {', '.join(columns.selected)}, {user.selected} FROM {q(session._meta.db_table)} x "
           f"LEFT OUTER JOIN {q(user_model._meta.db_table)} u ON u.{q(user_model._meta.pk.column)} = "
           f"x.{q(session.user.field.column)} {user.joins} "
           f"WHERE x.{q(session._meta.pk.column)} = %s AND x.{q(session._meta.get_field('expire_date').column)} > %s")
    return columns, sql


def user_id_of(data: dict) -> int | None:
    """The signed-in user's id that ``data`` names as a whole number, else None."""
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        return _session_model()

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        instance.user_id = user_id_of(data)
        return instance

    def _get_session_from_db(self):
        """The unexpired row of this session key, or None (and the key forgotten, as Django does);
        the user the row names is offered to the authentication backend (accounts/loading.py)."""
        using = router.db_for_read(self.model)
        connection = connections[using]
        columns, sql = _plan(using)
        loading.forget()
        expiry = self.model._meta.get_field("expire_date").get_db_prep_value(timezone.now(), connection)
        with sqlrows.cursor(connection) as cursor:  # prepared on PostgreSQL: every request runs it
            cursor.execute(sql, [*_staff_roles(), self.session_key, expiry])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        width = len(columns.attnames)
        found = loading.read_user(row[width:], loading.user_columns(using, _staff_roles()), using, connection)
        if found is not None:
            loading.offer(found[0].pk, found)
        return columns.instance(row[:width], using, connection)
