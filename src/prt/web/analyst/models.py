"""Records of the analyst's work: each export downloaded and each analysis run (kept, never edited
by a user). A run's row carries its progress, the SHA-256 of its input snapshot and prt's version,
so the report can be reproduced (``prt analyze SNAPSHOT --out DIR --seed S --bootstrap B --mediation-bootstrap M``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from prt.errors import InputError

#: Export formats: REDCap flat and long CSV, prt's tidy CSV (prt.data writers), the REDCap data
#: dictionary (prt.trial.redcap_dictionary), and the daily pain diary (no prt.data layout holds it).
EXPORT_FORMATS = {
    "redcap-flat": "REDCap export, flat (one row per participant)",
    "redcap-long": "REDCap export, long (one row per participant and event)",
    "tidy": "Tidy CSV (one row per participant, timepoint and outcome)",
    "dictionary": "REDCap data dictionary",
    "diary": "Daily pain diary (one row per participant and day)",
}
RUN_STATES = ("queued", "running", "finished", "failed")
RUN_SOURCES = {"database": "The trial's database (a snapshot now)", "upload": "An uploaded REDCap export"}


class ExportDownload(models.Model):
    """One export downloaded: who, when, which format, which sites, the file's SHA-256. Append-only."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    export_format = models.CharField(max_length=16, choices=list(EXPORT_FORMATS.items()))
    sites = models.CharField(max_length=400, help_text="Codes of the sites whose data were exported.")
    participants = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at"]
        constraints = [models.CheckConstraint(condition=models.Q(export_format__in=list(EXPORT_FORMATS)),
                                              name="export_known_format")]

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise InputError("export downloads: a download record is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InputError("export downloads: a download record is never deleted")


class AnalysisRun(models.Model):
    """One "run the analysis" job: its input, its progress, its outcome and where its files are."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=8, choices=list(RUN_SOURCES.items()))
    #: Sites whose data the snapshot holds (database source), or the uploaded file's name.
    description = models.CharField(max_length=400)
    bootstrap = models.PositiveIntegerField()
    mediation_bootstrap = models.PositiveIntegerField()
    seed = models.PositiveIntegerField()
    snapshot_sha256 = models.CharField(max_length=64)
    prt_version = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=[(s, s) for s in RUN_STATES], default="queued")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: A failed run's one-line error (prt's own message; never a traceback or data values).
    error = models.TextField(blank=True)
    #: Gaps the analysis reported (AnalysisSkippedWarning messages), one per line.
    warnings = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [models.CheckConstraint(condition=models.Q(state__in=RUN_STATES), name="run_known_state"),
                       models.CheckConstraint(condition=models.Q(source__in=list(RUN_SOURCES)),
                                              name="run_known_source")]

    @property
    def percent(self) -> int:
        if self.state == "finished":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")
