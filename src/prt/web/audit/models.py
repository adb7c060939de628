"""AuditEvent: who changed what, when, from which value to which, and why. Append-only.

Rules (ICH E6(R3) 4.2 / 21 CFR 11.10(e): an audit trail that is computer-generated, time-stamped,
records old and new values and is never altered):

- a row is written once: ``save()`` of an existing row, ``delete()``, and the queryset's ``update``,
  ``delete`` and ``bulk_update`` raise :class:`~prt.errors.InputError`; the admin shows rows read-only;
- on PostgreSQL a trigger (migration 0002) also refuses UPDATE and DELETE from any client;
- changing or deleting data already submitted needs a reason (``update``/``delete`` without one
  are refused).
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from prt.errors import InputError
from prt.web.appendonly import AppendOnlyQuerySet, refused

ACTIONS = ("create", "update", "delete")
#: Actions that change data already submitted: a reason is required (issue 13).
ACTIONS_NEEDING_REASON = ("update", "delete")


def _append_only(what: str) -> InputError:
    return refused("audit trail", what)


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    #: Null for the system itself (a command, the demo loader); users are deactivated, never deleted.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", editable=False)
    action = models.CharField(max_length=8, choices=[(a, a) for a in ACTIONS], editable=False)
    #: ``app_label.modelname`` of the changed record.
    model = models.CharField(max_length=100, editable=False)
    object_id = models.CharField(max_length=64, editable=False)
    #: ``{field: [old, new]}``; old is null on create, new is null on delete.
    changes = models.JSONField(encoder=DjangoJSONEncoder, default=dict, editable=False)
    reason = models.TextField(blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()
    append_only_name = "audit trail"

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["model", "object_id"], name="audit_object")]
        constraints = [
            models.CheckConstraint(condition=models.Q(action__in=ACTIONS), name="audit_known_action"),
            models.CheckConstraint(condition=~models.Q(action__in=ACTIONS_NEEDING_REASON, reason=""),
                                   name="audit_reason_for_change"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.model} {self.object_id}"

    def check_new(self) -> None:
        """The rules a new event must meet (InputError otherwise): the trail is only appended to,
        the action is known, and changing or deleting submitted data has a reason."""
        if not self._state.adding:
            raise _append_only(f"changing audit event {self.pk}")
        if self.action not in ACTIONS:
            raise InputError(f"audit trail: action {self.action!r}; expected one of {', '.join(ACTIONS)}")
        if self.action in ACTIONS_NEEDING_REASON and not self.reason.strip():
            raise InputError(f"audit trail: {self.model} {self.object_id}: a reason is required to "
                             f"{self.action} data already submitted")

    def save(self, *args, **kwargs):
        self.check_new()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _append_only(f"deleting audit event {self.pk}")
