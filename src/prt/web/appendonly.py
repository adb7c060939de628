"""Append-only tables (the audit trail, the allocation log): bulk changes refused at the queryset.

A model sets ``append_only_name`` (what the rows are, for messages) and uses
``objects = AppendOnlyQuerySet.as_manager()``; its own ``save``/``delete`` refuse changes to
stored rows with :func:`refused`. On PostgreSQL a trigger backs this up where a migration adds one.
"""

from __future__ import annotations

from django.db import models

from prt.errors import InputError


def refused(name: str, action: str) -> InputError:
    """The one message for a change to an append-only table."""
    return InputError(f"{name}: {action} refused; the {name} is append-only")


class AppendOnlyQuerySet(models.QuerySet):
    """update, delete, bulk_update and update_or_create refused for the model's rows."""

    def _refuse(self, action: str):
        raise refused(getattr(self.model, "append_only_name", self.model._meta.verbose_name), action)

    def update(self, **kwargs):
        self._refuse("update")

    def delete(self):
        self._refuse("delete")

    def bulk_update(self, objs, fields, batch_size=None):
        self._refuse("update")

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        self._refuse("update")
