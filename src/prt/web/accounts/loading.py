"""A request's user, their participant record with its site, and whether they hold a staff role now:
one statement, written once per database from the models' own metadata.

Why not the ORM: every request of every page loads its user, and the same query through Django's
compiler (``select_related("participant__site")`` with an ``Exists`` annotation) cost a third of
a diary submission's CPU (docs/benchmarks.md, "Web platform"). The rows become instances as a
queryset makes them (:class:`prt.web.sqlrows.Columns`); tests/web/accounts/test_loading.py
compares the result with the ORM's for every kind of user on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections

from prt.web.accounts.models import Membership, Site, User
from prt.web.sqlrows import Columns


@dataclass(frozen=True)
class UserColumns:
    """The user, their participant record and its site, and the staff-role flag, as columns of a
    statement that has the user as ``u``: what to select (its parameters: the staff roles), the
    joins to add after ``u``, and how to read a row's slice back (:func:`read_user`)."""

    selected: str
    joins: str
    models: tuple[Columns, ...]    # user, participant, site: their columns in this order


def _participant_model():
    return User.participant.related.related_model  # accounts does not import the participants app


@lru_cache(maxsize=8)
def user_columns(using: str, staff_roles: tuple[str, ...]) -> UserColumns:
    connection = connections[using]
    q = connection.ops.quote_name
    participant = _participant_model()
    user = Columns.of(User, "u", connection)
    participant_m = Columns.of(participant, "p", connection)
    site = Columns.of(Site, "s", connection)
    roles = ", ".join(["%s"] * len(staff_roles))
    staff = (f"EXISTS (SELECT 1 FROM {q(Membership._meta.db_table)} m WHERE m.{q(Membership.user.field.column)} = "
             f"u.{q(User._meta.pk.column)} AND m.{q(Membership.role.field.column)} IN ({roles}))")
    joins = (f"LEFT OUTER JOIN {q(participant._meta.db_table)} p ON p.{q(participant.user.field.column)} = "
             f"u.{q(User._meta.pk.column)} "
             f"LEFT OUTER JOIN {q(Site._meta.db_table)} s ON s.{q(Site._meta.pk.column)} = "
             f"p.{q(participant.site.field.column)}")
    return UserColumns(f"{', '.join(user.selected + participant_m.selected + site.selected)}, {staff}", joins,
                       (user, participant_m, site))


def read_user(row, columns: UserColumns, using: str, connection) -> tuple[User, bool] | None:
    """The (user, holds a staff role) of ``row``, the slice of a statement's row that ``columns``
    selected; None when its user part is NULL (a LEFT JOIN that found no user)."""
    row, start, instances = list(row), 0, []
    for spec in columns.models:
        end = start + len(spec.attnames)
        instances.append(spec.instance(row[start:end], using, connection))
        start = end
    user, participant, site = instances
    if user is None:
        return None
    User.participant.related.set_cached_value(user, participant)
    if participant is not None:
        type(participant).site.field.set_cached_value(participant, site)
        type(participant).user.field.set_cached_value(participant, user)
    return user, bool(row[-1])


@lru_cache(maxsize=8)
def _sql(using: str, staff_roles: tuple[str, ...]) -> str:
    q = connections[using].ops.quote_name
    columns = user_columns(using, staff_roles)
    return (f"SELECT {columns.selected} FROM {q(User._meta.db_table)} u {columns.joins} "
            f"WHERE u.{q(User._meta.pk.column)} = %s")


def load_user(user_id, staff_roles: tuple[str, ...], using: str = DEFAULT_DB_ALIAS) -> tuple[User, bool] | None:
    """(the user with ``user.participant`` and its ``site`` loaded, holds one of ``staff_roles``), or
    None when no user has the id (a session's id is text; one that is not an id finds no user)."""
    connection = connections[using]
    try:
        pk = User._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    low, high = connection.ops.integer_field_range(User._meta.pk.get_internal_type())
    if pk is None or (low is not None and pk < low) or (high is not None and pk > high):
        return None  # as the ORM answers an id outside the column's range: no row
    with connection.cursor() as cursor:
        cursor.execute(_sql(using, tuple(staff_roles)), [*staff_roles, pk])
        row = cursor.fetchone()
    return None if row is None else read_user(row, user_columns(using, tuple(staff_roles)), using, connection)


# ------------------------------------------------------------------ the user read with the session
_offered = threading.local()


def offer(user_id, found: tuple[User, bool]) -> None:
    """The user the session's row came with (accounts/sessions.py), for :func:`take` in this request."""
    _offered.value = (str(user_id), found)


def take(user_id) -> tuple[User, bool] | None:
    """What :func:`offer` left for ``user_id`` (the id the session's data names), once; None when
    nothing was offered or it was another user's."""
    value = getattr(_offered, "value", None)
    _offered.value = None
    return value[1] if value is not None and value[0] == str(user_id) else None


def forget(**_) -> None:
    """Drop an offer nobody took (connected to ``request_finished``): it lives one request at most."""
    _offered.value = None
