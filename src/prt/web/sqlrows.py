"""Model instances from hand-written SQL rows, exactly as a queryset makes them.

For the statements on every request's path that are written once per database instead of
compiled by Django's query compiler on every request: the session with its signed-in user, and
the diary submission's lock with the day's entry (docs/benchmarks.md, "Web platform"). Each
column is converted by the converters the ORM's compiler applies (``connection.ops.get_db_converters`` and the field's own: SQLite's text
dates and integer booleans) and the instance is made by ``Model.from_db``. They run through
:func:`cursor`: on PostgreSQL prepared once per connection (prt.web.postgresql).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Columns:
    """A model's concrete columns under a table alias: what to SELECT and how to read it back."""

    model: type
    selected: tuple[str, ...]      # ``alias."column"`` in the model's field order
    attnames: tuple[str, ...]
    converters: tuple[tuple, ...]  # per column: ((converter, expression), ...)

    @classmethod
    def of(cls, model, alias: str, connection) -> "Columns":
        q = connection.ops.quote_name
        selected, attnames, converters = [], [], []
        for field in model._meta.concrete_fields:
            col = field.get_col(alias)
            selected.append(f"{alias}.{q(field.column)}")
            attnames.append(field.attname)
            converters.append(tuple((c, col) for c in
                                    connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
        return cls(model, tuple(selected), tuple(attnames), tuple(converters))

    def instance(self, values, using: str, connection):
        """The instance of one row's values (this model's slice, in order), or None when its
        primary key is NULL (a LEFT JOIN that found no row)."""
        values = list(values)
        if values[self.attnames.index(self.model._meta.pk.attname)] is None:
            return None
        for i, converters in enumerate(self.converters):
            for converter, expression in converters:
                values[i] = converter(values[i], expression, connection)
        return self.model.from_db(using, self.attnames, values)


def cursor(connection):
    """A cursor for one of these statements: prepared on the server where the backend prepares them
    (``prt.web.postgresql``'s ``prepared_cursor``), else the connection's ordinary cursor."""
    prepared = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared is not None else connection.cursor()
