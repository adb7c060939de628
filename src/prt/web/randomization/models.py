"""The allocation log in the database: one row per line of prt.trial's hash-chained, signed log.

Each row keeps the line's canonical JSON exactly as prt.trial.allocation_log hashed and signed it
(``line``), so the rows read in ``seq`` order are the JSON Lines file the CLI would have written and
verify and replay with the same functions (docs/trial.md, "Integrity model"). Rows are written once:
``save()`` of an existing row, ``delete()`` and the queryset's bulk changes raise. The single
:class:`AllocationLock` row is what randomizations lock (``SELECT ... FOR UPDATE``), so two never
compute on the same state; :class:`RandomizationRequest` is the receipt of one client UUID.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from prt.errors import InputError
from prt.web.appendonly import AppendOnlyQuerySet, refused
from prt.web.participants.models import Participant


def _append_only(what: str) -> InputError:
    return refused("allocation log", what)


class AllocationLock(models.Model):
    """One row (id 1, made by the migration): randomizations hold it FOR UPDATE while they compute."""

    id = models.PositiveSmallIntegerField(primary_key=True)


class AllocationEntry(models.Model):
    seq = models.PositiveIntegerField(unique=True)
    #: The canonical JSON of the sealed, signed entry (no newline), as hashed and signed.
    line = models.TextField()
    hash = models.CharField(max_length=64, unique=True)
    #: Null for the header (seq 0); one allocation per participant.
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="allocation")
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()
    append_only_name = "allocation log"

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "allocation entries"

    def __str__(self) -> str:
        return f"allocation log line {self.seq + 1}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise _append_only(f"changing line {self.seq + 1}")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _append_only(f"deleting line {self.seq + 1}")


class RandomizationRequest(models.Model):
    """The receipt of one randomization request: a retry with the same UUID gets the same answer."""

    client_uuid = models.UUIDField(primary_key=True)
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(AllocationEntry, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    received_at = models.DateTimeField()
