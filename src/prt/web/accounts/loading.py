"""A request's user, their participant record with its site, and whether they hold a staff role now:
one statement, written once per database from the models' own metadata.

Why not the ORM: every request of every page loads its user, and the same query through Django's
compiler (``select_related("participant__site")`` with an ``Exists`` annotation) cost a third of
a diary submission's CPU (docs/benchmarks.md, "Web platform"). The rows become instances as a
queryset makes them (:class:`prt.web.sqlrows.Columns`); tests/web/accounts/test_loading.py
compares the result with the ORM's for every kind of user on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections

from prt.web.accounts.models import Membership, Site, User
from prt.web.sqlrows import Columns


@dataclass(frozen=True)
class _Plan:
    sql: str
    models: tuple[Columns, ...]    # user, participant, site: their columns in this order


def _participant_model():
    return User.participant.related.related_model  # accounts does not import the participants app


@lru_cache(maxsize=8)
def _plan(using: str, staff_roles: tuple[str, ...]) -> _Plan:
    connection = connections[using]
    q = connection.ops.quote_name
    participant = _participant_model()
    user = Columns.of(User, "u", connection)
    participant_m = Columns.of(participant, "p", connection)
    site = Columns.of(Site, "s", connection)
    roles = ", ".join(["%s"] * len(staff_roles))
    staff = (f"EXISTS (SELECT 1 FROM {q(Membership._meta.db_table)} m WHERE m.{q(Membership.user.field.column)} = "
             f"u.{q(User._meta.pk.column)} AND m.{q(Membership.role.field.column)} IN ({roles}))")
    sql = (f"SELECT {', '.join(user.selected + participant_m.selected + site.selected)}, {staff} "
           f"FROM {q(User._meta.db_table)} u "
           f"LEFT OUTER JOIN {q(participant._meta.db_table)} p ON p.{q(participant.user.field.column)} = "
           f"u.{q(User._meta.pk.column)} "
           f"LEFT OUTER JOIN {q(Site._meta.db_table)} s ON s.{q(Site._meta.pk.column)} = "
           f"p.{q(participant.site.field.column)} "
           f"WHERE u.{q(User._meta.pk.column)} = %s")
    return _Plan(sql, (user, participant_m, site))


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
    plan = _plan(using, tuple(staff_roles))
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [*staff_roles, pk])
        row = cursor.fetchone()
    if row is None:
        return None
    row, start, instances = list(row), 0, []
    for spec in plan.models:
        end = start + len(spec.attnames)
        instances.append(spec.instance(row[start:end], using, connection))
        start = end
    user, participant, site = instances
    User.participant.related.set_cached_value(user, participant)
    if participant is not None:
        type(participant).site.field.set_cached_value(participant, site)
        type(participant).user.field.set_cached_value(participant, user)
    return user, bool(row[-1])
